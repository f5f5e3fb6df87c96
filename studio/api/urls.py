"""The foundation's router. Each app mounts its own router under workspaces/<ws>/ the same way."""

from rest_framework.routers import SimpleRouter

from studio.api import views

WS = r"workspaces/(?P<workspace>[^/.]+)"

router = SimpleRouter()
router.register("tokens", views.TokenViewSet, basename="token")
router.register("users", views.UserViewSet, basename="user")
router.register("workspaces", views.WorkspaceViewSet, basename="workspace")
router.register(rf"{WS}/members", views.MemberViewSet, basename="member")
router.register(rf"{WS}/roles", views.RoleViewSet, basename="role")
router.register(rf"{WS}/activity", views.ActivityViewSet, basename="activity")

urlpatterns = router.urls
