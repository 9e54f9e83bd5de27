"""The PySide6 console: windows, widgets, item models. No business rules here."""
