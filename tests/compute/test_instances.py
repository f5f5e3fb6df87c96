"""Single-user compute instances: only the assigned member's jobs go there, and never while stopped
(compute.services.check_can_accept, which the jobs app calls on submit)."""

import pytest
from django.core.exceptions import ValidationError

from compute import services
from compute.models import ComputeTarget, TargetState
from tests.compute.conftest import make_target

pytestmark = pytest.mark.django_db


def refusal(target, user) -> str:
    with pytest.raises(ValidationError) as info:
        services.check_can_accept(target, user)
    return " ".join(info.value.message_dict["compute"])


def test_the_assigned_member_may_submit_to_a_started_instance(instance, members):
    services.check_can_accept(instance, members["data_scientist"])  # Starting: jobs wait for its node


def test_someone_else_may_not(instance, members, owner):
    message = refusal(instance, owner)
    assert "Instance ds-box is assigned to datascientist_user: only their jobs run on it" in message


def test_a_stopped_instance_accepts_no_jobs_with_a_clear_message(instance, members, owner):
    services.do_stop_compute(instance, actor=owner)
    instance.refresh_from_db()
    assert refusal(instance, members["data_scientist"]) == "Instance ds-box is stopped: start it first."
    services.do_start_compute(instance, actor=members["data_scientist"])
    instance.refresh_from_db()
    services.check_can_accept(instance, members["data_scientist"])


def test_an_instance_whose_member_was_unassigned_runs_nobodys_jobs(instance, members):
    ComputeTarget.objects.filter(pk=instance.pk).update(assigned_to=None)
    instance.refresh_from_db()
    assert "has no assigned user" in refusal(instance, members["data_scientist"])


def test_a_failed_target_says_why(cluster, owner):
    ComputeTarget.objects.filter(pk=cluster.pk).update(state=TargetState.FAILED, state_message="the hook said no")
    cluster.refresh_from_db()
    assert "failed: the hook said no" in refusal(cluster, owner)


def test_clusters_and_local_accept_any_member(cluster, workspace, members):
    local = ComputeTarget.objects.get(workspace=workspace, name="local")
    for user in members.values():
        services.check_can_accept(cluster, user)
        services.check_can_accept(local, user)


def test_reassigning_an_instance_needs_a_member(instance, owner, outsider):
    with pytest.raises(ValidationError, match="not a member"):
        services.do_update_compute(instance, data={"assigned_to": outsider.username}, actor=owner)
    services.do_update_compute(instance, data={"assigned_to": owner.username}, actor=owner)
    instance.refresh_from_db()
    assert instance.assigned_to == owner


def test_start_and_stop_are_idempotent(workspace, owner):
    box = make_target(workspace, owner, name="box", type="computeinstance")
    assert services.do_start_compute(box, actor=owner).state == TargetState.STARTING
    assert services.do_stop_compute(box, actor=owner).state == TargetState.STOPPED
    assert services.do_stop_compute(box, actor=owner).state == TargetState.STOPPED
