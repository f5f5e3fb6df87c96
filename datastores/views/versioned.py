"""The create page of a versioned asset whose files may come with the form (data assets here,
models in the registry): GET the form; POST it (no script) or PUT it from the page's script
(multipart, the files streamed into an upload sink as they arrive). A subclass reads the form and
calls its service in `create`; this class reads the body, answers, and cleans up the upload."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.views.generic import TemplateView

from datastores.storage import StorageError
from datastores.uploads import UploadSink, discard, parse_multipart
from studio.views.base import WorkspaceMixin

Outcome = tuple[Any, dict[str, Any] | None]  # (the new version, None) or (None, the page's context)


class VersionCreateView(WorkspaceMixin, TemplateView):
    form_class: type[forms.Form]
    body_template = ""  # the form's partial, which the page's script swaps in after a refused PUT
    created_message = "{reference} created."
    # source (the form's choice) -> the field a service error about `path` or `file` belongs to
    path_error_fields: dict[str, str] = {}

    def form_kwargs(self) -> dict[str, Any]:
        return {}

    def upload_sink(self) -> UploadSink:
        raise NotImplementedError

    def create(self, request, data, sink: UploadSink | None) -> Outcome:
        """Validate `data` (the POST or the multipart fields) and make the version; discard
        `sink` when it is not used."""
        raise NotImplementedError

    def _handle(self, request) -> Outcome:
        sink = None
        try:
            if request.content_type.startswith("multipart/form-data"):
                sink = self.upload_sink()
                data, _ = parse_multipart(request, sink)
            else:
                data = request.POST
        except (ValidationError, StorageError) as exc:
            if sink is not None:
                discard(sink)
            # Bound to the fields read before the refusal (parse_multipart keeps them in
            # request.POST, for a PUT too): an unbound form cannot hold the error.
            form = self.form_class(request.POST, **self.form_kwargs())
            form.is_valid()
            form.add_error(None, " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc))
            return None, {"form": form}
        return self.create(request, data, sink)

    def post(self, request, workspace) -> HttpResponse:
        version, context = self._handle(request)
        if version is not None:
            messages.success(request, self.created_message.format(reference=version.reference))
            return redirect(version)
        return self.render_to_response(self.get_context_data(**(context or {})), status=400)

    def put(self, request, workspace) -> HttpResponse:
        version, context = self._handle(request)
        if version is not None:
            messages.success(request, self.created_message.format(reference=version.reference))
            return JsonResponse({"redirect": version.get_absolute_url()})
        html = render_to_string(self.body_template, self.get_context_data(**(context or {})), request=request)
        return JsonResponse({"html": html}, status=400)

    def field_errors(self, exc: ValidationError, source: str) -> ValidationError:
        """Service errors about `path`/`file` belong to the field the user filled in for `source`."""
        if not hasattr(exc, "error_dict"):
            return exc
        target = self.path_error_fields[source]
        errors: dict[str, list[str]] = {}
        for field, msgs in exc.message_dict.items():
            errors.setdefault(target if field in ("path", "file") else field, []).extend(msgs)
        return ValidationError(errors)
