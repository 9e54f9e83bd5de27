"""The password policy's rules at their edges, each refusal with its own sentence (mutation check,
issue 32): the message tells the user which rule to meet, so a wrong one misleads them."""

from __future__ import annotations

import pytest

from console.services.accounts import password_policy
from console.services.accounts.password_policy import MIN_DISTINCT, MIN_LENGTH, PasswordRefused, check


def _refusal(password: str, username: str = "alice") -> str:
    with pytest.raises(PasswordRefused) as caught:
        check(password, username)
    return str(caught.value)


def test_blank_passwords_are_refused_as_only_spaces():
    assert _refusal(" " * MIN_LENGTH) == "a password cannot be only spaces"


def test_too_few_different_characters_is_refused_and_exactly_the_minimum_passes():
    assert MIN_DISTINCT == 5
    assert _refusal("abcdabcdabcd") == "a password needs at least 5 different characters"
    check("abcdeabcdeab", "alice")  # exactly five different characters: enough


def test_the_length_message_names_the_minimum():
    assert _refusal("x7#Kq2") == "a password needs at least 12 characters"
    check("ab3$efgh9jkl", "alice")  # exactly twelve: enough


def test_the_user_name_inside_the_password_is_refused_in_any_case():
    assert _refusal("zzALICEzz-93q", "Alice ") == "a password must not contain the user name"
    check("zzqq-93q-vwxy", "   ")  # a blank name is in every string: not a reason to refuse


def test_a_common_password_is_refused_with_advice():
    message = _refusal("Password1234!")
    assert message == ("that password is on the list of common passwords (or is one with digits or "
                       "symbols added, or is digits and symbols only); choose another - a few unrelated"
                       " words make a good one")
    assert "password1234" in password_policy.common_passwords() or "password" in password_policy.common_passwords()
