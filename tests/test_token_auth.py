"""POST /api/auth/token/ is throttled per address and per username, and a password
change revokes the user's token."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AbstractUser
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from prosaas.token_auth import TokenAddressThrottle, TokenUsernameThrottle
from tests import factories

TOKEN_URL = "/api/auth/token/"
PASSWORD = "test-pass-123"  # tests.factories.make_user


@pytest.fixture
def small_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(TokenAddressThrottle, "rate", "3/minute", raising=False)
    monkeypatch.setattr(TokenUsernameThrottle, "rate", "2/minute", raising=False)


def ask_token(username: str, password: str, address: str = "10.0.0.1") -> object:
    return APIClient().post(
        TOKEN_URL, {"username": username, "password": password}, REMOTE_ADDR=address
    )


@pytest.mark.django_db
@pytest.mark.usefixtures("small_limits")
def test_one_address_is_throttled_across_usernames() -> None:
    answers = [ask_token(f"nobody{i}", "guess").status_code for i in range(3)]
    assert answers == [400, 400, 400]
    throttled = ask_token("nobody9", "guess")
    assert throttled.status_code == 429
    assert int(throttled["Retry-After"]) > 0
    assert throttled.json()["code"] == "throttled"
    # Another address is counted on its own.
    assert ask_token("nobody9", "guess", address="10.0.0.2").status_code == 400


@pytest.mark.django_db
@pytest.mark.usefixtures("small_limits")
def test_one_username_is_throttled_across_addresses(owner_a: AbstractUser) -> None:
    assert ask_token("owner_a", "guess-1", address="10.0.1.1").status_code == 400
    assert ask_token("OWNER_A", "guess-2", address="10.0.1.2").status_code == 400
    # The right password from a third address: the username's budget is spent.
    assert ask_token("owner_a", PASSWORD, address="10.0.1.3").status_code == 429
    assert ask_token("someone_else", "guess", address="10.0.1.3").status_code == 400


@pytest.mark.django_db
@pytest.mark.usefixtures("small_limits")
def test_x_forwarded_for_does_not_open_a_new_bucket() -> None:
    for i in range(3):
        APIClient().post(
            TOKEN_URL, {"username": f"u{i}", "password": "x"}, HTTP_X_FORWARDED_FOR=f"1.2.3.{i}"
        )
    spoofed = APIClient().post(
        TOKEN_URL, {"username": "u9", "password": "x"}, HTTP_X_FORWARDED_FOR="9.9.9.9"
    )
    assert spoofed.status_code == 429


def test_a_token_is_still_issued_within_the_limits(owner_a: AbstractUser) -> None:
    response = ask_token("owner_a", PASSWORD)
    assert response.status_code == 200
    assert response.json() == {"token": Token.objects.get(user=owner_a).key}


def test_a_password_change_revokes_the_token(owner_a: AbstractUser) -> None:
    key = factories.token_for(owner_a)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/business/").status_code == 200

    owner_a.set_password("a-new-secret-456")
    owner_a.save()

    assert not Token.objects.filter(user=owner_a).exists()
    assert client.get("/api/business/").status_code == 401


def test_a_password_hash_written_directly_revokes_the_token(owner_a: AbstractUser) -> None:
    from django.contrib.auth.hashers import make_password

    factories.token_for(owner_a)
    owner_a.password = make_password("another-secret-789")
    owner_a.save(update_fields=["password"])
    assert not Token.objects.filter(user=owner_a).exists()


def test_other_saves_keep_the_token(owner_a: AbstractUser) -> None:
    key = factories.token_for(owner_a)
    owner_a.first_name = "Olive"
    owner_a.save()
    owner_a.save(update_fields=["last_login"])
    # Re-hashing the same password (as Django does when it upgrades a hasher).
    owner_a.set_password(PASSWORD)
    owner_a.save()
    assert Token.objects.get(user=owner_a).key == key


def test_another_users_password_change_keeps_this_token(
    owner_a: AbstractUser, agent_a: AbstractUser
) -> None:
    key = factories.token_for(owner_a)
    factories.token_for(agent_a)
    agent_a.set_password("agent-new-secret-1")
    agent_a.save()
    assert Token.objects.filter(user=owner_a, key=key).exists()
    assert not Token.objects.filter(user=agent_a).exists()
