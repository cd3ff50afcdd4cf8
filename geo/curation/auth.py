"""Editor password: hashing, login throttling and the gate the pages ask before editing.

The dashboard is read-only unless `STRIKE_ATLAS_EDITOR_PASSWORD_HASH` holds a hash made by
`strike-atlas hash-password`. Only that hash is ever configured or kept; the password itself
is never stored, logged or echoed in a message. Standard library only.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import math
import secrets
import threading
import time
import unicodedata
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from geo.errors import ConfigError
from geo.settings import env_name

HASH_ENV = env_name("editor_password_hash")

SCHEME = "scrypt"
# n=2**17, r=8, p=1: OWASP's current minimum for scrypt (Password Storage Cheat Sheet),
# 128 MiB and a few hundred ms per verify. Hashes made with a lower n (older releases used
# 2**14) still verify: the parameters are read from the stored string.
SCRYPT_N = 2**17
SCRYPT_R = 8
SCRYPT_P = 1
SALT_BYTES = 16
KEY_BYTES = 32
# Upper bounds accepted when parsing a stored hash, so a mistyped parameter cannot make
# every login allocate gigabytes.
_MAX_N = 2**20
_MAX_R = 32
_MAX_P = 16

EDITING_DISABLED = (
    "Editing is disabled: no editor password is configured "
    f"(set {HASH_ENV} to the output of `strike-atlas hash-password`)."
)


@dataclass(frozen=True)
class _Scrypt:
    n: int
    r: int
    p: int
    salt: bytes
    key: bytes


def _encode(password: str) -> bytes:
    # NFC so the same password typed on different keyboards/OSes gives the same bytes.
    return unicodedata.normalize("NFC", password).encode("utf-8")


# At most this many hashes are computed at once in a process: each takes 128 MiB at the
# default cost, so a burst of logins queues here instead of exhausting memory.
_HASH_SLOTS = threading.BoundedSemaphore(2)


def _derive(password: str, salt: bytes, n: int, r: int, p: int, dklen: int) -> bytes:
    # OpenSSL needs 128*r*(n+2) bytes for V plus 128*r*p for B; the default maxmem (32 MiB)
    # is below n=2**17, so it is passed explicitly with 1 MiB of headroom.
    maxmem = 128 * r * (n + p + 2) + 1024 * 1024
    return hashlib.scrypt(_encode(password), salt=salt, n=n, r=r, p=p, maxmem=maxmem, dklen=dklen)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


def _invalid(why: str) -> ConfigError:
    # Never quote the stored value: it may be a hash worth cracking, or a pasted password.
    return ConfigError(
        f"{HASH_ENV} is not a valid password hash ({why}): expected "
        f"{SCHEME}$n=…,r=…,p=…$<salt>$<hash>; generate one with `strike-atlas hash-password`"
    )


def _parse(stored: str) -> _Scrypt:
    parts = stored.strip().split("$")
    if len(parts) == 1:
        raise _invalid("no '$' separators; is this the password itself? configure only its hash")
    if len(parts) != 4:
        raise _invalid(f"{len(parts)} '$'-separated fields, expected 4")
    scheme, params, salt_text, key_text = parts
    if scheme != SCHEME:
        raise _invalid(f"unsupported scheme, only {SCHEME} is supported")
    try:
        pairs = dict(item.split("=", 1) for item in params.split(","))
        if sorted(pairs) != ["n", "p", "r"]:
            raise ValueError
        n, r, p = int(pairs["n"]), int(pairs["r"]), int(pairs["p"])
    except ValueError:
        raise _invalid("parameters must be n=<int>,r=<int>,p=<int>") from None
    if not (2 <= n <= _MAX_N and n & (n - 1) == 0 and 1 <= r <= _MAX_R and 1 <= p <= _MAX_P):
        raise _invalid(
            f"parameters out of range: n must be a power of two up to 2**20, "
            f"r 1..{_MAX_R}, p 1..{_MAX_P}"
        )
    try:
        salt, key = _unb64(salt_text), _unb64(key_text)
    except (binascii.Error, ValueError):
        raise _invalid("salt and hash must be base64") from None
    if len(salt) < 8 or not 16 <= len(key) <= 64:
        raise _invalid("salt or hash too short")
    return _Scrypt(n=n, r=r, p=p, salt=salt, key=key)


def check_hash(stored: str) -> None:
    """Raise `ConfigError` unless `stored` is a usable hash.

    Lets startup reject a bad setting at once instead of at the first login.
    """
    _parse(stored)


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """Hash a password for `STRIKE_ATLAS_EDITOR_PASSWORD_HASH`.

    Parameters
    ----------
    password
        The editor password; must not be empty.
    salt
        Only for reproducible tests; by default 16 fresh random bytes, so two hashes of the
        same password differ and cannot be matched against each other or a lookup table.

    Returns
    -------
    str
        Self-describing ``scrypt$n=131072,r=8,p=1$<salt b64>$<hash b64>``, so the cost can be
        raised later without breaking hashes already configured.
    """
    if not password:
        raise ConfigError("The editor password must not be empty; choose a non-empty password.")
    if salt is None:
        salt = secrets.token_bytes(SALT_BYTES)
    elif len(salt) < 8:
        raise ValueError("salt must be at least 8 bytes")
    with _HASH_SLOTS:
        key = _derive(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P, KEY_BYTES)
    params = f"n={SCRYPT_N},r={SCRYPT_R},p={SCRYPT_P}"
    return f"{SCHEME}${params}${_b64(salt)}${_b64(key)}"


def verify_password(password: str, stored: str) -> bool:
    """Whether `password` matches `stored`, compared in constant time.

    A malformed `stored` raises `ConfigError` (a configuration mistake, not a wrong
    password); an empty password is simply wrong.
    """
    parsed = _parse(stored)
    if not password:
        return False
    with _HASH_SLOTS:
        key = _derive(password, parsed.salt, parsed.n, parsed.r, parsed.p, len(parsed.key))
    return hmac.compare_digest(key, parsed.key)


@dataclass
class _KeyState:
    failures: int = 0
    blocked_until: float = 0.0
    last_failure: float = 0.0
    pending: int = 0  # attempts reserved and not yet settled


class LoginThrottle:
    """Slows down password guessing, in process memory, safe to share between threads.

    Per key (a session id, say) each failure doubles the wait before the next attempt
    (1 s, 2 s, 4 s … up to `max_delay`); a success clears the key. Because an attacker can
    rotate sessions, more than `global_limit` failures within `global_window` seconds across
    all keys lock every login for `global_lockout` seconds. Keep one instance per process
    (e.g. `st.cache_resource`) so all sessions share it.

    `reserve` checks and counts an attempt in one locked step, before the password is
    hashed, and `settle` records its outcome: so 200 concurrent guesses from 200 sessions
    cannot all pass the check before the first failure is counted. At most
    ``global_limit + 1`` attempts are hashed per window, however many arrive at once.
    """

    def __init__(
        self,
        *,
        now: Callable[[], float] = time.monotonic,
        base_delay: float = 1.0,
        max_delay: float = 300.0,
        global_limit: int = 20,
        global_window: float = 600.0,
        global_lockout: float = 600.0,
        forget_after: float = 3600.0,
    ) -> None:
        self._now = now
        self._base = base_delay
        self._max = max_delay
        self._limit = global_limit
        self._window = global_window
        self._lockout = global_lockout
        # Keys quiet this long are dropped, so rotating session ids cannot grow memory.
        self._forget = max(forget_after, max_delay)
        self._lock = threading.Lock()
        self._keys: dict[str, _KeyState] = {}
        self._recent: deque[float] = deque()
        self._locked_until = 0.0

    def check(self, key: str) -> float:
        """Seconds `key` must wait before its next attempt; 0 if it may try now."""
        with self._lock:
            now = self._now()
            state = self._keys.get(key)
            wait = max(self._locked_until - now, 0.0)
            if state is not None:
                wait = max(wait, state.blocked_until - now)
            return wait

    def reserve(self, key: str) -> float:
        """Check and, if allowed, count an attempt for `key` atomically; returns the wait.

        0 means the caller may hash the password now and must then call `settle` exactly
        once. A positive value is the wait in seconds; nothing was reserved. An attempt in
        flight counts against the global limit at once and blocks further attempts of the
        same key until it is settled.
        """
        with self._lock:
            now = self._now()
            self._prune(now)
            state = self._keys.get(key)
            wait = max(self._locked_until - now, 0.0)
            if state is not None:
                wait = max(wait, state.blocked_until - now)
                if state.pending:
                    wait = max(wait, self._base)
            if wait > 0:
                return wait
            if len(self._recent) > self._limit:  # failures and attempts in flight
                self._locked_until = now + self._lockout
                return self._lockout
            self._recent.append(now)
            state = self._keys.setdefault(key, _KeyState())
            state.pending += 1
            state.last_failure = now  # keeps the key from being pruned while in flight
            return 0.0

    def settle(self, key: str, ok: bool) -> None:
        """Record the outcome of an attempt that `reserve` allowed."""
        with self._lock:
            now = self._now()
            state = self._keys.get(key)
            if state is not None and state.pending:
                state.pending -= 1
            if ok:
                self._keys.pop(key, None)
                # A success is not a guess: give its reserved slot back.
                if self._recent:
                    self._recent.pop()
                return
            self._fail(key, now, counted=True)

    def record(self, key: str, ok: bool) -> None:
        """Record the outcome of an attempt that `check` allowed (no reservation)."""
        with self._lock:
            now = self._now()
            self._prune(now)
            if ok:
                self._keys.pop(key, None)
                return
            self._fail(key, now, counted=False)

    def _fail(self, key: str, now: float, *, counted: bool) -> None:
        """One more failure for `key` (lock held); `counted`: its global slot is reserved."""
        state = self._keys.setdefault(key, _KeyState())
        state.failures += 1
        state.last_failure = now
        delay = min(self._base * 2 ** min(state.failures - 1, 64), self._max)
        state.blocked_until = now + delay
        if not counted:
            self._recent.append(now)
        if len(self._recent) > self._limit:
            self._locked_until = now + self._lockout
            self._recent.clear()

    def _prune(self, now: float) -> None:
        while self._recent and self._recent[0] <= now - self._window:
            self._recent.popleft()
        stale = [k for k, s in self._keys.items() if now - s.last_failure >= self._forget]
        for k in stale:
            del self._keys[k]


def _wait_text(seconds: float) -> str:
    s = max(math.ceil(seconds), 1)
    return f"{s} s" if s < 120 else f"{math.ceil(s / 60)} min"


@dataclass(frozen=True)
class LoginResult:
    """Outcome of a login attempt, ready for the page to show.

    `retry_after` is in seconds, 0 when the user may try again at once.
    """

    ok: bool
    message: str
    retry_after: float = 0.0


class EditorGate:
    """The one question pages ask before showing editing controls.

    Parameters
    ----------
    password_hash
        Value of `STRIKE_ATLAS_EDITOR_PASSWORD_HASH`; None or blank keeps the dashboard
        strictly read-only. Validated here, so a bad setting fails at startup.
    throttle
        Shared per process, so that guesses from every session count.
    """

    def __init__(self, password_hash: str | None, throttle: LoginThrottle) -> None:
        stored = (password_hash or "").strip()
        if stored:
            check_hash(stored)
        self._hash = stored or None
        self._throttle = throttle

    def __repr__(self) -> str:
        # Deliberately omits the hash.
        return f"EditorGate(enabled={self.enabled})"

    @property
    def enabled(self) -> bool:
        """Whether an editor password is configured at all."""
        return self._hash is not None

    def try_login(self, key: str, password: str) -> LoginResult:
        """Check `password` for the session `key`, honouring the throttle."""
        if self._hash is None:
            return LoginResult(ok=False, message=EDITING_DISABLED)
        if not password:
            # Not counted as a failure: an empty submit guesses nothing.
            wait = self._throttle.check(key)
            if wait > 0:
                return LoginResult(
                    ok=False,
                    message=f"Too many attempts; wait {_wait_text(wait)}.",
                    retry_after=wait,
                )
            return LoginResult(ok=False, message="Enter the editor password.")
        # Reserve before hashing: the check and the count are one atomic step.
        wait = self._throttle.reserve(key)
        if wait > 0:
            return LoginResult(
                ok=False, message=f"Too many attempts; wait {_wait_text(wait)}.", retry_after=wait
            )
        try:
            ok = verify_password(password, self._hash)
        except BaseException:
            self._throttle.settle(key, ok=False)
            raise
        self._throttle.settle(key, ok)
        if ok:
            return LoginResult(ok=True, message="Editing enabled.")
        wait = self._throttle.check(key)
        return LoginResult(
            ok=False, message=f"Wrong password. Try again in {_wait_text(wait)}.", retry_after=wait
        )
