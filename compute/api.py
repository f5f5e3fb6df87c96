"""REST endpoints of the compute app, mounted under /api/v1/ (see studio.api.urls.WS for the prefix)."""

from rest_framework.routers import SimpleRouter

router = SimpleRouter()

urlpatterns = router.urls
