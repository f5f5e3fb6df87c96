from django.apps import AppConfig
from django.db.models.signals import post_migrate


class StudioConfig(AppConfig):
    name = "studio"
    verbose_name = "Studio"

    def ready(self) -> None:
        import studio.api.schema  # noqa: F401  (registers the OpenAPI auth extension)

        post_migrate.connect(_sync_roles, sender=self)


def _sync_roles(**kwargs) -> None:
    from studio.roles import sync_builtin_roles

    sync_builtin_roles(using=kwargs.get("using", "default"))
