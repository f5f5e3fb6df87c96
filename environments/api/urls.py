from rest_framework.routers import SimpleRouter

from environments.api import views
from studio.api.urls import WS

router = SimpleRouter()
router.register(rf"{WS}/environments/(?P<name>[^/]+)/versions", views.VersionViewSet, basename="environment-version")
router.register(rf"{WS}/environments", views.EnvironmentViewSet, basename="environment")

urlpatterns = router.urls
