from rest_framework.routers import SimpleRouter

from datastores.api import views
from studio.api.urls import WS

router = SimpleRouter()
router.register(rf"{WS}/datastores", views.DatastoreViewSet, basename="datastore")
router.register(rf"{WS}/data/(?P<name>[^/]+)/versions", views.DataVersionViewSet, basename="data-version")
router.register(rf"{WS}/data", views.DataViewSet, basename="data")

urlpatterns = router.urls
