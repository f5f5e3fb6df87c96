from datetime import timedelta

from celery import shared_task
from django.db.models import Q
from django.utils import timezone

from studio.models import AccessToken

KEEP_DEAD_TOKENS = timedelta(days=90)


@shared_task(acks_late=True, soft_time_limit=60, time_limit=120)
def purge_old_tokens() -> int:
    """Forget tokens revoked or expired more than 90 days ago (they are kept a while so the
    tokens page can still say why an old script stopped working)."""
    cutoff = timezone.now() - KEEP_DEAD_TOKENS
    deleted, _ = AccessToken.objects.filter(Q(revoked_at__lt=cutoff) | Q(expires_at__lt=cutoff)).delete()
    return deleted
