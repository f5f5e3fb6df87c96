"""The one page-view base for workspace pages: 404 for non-members, 403 when the role lacks the
action, and one helper that serves a full page or its htmx partial from the same URL."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.db.models import Model, QuerySet
from django.shortcuts import get_object_or_404
from django.utils.cache import patch_vary_headers

from studio.models import Workspace
from studio.permissions import VIEW, can, denied_message

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class WorkspaceMixin(LoginRequiredMixin):
    """`required_action` guards GET; `post_action` guards every other method.

    Pages fetch objects only through `get_object`, which narrows `queryset` (or the one given) to
    the URL's workspace: a page cannot forget the workspace and show another one's row.
    """

    required_action: str = VIEW
    post_action: str | None = None
    section: str = ""
    workspace: Workspace
    # The rows an object page reads its object from (any model with a `workspace`), and which URL
    # argument names it.
    queryset: QuerySet | None = None
    lookup_field: str = "name"
    lookup_url_kwarg: str = "name"

    def get_object(self, queryset: QuerySet | type[Model] | None = None, **lookup: Any) -> Any:
        """The row of this workspace that `lookup` (default: `lookup_field` = the URL's
        `lookup_url_kwarg`) names, from `queryset` (default: the view's); 404 when there is none.
        The view's own object is fetched once per request."""
        default = queryset is None and not lookup
        if default and "_object" in self.__dict__:
            return self.__dict__["_object"]
        source = self.queryset if queryset is None else queryset
        if source is None:
            raise ImproperlyConfigured(f"{type(self).__name__} declares no queryset to fetch its object from")
        rows = source._default_manager.all() if isinstance(source, type) else source
        found = get_object_or_404(
            rows.filter(workspace=self.workspace), **(lookup or {self.lookup_field: self.kwargs[self.lookup_url_kwarg]})
        )
        if default:
            self.__dict__["_object"] = found
        return found

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.workspace = get_object_or_404(Workspace.objects.for_user(request.user), name=kwargs["workspace"])
        if request.method in SAFE_METHODS:
            action = self.required_action
        elif self.post_action:
            action = self.post_action
        else:
            raise ImproperlyConfigured(f"{type(self).__name__} accepts {request.method} but declares no post_action")
        # Set before the check, so a 403 page keeps this workspace's layout (sidebar, switcher).
        request.studio_workspace = self.workspace
        if not can(request.user, self.workspace, action):
            raise PermissionDenied(denied_message(self.workspace, action))
        if request.session.get("workspace") != self.workspace.name:
            request.session["workspace"] = self.workspace.name
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["workspace"] = self.workspace
        context["section"] = self.section
        return context


class PartialMixin:
    """Serve `partial_template_name` to htmx requests that target a fragment of the page, and the
    whole page (which includes that partial) otherwise.

    Both answers share one URL, so every response says `Vary: HX-Request`: without it the browser
    may answer Back or a reload from its cache with the bare fragment. htmx's own history restore
    (a cache miss after Back) asks with HX-History-Restore-Request and gets the whole page."""

    partial_template_name: str | None = None

    def serves_partial(self) -> bool:
        htmx = self.request.htmx
        if not (self.partial_template_name and htmx) or htmx.boosted or htmx.history_restore_request:
            return False
        return bool(htmx.target)

    def get_template_names(self):
        if self.serves_partial():
            return [self.partial_template_name]
        return super().get_template_names()

    def render_to_response(self, context, **kwargs):
        response = super().render_to_response(context, **kwargs)
        patch_vary_headers(response, ("HX-Request",))
        return response
