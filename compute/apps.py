from django.apps import AppConfig


class ComputeConfig(AppConfig):
    name = "compute"
    verbose_name = "Compute"

    def ready(self) -> None:
        from compute import search as compute_search
        from studio import search

        search.register("compute", "Compute", 50, compute_search.compute_targets)

        from compute import services
        from compute.deletion import PART
        from compute.node import connect_worker_signals
        from studio import activity, deletion, home
        from studio import services as studio_services

        deletion.register(PART)
        activity.register_messages(
            {
                "compute.created": "created the {kind} {target}",
                "compute.updated": "changed the compute target {target} ({fields})",
                "compute.deleted": "deleted the compute target {target}",
                "compute.started": "started the compute instance {target}",
                "compute.stopped": "stopped the compute instance {target}",
                "compute.node_drain_requested": "asked node {node} of {target} to drain",
                "compute.node_requested": "asked for one more node of {target} ({desired} wanted)",
                "compute.probe_sent": "sent a test task to {target}",
                "compute.node_joined": "saw node {node} join {target}",
                "compute.node_left": "saw node {node} leave {target}",
                "compute.node_lost": "lost node {node} of {target} (no heartbeat)",
                "compute.node_back": "heard from node {node} of {target} again",
                "compute.scaled": "asked the scaler for {desired} node(s) for {target} (was {previous}): {status}",
            }
        )
        if services.create_local_target not in studio_services.WORKSPACE_CREATED_HOOKS:
            studio_services.WORKSPACE_CREATED_HOOKS.append(services.create_local_target)
        home.register_cards("compute", _home_cards, order=30)
        connect_worker_signals()


def _home_cards(workspace):
    from django.urls import reverse

    from compute.models import ComputeTarget
    from studio.home import Card

    targets = ComputeTarget.objects.filter(workspace=workspace).count()
    return [Card("compute targets", targets, reverse("compute:compute_list", args=[workspace.name]), "cpu")]
