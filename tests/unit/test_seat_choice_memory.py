"""The seat's last choice: a small file beside the data, never keyed by a database password."""

from console.services.runtime import seat_memory


def test_seat_choice_is_remembered_per_data_dir(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    assert seat_memory.last_choice(a) is None
    seat_memory.remember(a, 7)
    assert seat_memory.last_choice(a) == 7 and seat_memory.last_choice(b) is None
    assert seat_memory.memory_file(a) == a / "seat_choice.json"
    (a / "seat_choice.json").write_text("not json")
    assert seat_memory.last_choice(a) is None  # a damaged file only loses the preselection


def test_seat_choice_for_a_database_server_ignores_its_password(tmp_path, monkeypatch):
    monkeypatch.setenv("ORC_DATA_DIR", str(tmp_path / "home"))
    one = seat_memory.memory_file("postgresql://seat:first@db.example:5432/orc")
    two = seat_memory.memory_file("postgresql://seat:second@db.example:5432/orc")
    other = seat_memory.memory_file("postgresql://seat:first@db.example:5432/other")
    assert one == two != other and "first" not in one.name and one.parent == tmp_path / "home"
