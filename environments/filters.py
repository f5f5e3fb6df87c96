"""The environment list's filters, shared by the Environments page and GET .../environments/.

Each row is an environment with its latest version (not archived, unless asked) and the build
state of that version's spec on each backend.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Prefetch

from compute.backends import KINDS
from environments.models import BuildStatus, Environment, EnvironmentBuild, EnvironmentVersion
from studio import versioning


@dataclass
class Row:
    environment: Environment
    latest: EnvironmentVersion
    version_count: int
    builds: dict[str, str] = field(default_factory=dict)  # backend -> built | failed | building | ""


def _truthy(value) -> bool | None:
    if value in (None, ""):
        return None
    return str(value).lower() in {"1", "true", "yes", "on"}


def parse_tag(value: str) -> tuple[str, str | None]:
    """`Framework=PyTorch` -> ("Framework", "PyTorch"); `gpu` -> ("gpu", None)."""
    key, sep, val = (value or "").partition("=")
    return key.strip(), (val.strip() if sep else None)


def environment_rows(workspace, params) -> list[Row]:
    """Rows for `params`: curated (true/false/empty = both), q (name contains), tag
    (key or key=value, on the latest version), archived (true: include archived versions)."""
    curated = _truthy(params.get("curated"))
    include_archived = bool(_truthy(params.get("archived")))
    envs = Environment.objects.visible_in(workspace).select_related("created_by")
    if curated is not None:
        envs = envs.filter(curated=curated)
    if q := (params.get("q") or "").strip():
        envs = envs.filter(name__icontains=q)
    versions = EnvironmentVersion.objects.select_related("created_by").order_by()
    envs = envs.prefetch_related(Prefetch("versions", queryset=versions))
    tag_key, tag_value = parse_tag(params.get("tag") or "")
    rows = []
    for env in envs:
        all_versions = list(env.versions.all())
        pool = all_versions if include_archived else [v for v in all_versions if not v.archived]
        if not pool:
            continue
        latest = max(pool, key=lambda v: (versioning.version_sort_key(v.version), v.created_at))
        if tag_key and (tag_key not in latest.tags or (tag_value is not None and latest.tags[tag_key] != tag_value)):
            continue
        rows.append(Row(env, latest, len(pool)))
    _attach_build_states(rows)
    return rows


def _attach_build_states(rows: list[Row]) -> None:
    """One query for all rows: what each spec hash's builds say, per backend. A spec is 'built'
    on a backend once any build of it succeeded there (builds are shared by hash)."""
    hashes = {row.latest.spec_hash for row in rows}
    state: dict[tuple[str, str], str] = {}
    rank = {"building": 3, "built": 2, "failed": 1}
    builds = EnvironmentBuild.objects.filter(spec_hash__in=hashes).values_list("spec_hash", "backend", "status")
    for spec_hash, backend, status in builds:
        word = {
            BuildStatus.SUCCEEDED: "built",
            BuildStatus.FAILED: "failed",
            BuildStatus.QUEUED: "building",
            BuildStatus.RUNNING: "building",
        }[status]
        key = (spec_hash, backend)
        if rank[word] > rank.get(state.get(key, ""), 0):
            state[key] = word
    for row in rows:
        row.builds = {kind: state.get((row.latest.spec_hash, kind), "") for kind in KINDS}


def all_tags(rows: list[Row]) -> list[str]:
    """`key=value` choices for the tag filter, from the rows' latest versions."""
    return sorted({f"{k}={v}" if v else k for row in rows for k, v in row.latest.tags.items()}, key=str.lower)
