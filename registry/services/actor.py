"""The acting user of a service function (None: Studio itself), as in the other apps' services."""

from __future__ import annotations

from django.contrib.auth.models import User

Actor = User | None
