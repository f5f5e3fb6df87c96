"""REST API of online endpoints, mounted under /api/v1/ (views.py: the viewsets; urls.py: the router):
workspaces/{ws}/online-endpoints/                                   GET, POST (managedOnlineEndpoint fields)
workspaces/{ws}/online-endpoints/{name}/                            GET, PUT (create/update), PATCH, DELETE
workspaces/{ws}/online-endpoints/{name}/keys/                       GET {"primary_key", "secondary_key"}
workspaces/{ws}/online-endpoints/{name}/regenerate-keys/            POST {"key_type": "primary"|"secondary"}
workspaces/{ws}/online-endpoints/{name}/mirror-comparison/          GET live vs shadow answers of mirrored requests
workspaces/{ws}/online-endpoints/{name}/deployments/                GET, POST (managedOnlineDeployment fields)
workspaces/{ws}/online-endpoints/{name}/deployments/{d}/            GET, PUT, PATCH, DELETE
workspaces/{ws}/online-endpoints/{name}/deployments/{d}/logs/       GET ?offset=N (the servers' output)
workspaces/{ws}/online-endpoints/{name}/deployments/{d}/metrics/    GET ?minutes=N (requests/s, p50/p95/p99, errors)
Bodies use Azure ML CLI v2 YAML's field names; a YAML body is accepted like JSON.
"""
