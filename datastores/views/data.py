"""Data asset pages: list, create (datastore path, local files, URL or YAML), details with
versions, preview and lineage, archive/restore."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.urls import NoReverseMatch, reverse
from django.views import View
from django.views.generic import ListView, TemplateView

from datastores import services
from datastores.forms import DataForm, DataYamlForm
from datastores.models import DataAsset, Datastore, DataVersion
from datastores.preview import Preview, preview
from datastores.storage import StorageError, store_for
from datastores.uploads import discard
from datastores.views.versioned import VersionCreateView
from studio.forms import apply_errors
from studio.versioning import sort_versions
from studio.views.base import WorkspaceMixin


class DataListView(WorkspaceMixin, ListView):
    """Data assets with their latest version."""

    template_name = "datastores/data_list.html"
    context_object_name = "assets"
    section = "data"
    paginate_by = 50

    def get_queryset(self):
        qs = DataAsset.objects.filter(workspace=self.workspace).prefetch_related("versions")
        if q := self.request.GET.get("q", "").strip():
            qs = qs.filter(name__icontains=q)
        return qs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        show_archived = self.request.GET.get("archived") == "1"
        rows = []
        for asset in context["assets"]:
            versions = sort_versions(asset.versions.all())
            live = [v for v in versions if not v.archived]
            latest = (live or (versions if show_archived else []))[-1:] or [None]
            if latest[0] is not None:
                rows.append((asset, latest[0], len(versions)))
        context.update(rows=rows, q=self.request.GET.get("q", ""), show_archived=show_archived)
        return context


class DataCreateView(VersionCreateView):
    """GET the form; POST it (no script) or PUT it (the page's script: multipart with files,
    streamed into workspaceblobstore/LocalUpload/ as it arrives)."""

    template_name = "datastores/data_form.html"
    body_template = "datastores/_data_form_body.html"
    created_message = "Data asset {reference} created."
    path_error_fields = {"datastore": "datastore_path", "url": "url", "upload": "source"}
    form_class = DataForm
    required_action = "data.write"
    post_action = "data.write"
    section = "data"

    def datastores(self):
        return Datastore.objects.filter(workspace=self.workspace)

    def form_kwargs(self):
        return {"datastores": self.datastores()}

    def upload_sink(self):
        return services.upload_sink_for(self.workspace)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        initial = {"name": self.request.GET.get("name", "")}
        if ds := self.request.GET.get("datastore"):
            initial |= {"source": "datastore", "datastore": ds, "datastore_path": self.request.GET.get("path", "")}
            if self.request.GET.get("folder") == "1":
                initial["type"] = DataVersion.Type.URI_FOLDER
        context.setdefault("form", DataForm(initial=initial, datastores=self.datastores()))
        context.setdefault("yaml_form", DataYamlForm())
        context.setdefault("mode", "yaml" if self.request.GET.get("mode") == "yaml" else "form")
        return context

    def create(self, request, data, sink):
        if data.get("mode") == "yaml":
            if sink is not None:
                discard(sink)
            return self._yaml(request, data)
        form = DataForm(data, datastores=self.datastores())
        if not form.is_valid():
            if sink is not None:
                discard(sink)
            return None, {"form": form}
        fields = form.cleaned_data
        if fields["source"] == "upload" and (sink is None or not sink.files):
            if sink is not None:
                discard(sink)
            form.add_error("source", "Choose the file(s) to upload.")
            return None, {"form": form}
        if fields["source"] != "upload" and sink is not None:
            discard(sink)
            sink = None
        body = {key: fields[key] for key in ("name", "version", "type", "description", "tags")}
        body["path"] = "" if fields["source"] == "upload" else form.path()
        try:
            return services.do_create_data(self.workspace, actor=request.user, body=body, sink=sink), None
        except ValidationError as exc:
            apply_errors(form, self.field_errors(exc, fields["source"]))
            return None, {"form": form}

    def _yaml(self, request, data):
        yaml_form = DataYamlForm(data)
        if yaml_form.is_valid():
            try:
                spec = services.parse_data_yaml(yaml_form.cleaned_data["yaml"])
                version = services.do_create_data(self.workspace, actor=request.user, body=spec)
                return version, None
            except ValidationError as exc:
                messages_ = exc.message_dict if hasattr(exc, "error_dict") else {"yaml": exc.messages}
                for field, msgs in messages_.items():
                    for msg in msgs:
                        yaml_form.add_error(
                            "yaml", f"{field}: {msg}" if field not in ("spec", "yaml", "__all__") else msg
                        )
        return None, {"yaml_form": yaml_form, "mode": "yaml"}


class DataVersionMixin(WorkspaceMixin):
    section = "data"

    def get_asset(self) -> DataAsset:
        return self.get_object(DataAsset)

    def get_versions(self, asset: DataAsset) -> list[DataVersion]:
        """All versions of `asset`, oldest first (by version, then creation)."""
        return sort_versions(asset.versions.select_related("datastore", "created_by"))

    def get_version(
        self, asset: DataAsset, version: str | None, versions: list[DataVersion] | None = None
    ) -> DataVersion:
        """`version`, or the newest live one (else the newest) when none is asked for."""
        if versions is None:
            versions = self.get_versions(asset)
        if not versions:
            raise Http404("This data asset has no versions.")
        if version:
            for v in versions:
                if v.version == version:
                    return v
            raise Http404(f"{asset.name} has no version {version}.")
        live = [v for v in versions if not v.archived]
        return (live or versions)[-1]


class DataDetailView(DataVersionMixin, TemplateView):
    """One data asset: the chosen version's details, preview and lineage, and all versions."""

    template_name = "datastores/data_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        asset = self.get_asset()
        versions = self.get_versions(asset)
        version = self.get_version(asset, self.request.GET.get("version"), versions)
        versions.reverse()
        usages = list(version.usages.all()[:100])
        for usage in usages:
            usage.url = _job_url(self.workspace.name, usage.job_name)
        context.update(asset=asset, version=version, versions=versions, usages=usages)
        return context


def _job_url(workspace: str, job_name: str) -> str | None:
    """The jobs app's page for a job, when that app provides one."""
    for name in ("jobs:job_detail", "jobs:detail"):
        try:
            return reverse(name, args=[workspace, job_name])
        except NoReverseMatch:
            continue
    return None


class DataPreviewView(DataVersionMixin, TemplateView):
    """The preview table (loaded by htmx after the page, since it reads from storage)."""

    template_name = "datastores/_preview.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        version = self.get_version(self.get_asset(), self.request.GET.get("version"))
        if version.datastore is None:
            result = Preview(note="Data at web URLs is not previewed.")
        else:
            try:
                result = preview(store_for(version.datastore), version.datastore_path, version.type)
            except (StorageError, ValidationError) as exc:
                result = Preview(note=f"No preview: {exc}")
        context.update(version=version, preview=result)
        return context


class DataArchiveView(DataVersionMixin, View):
    post_action = "data.write"

    def post(self, request, workspace, name, version):
        found = self.get_version(self.get_asset(), version)
        if request.POST.get("restore"):
            services.do_restore_data_version(found, actor=request.user)
            messages.success(request, f"{found.reference} restored.")
        else:
            services.do_archive_data_version(found, actor=request.user)
            messages.success(request, f"{found.reference} archived: hidden from lists and @latest.")
        return redirect(found)
