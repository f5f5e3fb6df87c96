"""Template helpers; `can` is how templates decide which buttons to show (never a rule of their own)."""

from django import template
from django.utils.http import urlencode

from studio import permissions
from studio.text import strip_ansi

register = template.Library()


@register.simple_tag(takes_context=True)
def can(context, workspace, action: str) -> bool:
    request = context.get("request")
    return bool(request and workspace and permissions.can(request.user, workspace, action))


@register.simple_tag(takes_context=True)
def query_with(context, **changes) -> str:
    """The current query string with some parameters replaced (for pagination and sorting)."""
    params = context["request"].GET.copy()
    for key, value in changes.items():
        if value in (None, ""):
            params.pop(key, None)
        else:
            params[key] = value
    return "?" + urlencode(sorted(params.lists()), doseq=True) if params else "?"


@register.filter
def initials(name: str) -> str:
    parts = [p for p in str(name).replace("_", " ").replace(".", " ").split() if p]
    return "".join(p[0] for p in parts[:2]).upper() or "?"


# Also importable from here while the runner modules move to studio.text (one release).
register.filter("strip_ansi", strip_ansi)


@register.filter
def number(value, missing: str = "—") -> str:
    """A metric value as people read it (6 significant digits: 0.2, 1.23457e+06); `missing` for none."""
    if value is None or value == "":
        return missing
    try:
        return f"{float(value):.6g}"
    except (TypeError, ValueError):
        return str(value)
