"""REST endpoints of the jobs app, mounted under /api/v1/ (DESIGN.md: codes, jobs, experiments)."""

from jobs.api.urls import urlpatterns  # noqa: F401
