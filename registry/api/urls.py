from rest_framework.routers import SimpleRouter

from registry.api import views
from studio.api.urls import WS

router = SimpleRouter()
router.register(rf"{WS}/models/(?P<name>[^/]+)/versions", views.ModelVersionViewSet, basename="model-version")
router.register(rf"{WS}/models", views.ModelViewSet, basename="model")

urlpatterns = router.urls
