"""Adjudication: the alert on screen (view) and the decision prompts that turn keys into
requests (prompts)."""

from ui.adjudication.prompts import DecisionPrompts
from ui.adjudication.view import AdjudicationView, decode_images

__all__ = ["AdjudicationView", "DecisionPrompts", "decode_images"]
