"""Data asset versions are immutable, and so are the files behind them: nothing Studio writes or
deletes (job outputs, uploads, deletes in the datastore browser) may touch a version's path, nor
anything in the workspace's artifact store."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import Q

from datastores.models import Datastore, DataVersion

# Studio's own store of registered model files, run artifacts and logged models: written only by
# Studio (registration, MLflow logging), never by members' uploads, deletes or job outputs.
ARTIFACT_STORE = "workspaceartifactstore"


def version_behind(datastore: Datastore, path: str, *, tree: bool = True) -> DataVersion | None:
    """A data asset version (archived ones too) of `datastore` whose path holds `path` (it is the
    version's file or folder, or inside it); with `tree` (writing or deleting a whole folder), also
    one whose path lies under `path`."""
    path = path.strip("/")
    parts = path.split("/") if path else []
    holding = ["/".join(parts[:i]) for i in range(len(parts) + 1)]  # "", "a", "a/b", … the path itself
    found = DataVersion.objects.filter(datastore=datastore).select_related("asset")
    if not (tree and not path):  # a whole datastore's tree touches every version
        under = Q(datastore_path__startswith=path + "/") if tree else Q(pk__in=[])
        found = found.filter(Q(datastore_path__in=holding) | under)
    return found.order_by("pk").first()


def check_not_protected(datastore: Datastore, path: str, *, field: str = "path", tree: bool = True) -> None:
    """ValidationError on `field` when writing (or deleting) `path` would change the files of a data
    asset version; `tree` when `path` is a folder written or deleted as a whole."""
    if datastore.name == ARTIFACT_STORE:
        raise ValidationError(
            {
                field: [
                    f"{datastore.uri(path)} is in the workspace's artifact store, which holds registered model "
                    "versions' files, runs' artifacts and logged models; Studio does not write or delete there "
                    "for members. Choose another datastore, such as workspaceblobstore."
                ]
            }
        )
    version = version_behind(datastore, path, tree=tree)
    if version is not None:
        raise ValidationError(
            {
                field: [
                    f"{datastore.uri(path)} holds the files of data asset {version.reference}; data asset versions "
                    "are immutable, so Studio does not write or delete there. Choose another path."
                ]
            }
        )
