"""Pages of the datastores app, under /w/<workspace>/."""

app_name = "datastores"

urlpatterns: list = []
