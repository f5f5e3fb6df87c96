"""REST endpoints of models, mounted under /api/v1/ (like environments and data): serializers.py,
views.py (the viewsets) and urls.py (the router).

workspaces/{ws}/models/                               GET the latest version of each model (?name=, ?tag=,
                                                      ?archived=true); POST a version (name in the body)
workspaces/{ws}/models/{name}/                        GET the model (description, tags, aliases); PATCH
workspaces/{ws}/models/{name}/versions/               GET, POST (JSON, Azure ML model YAML, or multipart with
                                                      the files of a folder or one zip, plus fields or `spec`)
workspaces/{ws}/models/{name}/versions/{v}/           GET ({v} may be "latest"), PATCH description/tags,
                                                      DELETE archives; /restore/ POST
workspaces/{ws}/models/{name}/versions/{v}/files/     GET the file list; ?path=<file> downloads that file
workspaces/{ws}/models/{name}/versions/{v}/download/  GET every file as one zip (streamed)
workspaces/{ws}/models/{name}/versions/{v}/aliases/   POST {"alias"}: point name@alias here; DELETE ?alias=
workspaces/{ws}/models/{name}/versions/{v}/stage/     POST {"stage", "archive_existing_versions"}
"""
