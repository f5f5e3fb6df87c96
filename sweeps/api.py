"""The sweeps app's REST route: a sweep job's trials (`GET .../jobs/<sweep>/trials/`), which the
CLI's `--stream` follows (trial starts and ends, the best so far)."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from jobs.models import Job, JobType
from studio.api.base import WorkspaceScopedViewSet
from studio.api.urls import WS
from sweeps.models import SweepTrial


class SweepTrialSerializer(serializers.ModelSerializer):
    job = serializers.SlugRelatedField(slug_field="name", read_only=True)
    job_status = serializers.CharField(source="job.status", read_only=True)
    best = serializers.SerializerMethodField()

    class Meta:
        model = SweepTrial
        fields = ["number", "job", "job_status", "state", "params", "value", "terminated_by", "best"]
        read_only_fields = fields

    def get_best(self, trial) -> bool:
        return trial.sweep.best_trial_id == trial.pk


class SweepTrialViewSet(WorkspaceScopedViewSet):
    """The trials of a sweep job, in trial order."""

    queryset = SweepTrial.objects.select_related("job", "sweep")
    serializer_class = SweepTrialSerializer

    def get_queryset(self):
        # Trials hold no workspace of their own: they are narrowed through their sweep's job.
        return self.queryset.filter(sweep__job__workspace=self.workspace)

    def list(self, request, workspace, name):
        job = get_object_or_404(Job.objects.filter(workspace=self.workspace, type=JobType.SWEEP), name=name)
        rows = self.get_queryset().filter(sweep__job=job).order_by("number")
        return Response(SweepTrialSerializer(rows, many=True).data)


router = SimpleRouter()
router.register(rf"{WS}/jobs/(?P<name>[^/]+)/trials", SweepTrialViewSet, basename="sweep-trial")
urlpatterns = router.urls
