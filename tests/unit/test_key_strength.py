"""API keys: the strength rule (weak keys refused with a reason that names the user and never
the key), loading a keys file, and configured keys as known secrets (refused, redacted)."""

from __future__ import annotations

import doctest
import json
import secrets
import string
from pathlib import Path

import pytest
from api_server import KEYS
from hypothesis import given, settings
from hypothesis import strategies as st

import chatter.api.key_strength
import chatter.sensitive
from chatter.api.key_strength import MIN_BITS, MIN_LENGTH, estimate, new_key, weakness
from chatter.api.keys import GENERATED_KEY_FILE, KeyFileError, KeyRing, Principal, load_keys
from chatter.sensitive import describe, redact, redact_text, remember_secrets, scan
from chatter.settings import Settings

WEAK = {
    "short": ("Zq8-x7Pp2", "9 characters long; at least 24"),
    "repeated": ("a" * 30, "repeated characters"),
    "a short part repeated": ("Ab1!" * 8, "repeats of an earlier part"),
    "a sequence": ("abcdefghijklmnopqrstuvwxyz0123456789", "sequences"),
    "a keyboard row": ("qwertyuiopasdfghjklzxcvbnm", "keyboard rows"),
    "a common word again and again": ("passwordpasswordpassword", "repeats of an earlier part"),
    "common words": ("supersecretadmintokenpassword", "common words"),
    "English words": ("correcthorsebatterystaple", "words"),
    "English words with capitals": ("CorrectHorseBatteryStaple1!", "words"),
    "the user's name and digits": ("alice-alice-alice-2024-alice", "the user's name"),
    "few distinct characters": ("abababababbababaabababbbabaabba", "distinct characters"),
    "spaces": ("Zq8 x7Pp2 Lk3Mn9Rt5 Vb6Wc4Yd1", "spaces"),
}


@pytest.mark.parametrize("key, expected", WEAK.values(), ids=list(WEAK))
def test_weak_keys_are_refused_saying_why_without_quoting_them(key: str, expected: str) -> None:
    why = weakness(key, user="alice", role="analyst")
    assert why is not None and expected in why
    assert key not in why and not any(key[i : i + 6] in why for i in range(len(key) - 5))


def test_the_key_equal_to_the_user_name_is_refused() -> None:
    name = "Xq7-Lp2_Mn9-Rt5_Vb6-Wc4_Yd1"  # strong as a string, but it is the user's name
    assert weakness(name, user=name) == "it is the user's name"
    assert weakness(name, user="alice") is None


def test_new_keys_are_strong_far_above_the_rule() -> None:
    for _ in range(200):
        key = new_key()
        assert key.startswith("chk_") and len(key) == 47
        assert weakness(key, user="alice", role="admin") is None
        assert estimate(key).bits > 2 * MIN_BITS


def test_random_keys_of_other_tools_are_strong() -> None:
    for key in (secrets.token_hex(32), secrets.token_hex(16), secrets.token_urlsafe(24)):
        assert weakness(key, user="alice") is None, key
    hex_96_bits = secrets.token_hex(12)  # 24 characters, but only 96 random bits
    assert estimate(hex_96_bits).bits < MIN_BITS


def test_the_test_servers_keys_meet_the_rule() -> None:
    for key, entry in KEYS.items():
        assert weakness(key, user=entry["user"], role=entry["role"]) is None, entry["user"]


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=string.ascii_letters + string.digits + "-_", min_size=32, max_size=60))
def test_a_reason_never_carries_the_key(key: str) -> None:
    why = weakness(key, user="bob") or ""
    assert not any(key[i : i + 8] in why for i in range(len(key) - 7))


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=string.printable.strip(), min_size=1, max_size=6), st.integers(0, 30))
def test_a_short_part_repeated_is_always_weak(unit: str, more: int) -> None:
    key = unit * (-(-MIN_LENGTH // len(unit)) + more)  # at least 24 characters
    assert weakness(key, user="bob") is not None


def test_docstring_examples() -> None:
    assert doctest.testmod(chatter.api.key_strength).failed == 0
    assert doctest.testmod(chatter.sensitive).failed == 0


# ---- loading ----------------------------------------------------------------------------------


def _settings(home: Path, keys: dict[str, object] | None) -> Settings:
    path = None
    if keys is not None:
        path = home.parent / "keys.json"
        path.write_text(json.dumps(keys))
    return Settings(home=home, api_keys=path)


def test_a_keys_file_with_weak_keys_is_refused_naming_every_weak_user(tmp_path: Path) -> None:
    weak = {"bob-key-0123456789ab": "bob", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa": "vera"}
    keys = {k: {"user": u, "role": "analyst"} for k, u in weak.items()}
    keys[new_key()] = {"user": "alice", "role": "analyst"}
    with pytest.raises(KeyFileError) as caught:
        load_keys(_settings(tmp_path / "home", keys))
    message = caught.value.message
    assert "user 'bob' is too weak" in message and "user 'vera' is too weak" in message
    assert "alice" not in message and "chatter keys create" in message
    assert caught.value.exit_code == 2
    for key in weak:
        assert key not in message


def test_a_key_listed_twice_is_refused(tmp_path: Path) -> None:
    key = new_key()
    path = tmp_path / "keys.json"
    path.write_text(f'{{"{key}": {{"user": "a"}}, "{key}": {{"user": "b"}}}}')
    with pytest.raises(KeyFileError, match="listed twice") as caught:
        load_keys(Settings(home=tmp_path / "home", api_keys=path))
    assert key not in caught.value.message


def test_strong_keys_load_and_a_generated_key_is_strong(tmp_path: Path) -> None:
    key = new_key()
    ring = load_keys(_settings(tmp_path / "a", {key: {"user": "alice", "role": "analyst"}}))
    assert ring.who(key) == Principal("alice", "analyst") and ring.generated is None
    made = load_keys(_settings(tmp_path / "b", None))
    assert made.generated is not None and weakness(made.generated, user="admin") is None
    assert key not in repr(ring) and made.generated not in repr(made)


def test_a_hand_edited_generated_key_file_with_a_weak_key_is_refused(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / GENERATED_KEY_FILE).write_text(json.dumps({"admin" * 6: {"user": "admin"}}))
    with pytest.raises(KeyFileError, match="delete the file"):
        load_keys(_settings(home, None))


# ---- configured keys are secrets --------------------------------------------------------------


def test_a_loaded_key_is_found_redacted_and_never_previewed(tmp_path: Path) -> None:
    key = secrets.token_hex(32)  # hex: no secret pattern knows it by its shape
    question = f"conversion by plan, and my key is {key}"
    assert scan({"message": question}) == []
    load_keys(_settings(tmp_path / "home", {key: {"user": "ana", "role": "admin"}}))
    found = scan({"message": question})
    assert [(m.path, m.kind, m.preview) for m in found] == [("message", "api_key", "…")]
    assert key not in describe(found) and key[:4] not in describe(found)
    assert redact_text(question) == "conversion by plan, and my key is [REDACTED:api_key]"
    assert key not in json.dumps(redact({"filters": [{"value": [key]}], key: 1}))


def test_a_key_ring_made_in_code_screens_its_keys_too() -> None:
    key = "K" + secrets.token_hex(20)
    KeyRing({key: Principal("ana", "viewer")})
    assert [m.kind for m in scan(f"x{key}y")] == ["api_key"]


def test_short_values_are_never_remembered() -> None:
    remember_secrets(["plan_type", "enterprise", "0123456789abcde"])
    assert scan("plan_type enterprise 0123456789abcde") == []


def test_a_chatter_key_is_known_by_its_shape_before_any_server_loads_it() -> None:
    key = new_key()
    assert [m.kind for m in scan(f"token {key}!")] == ["api_key"]
    assert key not in redact_text(f"Bearer {key}")


def test_a_key_is_found_in_json_text_too() -> None:
    """Parameters are often stored as JSON text (a refinement's "refine add_filter {...}"):
    a key with a quote or a backslash is found as JSON escapes it as well."""
    key = 'Zq8"Lp2\\Mn9-' + secrets.token_hex(12)
    remember_secrets([key])
    as_json = json.dumps({"value": key})
    assert key not in redact_text(as_json) and json.dumps(key)[1:-1] not in redact_text(as_json)
    assert [m.kind for m in scan({"q": as_json})] == ["api_key"]
