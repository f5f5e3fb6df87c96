"""Search across the workspace's assets: a results page, and the same URL's dropdown fragment for
the top-bar box (htmx)."""

from __future__ import annotations

from django.views.generic import TemplateView

from studio import search
from studio.views.base import PartialMixin, WorkspaceMixin

PAGE_LIMIT = 25
DROPDOWN_LIMIT = 5


class SearchView(WorkspaceMixin, PartialMixin, TemplateView):
    template_name = "studio/search.html"
    partial_template_name = "studio/_search_results.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        # The top-bar box sends "search" (pages have their own "q" filters); links and the page send "q".
        params = self.request.GET
        query = search.clean_query(params.get("q") or params.get("search", ""))
        dropdown = bool(self.request.htmx and self.request.htmx.target)
        limit = DROPDOWN_LIMIT if dropdown else PAGE_LIMIT
        context.update(
            q=query, dropdown=dropdown, groups=search.search(self.request.user, self.workspace, query, limit)
        )
        return context
