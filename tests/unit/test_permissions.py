"""The one table of role rules (console/services/accounts/permissions.py): every permission has a row,
every role in it is a domain.Role, and no module but the table compares a role itself."""

import ast
from pathlib import Path

import pytest

from console.domain import Role
from console.errors import ConsoleError
from console.services.accounts import permissions
from console.services.accounts.auth import Actor
from console.services.accounts.permissions import TABLE, WORKER, WORKER_MAY, Permission

ROOT = Path(__file__).resolve().parents[2]
TABLE_MODULE = ROOT / "console" / "services" / "accounts" / "permissions.py"


def test_every_permission_has_a_row_of_roles():
    assert set(TABLE) == set(Permission)
    for permission, roles in TABLE.items():
        assert roles, f"{permission} is given to no role"
        assert all(isinstance(r, Role) for r in roles), permission
    assert WORKER not in Role.codes() and WORKER_MAY <= set(Permission)


def test_the_actor_asks_the_table():
    for permission, roles in TABLE.items():
        for role in Role:
            assert Actor(1, "x", role.value).may(permission) == (role in roles)
            assert Actor(1, "x", role.value).may(permission.value) == (role in roles)
        assert Actor(-1, "worker:w", WORKER).may(permission) == (permission in WORKER_MAY)
    with pytest.raises(ConsoleError, match="unknown permission 'fly'"):
        Actor(1, "x", "supervisor").may("fly")


def test_captions_name_the_roles_of_the_table():
    assert permissions.who(Permission.CHANGE_THRESHOLD) == "supervisor"
    assert permissions.who(Permission.MANAGE_CAMERAS) == "administrator or supervisor"
    assert permissions.who_words(Permission.MANAGE_USERS) == "an administrator"
    assert permissions.who_plural(Permission.ADJUDICATE) == "operators and supervisors"


def _is_role(node) -> bool:
    return (isinstance(node, ast.Attribute) and node.attr == "role") or (isinstance(node, ast.Name) and node.id == "role")


def _names_a_role(node) -> bool:
    """A literal role ("supervisor", {"operator", ...}), a Role member, or a list of roles."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, (ast.Set, ast.Tuple, ast.List)):
        return any(_names_a_role(e) for e in node.elts)
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "Role":
        return True
    if isinstance(node, ast.Call):
        return _names_a_role(node.func)
    return isinstance(node, ast.Name) and node.id.endswith("ROLES")


def role_comparisons(source: str) -> list[int]:
    """Lines comparing a role (``x.role == "supervisor"``, ``role in {...}``, ``row["role"] != "administrator"``)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Compare):
            continue
        operands = [node.left, *node.comparators]
        if not all(isinstance(op, (ast.Eq, ast.NotEq, ast.In, ast.NotIn)) for op in node.ops):
            continue
        subscript_role = [o for o in operands if isinstance(o, ast.Subscript) and isinstance(o.slice, ast.Constant)
                          and o.slice.value == "role"]
        roles = [o for o in operands if _is_role(o)] + subscript_role
        others = [o for o in operands if o not in roles]
        if roles and any(_names_a_role(o) for o in others):
            found.append(node.lineno)
    return found


def test_no_role_is_compared_outside_the_table():
    found = []
    for path in [*sorted((ROOT / "console").rglob("*.py")), *sorted((ROOT / "ui").rglob("*.py")), ROOT / "main.py"]:
        if path != TABLE_MODULE:
            found += [f"{path.relative_to(ROOT)}:{n}" for n in role_comparisons(path.read_text())]
    assert found == []


def test_the_role_scan_finds_role_checks():
    assert role_comparisons('if actor.role == "supervisor": pass') == [1]
    assert role_comparisons('ok = live.operator.role != "supervisor"') == [1]
    assert role_comparisons('ok = actor.role in {"operator", "supervisor"}') == [1]
    assert role_comparisons('ok = row["role"] != "administrator"') == [1]
    assert role_comparisons("ok = role not in Role.codes()") == [1]
    assert role_comparisons("ok = actor.role not in SIGNING_ROLES") == [1]
    assert role_comparisons("ok = role == Qt.ItemDataRole.DisplayRole") == []  # a Qt model's data role
    assert role_comparisons("ok = actor.may(Permission.ADJUDICATE)") == []


def test_every_permission_is_asked_for_by_its_member_never_by_a_string():
    """``actor.require(Permission.ENROL)``: a misspelt member fails at import, a string would fail only in use."""
    asked, by_string, unknown = set(), [], []
    for path in [*sorted((ROOT / "console").rglob("*.py")), *sorted((ROOT / "ui").rglob("*.py"))]:
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("may", "require") and node.args):
                continue
            first, where = node.args[0], f"{path.relative_to(ROOT)}:{node.lineno}"
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                by_string.append(f"{where}: {first.value!r}")
            elif (isinstance(first, ast.Attribute) and isinstance(first.value, ast.Name)
                  and first.value.id == "Permission"):
                asked.add(first.attr)
                if first.attr not in Permission.__members__:
                    unknown.append(f"{where}: Permission.{first.attr}")
    assert by_string == [] and unknown == [] and len(asked) > 10
