"""Face detection, alignment, embedding and quality scoring behind one small interface."""

from console.vision.engine import FaceEngine, load_engine
from console.vision.types import Detection, Quality

__all__ = ["Detection", "FaceEngine", "Quality", "load_engine"]
