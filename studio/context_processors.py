from django.urls import reverse

from studio.models import Workspace
from studio.navigation import SECTIONS

SWITCH_LIMIT = 15  # more than that: "All workspaces…" lists them with a filter


def shell(request):
    """Navigation for the workspace shell; pages that have a workspace put it in their context."""
    workspace = getattr(request, "studio_workspace", None)
    if workspace is None:
        return {}
    workspace_name = workspace.name
    nav = []
    for section in SECTIONS:
        url = reverse(section.url_name, args=[workspace_name])
        nav.append(
            {"key": section.key, "label": section.label, "url": url, "icon": section.icon, "group": section.group}
        )
    # The top bar's "Switch workspace" menu; lazy, so pages that never draw it pay nothing.
    switchable = (
        Workspace.objects.for_user(request.user).exclude(pk=workspace.pk).order_by("name").only("name")[:SWITCH_LIMIT]
    )
    # "workspace" too, for pages rendered without a view's context (the 403 page).
    return {"nav": nav, "switch_workspaces": switchable, "workspace": workspace}
