"""Sign-in throttling: failures counted per (account, client), per client and per account, in a sliding
window; past a limit that key is locked for LOGIN_LOCKOUT_S and then opens again by itself.

Why three keys: the (account, client) limit is the tight one, so a password guesser is stopped after a
few tries; the per-client limit stops one client spraying many accounts; the per-account limit (looser)
stops a distributed guesser. Every lockout expires, so an attacker can at worst delay a user by
LOGIN_LOCKOUT_S at a time, never lock them out for good; and a client this account signed in from
before (KNOWN_CLIENT_S) is exempt from the per-account lock, so a distributed attacker cannot keep the
user out of their usual machine at all. A locked key is refused before the argon2 check, so a flood
costs no password hashing.

State lives in the gateway process (one instance per host in the supported deployments); several
instances each keep their own counts, which multiplies the limits by the number of instances.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from dataclasses import dataclass, field

from therapybridge.settings import Settings

KNOWN_CLIENT_S = 30 * 86400.0
MAX_KNOWN = 100_000


def _clock() -> float:
    return time.monotonic()


@dataclass
class _Key:
    failures: deque[float] = field(default_factory=deque)
    locked_until: float = 0.0


class LoginThrottle:
    def __init__(self, settings: Settings) -> None:
        self.window = settings.login_window_s
        self.lockout = settings.login_lockout_s
        self.limits = {
            "pair": settings.login_max_failures_per_account_client,
            "client": settings.login_max_failures_per_client,
            "account": settings.login_max_failures_per_account,
        }
        self._keys: dict[tuple[str, str], _Key] = {}
        self._known: dict[str, float] = {}  # account\0client -> last successful sign-in
        self._lock = threading.Lock()

    def _keys_for(self, account: str, client: str) -> list[tuple[str, str]]:
        pair = f"{account}\0{client}"
        keys = [("pair", pair), ("client", client)]
        known = self._known.get(pair)
        if known is None or known < _clock() - KNOWN_CLIENT_S:
            keys.append(("account", account))
        return keys

    def retry_after(self, account: str, client: str) -> int:
        """Seconds until this attempt may be made; 0: go ahead."""
        now = _clock()
        with self._lock:
            wait = max((self._keys[k].locked_until - now for k in self._keys_for(account, client) if k in self._keys),
                       default=0.0)  # fmt: skip
        return math.ceil(wait) if wait > 0 else 0

    def attempt(self, account: str, client: str) -> None:
        """Count an attempt as a failure up front (parallel guesses count too); success() takes it back."""
        now = _clock()
        with self._lock:
            for key in self._keys_for(account, client):
                state = self._keys.setdefault(key, _Key())
                while state.failures and state.failures[0] <= now - self.window:
                    state.failures.popleft()
                state.failures.append(now)
                if len(state.failures) >= self.limits[key[0]] and state.locked_until <= now:
                    state.locked_until = now + self.lockout
                    state.failures.clear()  # after the lockout, a fresh allowance
            self._prune(now)

    def success(self, account: str, client: str) -> None:
        now = _clock()
        with self._lock:
            for key in self._keys_for(account, client):
                state = self._keys.get(key)
                if state is None:
                    continue
                if state.failures:
                    state.failures.pop()  # this attempt was not a failure
                if key[0] == "pair":
                    state.failures.clear()
                    state.locked_until = 0.0
            if len(self._known) >= MAX_KNOWN:
                for pair in sorted(self._known, key=self._known.__getitem__)[: MAX_KNOWN // 10]:
                    del self._known[pair]
            self._known[f"{account}\0{client}"] = now
            self._prune(now)

    def _prune(self, now: float) -> None:
        if len(self._keys) < 10_000:
            return
        for key in [k for k, s in self._keys.items() if s.locked_until <= now and not s.failures]:
            del self._keys[key]
