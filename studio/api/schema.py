"""OpenAPI description of Studio's authentication, for /api/schema/ and /api/docs/."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "studio.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "A personal access token (POST /api/v1/tokens/)."}


class CountedBasicScheme(OpenApiAuthenticationExtension):
    target_class = "studio.authentication.CountedBasicAuthentication"
    name = "basicAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "basic", "description": "Username and password; rate limited."}
