"""The acting user of a service function: who did it, written into the activity log.

`None` means Studio itself (the reaper, the scaler, a worker), never an anonymous visitor: every
request-driven change has a signed-in user.
"""

from __future__ import annotations

from typing import TypeAlias

from django.contrib.auth.models import User

Actor: TypeAlias = User
