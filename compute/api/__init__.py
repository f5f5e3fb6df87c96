"""REST endpoints of the compute app, mounted under /api/v1/ (see studio.api.urls.WS for the prefix):
serializers.py, views.py (the viewset) and urls.py (the router).

    GET, POST      workspaces/{ws}/computes/
    GET, PATCH, DELETE  workspaces/{ws}/computes/{name}/
    POST           workspaces/{ws}/computes/{name}/start/   /stop/
    GET            workspaces/{ws}/computes/{name}/nodes/
    POST           workspaces/{ws}/computes/{name}/nodes/{worker_name}/drain/

POST and PATCH take JSON, or an Azure ML CLI v2 compute YAML (Content-Type: application/yaml),
or multipart with a "spec" file. Thin: compute.spec.ComputeSpec validates, compute.services acts.
"""
