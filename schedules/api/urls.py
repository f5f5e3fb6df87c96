"""The schedules API's routes, mounted under /api/v1/ (schedules/api/views.py says what each does)."""

from rest_framework.routers import SimpleRouter

from schedules.api.views import ScheduleViewSet

WS = r"workspaces/(?P<workspace>[^/.]+)"

router = SimpleRouter()
router.register(rf"{WS}/schedules", ScheduleViewSet, basename="schedule")
urlpatterns = router.urls
