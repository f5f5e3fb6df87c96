"""A run's MLflow artifacts on the job page: a folder browser with previews (text, JSON, CSV,
images), an Images view of every logged figure, single-file and download-all (zip) downloads.
Everything is streamed from the workspace's artifact datastore."""

from __future__ import annotations

import json
import mimetypes

from django.http import Http404, StreamingHttpResponse
from django.utils.http import content_disposition_header
from django.views import View
from django.views.generic import TemplateView

from datastores import paths
from datastores.storage import StorageError
from jobs.views.base import JobMixin
from registry.zipping import iter_zip
from tracking.artifacts import store_for_workspace

PREVIEW_BYTES = 64 * 1024
TEXT = {".txt", ".log", ".md", ".py", ".yaml", ".yml", ".json", ".csv", ".tsv", ".html", ".cfg", ".ini", ""}
# Served inline for <img>; SVG is not (it can carry script).
IMAGES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif", ".webp": "image/webp"}
MAX_IMAGES = 200


def _ext(name: str) -> str:
    return ("." + name.rsplit(".", 1)[1].lower()) if "." in name else ""


class RunArtifactsMixin(JobMixin):
    def artifacts(self):
        job = self.get_object()
        root = f"runs/{job.name}/artifacts"
        return store_for_workspace(self.workspace), root

    def rel(self, raw: str) -> str:
        try:
            return paths.clean_path(raw)
        except Exception:  # noqa: BLE001 - a ValidationError: any bad path is simply not found
            raise Http404("No such artifact.") from None


class RunArtifactsView(RunArtifactsMixin, TemplateView):
    """The browser (a partial the Outputs tab loads; also a page of its own)."""

    template_name = "tracking/_artifacts.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        job = self.get_object()
        store, root = self.artifacts()
        folder = self.rel(self.request.GET.get("path", ""))
        selected = self.rel(self.request.GET.get("file", ""))
        images = self.request.GET.get("view") == "images"
        entries, preview, image_files = [], None, []
        try:
            base = paths.join(root, folder) if folder else root
            if store.isdir(base):
                entries = [
                    {"name": e.name, "path": e.path[len(root) + 1 :], "is_dir": e.is_dir, "size": e.size}
                    for e in sorted(store.ls(base), key=lambda e: (not e.is_dir, e.name))
                ]
            if images:
                image_files = [
                    e.path[len(root) + 1 :]
                    for e in store.walk_files(root, limit=MAX_IMAGES * 5)
                    if _ext(e.name) in IMAGES
                ][:MAX_IMAGES]
            if selected:
                preview = self._preview(store, paths.join(root, selected), selected)
        except StorageError as exc:
            context["error"] = str(exc)
        context.update(
            job=job,
            folder=folder,
            crumbs=self._crumbs(folder),
            entries=entries,
            selected=selected,
            preview=preview,
            images=images,
            image_files=image_files,
        )
        return context

    @staticmethod
    def _crumbs(folder: str) -> list[tuple[str, str]]:
        parts = folder.split("/") if folder else []
        return [(part, "/".join(parts[: i + 1])) for i, part in enumerate(parts)]

    @staticmethod
    def _preview(store, full: str, rel: str) -> dict | None:
        if not store.isfile(full):
            return None
        ext = _ext(rel)
        if ext in IMAGES:
            return {"kind": "image", "path": rel}
        if ext not in TEXT:
            return {"kind": "binary", "path": rel}
        with store.open_read(full) as handle:
            raw = handle.read(PREVIEW_BYTES + 1)
        text = raw[:PREVIEW_BYTES].decode("utf-8", errors="replace")
        truncated = len(raw) > PREVIEW_BYTES
        if ext == ".json" and not truncated:
            try:
                text = json.dumps(json.loads(text), indent=2)
            except ValueError:
                pass
        if ext in (".csv", ".tsv"):
            sep = "\t" if ext == ".tsv" else ","
            rows = [line.split(sep) for line in text.splitlines()[:50]]
            return {"kind": "table", "path": rel, "rows": rows, "truncated": truncated}
        return {"kind": "text", "path": rel, "text": text, "truncated": truncated}


class RunArtifactFileView(RunArtifactsMixin, View):
    def get(self, request, workspace, name, path):
        store, root = self.artifacts()
        full = paths.join(root, self.rel(path))
        try:
            if not store.isfile(full):
                raise Http404("No such artifact.")
            entry = store.info(full)
        except StorageError:
            raise Http404("No such artifact.") from None
        inline = IMAGES.get(_ext(entry.name))
        kind = inline or mimetypes.guess_type(entry.name)[0] or "application/octet-stream"
        response = StreamingHttpResponse(store.iter_bytes(full), content_type=kind)
        if entry.size is not None:
            response["Content-Length"] = str(entry.size)
        response["Content-Disposition"] = content_disposition_header(not inline, entry.name)
        response["X-Content-Type-Options"] = "nosniff"
        return response


class RunArtifactsZipView(RunArtifactsMixin, View):
    def get(self, request, workspace, name):
        store, root = self.artifacts()
        try:
            files = [(e.path, e.path[len(root) + 1 :]) for e in store.walk_files(root)] if store.isdir(root) else []
        except StorageError:
            files = []
        if not files:
            raise Http404("This run has no artifacts.")
        response = StreamingHttpResponse(iter_zip(store, files), content_type="application/zip")
        response["Content-Disposition"] = content_disposition_header(True, f"{self.get_object().name}-artifacts.zip")
        return response
