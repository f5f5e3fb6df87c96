"""REST endpoints of the datastores app, mounted under /api/v1/ (see studio.api.urls.WS for the prefix):
serializers.py, views.py (the viewsets) and urls.py (the router).

workspaces/{ws}/datastores/                      GET, POST (JSON or YAML; credentials write-only)
workspaces/{ws}/datastores/{name}/               GET, PATCH (credentials: replace), DELETE
workspaces/{ws}/datastores/{name}/default/       POST: make it the default
workspaces/{ws}/datastores/{name}/browse/?path=  GET: folders and files with sizes and times
workspaces/{ws}/datastores/{name}/files/?path=   GET download; PUT raw body upload; POST multipart
                                                 upload into the folder `path`; DELETE
workspaces/{ws}/data/                            GET latest version of each asset; POST (name in body)
workspaces/{ws}/data/{name}/versions/            GET, POST (JSON, YAML, or multipart with files)
workspaces/{ws}/data/{name}/versions/{v}/        GET ({v} may be "latest"), PATCH description/tags,
                                                 DELETE archives; /restore/ POST; /preview/ GET
"""
