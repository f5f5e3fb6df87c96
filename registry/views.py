"""Model pages: list, register (from a job's outputs in one click, a URI, or local files), the model
page (versions and lineage) and the version page (files with preview, the MLmodel rendered,
download as a zip, aliases, stage, archive/restore)."""

from __future__ import annotations

import json

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import redirect
from django.utils.http import content_disposition_header
from django.views import View
from django.views.generic import TemplateView

from datastores.downloads import download_response
from datastores.storage import StorageError
from datastores.uploads import discard
from datastores.views.versioned import VersionCreateView
from jobs import artifacts
from jobs.models import Job
from registry import hooks, lineage, services
from registry.forms import RegisterForm, VersionEditForm
from registry.models import Model, ModelVersion
from registry.zipping import iter_zip
from studio.forms import apply_errors
from studio.versioning import sort_versions
from studio.views.base import WorkspaceMixin

WRITE = "models.write"
PREVIEW_BYTES = 64 * 1024
FILES_SHOWN = 1000
TEXT_SUFFIXES = (".txt", ".json", ".yaml", ".yml", ".md", ".csv", ".py", ".cfg", ".toml", ".pbtxt", ".ini", ".log")


class ModelListView(WorkspaceMixin, TemplateView):
    """Models with their latest version, aliases and stage; search by name and tag."""

    template_name = "registry/model_list.html"
    section = "models"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        q = self.request.GET.get("q", "").strip()
        tag = self.request.GET.get("tag", "").strip()
        show_archived = self.request.GET.get("archived") == "1"
        versions = ModelVersion.objects.filter(workspace=self.workspace)
        if q:
            versions = versions.filter(model__name__icontains=q)
        latest = services.latest_versions(versions, include_archived=show_archived, tag=tag)
        counts = dict(versions.values("model_id").annotate(n=Count("pk")).values_list("model_id", "n"))
        rows = [
            (v.model, v, counts.get(v.model_id, 0), sorted(v.model.aliases.all(), key=lambda a: a.alias))
            for v in latest
        ]
        if not tag:  # models created (through MLflow) before their first version
            empty = Model.objects.filter(workspace=self.workspace, versions__isnull=True)
            rows += [(m, None, 0, []) for m in (empty.filter(name__icontains=q) if q else empty)]
            rows.sort(key=lambda row: row[0].name.lower())
        context.update(rows=rows, q=q, tag=tag, show_archived=show_archived)
        return context


class ModelMixin(WorkspaceMixin):
    section = "models"

    def get_model(self) -> Model:
        return self.get_object(Model, name=self.kwargs["name"])

    def get_version(self) -> ModelVersion:
        return services.get_version(self.workspace, self.kwargs["name"], self.kwargs["version"])


class ModelDetailView(ModelMixin, TemplateView):
    """One model: its versions, aliases, and the lineage of its latest version (or ?version=)."""

    template_name = "registry/model_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        model = self.get_model()
        versions = sort_versions(model.versions.select_related("created_by").prefetch_related("aliases"))
        wanted = self.request.GET.get("version")
        live = [v for v in versions if not v.archived]
        focus = next((v for v in versions if v.version == wanted), None) or ((live or versions)[-1:] or [None])[0]
        versions.reverse()
        context.update(
            model=model,
            versions=versions,
            focus=focus,
            lineage=lineage.of(focus) if focus is not None else None,
            edit_form=VersionEditForm(initial={"description": model.description, "tags": model.tags}),
        )
        return context


class VersionDetailView(ModelMixin, TemplateView):
    """One version: details, the MLmodel (flavors, signature, input example, requirements), files."""

    template_name = "registry/version_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        version = self.get_version()
        try:
            files = services.list_files(version, limit=FILES_SHOWN + 1)
            files_error = (
                "" if len(files) <= FILES_SHOWN else f"Showing the first {FILES_SHOWN} files; download the zip for all."
            )
            files = files[:FILES_SHOWN]
        except (StorageError, ValidationError) as exc:
            files, files_error = [], str(exc)
        mlmodel = version.mlmodel or {}
        example = None
        if (mlmodel.get("input_example") or {}).get("artifact_path"):
            example = _text(services.read_small_file(version, mlmodel["input_example"]["artifact_path"], PREVIEW_BYTES))
        names = {f.path for f in files}
        context.update(
            model=version.model,
            version=version,
            versions=sort_versions(version.model.versions.all())[::-1],
            aliases=sorted(a.alias for a in version.aliases.all()),
            files=files,
            files_error=files_error,
            flavors=sorted((mlmodel.get("flavors") or {}).items()),
            signature=mlmodel.get("signature"),
            input_example=_pretty(example),
            example_table=_example_table(example),
            requirements=_text(services.read_small_file(version, "requirements.txt", PREVIEW_BYTES))
            if "requirements.txt" in names
            else None,
            conda=_text(services.read_small_file(version, "conda.yaml", PREVIEW_BYTES))
            if "conda.yaml" in names
            else None,
            preview_file=self.request.GET.get("file", ""),
            edit_form=VersionEditForm(initial={"description": version.description, "tags": version.tags}),
            stages=ModelVersion.Stage.values,
            usages=list(version.usages.all()[:100]),
            version_links=[] if version.archived else hooks.version_links(self.request, self.workspace, version),
        )
        return context


def _text(raw: bytes | None) -> str | None:
    return None if raw is None else raw.decode("utf-8", errors="replace")


def _example_table(text: str | None) -> tuple[list, list] | None:
    """A pandas "split" input example ({"columns": [...], "data": [[...]]}) as (columns, rows)."""
    try:
        data = json.loads(text or "")
    except ValueError:
        return None
    if isinstance(data, dict) and isinstance(data.get("dataframe_split"), dict):
        data = data["dataframe_split"]
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("columns"), list)
        or not isinstance(data.get("data"), list)
    ):
        return None
    rows = [row for row in data["data"][:20] if isinstance(row, list)]
    return [str(c) for c in data["columns"][:50]], [row[:50] for row in rows]


def _pretty(text: str | None) -> str | None:
    if text is None:
        return None
    try:
        return json.dumps(json.loads(text), indent=2)[:PREVIEW_BYTES]
    except ValueError:
        return text


class FilePreviewView(ModelMixin, TemplateView):
    """The preview of one file of a version (an htmx partial; also a page of its own without JS)."""

    template_name = "registry/_file_preview.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        version = self.get_version()
        rel = self.request.GET.get("path", "")
        try:
            full = services.file_path(version, rel)
        except ValidationError as exc:
            raise Http404(" ".join(exc.messages)) from None
        kind, text = "binary", None
        lower = rel.lower()
        if lower.endswith(TEXT_SUFFIXES) or "." not in rel.rsplit("/", 1)[-1]:
            raw = services.read_small_file(version, rel, PREVIEW_BYTES + 1)
            if raw is None:
                raise Http404("No such file.")
            kind, text = "text", _text(raw[:PREVIEW_BYTES])
            if lower.endswith(".json"):
                text = _pretty(text)
            context["truncated"] = len(raw) > PREVIEW_BYTES
        elif lower.endswith((".png", ".jpg", ".jpeg", ".gif", ".webp")):
            kind = "image"
        context.update(model=version.model, version=version, path=rel, full=full, kind=kind, text=text)
        return context


class FileDownloadView(ModelMixin, View):
    """One file of a version (`?path=`; `&inline=1` for images shown in the preview)."""

    def get(self, request, workspace, name, version):
        found = self.get_version()
        try:
            response = download_response(
                request, found.datastore, services.file_path(found, request.GET.get("path", ""))
            )
        except ValidationError as exc:
            raise Http404(" ".join(exc.messages)) from None
        if request.GET.get("inline") == "1" and request.GET.get("path", "").lower().endswith(
            (".png", ".jpg", ".jpeg", ".gif", ".webp")
        ):
            response["Content-Disposition"] = "inline"
            response["Content-Security-Policy"] = "default-src 'none'; sandbox"
        return response


class ZipDownloadView(ModelMixin, View):
    """Every file of a version as one zip, streamed while it is made."""

    def get(self, request, workspace, name, version):
        found = self.get_version()
        location = services.files_location(found)
        files = [(services.file_path(found, e.path), e.path) for e in services.list_files(found)]
        response = StreamingHttpResponse(iter_zip(location.store, files), content_type="application/zip")
        response["Content-Disposition"] = content_disposition_header(True, f"{found.model.name}-{found.version}.zip")
        return response


class VersionActionView(ModelMixin, View):
    """POST: archive / restore, set or remove an alias, change the stage."""

    post_action = WRITE

    def post(self, request, workspace, name, version):
        found = self.get_version()
        what = request.POST.get("do", "")
        try:
            if what == "archive":
                services.do_archive_model_version(found, actor=request.user)
                messages.success(request, f"{found.reference} archived: hidden from lists and @latest.")
            elif what == "restore":
                services.do_restore_model_version(found, actor=request.user)
                messages.success(request, f"{found.reference} restored.")
            elif what == "alias":
                row = services.do_set_alias(found, request.POST.get("alias", ""), actor=request.user)
                messages.success(request, f"{found.model.name}@{row.alias} now points at version {found.version}.")
            elif what == "unalias":
                alias = request.POST.get("alias", "")
                if not found.aliases.filter(alias=alias).exists():
                    raise ValidationError({"alias": [f"{found.reference} has no alias {alias!r}."]})
                services.do_delete_alias(found.model, alias, actor=request.user)
                messages.success(request, f"Alias {alias} removed.")
            elif what == "edit":
                form = VersionEditForm(request.POST)
                if not form.is_valid():
                    raise ValidationError([f"{k}: {' '.join(v)}" for k, v in form.errors.items()])
                services.do_update_model_version(
                    found,
                    actor=request.user,
                    description=form.cleaned_data["description"],
                    tags=form.cleaned_data["tags"],
                )
                messages.success(request, "Description and tags saved.")
            elif what == "stage":
                services.do_set_stage(
                    found,
                    request.POST.get("stage", ""),
                    actor=request.user,
                    archive_existing=bool(request.POST.get("archive_existing")),
                )
                messages.success(request, f"{found.reference} is now in stage {found.stage}.")
            else:
                raise ValidationError("Unknown action.")
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        return redirect(found)


class ModelEditView(ModelMixin, View):
    """POST: the model's own description and tags."""

    post_action = WRITE

    def post(self, request, workspace, name):
        model = self.get_model()
        form = VersionEditForm(request.POST)
        try:
            if not form.is_valid():
                raise ValidationError([f"{k}: {' '.join(v)}" for k, v in form.errors.items()])
            services.do_update_model(
                model, actor=request.user, description=form.cleaned_data["description"], tags=form.cleaned_data["tags"]
            )
            messages.success(request, "Description and tags saved.")
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        return redirect(model)


class RegisterView(VersionCreateView):
    """Register a model. `?job=<name>&path=outputs/model` pre-fills a job's output (the job
    page's "Register model" link); `?uri=models:/<id>&type=mlflow_model&name=…` a run's logged
    model (the Outputs tab's "Register"). GET the form; POST it, or PUT it from the page's script
    (multipart with files streamed into the artifact store as they arrive)."""

    template_name = "registry/register.html"
    body_template = "registry/_register_body.html"
    created_message = "Model {reference} registered."
    path_error_fields = {"job": "job_path", "uri": "uri", "upload": "source"}
    form_class = RegisterForm
    required_action = WRITE
    post_action = WRITE
    section = "models"

    def job_choices(self, job_name: str) -> list[str]:
        """Folders of a job's stored outputs, as register candidates."""
        job = Job.objects.filter(workspace=self.workspace, name=job_name).first()
        if job is None:
            return []
        folders = set()
        for entry in artifacts.list_outputs(job, limit=2000):
            parts = entry["path"].split("/")
            for depth in range(2, len(parts)):
                folders.add("/".join(parts[:depth]))
        return sorted(folders)[:200]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        job = self.request.GET.get("job", "")
        initial = {"name": self.request.GET.get("name", "")}
        uri = self.request.GET.get("uri", "").strip()
        if uri:
            # A run's logged model (`models:/<id>`) from the job page's Outputs tab.
            initial |= {"source": "uri", "uri": uri}
        elif job:
            initial |= {"source": "job", "job": job, "job_path": self.request.GET.get("path") or "outputs/model"}
            if not initial["name"]:
                initial["name"] = _suggest_name(initial["job_path"], job)
        if self.request.GET.get("type") in ModelVersion.Type.values:
            initial["type"] = self.request.GET["type"]
        form = context.setdefault("form", RegisterForm(initial=initial))
        context["job_folders"] = self.job_choices(form["job"].value() or "")
        return context

    def upload_sink(self):
        return services.upload_sink_for(self.workspace)

    def create(self, request, data, sink):
        form = RegisterForm(data)
        if not form.is_valid():
            if sink is not None:
                discard(sink)
            return None, {"form": form}
        fields = form.cleaned_data
        common = {
            "actor": request.user,
            "name": fields["name"],
            "version": fields["version"] or None,
            "type": fields["type"] or None,
            "description": fields["description"],
            "tags": fields["tags"],
        }
        try:
            if fields["source"] == "upload":
                if sink is None or not sink.files:
                    raise ValidationError({"source": ["Choose the model's files or a zip to upload."]})
                return services.do_create_model_version_from_upload(self.workspace, sink, **common), None
            if sink is not None:
                discard(sink)
            path = form.path()
            if not path:
                raise ValidationError(
                    {"job" if fields["source"] == "job" else "uri": ["Say where the model's files are."]}
                )
            return services.do_create_model_version(self.workspace, path=path, **common), None
        except ValidationError as exc:
            if sink is not None:
                discard(sink)
            apply_errors(form, self.field_errors(exc, fields["source"]))
            return None, {"form": form}


def _suggest_name(path: str, job: str) -> str:
    """A model name from the output folder ("outputs/model" of job x -> "x-model")."""
    last = path.strip("/").rsplit("/", 1)[-1] or "model"
    return f"{job}-{last}"[:255] if last in ("model", "outputs") else last[:255]
