"""Schedule pages under /w/<workspace>/schedules/: the list, new (a cron + a job to copy, or a
schedule YAML), a schedule's page (its trigger, next run times, the jobs it made), pause/resume
and delete."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.views import View
from django.views.generic import FormView, TemplateView

from jobs.models import Job, JobType
from schedules import services
from schedules.api.views import next_run_times
from schedules.forms import ScheduleForm, ScheduleYAMLForm
from schedules.models import Schedule
from studio.views.base import WorkspaceMixin

WRITE = "jobs.submit"
JOB_CHOICES = 100
FORM_FIELDS = {"name": "name", "display_name": "display_name", "trigger.expression": "expression"}
FORM_FIELDS |= {"trigger.time_zone": "time_zone", "create_job": "job", "trigger": "expression"}


def _shown(schedule: Schedule, runs: int = 5) -> Schedule:
    """Attach what the pages show of the trigger (a description, the next `runs` run times)."""
    trigger = services.trigger_of(schedule)
    schedule.trigger_text = trigger.describe()  # type: ignore[attr-defined]
    schedule.next_runs = next_run_times(schedule, trigger, runs)  # type: ignore[attr-defined]
    return schedule


class ScheduleListView(WorkspaceMixin, TemplateView):
    template_name = "schedules/schedule_list.html"
    section = "schedules"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        rows = Schedule.objects.filter(workspace=self.workspace).select_related("periodic_task", "created_by")
        context["schedules"] = [_shown(s, runs=1) for s in rows]
        return context


class ScheduleCreateView(WorkspaceMixin, FormView):
    """A cron expression and a job of the workspace to copy."""

    template_name = "schedules/schedule_form.html"
    form_class = ScheduleForm
    required_action = WRITE
    post_action = WRITE
    section = "schedules"

    def get_form_kwargs(self):
        jobs = (
            Job.objects.filter(workspace=self.workspace, type=JobType.COMMAND, parent__isnull=True)
            .order_by("-created_at")
            .values_list("name", "display_name")[:JOB_CHOICES]
        )
        choices = [(name, f"{display} ({name})" if display and display != name else name) for name, display in jobs]
        return super().get_form_kwargs() | {"jobs": choices}

    def get_initial(self):
        return {"job": self.request.GET.get("job", "")}

    def form_valid(self, form):
        try:
            schedule = services.do_create_schedule(
                self.workspace, form.to_spec(), actor=self.request.user, source="schedule"
            )
        except ValidationError as exc:
            for key, msgs in (exc.message_dict if hasattr(exc, "error_dict") else {None: exc.messages}).items():
                field = FORM_FIELDS.get(key or "")
                for msg in msgs:
                    text = msg.removeprefix("schedule: ").removeprefix("schedule, trigger: ")
                    form.add_error(field, text if field or key in (None, "spec") else f"{key}: {text}")
            return self.form_invalid(form)
        messages.success(self.request, f"Schedule {schedule.name} created.")
        return redirect("schedules:schedule_detail", self.workspace.name, schedule.name)


class ScheduleYAMLView(WorkspaceMixin, FormView):
    """The Azure ML schedule YAML, pasted or uploaded; `create_job` inline or azureml:<job>."""

    template_name = "schedules/schedule_yaml.html"
    form_class = ScheduleYAMLForm
    required_action = WRITE
    post_action = WRITE
    section = "schedules"

    def form_valid(self, form):
        try:
            schedule = services.do_create_schedule(
                self.workspace,
                form.cleaned_data["mapping"],
                actor=self.request.user,
                source=form.cleaned_data["source"],
            )
        except ValidationError as exc:
            for key, msgs in (exc.message_dict if hasattr(exc, "error_dict") else {None: exc.messages}).items():
                for msg in msgs:
                    form.add_error(
                        None,
                        msg
                        if key in (None, "spec", "__all__") or msg.startswith(form.cleaned_data["source"])
                        else f"{key}: {msg}",
                    )
            return self.form_invalid(form)
        messages.success(self.request, f"Schedule {schedule.name} created.")
        return redirect("schedules:schedule_detail", self.workspace.name, schedule.name)


class ScheduleDetailView(WorkspaceMixin, TemplateView):
    template_name = "schedules/schedule_detail.html"
    section = "schedules"
    queryset = Schedule.objects.select_related("periodic_task", "created_by")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        schedule = _shown(self.get_object())
        context |= {
            "schedule": schedule,
            "runs": list(schedule.runs.select_related("job")[:50]),
            "run_count": schedule.runs.count(),
        }
        return context


class ScheduleActionView(WorkspaceMixin, View):
    """POST pause (disable), resume (enable) or delete."""

    post_action = WRITE
    queryset = Schedule.objects.all()
    verb = ""

    def post(self, request, *args, **kwargs):
        schedule = self.get_object()
        if self.verb == "delete":
            services.do_delete_schedule(schedule, actor=request.user)
            messages.success(request, f"Schedule {schedule.name} deleted; the jobs it made are kept.")
            return redirect("schedules:schedule_list", self.workspace.name)
        if self.verb == "enable":
            services.do_enable_schedule(schedule, actor=request.user)
            messages.success(request, f"Schedule {schedule.name} resumed.")
        else:
            services.do_disable_schedule(schedule, actor=request.user)
            messages.success(request, f"Schedule {schedule.name} paused: it submits nothing until resumed.")
        return redirect("schedules:schedule_detail", self.workspace.name, schedule.name)
