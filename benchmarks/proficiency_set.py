"""A proficiency set built from the workplace's public test photos: a benchmark input, never shipped.

    python -m benchmarks.proficiency_set [--data ../shared/data] [--out /tmp/orc-proficiency]
    python main.py known-answer load /tmp/orc-proficiency --csv /tmp/orc-proficiency/truth.csv \\
        --name "dlib johns (benchmark)" --as SUPERVISOR

It writes a folder of photos and its truth CSV (``photo,person``) the way a force would hand one
over: from ``dlib-johns`` (five people, eleven photos each: SOURCE.md there), each 150x150 face chip
given a grey border (a tight chip leaves the detector no context) and named by a pseudonymous label,
never the person's name. ``deepface-pairs`` is left out: its identities are known only within each
labelled pair, so two of its pairs may show one person and a "different people" truth could be false.

The output goes to the folder given, never into the repository: the photos are test data that is
not the project's to ship.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import cv2

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "data"
DEFAULT_OUT = Path("/tmp/orc-proficiency")
JOHNS = "dlib-johns"


def build(data: Path, out: Path) -> dict:
    """Write the folder and ``truth.csv``; returns the counts. SystemExit with a clear line when the
    data is missing or the output would land in the repository."""
    johns = Path(data) / JOHNS
    if not johns.is_dir():
        raise SystemExit(f"no {JOHNS} at {johns}: this benchmark input is built from the workplace's shared test "
                         f"photos (../shared/data/{JOHNS}, SOURCE.md there), which are not part of the product; "
                         "give their folder with --data. Nothing was written")
    out = Path(out).resolve()
    if out == ROOT or ROOT in out.parents:
        raise SystemExit(f"{out} is inside the repository; the set is test data that is never shipped: write it "
                         "elsewhere (default /tmp/orc-proficiency). Nothing was written")
    people = sorted(d for d in johns.iterdir() if d.is_dir())
    if not people:
        raise SystemExit(f"{johns} holds no folder of photos; nothing was written")
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for n, person in enumerate(people, start=1):
        label = f"P-{n:03d}"
        for k, photo in enumerate(sorted(person.glob("*.jpg")), start=1):
            image = cv2.imread(str(photo))
            if image is None:
                print(f"skipped {photo}: not a readable image", file=sys.stderr)
                continue
            m = max(image.shape[:2]) // 3
            framed = cv2.copyMakeBorder(image, m, m, m, m, cv2.BORDER_CONSTANT, value=(128, 128, 128))
            name = f"{label}-{k:02d}.jpg"
            cv2.imwrite(str(out / name), framed, [cv2.IMWRITE_JPEG_QUALITY, 95])
            rows.append((name, label))
    with open(out / "truth.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["photo", "person"])
        writer.writerows(rows)
    return {"folder": str(out), "truth_csv": str(out / "truth.csv"), "photos": len(rows), "people": len(people)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.proficiency_set", description=__doc__.split("\n\n")[2])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help=f"the shared test photos (default {DEFAULT_DATA})")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"where to write the set (default {DEFAULT_OUT})")
    args = parser.parse_args(argv)
    made = build(args.data, args.out)
    print(f"wrote {made['photos']} photos of {made['people']} people and {made['truth_csv']} (a benchmark input, "
          f"never shipped); load it with: python main.py known-answer load {made['folder']} --csv "
          f"{made['truth_csv']} --name NAME --as SUPERVISOR")
    return 0


if __name__ == "__main__":
    sys.exit(main())
