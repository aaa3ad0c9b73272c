"""The password policy: length, not composition; common passwords refused."""


import asyncio
import threading

import pytest

from app.accounts import passwords
from app.accounts.passwords import password_problem

pytestmark = pytest.mark.real_argon2


def test_fourteen_characters_are_too_few_and_fifteen_are_enough():
    assert password_problem("a" * 3 + "bcdefghijklm") is None  # 15 distinct-enough characters
    assert password_problem("abcdefghijklmn") is not None


def test_at_least_sixty_four_characters_are_allowed():
    assert password_problem("correct horse battery staple " * 3) is None  # 87 characters


def test_no_composition_rules_lowercase_words_are_fine():
    assert password_problem("purple elephants dance quietly") is None


@pytest.mark.parametrize("common", ["123456789987654321", "1qaz2wsx3edc4rfv", "qazwsxedcrfvtgb"])
def test_common_passwords_are_refused_even_when_long(common):
    assert password_problem(common) is not None


def test_a_single_repeated_character_is_refused():
    assert password_problem("aaaaaaaaaaaaaaaaaaaa") is not None


def test_email_as_password_is_refused():
    assert password_problem("someone.long@example.org", email="someone.long@example.org") is not None


async def test_hashing_is_argon2id_and_verifies():
    stored = await passwords.password_hash("purple elephants dance quietly")
    assert stored.startswith("$argon2id$")
    assert await passwords.password_verify(stored, "purple elephants dance quietly")
    assert not await passwords.password_verify(stored, "purple elephants dance loudly")


async def test_the_tests_hashing_is_argon2id_at_its_cheapest_and_the_standard_has_the_production_parameters(
        monkeypatch):
    monkeypatch.setattr(passwords, "HASHER", passwords.HASHER)  # put back after the test
    assert (await passwords.password_hash("purple elephants dance quietly")).startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    passwords.configure_hashing("test")
    stored = await passwords.password_hash("purple elephants dance quietly")
    assert stored.startswith("$argon2id$v=19$m=8,t=1,p=1$")
    assert await passwords.password_verify(stored, "purple elephants dance quietly")
    assert not passwords.password_needs_rehash(stored)


async def test_a_process_hashing_as_the_tests_do_never_rewrites_a_stronger_hash(monkeypatch):
    monkeypatch.setattr(passwords, "HASHER", passwords.HASHER)  # put back after the test
    standard = await passwords.password_hash("purple elephants dance quietly")
    cheap = passwords.TEST_HASHER.hash("purple elephants dance quietly")
    assert passwords.password_needs_rehash(cheap) and not passwords.password_needs_rehash(standard)
    passwords.configure_hashing("test")
    assert not passwords.password_needs_rehash(standard) and not passwords.password_needs_rehash(cheap)
    assert await passwords.password_verify(standard, "purple elephants dance quietly")


def test_an_app_made_with_the_tests_hashing_hashes_so_and_settings_for_it_in_production_are_refused(monkeypatch):
    from app.main import create_app
    from app.settings import SettingsError
    from tests.conftest import settings_for_tests

    monkeypatch.setattr(passwords, "HASHER", passwords.HASHER)  # put back after the test
    # Settings made in code, not read from the environment, are refused the same way.
    with pytest.raises(SettingsError, match="KINWARD_PASSWORD_HASHING=test is for servers that tests drive"):
        settings_for_tests(env="production", password_hashing="test")
    with pytest.raises(SettingsError, match="KINWARD_PASSWORD_HASHING must be one of standard, test"):
        settings_for_tests(password_hashing="fast")
    assert passwords.HASHER is passwords.STANDARD_HASHER
    create_app(settings_for_tests(password_hashing="test"))
    assert passwords.HASHER is passwords.TEST_HASHER


async def test_unknown_account_never_verifies():
    assert not await passwords.password_verify(None, "kinward-dummy-password-for-timing")


async def test_concurrent_hashing_is_bounded(monkeypatch):
    """A burst of sign-ins queues for the hasher instead of holding 64 MiB each at once."""
    guard = threading.Lock()
    state = {"running": 0, "peak": 0}
    real = passwords.HASHER

    class CountingHasher:
        def hash(self, password):
            with guard:
                state["running"] += 1
                state["peak"] = max(state["peak"], state["running"])
            try:
                return real.hash(password)
            finally:
                with guard:
                    state["running"] -= 1

    monkeypatch.setattr(passwords, "HASHER", CountingHasher())
    passwords.configure_concurrency(2)
    await asyncio.gather(*(passwords.password_hash(f"password number {i:02d} long") for i in range(8)))
    assert state["peak"] == 2
