"""REST endpoints of the jobs app, mounted under /api/v1/ (DESIGN.md: codes, jobs, experiments):
serializers.py, views.py (jobs, codes, experiments), metrics.py (a job's logged metrics) and
urls.py (the router)."""
