from rest_framework.routers import SimpleRouter

from compute.api import views
from studio.api.urls import WS

router = SimpleRouter()
router.register(rf"{WS}/computes", views.ComputeViewSet, basename="compute")

urlpatterns = router.urls
