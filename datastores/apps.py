from django.apps import AppConfig


class DatastoresConfig(AppConfig):
    name = "datastores"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from datastores import search as datastores_search
        from studio import search

        search.register("data", "Data", 30, datastores_search.data_assets)
        search.register("datastores", "Datastores", 60, datastores_search.datastores)

        from datastores.deletion import PART
        from datastores.services import create_builtin_datastores
        from studio import activity, deletion, home, services

        deletion.register(PART)

        if create_builtin_datastores not in services.WORKSPACE_CREATED_HOOKS:
            services.WORKSPACE_CREATED_HOOKS.append(create_builtin_datastores)
        home.register_cards("datastores", _home_cards, order=40)
        activity.register_messages(
            {
                "datastore.registered": "registered the datastore {target} ({type})",
                "datastore.updated": "changed the datastore {target} ({fields})",
                "datastore.default_set": "made {target} the default datastore",
                "datastore.deleted": "removed the datastore {target}",
                "datastore.uploaded": "uploaded {files} file(s) to {target}:{folder}",
                "datastore.path_deleted": "deleted {target}:{path}",
                "data.created": "created the data asset {target} ({type})",
                "data.updated": "changed the data asset {target} ({fields})",
                "data.archived": "archived the data asset {target}",
                "data.restored": "restored the data asset {target}",
            }
        )


def _home_cards(workspace):
    from django.urls import reverse

    from datastores.models import DataAsset, Datastore
    from studio.home import Card

    ws = workspace.name
    assets = DataAsset.objects.filter(workspace=workspace).count()
    stores = Datastore.objects.filter(workspace=workspace).count()
    return [
        Card("data assets", assets, reverse("datastores:data_list", args=[ws]), "table"),
        Card("datastores", stores, reverse("datastores:datastore_list", args=[ws]), "database"),
    ]
