"""The Qt-free core of the operator review console."""

__version__ = "0.1.0"
