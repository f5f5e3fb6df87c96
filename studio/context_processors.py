from django.urls import reverse

from studio.navigation import SECTIONS


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
    return {"nav": nav}
