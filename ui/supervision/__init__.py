"""Supervision (F9): one file per tab and the dialog."""

from ui.supervision.dialog import SupervisionDialog

__all__ = ["SupervisionDialog"]
