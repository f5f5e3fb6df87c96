"""Datastore pages: list, register, details with a file browser, upload, download, edit. The
register and edit forms collect values; datastores.spec.DatastoreSpec checks them as it checks the
API's bodies and YAML files, and datastores.services acts."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.http import urlencode
from django.views import View
from django.views.decorators.debug import sensitive_post_parameters
from django.views.generic import FormView, ListView, TemplateView

from datastores import paths, services, spec
from datastores.downloads import download_response
from datastores.forms import DatastoreForm
from datastores.models import Datastore
from datastores.storage import StorageError, store_for
from datastores.uploads import UploadSink, parse_multipart
from studio import netcheck
from studio.forms import apply_errors, format_tags
from studio.views.base import PartialMixin, WorkspaceMixin

SECRETS = ("account_key", "sas_token", "access_key_id", "secret_access_key")
MAX_ENTRIES = 1000


def browse_url(workspace: str, name: str, path: str = "") -> str:
    url = reverse("datastores:datastore_detail", args=[workspace, name])
    return f"{url}?{urlencode({'path': path})}" if path else url


class DatastoreObjectMixin(WorkspaceMixin):
    section = "datastores"

    queryset = Datastore.objects.select_related("workspace")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["datastore"] = self.get_object()
        return context


def _message(exc: ValidationError | StorageError) -> str:
    return " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)


class DatastoreFormMixin:
    """What the register and edit pages share: the form, the permission and a 400 on errors."""

    template_name = "datastores/datastore_form.html"
    form_class = DatastoreForm
    required_action = "datastores.write"
    post_action = "datastores.write"
    section = "datastores"

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)


class DatastoreListView(WorkspaceMixin, ListView):
    template_name = "datastores/datastore_list.html"
    context_object_name = "datastores"
    section = "datastores"

    def get_queryset(self):
        return Datastore.objects.filter(workspace=self.workspace).select_related("workspace")


@method_decorator(sensitive_post_parameters(*SECRETS), name="dispatch")
class DatastoreCreateView(DatastoreFormMixin, WorkspaceMixin, FormView):
    """Register a datastore; Studio lists it with the credentials before anything is saved. One
    submit reports every problem: the form's own (a missing name, a bad tag) come back with the
    connection's and the listing's, which do not depend on them."""

    def form_valid(self, form):
        data = form.cleaned_data
        body = {"name": data["name"], "type": data["type"], "description": data["description"], "tags": data["tags"]}
        try:
            values, _ = spec.clean_datastore(
                body | {"credentials": form.credentials(), **form.connection()}, source="form"
            )
        except ValidationError as exc:
            apply_errors(form, exc)
            return self.form_invalid(form)
        try:
            datastore = services.do_register_datastore(self.workspace, actor=self.request.user, **values)
        except ValidationError as exc:  # the service has checked everything, the connection included
            apply_errors(form, exc)
            return super().form_invalid(form)
        messages.success(self.request, f"Datastore {datastore.name} registered: Studio could list it.")
        return redirect(datastore)

    def form_invalid(self, form):
        connection = {*services.CONNECTION_FIELDS.get(form.kind, ()), *SECRETS, "credential_kind", "type"}
        if not connection & set(form.errors):
            problems = services.connection_problems(
                self.workspace, type=form.kind, credentials=form.credentials(), **form.connection()
            )
            if problems:
                apply_errors(form, ValidationError(problems))
        return super().form_invalid(form)


@method_decorator(sensitive_post_parameters(*SECRETS), name="dispatch")
class DatastoreEditView(DatastoreFormMixin, DatastoreObjectMixin, FormView):
    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "datastore": self.get_object()}

    def get_initial(self):
        d = self.get_object()
        fields = ("path", "account_name", "container_name", "endpoint", "protocol", "bucket", "endpoint_url", "region")
        initial = {f: getattr(d, f) for f in fields}
        initial |= {f: netcheck.without_secrets(initial[f]) for f in ("endpoint", "endpoint_url")}
        initial |= {"name": d.name, "type": d.type, "description": d.description, "tags": format_tags(d.tags)}
        initial["credential_kind"] = "sas" if d.credentials_type == Datastore.CredentialsType.SAS else "account_key"
        return initial

    def form_valid(self, form):
        datastore = self.get_object()
        data = form.cleaned_data
        body = {"description": data["description"], "tags": data["tags"]}
        if not datastore.builtin:
            body |= {"credentials": form.credentials(), **form.connection()}
        try:
            values, _ = spec.clean_datastore(body, source="form", partial=True)
            services.do_update_datastore(datastore, actor=self.request.user, **values)
        except ValidationError as exc:
            apply_errors(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, f"Datastore {datastore.name} saved.")
        return redirect(datastore)


class DatastoreDetailView(DatastoreObjectMixin, PartialMixin, TemplateView):
    """The datastore's settings and a browser of its folders and files (`?path=`)."""

    template_name = "datastores/datastore_detail.html"
    partial_template_name = "datastores/_browser.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        datastore = self.get_object()
        entries, error = [], ""
        try:
            path = paths.clean_path(self.request.GET.get("path", ""))
        except ValidationError as exc:
            path, error = "", " ".join(exc.messages)
        if not error:
            try:
                entries = store_for(datastore).ls(path)
            except (StorageError, ValidationError) as exc:
                error = _message(exc)
        crumbs, acc = [], []
        for part in path.split("/") if path else []:
            acc.append(part)
            crumbs.append((part, "/".join(acc)))
        context.update(
            path=path,
            crumbs=crumbs,
            parent=paths.parent(path),
            entries=entries[:MAX_ENTRIES],
            truncated=len(entries) > MAX_ENTRIES,
            error=error,
            uri=datastore.uri(path, folder=True),
            asset_count=datastore.data_versions.count(),
        )
        return context


class DatastoreDefaultView(DatastoreObjectMixin, View):
    post_action = "datastores.write"

    def post(self, request, workspace, name):
        datastore = services.do_set_default_datastore(self.get_object(), actor=request.user)
        messages.success(request, f"{datastore.name} is now the default datastore.")
        return redirect(datastore)


class DatastoreDeleteView(DatastoreObjectMixin, View):
    post_action = "datastores.write"

    def post(self, request, workspace, name):
        datastore = self.get_object()
        try:
            services.do_delete_datastore(datastore, actor=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect(datastore)
        messages.success(request, f"Datastore {name} removed. Its data was not touched.")
        return redirect("datastores:datastore_list", self.workspace.name)


class DatastoreUploadView(DatastoreObjectMixin, View):
    """Upload files (and folders) into `?path=`. The page's script sends a multipart PUT (its
    CSRF token in the header, so the body is parsed only here, streaming into storage); a plain
    form POST works too without JavaScript."""

    post_action = "data.write"
    required_action = "data.write"

    def get(self, request, *args, **kwargs):
        return HttpResponseNotAllowed(["PUT", "POST"])

    def _upload(self, request, overwrite: bool):
        datastore = self.get_object()
        try:
            folder = paths.clean_path(request.GET.get("path", ""))
            sink = UploadSink(store=store_for(datastore), folder=folder, overwrite=overwrite, datastore=datastore)
            parse_multipart(request, sink)
            if not sink.files:
                raise ValidationError({"file": ["Choose at least one file."]})
        except (ValidationError, StorageError) as exc:
            return None, _message(exc)
        services.do_record_upload(
            datastore, actor=request.user, folder=folder, files=len(sink.files), size=sink.total_size
        )
        return sink, ""

    def put(self, request, workspace, name):
        # Never touch request.POST here: for a PUT that would mark the body as parsed (empty).
        sink, error = self._upload(request, request.GET.get("overwrite") in ("1", "true", "on"))
        if error:
            return JsonResponse({"detail": error}, status=400)
        url = browse_url(workspace, name, sink.folder)
        return JsonResponse({"redirect": url, "files": len(sink.files), "size": sink.total_size})

    def post(self, request, workspace, name):
        sink, error = self._upload(request, bool(request.POST.get("overwrite")))
        if error:
            messages.error(request, error)
            return redirect(browse_url(workspace, name, request.GET.get("path", "")))
        messages.success(request, f"Uploaded {len(sink.files)} file(s).")
        return redirect(browse_url(workspace, name, sink.folder))


class DatastoreDownloadView(DatastoreObjectMixin, View):
    def get(self, request, workspace, name):
        try:
            return download_response(request, self.get_object(), request.GET.get("path", ""))
        except (ValidationError, StorageError) as exc:
            raise Http404(_message(exc)) from None


class DatastorePathDeleteView(DatastoreObjectMixin, View):
    post_action = "data.write"

    def post(self, request, workspace, name):
        path = request.POST.get("path", "")
        try:
            services.do_delete_path(self.get_object(), path, actor=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, f"Deleted {path}.")
        return redirect(browse_url(workspace, name, paths.parent(path.strip("/"))))
