from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "registry"
    verbose_name = "Models"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from registry import search as registry_search
        from studio import search

        search.register("models", "Models", 40, registry_search.models)

        from registry import jobio
        from registry.deletion import PART
        from studio import activity, deletion

        jobio.register_handlers()
        deletion.register(PART)

        activity.register_messages(
            {
                "model.created": "registered the model {target} ({type})",
                "model.registered": "created the model {target} (no versions yet)",
                "model.updated": "changed the model {target} ({fields})",
                "model.version_updated": "changed the model version {target} ({fields})",
                "model.renamed": "renamed the model {old_name} to {target}",
                "model.alias_set": "pointed {target} at version {version}",
                "model.alias_deleted": "removed the alias {target}",
                "model.stage_changed": "moved {target} from stage {old} to {stage}",
                "model.archived": "archived the model {target}",
                "model.restored": "restored the model {target}",
                "model.version_deleted": "deleted the model version {target}",
                "model.deleted": "deleted the model {target}",
            }
        )
