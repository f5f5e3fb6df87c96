from django.apps import AppConfig


class EndpointsConfig(AppConfig):
    name = "endpoints"
    verbose_name = "Endpoints"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib.auth import get_user_model
        from django.db.models.signals import post_delete, post_save

        from compute.signals import node_agent_started, node_agent_stopping
        from endpoints import instance_logs, node_keeper, router, routes
        from endpoints.batch import deletion as batch_deletion
        from endpoints.batch import scoring
        from endpoints.batch import services as batch_services
        from endpoints.deletion import PART
        from endpoints.models import DeploymentInstance, OnlineDeployment, OnlineEndpoint
        from endpoints.views import deploy_link
        from jobs import children
        from jobs.models import JobType
        from registry import hooks
        from studio import activity, asgi_mounts, deletion
        from studio.models import AccessToken, Membership

        node_agent_started.connect(node_keeper.on_node_agent_started, dispatch_uid="endpoints-keeper-start")
        node_agent_stopping.connect(node_keeper.on_node_agent_stopping, dispatch_uid="endpoints-keeper-stop")
        deletion.register(PART)
        deletion.register(batch_deletion.PART)
        hooks.register_version_link(deploy_link)
        children.register(
            JobType.BATCH_SCORING,
            children.TypeHandler(
                submit=batch_services.refuse_batch_scoring_submission,
                child_ended=scoring.on_child_ended,
                cancel=scoring.do_cancel_batch_job,
                page="endpoints:batch_job",
            ),
        )
        asgi_mounts.register(router.PATH, router.app, shutdown=router.shutdown)
        # A change saved in this process is seen by its router at once (others: within the cache time).
        # Users, memberships and tokens too: a revoked token or a removed member of an aml_token endpoint.
        for model in (OnlineEndpoint, OnlineDeployment, DeploymentInstance, get_user_model(), Membership, AccessToken):
            post_save.connect(routes.forget_all, sender=model, dispatch_uid=f"routes-{model.__name__}-save")
            post_delete.connect(routes.forget_all, sender=model, dispatch_uid=f"routes-{model.__name__}-delete")
        # An instance's log stream goes with its row (also when its deployment or workspace goes).
        post_delete.connect(instance_logs.forget, sender=DeploymentInstance, dispatch_uid="endpoints-instance-log")
        activity.register_messages(
            {
                "endpoint.created": "created the online endpoint {target}",
                "endpoint.updated": "changed the online endpoint {target} ({fields})",
                "endpoint.keys_regenerated": "regenerated the {key_type} key of {target}",
                "endpoint.deleted": "deleted the online endpoint {target}",
                "deployment.created": "deployed {model} as {target}",
                "deployment.updated": "updated the deployment {target} ({fields})",
                "deployment.deleted": "deleted the deployment {target}",
                "batch_endpoint.created": "created the batch endpoint {target}",
                "batch_endpoint.updated": "changed the batch endpoint {target} ({fields})",
                "batch_endpoint.deleted": "deleted the batch endpoint {target}",
                "batch_endpoint.invoked": "invoked the batch endpoint {target} ({deployment}): job {job}",
                "batch_deployment.created": "deployed {model} as the batch deployment {target}",
                "batch_deployment.updated": "updated the batch deployment {target} ({fields})",
                "batch_deployment.deleted": "deleted the batch deployment {target}",
                "batch_job.ended": "the batch scoring job {target} ended: {status}",
                "batch_job.canceled": "canceled the batch scoring job {target}",
            }
        )
