"""Errors the operator or administrator can act on.

Every error that reaches a person carries one clear sentence; the CLI prints it on one
line and exits non-zero, the UI shows it in a dialog. Nothing else is caught silently.
"""


class ConsoleError(Exception):
    """Base for errors with a message meant for a person, not a traceback."""


class ModelError(ConsoleError):
    """A model file or model pack is missing, altered or unusable."""


class MediaError(ConsoleError):
    """An image or video could not be read, or holds no usable face."""


class StoreError(ConsoleError):
    """The database could not be opened, migrated or written."""


class PermissionDenied(ConsoleError):
    """The user's role does not allow the action."""


class AlertRefused(StoreError):
    """The database refused an alert: its deployment is not active. Trying again will not help."""
