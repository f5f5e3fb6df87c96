"""A model version's lineage, for its pages: the job that produced it, that job's metrics and
parameters, the data it was trained on, and the jobs that used the version since."""

from __future__ import annotations

from dataclasses import dataclass, field

from datastores.models import DataUsage
from jobs.metrics.values import last_metric_values
from jobs.models import Job, Param
from registry.models import ModelUsage, ModelVersion


@dataclass
class Lineage:
    job: Job | None = None
    job_name: str = ""  # kept when the job itself was deleted
    metrics: list[tuple[str, float | None]] = field(default_factory=list)
    params: list[tuple[str, str]] = field(default_factory=list)
    # (input name, what it read: a data asset reference or a URI, the asset's page URL or "")
    inputs: list[tuple[str, str, str]] = field(default_factory=list)
    used_by: list[ModelUsage] = field(default_factory=list)


def of(version: ModelVersion, *, limit: int = 50) -> Lineage:
    """The lineage of `version` (a few bounded queries)."""
    result = Lineage(job=version.job, job_name=version.job_name)
    result.used_by = list(version.usages.filter(direction=ModelUsage.Direction.INPUT)[:100])
    job = version.job
    if job is None:
        return result
    values = last_metric_values([job]).get(job.pk, {})
    result.metrics = sorted(values.items())[:limit]
    result.params = list(Param.objects.filter(job=job).order_by("key").values_list("key", "value")[:limit])
    assets = {
        u.port: u.version
        for u in DataUsage.objects.filter(workspace=version.workspace, job_name=job.name, direction="input")
        .select_related("version__asset", "version__workspace")
        .order_by("created_at")
    }
    for name, item in sorted((job.inputs or {}).items()):
        if not isinstance(item, dict):
            result.inputs.append((name, str(item), ""))
            continue
        data = assets.get(name)
        if data is not None:
            result.inputs.append((name, f"{data.reference}", data.get_absolute_url()))
        else:
            result.inputs.append(
                (
                    name,
                    str(
                        item.get("asset")
                        or item.get("model")
                        or item.get("path")
                        or item.get("uri")
                        or item.get("value")
                        or ""
                    ),
                    "",
                )
            )
    return result
