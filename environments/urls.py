"""Pages of the environments app, under /w/<workspace>/."""

app_name = "environments"

urlpatterns: list = []
