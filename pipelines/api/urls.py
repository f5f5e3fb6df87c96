"""The pipelines app's REST routes: components and their versions, a pipeline job's steps."""

from rest_framework.routers import SimpleRouter

from pipelines.api import views
from studio.api.urls import WS

router = SimpleRouter()
router.register(
    rf"{WS}/components/(?P<name>[^/]+)/versions", views.ComponentVersionViewSet, basename="component-version"
)
router.register(rf"{WS}/components", views.ComponentViewSet, basename="component")
router.register(rf"{WS}/jobs/(?P<name>[^/]+)/steps", views.PipelineStepViewSet, basename="pipeline-step")

urlpatterns = router.urls
