"""What can go wrong when a notification is rendered, named so that the caller can tell a bad configuration (an
unknown template or channel) from bad data (a context that lacks what the template needs)."""

from __future__ import annotations


class NotificationTemplateError(Exception):
    """Base class: a notification could not be rendered."""


class UnknownTemplateError(NotificationTemplateError, LookupError):
    """A template id, or a channel for a known template id, that is not in the catalogue."""


class TemplateContextError(NotificationTemplateError, ValueError):
    """The context lacks a variable the template uses, or holds a value of the wrong kind (a float amount)."""
