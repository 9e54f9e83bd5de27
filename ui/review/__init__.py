"""The supervisor's review window, one file per tab."""

from ui.review.decision_log import PAGE, LogModel
from ui.review.window import ReviewWindow

__all__ = ["PAGE", "LogModel", "ReviewWindow"]
