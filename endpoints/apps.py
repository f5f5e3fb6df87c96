from django.apps import AppConfig


class EndpointsConfig(AppConfig):
    name = "endpoints"
    verbose_name = "Endpoints"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from endpoints import router, routes
        from endpoints.deletion import PART
        from endpoints.models import DeploymentInstance, OnlineDeployment, OnlineEndpoint
        from studio import activity, asgi_mounts, deletion

        deletion.register(PART)
        asgi_mounts.register(router.PATH, router.app, shutdown=router.shutdown)
        # A change saved in this process is seen by its router at once (others: within the cache time).
        for model in (OnlineEndpoint, OnlineDeployment, DeploymentInstance):
            post_save.connect(routes.forget_all, sender=model, dispatch_uid=f"routes-{model.__name__}-save")
            post_delete.connect(routes.forget_all, sender=model, dispatch_uid=f"routes-{model.__name__}-delete")
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
