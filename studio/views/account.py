"""The signed-in user's own things: personal access tokens."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.views import View
from django.views.generic import FormView

from studio import services
from studio.forms import TokenForm, apply_errors
from studio.models import AccessToken


class TokenListView(LoginRequiredMixin, FormView):
    template_name = "studio/token_list.html"
    form_class = TokenForm

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["tokens"] = AccessToken.objects.filter(user=self.request.user)
        # The raw token is shown once, on the page right after it was created, then forgotten.
        context["new_token"] = self.request.session.pop("new_token", None)
        return context

    def form_valid(self, form):
        days = form.cleaned_data["expires_in_days"]
        expires_at = timezone.now() + timedelta(days=days) if days else None
        try:
            token, raw = services.do_create_token(
                user=self.request.user, name=form.cleaned_data["name"], expires_at=expires_at
            )
        except ValidationError as exc:
            apply_errors(form, exc)
            return self.form_invalid(form)
        self.request.session["new_token"] = {"name": token.name, "value": raw}
        return redirect("studio:token_list")


class TokenRevokeView(LoginRequiredMixin, View):
    def post(self, request, pk: int):
        token = get_object_or_404(AccessToken, pk=pk, user=request.user)
        services.do_revoke_token(token)
        messages.success(request, f"Token {token.name} revoked; it no longer works.")
        return redirect("studio:token_list")
