"""What a user wants to hear about their own jobs."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class NotificationPreference(models.Model):
    """A user's choice of e-mail when one of their jobs ends (off until they turn it on). The
    in-page toast needs no setting: it only shows while the user has Studio open."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="job_notifications")
    email_on_job_end = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"{self.user}: e-mail {'on' if self.email_on_job_end else 'off'}"
