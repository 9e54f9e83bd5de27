"""Face photos for the demo deployment, taken from packages the console depends on.

Nothing is downloaded and nothing is copied into this project: the photos are read
from the installed packages at run time.
- insightface (MIT licence): data/images/t1.jpg, a group photo of six people (they play
  passers-by) and data/images/Tom_Hanks_54745.png (enrolled on the demo watchlist);
- scikit-image (BSD licence; the photo is NASA's, public domain): data/astronaut.png,
  astronaut Eileen Collins (enrolled on the demo watchlist).
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

from console.errors import MediaError
from console.media import read_image  # noqa: F401 - re-exported for the demo modules
from console.paths import resources_dir


def _package_file(package: str, *parts: str) -> Path:
    # The desktop bundle carries copies of the three photos (packaging/build_bundle.py), so that
    # it needs neither insightface nor scikit-image; a source install reads the packages' own.
    bundled = resources_dir() / "demo" / parts[-1]
    if bundled.is_file():
        return bundled
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise MediaError(f"the demo needs the package {package}, which is not installed")
    path = Path(next(iter(spec.submodule_search_locations))).joinpath(*parts)
    if not path.is_file():
        raise MediaError(f"demo photo {path} is missing from the installed {package}")
    return path


@dataclass(frozen=True)
class DemoSubject:
    """A watchlist subject of the demo: the enrolment photo and where it came from."""

    record_number: str
    name: str
    photo: Path
    source: str


def demo_subjects() -> list[DemoSubject]:
    return [
        DemoSubject("DEMO-0001", "Demo subject A", _package_file("skimage", "data", "astronaut.png"),
                    "scikit-image data/astronaut.png (NASA, public domain)"),
        DemoSubject("DEMO-0002", "Demo subject B",
                    _package_file("insightface", "data", "images", "Tom_Hanks_54745.png"),
                    "insightface data/images/Tom_Hanks_54745.png"),
    ]


def passer_by_photo() -> Path:
    return _package_file("insightface", "data", "images", "t1.jpg")
