"""REST API of schedules, mounted under /api/v1/:
workspaces/{ws}/schedules/                  GET, POST (the Azure ML schedule YAML as JSON or YAML)
workspaces/{ws}/schedules/{name}/           GET, PATCH (display_name, description, tags, trigger, create_job), DELETE
workspaces/{ws}/schedules/{name}/enable/    POST
workspaces/{ws}/schedules/{name}/disable/   POST
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from schedules import services
from schedules.models import Schedule
from schedules.schema import JobScheduleSpec
from schedules.triggers import Trigger
from studio.api.base import WorkspaceScopedViewSet
from studio.api.body import read_spec

WRITE = "jobs.submit"  # a schedule submits jobs: managing one takes the right to submit them
RECENT_RUNS = 20


def next_run_times(schedule: Schedule, trigger: Trigger, count: int = 5) -> list:
    """When beat will fire an enabled schedule next (none when paused or ended)."""
    if not schedule.enabled:
        return []
    task = schedule.periodic_task
    if task is None:
        return trigger.next_runs(count)
    return trigger.next_runs(count, last_run=task.last_run_at, changed=task.date_changed)


def schedule_data(schedule: Schedule, *, runs: bool = False) -> dict:
    """A schedule as the API shows it; a list (`runs` False) gives each its next run only."""
    trigger = services.trigger_of(schedule)
    data = {
        "name": schedule.name,
        "display_name": schedule.display_name,
        "description": schedule.description,
        "tags": schedule.tags,
        "trigger": schedule.trigger,
        "create_job": schedule.create_job or schedule.job_spec,
        "job_type": schedule.job_type,
        "is_enabled": schedule.enabled,
        "status": schedule.status,
        "trigger_description": trigger.describe(),
        "time_zone": trigger.time_zone,
        "next_run_times": next_run_times(schedule, trigger, 5 if runs else 1),
        "problem": schedule.problem,
        "last_fired_at": schedule.last_fired_at,
        "created_by": schedule.created_by.get_username() if schedule.created_by else None,
        "created_at": schedule.created_at,
    }
    if runs:
        data["jobs"] = [
            {
                "fired_at": run.fired_at,
                "job_name": run.job_name,
                "status": run.job.status if run.job else None,
                "error": run.error,
            }
            for run in schedule.runs.select_related("job")[:RECENT_RUNS]
        ]
    return data


def _body(request) -> dict:
    data = read_spec(request)[0]  # a YAML body keeps the line of each key (studio.yamlspec.LineDict)
    return data if isinstance(data, dict) else dict(data)


@extend_schema_view(
    list=extend_schema(operation_id="schedules_list", request=None, responses=OpenApiTypes.OBJECT),
    create=extend_schema(operation_id="schedules_create", request=JobScheduleSpec, responses=OpenApiTypes.OBJECT),
    retrieve=extend_schema(operation_id="schedules_retrieve", request=None, responses=OpenApiTypes.OBJECT),
    partial_update=extend_schema(
        operation_id="schedules_partial_update", request=JobScheduleSpec, responses=OpenApiTypes.OBJECT
    ),
    destroy=extend_schema(operation_id="schedules_destroy", request=None, responses=None),
    enable=extend_schema(operation_id="schedules_enable", request=None, responses=OpenApiTypes.OBJECT),
    disable=extend_schema(operation_id="schedules_disable", request=None, responses=OpenApiTypes.OBJECT),
)
class ScheduleViewSet(WorkspaceScopedViewSet):
    queryset = Schedule.objects.select_related("workspace", "created_by", "periodic_task")
    lookup_field = "name"
    required_actions = {
        "create": WRITE,
        "partial_update": WRITE,
        "destroy": WRITE,
        "enable": WRITE,
        "disable": WRITE,
    }

    def list(self, request, workspace):
        return Response([schedule_data(s) for s in self.get_queryset()])

    def create(self, request, workspace):
        schedule = services.do_create_schedule(self.workspace, _body(request), actor=request.user)
        return Response(schedule_data(schedule, runs=True), status=status.HTTP_201_CREATED)

    def retrieve(self, request, workspace, name):
        return Response(schedule_data(self.get_object(), runs=True))

    def partial_update(self, request, workspace, name):
        schedule = services.do_update_schedule(self.get_object(), _body(request), actor=request.user)
        return Response(schedule_data(schedule, runs=True))

    def destroy(self, request, workspace, name):
        services.do_delete_schedule(self.get_object(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @action(detail=True, methods=["post"])
    def enable(self, request, workspace, name):
        return Response(schedule_data(services.do_enable_schedule(self.get_object(), actor=request.user), runs=True))

    @action(detail=True, methods=["post"])
    def disable(self, request, workspace, name):
        return Response(schedule_data(services.do_disable_schedule(self.get_object(), actor=request.user), runs=True))
