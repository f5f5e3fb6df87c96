from rest_framework.routers import SimpleRouter

from endpoints.api import views
from studio.api.urls import WS

router = SimpleRouter()
router.register(rf"{WS}/online-endpoints", views.OnlineEndpointViewSet, basename="online-endpoint")
router.register(
    rf"{WS}/online-endpoints/(?P<endpoint>[^/.]+)/deployments",
    views.OnlineDeploymentViewSet,
    basename="online-deployment",
)
urlpatterns = router.urls
