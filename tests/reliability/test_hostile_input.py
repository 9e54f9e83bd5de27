"""Hostile input: nothing a file, a CSV, a search box or an export name holds may crash the
console or change the record. Short runs in the suite; ``python main.py bench fuzz --scale N``
(ORC_FUZZ_SCALE=N) runs N times as many cases. The case counts are printed for
docs/reliability.md."""

import hashlib
import os
import string
import struct
import uuid
import zlib

import cv2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from console.errors import ConsoleError, MediaError
from console.media import read_image
from console.services.accounts import auth
from console.services.decisions import case_file
from console.services.record import stats
from console.services.setup import enrol
from tests.conftest import DATA
from tests.factories import small_deployment

CASES = {"n": 0}
SCALE = max(1, int(os.environ.get("ORC_FUZZ_SCALE", "1")))


def examples(n: int) -> int:
    return n * SCALE


IMAGE_EXAMPLES, SEARCH_EXAMPLES, CSV_EXAMPLES, NAME_EXAMPLES = examples(300), examples(150), examples(60), examples(400)


def _png(width: int, height: int, payload: bytes = b"") -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(payload)) + chunk(b"IEND", b"")


@settings(max_examples=IMAGE_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=4096), cut=st.integers(min_value=0, max_value=30000))
def test_image_import_survives_any_bytes(tmp_path, data, cut):
    real = (DATA / "img21.jpg").read_bytes()
    for blob in (data, real[:cut], real[:200] + data, _png(1 + cut % 70000, 1 + len(data) % 70000, data[:64])):
        path = tmp_path / "photo.jpg"
        path.write_bytes(blob)
        CASES["n"] += 1
        try:
            image = read_image(path)
        except MediaError:
            continue
        assert image.ndim == 3 and image.shape[2] == 3


def test_a_decompression_bomb_is_refused_not_unpacked(tmp_path):
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(_png(60000, 60000, b"\x00" * 10000))  # 10.8 GB of pixels declared
    with pytest.raises(MediaError):
        read_image(bomb)


@pytest.fixture
def filled(db):
    d = small_deployment(db)
    for n in range(5):
        d.alert(track=n)
    return db, d.deployment_id, d.watchlist_id


INJECTIONS = ["'; DROP TABLE alerts; --", "\" OR 1=1 --", "%' OR '1'='1", "?", "%s", "%%", "\\", "_", "' UNION SELECT *",
              "\x00", "😀" * 50]


# What the decision log's text search looks in, for each of the five alerts of `filled`: the
# entry's subject name and record number (tests/factories.py); they have no notes yet.
SEARCHED = ("P", "R-1")


def expected_hits(store, text: str) -> int:
    """The rows a literal substring search must find, worked out in Python, not in SQL."""
    text = text.replace("\x00", "")  # dropped by the console: PostgreSQL text cannot hold NUL
    if store.dialect == "sqlite":  # SQLite's LIKE ignores the case of ASCII letters only
        fold = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
        found = any(text.translate(fold) in field.translate(fold) for field in SEARCHED)
    else:
        found = any(text in field for field in SEARCHED)
    return 5 if found else 0


@pytest.mark.parametrize("text", INJECTIONS)
def test_search_text_is_data_never_sql(filled, text):
    store, dep, _ = filled
    sup = auth.actor_for(store, "sup")
    assert expected_hits(store, text) == (5 if text == "\x00" else 0)  # NUL alone is an empty search
    assert stats.log_count(store, sup, stats.LogFilter(deployment_id=dep, text=text)) == expected_hits(store, text)
    stats.log_page(store, sup, stats.LogFilter(deployment_id=dep, text=text, operator=text, reason_code=text), 0, 50)
    assert store.one("SELECT COUNT(*) AS n FROM alerts")["n"] == 5


@settings(max_examples=SEARCH_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=60))
def test_search_text_fuzz(filled, text):
    store, dep, _ = filled
    CASES["n"] += 1
    count = stats.log_count(store, auth.actor_for(store, "sup"), stats.LogFilter(deployment_id=dep, text=text))
    assert count == expected_hits(store, text)


def test_csv_import_refuses_photos_outside_its_folder_and_bad_rows(filled, engine, tmp_path):
    store, _, wl = filled
    sup = auth.actor_for(store, "sup")
    outside = tmp_path / "secret.jpg"
    cv2.imwrite(str(outside), cv2.imread(str(DATA / "img21.jpg")))
    folder = tmp_path / "import"
    folder.mkdir()
    cv2.imwrite(str(folder / "ok.jpg"), cv2.imread(str(DATA / "img20.jpg")))
    header = ",".join(enrol.CSV_COLUMNS)
    rows = [
        "R-10,Ok,missing_person,b,r,s,2024-01-01,2099-01-01,ok.jpg",
        "R-2,Out,missing_person,b,r,s,2024-01-01,2099-01-01,../secret.jpg",
        "R-3,Abs,missing_person,b,r,s,2024-01-01,2099-01-01," + str(outside),
        "R-4,Cat,officer_hunch,b,r,s,2024-01-01,2099-01-01,ok.jpg",
        "R-5,Date,missing_person,b,r,s,yesterday,2099-01-01,ok.jpg",
        "R-6,Missing,missing_person,b,r,s,2024-01-01,2099-01-01,nothere.jpg",
        "'; DROP TABLE watchlist_entries; --,x,missing_person,b,r,s,2024-01-01,2099-01-01,ok.jpg",
    ]
    (folder / "list.csv").write_text(header + "\n" + "\n".join(rows) + "\n")
    result = enrol.import_csv(store, engine, sup, wl, folder / "list.csv")
    assert result["added"] == 2  # R-10 and the oddly named (but harmless) record number
    refused = " ".join(result["refused"])
    assert refused.count("outside the CSV's folder") == 2
    assert "fixed list" in refused and "YYYY-MM-DD" in refused and "missing or not a readable image" in refused
    assert store.one("SELECT COUNT(*) AS n FROM watchlist_entries")["n"] == 3


@settings(max_examples=CSV_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.text(max_size=400))
def test_csv_import_fuzz_never_crashes(filled, engine, tmp_path, body):
    store, _, wl = filled
    CASES["n"] += 1
    path = tmp_path / "fuzz.csv"
    path.write_text(",".join(enrol.CSV_COLUMNS) + "\n" + body.replace("\x00", ""))
    before = store.one("SELECT COUNT(*) AS n FROM watchlist_entries")["n"]
    try:
        result = enrol.import_csv(store, engine, auth.actor_for(store, "sup"), wl, path)
    except ConsoleError:
        return
    assert store.one("SELECT COUNT(*) AS n FROM watchlist_entries")["n"] == before + result["added"]


NAME_TRICKS = ["../", "..\\", "/", "~/", "./", "//", "C:\\", "\\\\server\\share\\", "..", ".", " ", "\x00",
               "\u202e", "\u200b", "CON", "nul.", "a" * 300, "%2e%2e%2f", "\udc80"]


@settings(max_examples=NAME_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.one_of(st.text(max_size=60),
                      st.builds(lambda trick, rest, suffix: trick + rest + suffix, st.sampled_from(NAME_TRICKS),
                                st.text(max_size=20), st.sampled_from(["", ".pdf", ".json", ".csv", "/..", "/x.pdf"]))))
def test_export_names_never_leave_their_folder_nor_replace_a_file(tmp_path, name):
    from console.exports import ExportError, target_in, write_new

    CASES["n"] += 1
    sandbox = tmp_path / uuid.uuid4().hex
    folder = sandbox / "exports"
    folder.mkdir(parents=True)
    (sandbox / "x.pdf").write_bytes(b"outside")  # what a traversal would reach
    (folder / "taken.pdf").write_bytes(b"earlier export")
    try:
        target = target_in(folder, name, (".pdf", ".csv", ".json"))
        write_new(target, b"new export")
    except ExportError:
        pass
    else:
        assert target.parent == folder.resolve() and target.read_bytes() == b"new export"
    files = sorted(p.relative_to(sandbox).as_posix() for p in sandbox.rglob("*") if p.is_file())
    inside = [f for f in files if f.startswith("exports/") and "/" not in f[len("exports/"):]]
    assert sorted(set(files) - set(inside)) == ["x.pdf"]  # nothing written anywhere but the folder
    assert (sandbox / "x.pdf").read_bytes() == b"outside" and (folder / "taken.pdf").read_bytes() == b"earlier export"
    assert len(inside) <= 2 and not any(".partial" in f for f in inside)


def test_an_alert_export_refuses_to_replace_an_earlier_one(filled, tmp_path):
    store, _, _ = filled
    sup = auth.actor_for(store, "sup")
    alert = int(store.one("SELECT MIN(id) AS id FROM alerts")["id"])
    context = (DATA / "img21.jpg").read_bytes()  # a real frame: an export blurs it, and refuses what it cannot
    store.conn.execute("UPDATE alerts SET context_jpeg = ?, context_sha256 = ? WHERE id = ?",
                       (context, hashlib.sha256(context).hexdigest(), alert))
    first = case_file.export_alert(store, sup, alert, tmp_path / "case")
    before = {p.name: p.read_bytes() for p in first}
    with pytest.raises(ConsoleError, match="never replaces"):
        case_file.export_alert(store, sup, alert, tmp_path / "case")
    assert {p.name: p.read_bytes() for p in (tmp_path / "case").iterdir()} == before
    exported = store.query("SELECT * FROM audit_log WHERE action = 'alert.exported'")
    assert len(exported) == 1  # the refused export is not logged as one


# Cases each fuzzing test adds to CASES when it passes (Hypothesis runs max_examples examples
# of a passing test; the image test tries four files an example).
CASES_PER_TEST = {
    "test_image_import_survives_any_bytes": 4 * IMAGE_EXAMPLES,
    "test_search_text_fuzz": SEARCH_EXAMPLES,
    "test_csv_import_fuzz_never_crashes": CSV_EXAMPLES,
    "test_export_names_never_leave_their_folder_nor_replace_a_file": NAME_EXAMPLES,
}


def test_report_case_count(request):
    """The figure docs/reliability.md and ``bench fuzz`` quote, held to what it says: every fuzzing
    test that passed in this run tried all the cases it was set to (none cut short, none
    uncounted), and nothing else was counted."""
    print(f"hostile-input cases tried in this run: {CASES['n']}")
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    assert reporter is not None, "the count is checked against pytest's terminal reporter (do not disable it)"
    module = request.node.nodeid.split("::")[0] + "::"
    passed = [r.nodeid[len(module):].split("[")[0] for r in reporter.stats.get("passed", [])
              if r.when == "call" and r.nodeid.startswith(module)]
    assert CASES["n"] == sum(CASES_PER_TEST.get(name, 0) for name in passed), passed
