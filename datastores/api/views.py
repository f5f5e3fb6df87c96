"""The datastores API's viewsets (the routes are in urls.py beside this module)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.views.decorators.debug import sensitive_variables
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from datastores import paths, services
from datastores import spec as data_spec
from datastores.api import serializers as s
from datastores.downloads import download_response, storage_errors
from datastores.models import DataAsset, Datastore, DataVersion
from datastores.preview import preview
from datastores.storage import store_for
from datastores.uploads import UploadSink, discard, parse_multipart, write_body
from studio import versioning
from studio.api.base import WorkspaceScopedViewSet
from studio.api.body import read_spec, truthy
from studio.api.versioned import VersionViewSetMixin
from studio.yamlspec import LineDict, check_tree

MAX_BROWSE = 5000


def _is_yaml(request) -> bool:
    return "yaml" in (request.content_type or "")


class DatastoreViewSet(WorkspaceScopedViewSet):
    """Datastores of a workspace. Credentials are accepted, stored encrypted, never returned."""

    queryset = Datastore.objects.select_related("workspace", "created_by")
    serializer_class = s.DatastoreSerializer
    lookup_field = "name"
    required_actions = {
        "create": "datastores.write",
        "partial_update": "datastores.write",
        "update": "datastores.write",
        "destroy": "datastores.write",
        "default": "datastores.write",
        "upload": "data.write",
        "upload_files": "data.write",
        "delete_path": "data.write",
    }

    def list(self, request, workspace):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(s.DatastoreSerializer(page, many=True).data)

    def retrieve(self, request, workspace, name):
        return Response(s.DatastoreSerializer(self.get_object()).data)

    @staticmethod
    def _body(request, *, partial: bool) -> tuple[dict, list[str]]:
        """The definition sent (JSON, a datastore YAML or a multipart `spec` part), checked by
        datastores.spec.DatastoreSpec."""
        data, how = read_spec(request)
        return data_spec.clean_datastore(data, source="datastore YAML" if how == "yaml" else "spec", partial=partial)

    @staticmethod
    def _answer(datastore: Datastore, notices: list[str], code: int = status.HTTP_200_OK) -> Response:
        body = s.DatastoreSerializer(datastore).data
        if notices:
            body["notices"] = notices
        return Response(body, status=code)

    @extend_schema(request=data_spec.DatastoreSpec, responses={201: s.DatastoreSerializer})
    @sensitive_variables("body")
    def create(self, request, workspace):
        body, notices = self._body(request, partial=False)
        datastore = services.do_register_datastore(self.workspace, actor=request.user, **body)
        return self._answer(datastore, notices, status.HTTP_201_CREATED)

    @extend_schema(request=data_spec.DatastoreSpec, responses={200: s.DatastoreSerializer})
    @sensitive_variables("body")
    def partial_update(self, request, workspace, name):
        datastore = self.get_object()
        body, notices = self._body(request, partial=True)
        for key in ("name", "type"):
            if key in body and body.pop(key) != getattr(datastore, key):
                raise ValidationError({key: [f"A datastore's {key} cannot change; register a new one."]})
        datastore = services.do_update_datastore(datastore, actor=request.user, **body)
        return self._answer(datastore, notices)

    def destroy(self, request, workspace, name):
        services.do_delete_datastore(self.get_object(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @action(detail=True, methods=["post"])
    def default(self, request, workspace, name):
        datastore = services.do_set_default_datastore(self.get_object(), actor=request.user)
        return Response(s.DatastoreSerializer(datastore).data)

    @action(detail=True, methods=["get"])
    def browse(self, request, workspace, name):
        datastore = self.get_object()
        path = paths.clean_path(request.query_params.get("path", ""))
        with storage_errors():
            entries = store_for(datastore).ls(path)
        return Response(
            {
                "path": path,
                "uri": datastore.uri(path, folder=True),
                "entries": s.EntrySerializer(entries[:MAX_BROWSE], many=True).data,
                "truncated": len(entries) > MAX_BROWSE,
            }
        )

    @action(detail=True, methods=["get"], url_path="files")
    def files(self, request, workspace, name):
        """Download a file (streamed)."""
        return download_response(request, self.get_object(), request.query_params.get("path", ""))

    @files.mapping.put
    def upload(self, request, workspace, name):
        """Upload the raw request body as the file `?path=` (`&overwrite=true` to replace)."""
        datastore = self.get_object()
        path = paths.clean_path(request.query_params.get("path", ""))
        sink = UploadSink(
            store=store_for(datastore),
            folder=paths.parent(path),
            overwrite=truthy(request.query_params.get("overwrite")),
            datastore=datastore,
        )
        with storage_errors():
            stored = write_body(request._request, sink, paths.basename(path) if path else "")
        services.do_record_upload(datastore, actor=request.user, folder=sink.folder, files=1, size=stored.size)
        return Response(
            {"path": path, "size": stored.size, "sha256": stored.sha256, "uri": datastore.uri(path)},
            status=status.HTTP_201_CREATED,
        )

    @files.mapping.post
    def upload_files(self, request, workspace, name):
        """Upload multipart files (file names may hold relative folders) into the folder `?path=`."""
        datastore = self.get_object()
        folder = paths.clean_path(request.query_params.get("path", ""))
        sink = UploadSink(
            store=store_for(datastore),
            folder=folder,
            overwrite=truthy(request.query_params.get("overwrite")),
            datastore=datastore,
        )
        with storage_errors():
            parse_multipart(request._request, sink)
        if not sink.files:
            raise ValidationError({"file": ["Send at least one file."]})
        services.do_record_upload(
            datastore, actor=request.user, folder=folder, files=len(sink.files), size=sink.total_size
        )
        return Response(
            {"path": folder, "files": [{"path": f.path, "size": f.size} for f in sink.files]},
            status=status.HTTP_201_CREATED,
        )

    @files.mapping.delete
    def delete_path(self, request, workspace, name):
        services.do_delete_path(self.get_object(), request.query_params.get("path", ""), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class _DataCreateMixin:
    """POST bodies for a new data version: JSON, an Azure ML data YAML, or multipart with a
    `spec` (YAML/JSON) or plain fields plus the files of a local upload."""

    required_actions = {
        "create": "data.write",
        "partial_update": "data.write",
        "destroy": "data.write",
        "restore": "data.write",
    }

    def _create(self, request, name: str | None):
        sink = None
        if (request.content_type or "").startswith("multipart/form-data"):
            sink = services.upload_sink_for(self.workspace)
            try:
                with storage_errors("file"):
                    form, _ = parse_multipart(request._request, sink)
            except Exception:
                discard(sink)
                raise
            try:
                check_tree(dict(form), source="form")
            except ValidationError:
                discard(sink)
                raise
            body = services.parse_data_yaml(form["spec"]) if form.get("spec") else LineDict()
            for key in ("name", "version", "type", "path", "description", "tags"):
                if form.get(key) not in (None, ""):
                    body[key] = form[key]
            source = "data YAML" if form.get("spec") else "form"
        else:  # JSON or a data YAML: datastores.spec.DataSpec checks either in do_create_data
            body = request.data
            source = "data YAML" if _is_yaml(request) else "spec"
        if name is not None:
            if body.get("name") not in (None, "", name):
                if sink is not None:
                    discard(sink)
                raise ValidationError({"name": [f"The body names {body['name']!r} but the URL names {name!r}."]})
            body["name"] = name
        version = services.do_create_data(self.workspace, actor=request.user, body=body, sink=sink, source=source)
        return Response(s.DataVersionDetailSerializer(version).data, status=status.HTTP_201_CREATED)


class DataViewSet(_DataCreateMixin, WorkspaceScopedViewSet):
    """Data assets: the latest version of each (`?archived=true` includes archived ones)."""

    queryset = DataVersion.objects.select_related("asset", "datastore", "created_by")
    serializer_class = s.DataVersionSerializer

    def list(self, request, workspace):
        include_archived = truthy(request.query_params.get("archived"))
        assets = DataAsset.objects.filter(workspace=self.workspace).order_by("name")
        if q := request.query_params.get("name"):
            assets = assets.filter(name__icontains=q)
        page = self.paginate_queryset(assets)
        versions = DataVersion.objects.filter(asset__in=page).select_related("asset", "datastore", "created_by")
        by_asset: dict[int, list[DataVersion]] = {}
        for v in versions:
            by_asset.setdefault(v.asset_id, []).append(v)
        out = []
        for asset in page:
            candidates = [v for v in by_asset.get(asset.pk, []) if include_archived or not v.archived]
            if candidates:
                out.append(versioning.newest(candidates))
        return self.get_paginated_response(s.DataVersionSerializer(out, many=True).data)

    @extend_schema(request=data_spec.DataSpec, responses={201: s.DataVersionDetailSerializer})
    def create(self, request, workspace):
        return self._create(request, None)


class DataVersionViewSet(_DataCreateMixin, VersionViewSetMixin, WorkspaceScopedViewSet):
    """Versions of one data asset; {v} may be "latest". DELETE archives (versions are immutable)."""

    queryset = DataVersion.objects.select_related("asset", "datastore", "created_by")
    serializer_class = s.DataVersionSerializer
    detail_serializer_class = s.DataVersionDetailSerializer
    write_serializer_class = data_spec.DataSpec
    archive_service = staticmethod(services.do_archive_data_version)
    restore_service = staticmethod(services.do_restore_data_version)
    asset_model = DataAsset
    asset_label = "data asset"
    lookup_field = "version"

    def get_queryset(self):
        return super().get_queryset().filter(asset__name=self.kwargs.get("name", ""))

    def find_version(self, name, version):
        return services.resolve_version(self.workspace, name, version)

    @extend_schema(request=data_spec.DataSpec, responses={201: s.DataVersionDetailSerializer})
    def create(self, request, workspace, name):
        return self._create(request, name)

    @extend_schema(request=data_spec.DataSpec, responses={200: s.DataVersionDetailSerializer})
    def partial_update(self, request, workspace, name, version):
        body = self.patch_body(request)
        found = services.do_update_data_version(
            self.get_object(), actor=request.user, description=body.get("description"), tags=body.get("tags")
        )
        return Response(s.DataVersionDetailSerializer(found).data)

    @action(detail=True, methods=["get"], url_path="preview")
    def preview(self, request, workspace, name, version):
        found = self.get_object()
        if found.datastore is None:
            return Response({"source": found.path, "schema": [], "rows": [], "note": "Web URLs are not previewed."})
        return Response(preview(store_for(found.datastore), found.datastore_path, found.type).as_dict())
