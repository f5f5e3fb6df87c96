"""Domain errors raised by services; views turn them into form errors, the API into JSON."""

from django.core.exceptions import ValidationError


class Conflict(ValidationError):
    """The request is valid but clashes with the current state (HTTP 409): a duplicate name,
    removing the last Owner, deleting a role still in use."""


class InsufficientStorage(ValidationError):
    """A write would leave less free disk than Studio keeps for everyone (HTTP 507)."""
