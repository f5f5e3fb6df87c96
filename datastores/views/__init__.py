"""Pages of the datastores app: datastores (views.datastores) and data assets (views.data)."""
