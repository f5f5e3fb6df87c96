"""A user's notification preference (their own account, not a workspace's)."""

from __future__ import annotations

from django.db import transaction

from jobs.models import NotificationPreference
from studio.actor import Actor


@transaction.atomic
def do_set_job_email(user: Actor, on: bool) -> NotificationPreference:
    """Turn the job-end e-mail on or off for `user`. A personal setting: no workspace activity."""
    pref, _ = NotificationPreference.objects.update_or_create(user=user, defaults={"email_on_job_end": on})
    return pref
