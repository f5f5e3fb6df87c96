from csp.decorators import csp_update
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularSwaggerSplitView

from studio.api.schema import SchemaView

# Swagger UI comes from its CDN (drf-spectacular's default); the split view serves its start-up
# script as a file of ours, so only the CDN needs adding to the Content-Security-Policy here.
SWAGGER_CDN = "https://cdn.jsdelivr.net"
api_docs = csp_update({"script-src": [SWAGGER_CDN], "style-src": [SWAGGER_CDN], "img-src": [SWAGGER_CDN]})(
    SpectacularSwaggerSplitView.as_view(url_name="schema")
)

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "account/password/",
        auth_views.PasswordChangeView.as_view(success_url="/account/password/done/"),
        name="password_change",
    ),
    path("account/password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("studio.api.urls")),
    path("mlflow/", include("tracking.api.urls")),
    path("api/v1/", include("environments.api.urls")),
    path("api/v1/", include("compute.api.urls")),
    path("api/v1/", include("jobs.api.urls")),
    path("api/v1/", include("datastores.api.urls")),
    path("api/v1/", include("registry.api.urls")),
    path("api/v1/", include("pipelines.api.urls")),
    path("api/v1/", include("sweeps.api")),
    path("api/v1/", include("endpoints.api.urls")),
    path("api/v1/", include("endpoints.batch.api")),
    path("api/v1/", include("schedules.api.urls")),
    path("api/schema/", SchemaView.as_view(), name="schema"),
    path("api/docs/", api_docs, name="api_docs"),
    path("", include("studio.urls_pages")),
    path("", include("environments.urls")),
    path("", include("compute.urls")),
    path("", include("jobs.urls")),
    path("", include("sweeps.urls")),
    path("", include("pipelines.urls")),
    path("", include("datastores.urls")),
    path("", include("tracking.urls")),
    path("", include("registry.urls")),
    path("", include("endpoints.urls")),
    path("", include("schedules.urls")),
]
