"""The OpenAPI document (/api/schema/, /api/docs/): its view and the description of Studio's
authentication."""

import hashlib
import json
from typing import ClassVar

from django.http import HttpResponseNotModified
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.views import SpectacularAPIView
from rest_framework.response import Response


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


class SchemaView(SpectacularAPIView):
    """/api/schema/: the OpenAPI document, generated once per process (the API cannot change while
    the process runs) and sent with an ETag. The CLI keeps a copy per server and asks with
    If-None-Match, so it reads each asset's keys from the server (304 when nothing changed)."""

    _documents: ClassVar[dict[str, tuple[dict, str]]] = {}

    def _get_schema_response(self, request):
        version = self.api_version or request.version or self._get_version_parameter(request) or ""
        if version not in self._documents:
            generator = self.generator_class(urlconf=self.urlconf, api_version=version or None, patterns=self.patterns)
            document = generator.get_schema(request=request, public=self.serve_public)
            digest = hashlib.sha256(json.dumps(document, sort_keys=True, default=str).encode()).hexdigest()[:32]
            self._documents[version] = (document, digest)
        document, digest = self._documents[version]
        renderer = self.perform_content_negotiation(request, force=True)[0].format
        etag = f'"{digest}-{renderer}"'
        if etag in [t.strip() for t in request.headers.get("If-None-Match", "").split(",")]:
            not_modified = HttpResponseNotModified()
            not_modified["ETag"] = etag
            return not_modified
        return Response(
            data=document,
            headers={"ETag": etag, "Content-Disposition": f'inline; filename="{self._get_filename(request, version)}"'},
        )
