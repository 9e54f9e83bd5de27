"""What a password for a real account must be: long, not blank, not the user's own name, not one
of the passwords that attackers try first.

A password guessed in a few tries defeats every other safeguard (the lockout allows five a
quarter-hour), so the list of common passwords shipped in resources/security/ (its source and
licence in SOURCE.md there) is checked as well as the length. Demo accounts, labelled as such,
are the one exception (their password "demo" is printed on the sign-in screen).
"""

from __future__ import annotations

import string
from functools import lru_cache

from console.errors import ConsoleError
from console.paths import resources_dir

MIN_LENGTH = 12
MIN_DISTINCT = 5
COMMON_LIST = "security/common-passwords.txt"
_EDGES = string.digits + string.punctuation + string.whitespace


class PasswordRefused(ConsoleError):
    """The new password does not meet the policy (the message says which rule, never the password)."""


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The shipped list, lower case. A console without it refuses to set passwords rather than
    accept one the list would have caught."""
    path = resources_dir() / COMMON_LIST
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise PasswordRefused(f"the list of common passwords ({path}) cannot be read ({exc.strerror or exc}); "
                              "reinstall the console") from exc
    return frozenset(line.strip().lower() for line in lines if line.strip())


def check(password: str, username: str) -> None:
    """PasswordRefused unless ``password`` is fit for the account ``username``."""
    if len(password) < MIN_LENGTH:
        raise PasswordRefused(f"a password needs at least {MIN_LENGTH} characters")
    if not password.strip():
        raise PasswordRefused("a password cannot be only spaces")
    if len(set(password)) < MIN_DISTINCT:
        raise PasswordRefused(f"a password needs at least {MIN_DISTINCT} different characters")
    name = username.strip().casefold()
    if name and name in password.casefold():
        raise PasswordRefused("a password must not contain the user name")
    folded = password.strip().lower()
    core = folded.strip(_EDGES)  # "Dragon2024!" is "dragon" with a year and a mark added
    common = common_passwords()
    if folded in common or core in common or (folded and not core):
        raise PasswordRefused("that password is on the list of common passwords (or is one with digits or "
                              "symbols added, or is digits and symbols only); choose another - a few unrelated"
                              " words make a good one")
