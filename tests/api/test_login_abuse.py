"""Issue 13, defect 2: sign-in is throttled per account and per client with Retry-After, every lockout
expires by itself, and passwords follow a policy (12+ characters, not a common one)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.support.gateway import local_gateway
from therapybridge.api import throttle
from therapybridge.users import UserError, check_password_policy, create_user


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(throttle, "_clock", fake)
    return fake


LIMITS = {
    "LOGIN_MAX_FAILURES_PER_ACCOUNT_CLIENT": "3",
    "LOGIN_MAX_FAILURES_PER_CLIENT": "6",
    "LOGIN_MAX_FAILURES_PER_ACCOUNT": "8",
    "LOGIN_LOCKOUT_S": "60",
}


async def test_wrong_passwords_lock_the_account_for_that_client_then_the_lock_expires(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: FakeClock
) -> None:
    async with local_gateway(tmp_path, monkeypatch, **LIMITS) as gw:
        email, password, _ = await gw.account()
        for _ in range(3):
            assert (await gw.login(email, "wrong-password-123")).status_code == 401
        r = await gw.login(email, password)  # even the right password waits: no oracle for the guesser
        assert r.status_code == 429, r.text
        assert 0 < int(r.headers["retry-after"]) <= 60
        assert (await gw.login(email, password, ip="10.0.0.2")).status_code == 200  # the user elsewhere is not locked
        clock.now += 61
        assert (await gw.login(email, password)).status_code == 200  # the lock expired


async def test_parallel_guesses_are_counted_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: FakeClock
) -> None:
    async with local_gateway(tmp_path, monkeypatch, **LIMITS) as gw:
        email, password, _ = await gw.account()
        codes = await asyncio.gather(*(gw.login(email, f"guess-number-{i:04d}") for i in range(10)))
        assert sorted(r.status_code for r in codes).count(401) <= 3
        assert {r.status_code for r in codes} <= {401, 429}
        assert (await gw.login(email, password)).status_code == 429


async def test_one_client_spraying_accounts_is_locked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: FakeClock
) -> None:
    async with local_gateway(tmp_path, monkeypatch, **LIMITS) as gw:
        victims = [await gw.account() for _ in range(3)]
        for email, _, _ in victims:
            for _ in range(2):
                assert (await gw.login(email, "wrong-password-123", ip="10.9.9.9")).status_code == 401
        r = await gw.login(victims[0][0], victims[0][1], ip="10.9.9.9")
        assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
        assert (await gw.login(victims[0][0], victims[0][1], ip="10.0.0.1")).status_code == 200


async def test_a_distributed_attack_locks_the_account_only_for_a_while(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: FakeClock
) -> None:
    async with local_gateway(tmp_path, monkeypatch, **LIMITS) as gw:
        email, password, _ = await gw.account()
        assert (await gw.login(email, password, ip="10.2.0.1")).status_code == 200  # the user's usual machine
        for i in range(8):
            assert (await gw.login(email, "wrong-password-123", ip=f"10.1.0.{i}")).status_code == 401
        assert (await gw.login(email, password, ip="10.3.0.1")).status_code == 429  # a new machine waits
        assert (await gw.login(email, password, ip="10.2.0.1")).status_code == 200  # the usual one does not
        clock.now += 61
        assert (await gw.login(email, password, ip="10.3.0.1")).status_code == 200  # and the lock expires


def test_password_policy() -> None:
    for bad in ("short-pw", "password1234", "Password1234", "aaaaaaaaaaaaaaa", "ababababababab"):
        with pytest.raises(UserError):
            check_password_policy(bad)
    with pytest.raises(UserError, match="email"):
        check_password_policy("ann.lee.clinic", "ann.lee.clinic@example.com")
    check_password_policy("violet-harbour-lantern")


async def test_create_user_refuses_a_weak_password(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async with local_gateway(tmp_path, monkeypatch):
        with pytest.raises(UserError, match="at least 12"):
            await create_user("weak@example.com", "elevenchars")
        with pytest.raises(UserError, match="too common"):
            await create_user("weak@example.com", "qwerty123456")
