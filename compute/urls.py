"""Pages of the compute app, under /w/<workspace>/."""

app_name = "compute"

urlpatterns: list = []
