"""REST endpoints of the environments app, mounted under /api/v1/ (see studio.api.urls.WS for the prefix):
serializers.py, views.py (the viewsets) and urls.py (the router).

GET    workspaces/{ws}/environments/                            latest version of each (?curated=, q, tag, archived)
POST   workspaces/{ws}/environments/                            a definition with its name -> a new version
GET    workspaces/{ws}/environments/{name}/                     the environment and its versions
GET    workspaces/{ws}/environments/{name}/versions/            POST: a new version (JSON, YAML, multipart)
GET    workspaces/{ws}/environments/{name}/versions/{v}/        {v} may be "latest"; DELETE archives
POST   workspaces/{ws}/environments/{name}/versions/{v}/restore/
POST   workspaces/{ws}/environments/{name}/versions/{v}/build/  {"backend": "venv"|"docker", "rebuild": false}
GET    workspaces/{ws}/environments/{name}/versions/{v}/build/  ?backend=&build=&offset=  status + log
"""
