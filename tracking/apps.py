from django.apps import AppConfig


class TrackingConfig(AppConfig):
    name = "tracking"
    verbose_name = "MLflow tracking"

    def ready(self) -> None:
        from studio.activity import register_messages
        from tracking import registry_hooks

        registry_hooks.register()
        from django.db.models.signals import post_delete

        from jobs.models import Job
        from tracking import signals
        from tracking.models import LoggedModel

        post_delete.connect(signals.job_deleted, sender=Job, dispatch_uid="tracking.job_deleted")
        post_delete.connect(signals.logged_model_deleted, sender=LoggedModel, dispatch_uid="tracking.model_deleted")

        register_messages(
            {
                "run.created": "started the MLflow run {target} ({experiment})",
                "run.renamed": "renamed the run {target} to {run_name}",
                "run.ended": "ended the MLflow run {target} ({status})",
                "experiment.created": "created the experiment {target}",
                "logged_model.created": "logged the model {target} ({name}) from run {run}",
            }
        )
