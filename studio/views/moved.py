"""The creation forms of jobs, sweeps and pipelines live under `/w/<ws>/new/<kind>/`, where no job
name can reach. They were at `/w/<ws>/jobs/new/` (and `sweeps/new/`, `pipelines/new/`), the very
address of a job named `new`, which the form hid. That address is the job's page again; without
such a job (old links, bookmarks) it sends to the form."""

from __future__ import annotations

from collections.abc import Callable

from django.http import Http404, HttpResponseRedirect
from django.urls import reverse

FORMER_FORM_NAME = "new"


def job_page_or_form(job_page: Callable, form_url_name: str) -> Callable:
    """A view for `…/<section>/new/`: `job_page` for the job named `new` when the user may see it,
    else a redirect to the form at `form_url_name` (302). A post always goes to the form (307 keeps
    its method and body): a job page takes none, and a form loaded before the move posts there.
    Someone who may not see the workspace is sent on either way, and the form answers them as it
    answers anyone, so the redirect tells nothing about which jobs exist."""

    def view(request, workspace: str):
        if request.method in ("GET", "HEAD"):
            try:
                return job_page(request, workspace=workspace, name=FORMER_FORM_NAME)
            except Http404:
                pass
        url = reverse(form_url_name, args=[workspace])
        if request.META.get("QUERY_STRING"):
            url += "?" + request.META["QUERY_STRING"]
        response = HttpResponseRedirect(url)
        if request.method not in ("GET", "HEAD"):
            response.status_code = 307
        return response

    return view
