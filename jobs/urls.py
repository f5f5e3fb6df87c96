"""Pages of the jobs app, under /w/<workspace>/."""

app_name = "jobs"

urlpatterns: list = []
