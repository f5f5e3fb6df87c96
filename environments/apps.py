from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _load_curated(sender, using="default", verbosity=1, **kwargs):
    """After `migrate` (and after a test database is created or flushed) the curated catalog is
    in the database."""
    from django.db import connections

    from environments import curated

    if "environments_environment" not in connections[using].introspection.table_names():
        return
    for change in curated.sync():
        if verbosity >= 2:
            print(f"  Curated environments: {change}")


class EnvironmentsConfig(AppConfig):
    name = "environments"
    verbose_name = "Environments"

    def ready(self):
        from environments import search as environments_search
        from studio import search

        search.register("environments", "Environments", 20, environments_search.environments)

        from environments.deletion import PART
        from studio import deletion, home
        from studio.activity import register_messages

        deletion.register(PART)

        register_messages(
            {
                "environment.created": "created the environment {target}",
                "environment.version_created": "created the environment version {target}",
                "environment.archived": "archived the environment version {target}",
                "environment.restored": "restored the environment version {target}",
                "environment.build_started": "started a {backend} build of {target} ({why})",
                "environment.built": "built {target} on {backend} ({how})",
                "environment.build_failed": "could not build {target} on {backend}: {error}",
            }
        )
        home.register_cards("environments", _home_cards, order=20)
        post_migrate.connect(_load_curated, sender=self, dispatch_uid="environments.load_curated")


def _home_cards(workspace):
    from django.urls import reverse

    from environments.models import Environment
    from studio.home import Card

    custom = Environment.objects.filter(workspace=workspace).count()
    url = reverse("environments:environment_list", args=[workspace.name])
    return [Card("custom environments", custom, url, "box", "plus the curated catalog")]
