import factory
from django.contrib.auth import get_user_model

from studio import services

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


def make_workspace(owner, name="ws-main", **kwargs):
    return services.do_create_workspace(name=name, actor=owner, **kwargs)


def add_member(workspace, user, role_slug, actor=None):
    role = services.resolve_role(workspace, role_slug)
    return services.do_add_member(workspace, user=user, role=role, actor=actor)


def make_running_job(workspace, owner, name: str, experiment: str = "default"):
    """A Running job row with no process behind it: what a job's MLflow token is issued for."""
    from jobs.models import Experiment, Job, JobStatus

    return Job.objects.create(
        workspace=workspace,
        name=name,
        experiment=Experiment.objects.get_or_create(workspace=workspace, name=experiment)[0],
        created_by=owner,
        status=JobStatus.RUNNING,
        command="x",
        environment_ref="e",
        compute_name="local",
    )
