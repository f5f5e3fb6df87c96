from django.apps import AppConfig


class TrackingConfig(AppConfig):
    name = "tracking"
    verbose_name = "MLflow tracking"

    def ready(self) -> None:
        from studio.activity import register_messages
        from tracking import registry_hooks

        registry_hooks.register()

        register_messages(
            {
                "run.created": "started the MLflow run {target} ({experiment})",
                "run.renamed": "renamed the run {target} to {run_name}",
                "run.ended": "ended the MLflow run {target} ({status})",
                "experiment.created": "created the experiment {target}",
                "logged_model.created": "logged the model {target} ({name}) from run {run}",
            }
        )
