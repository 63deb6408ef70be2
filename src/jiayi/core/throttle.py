"""Failed-login throttling, shared by the API token endpoint and the login page.

Failed logins are counted per username (from any address) and per client address (for any username)
in Django's cache. When either count reaches its limit within the window, further logins for that
username, or from that address, are refused (HTTP 429 with Retry-After) until the lockout has passed,
without checking the password. A successful login clears the username's count; the address's count
is not cleared, so that one valid account does not let a client go on guessing other accounts'
passwords.

The counters live in the ``default`` cache (settings ``CACHES``). The local-memory cache is per
process: enough for development and a single-process server, but with several worker processes or
servers each one counts on its own, so production needs a shared cache (``CACHE_URL``, e.g. Redis or
Memcached).
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext as _

_PREFIX = "jiayi:login-failures"


@dataclass(frozen=True)
class Limits:
    per_username: int
    per_address: int
    window: int  # seconds: failures are counted over this window, and a lockout lasts this long


def limits() -> Limits:
    conf = settings.JIAYI
    return Limits(
        per_username=int(conf["LOGIN_FAILURES_PER_USERNAME"]),
        per_address=int(conf["LOGIN_FAILURES_PER_ADDRESS"]),
        window=int(conf["LOGIN_LOCKOUT_SECONDS"]),
    )


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:32]


def _counters(username: str, address: str | None) -> list[tuple[str, int]]:
    """(cache key, limit) of the counters a login attempt touches."""
    lim = limits()
    out = [(f"{_PREFIX}:user:{_digest((username or '').strip().casefold())}", lim.per_username)]
    if address:
        out.append((f"{_PREFIX}:addr:{_digest(address)}", lim.per_address))
    return out


def retry_after(username: str, address: str | None) -> int | None:
    """Seconds until a login for ``username`` from ``address`` is accepted again; None when it is now."""
    now = time.time()
    waits = [
        until - now
        for key, _limit in _counters(username, address)
        if (until := cache.get(f"{key}:locked")) is not None and until > now
    ]
    return max(1, math.ceil(max(waits))) if waits else None


def record_failure(username: str, address: str | None) -> None:
    """Count a failed login; a counter reaching its limit locks for the window."""
    window = limits().window
    for key, limit in _counters(username, address):
        cache.add(key, 0, timeout=window)  # the first failure starts the window
        try:
            count = cache.incr(key)
        except ValueError:  # the window ended between add() and incr()
            cache.set(key, 1, timeout=window)
            count = 1
        if count >= limit:
            cache.set(f"{key}:locked", time.time() + window, timeout=window)
            cache.delete(key)


def record_success(username: str) -> None:
    """A successful login clears the username's failures (not the address's: see the module doc)."""
    key, _limit = _counters(username, None)[0]
    cache.delete(key)


def message(seconds: int) -> str:
    """What a refused login is told."""
    return _("登录失败次数过多，请%(minutes)s分钟后再试。") % {"minutes": max(1, math.ceil(seconds / 60))}
