from django.apps import AppConfig


class EndpointsConfig(AppConfig):
    name = "endpoints"
    verbose_name = "Endpoints"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from endpoints.deletion import PART
        from endpoints.views import deploy_link
        from registry import hooks
        from studio import activity, deletion

        deletion.register(PART)
        hooks.register_version_link(deploy_link)
        activity.register_messages(
            {
                "endpoint.created": "created the online endpoint {target}",
                "endpoint.updated": "changed the online endpoint {target} ({fields})",
                "endpoint.keys_regenerated": "regenerated the {key_type} key of {target}",
                "endpoint.deleted": "deleted the online endpoint {target}",
                "deployment.created": "deployed {model} as {target}",
                "deployment.updated": "updated the deployment {target} ({fields})",
                "deployment.deleted": "deleted the deployment {target}",
            }
        )
