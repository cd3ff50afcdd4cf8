import base64
import hashlib
import threading
import time

import pytest

import geo.curation.auth as auth
from geo.curation.auth import (
    EDITING_DISABLED,
    EditorGate,
    LoginResult,
    LoginThrottle,
    hash_password,
    verify_password,
)
from geo.errors import ConfigError


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


@pytest.fixture(scope="module")
def stored() -> str:
    return hash_password("correct horse")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


# --- hashing ---------------------------------------------------------------------------


def test_round_trip(stored: str) -> None:
    assert stored.startswith("scrypt$n=131072,r=8,p=1$")  # OWASP: n=2**17, r=8, p=1
    assert "correct horse" not in stored
    assert verify_password("correct horse", stored)


def test_wrong_password(stored: str) -> None:
    assert not verify_password("correct horsE", stored)
    assert not verify_password("", stored)


def test_salt_differs_between_hashes() -> None:
    a, b = hash_password("same"), hash_password("same")
    assert a != b
    assert a.split("$")[2] != b.split("$")[2]
    assert verify_password("same", a) and verify_password("same", b)


def test_explicit_salt_is_reproducible() -> None:
    assert hash_password("pw", salt=b"0123456789abcdef") == hash_password(
        "pw", salt=b"0123456789abcdef"
    )


def test_unicode_normalised(stored: str) -> None:
    h = hash_password("caf\u00e9")  # precomposed
    assert verify_password("cafe\u0301", h)  # e + combining accent


def test_surrounding_whitespace_in_setting_is_ignored(stored: str) -> None:
    assert verify_password("correct horse", f"  {stored}\n")


@pytest.mark.parametrize(
    ("bad", "why"),
    [
        ("correct horse", "is this the password itself"),
        ("scrypt$n=16384,r=8,p=1$abc", "expected 4"),
        ("bcrypt$n=16384,r=8,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", "unsupported scheme"),
        ("scrypt$n=16384,r=8$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", "parameters must be"),
        ("scrypt$n=x,r=8,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", "parameters must be"),
        ("scrypt$n=1000,r=8,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", "out of range"),
        ("scrypt$n=2147483648,r=8,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", "out of range"),
        ("scrypt$n=16384,r=8,p=1$!!!$aGFzaGhhc2hoYXNoaGFzaA", "base64"),
        ("scrypt$n=16384,r=8,p=1$c2FsdHNhbHQ$aGFzaA", "too short"),
        ("", "is this the password itself"),
    ],
)
def test_malformed_hash_raises_config_error(bad: str, why: str) -> None:
    with pytest.raises(ConfigError) as exc:
        verify_password("anything", bad)
    msg = str(exc.value)
    assert msg.startswith("STRIKE_ATLAS_EDITOR_PASSWORD_HASH is not a valid password hash")
    assert "expected scrypt$" in msg
    assert "generate one with `strike-atlas hash-password`" in msg
    assert why in msg
    if bad:
        assert bad not in msg  # never echo a possibly secret value


def test_empty_password_refused() -> None:
    with pytest.raises(ConfigError, match="must not be empty"):
        hash_password("")


def test_short_salt_refused() -> None:
    with pytest.raises(ValueError, match="salt"):
        hash_password("pw", salt=b"abc")


def test_verify_is_fast_enough(stored: str) -> None:
    start = time.perf_counter()
    verify_password("correct horse", stored)
    # n=2**17 costs a few hundred ms; allow slack for loaded CI machines.
    assert time.perf_counter() - start < 3.0


def test_old_lower_cost_hash_still_verifies() -> None:
    # Made by an older release (n=2**14): the parameters travel in the string.
    old = "scrypt$n=16384,r=8,p=1$MDEyMzQ1Njc4OWFiY2RlZg$"
    key = hashlib.scrypt(b"old pw", salt=b"0123456789abcdef", n=2**14, r=8, p=1, dklen=32)
    old += base64.b64encode(key).decode().rstrip("=")
    assert verify_password("old pw", old)
    assert not verify_password("other", old)


# --- throttle --------------------------------------------------------------------------


def test_throttle_doubles(clock: FakeClock) -> None:
    t = LoginThrottle(now=clock)
    assert t.check("s") == 0
    for expected in [1, 2, 4, 8, 16]:
        t.record("s", ok=False)
        assert t.check("s") == expected
        clock.advance(expected - 0.5)
        assert t.check("s") == 0.5
        clock.advance(0.5)
        assert t.check("s") == 0


def test_throttle_is_per_key(clock: FakeClock) -> None:
    t = LoginThrottle(now=clock)
    t.record("a", ok=False)
    t.record("a", ok=False)
    assert t.check("a") == 2
    assert t.check("b") == 0


def test_throttle_resets_after_success(clock: FakeClock) -> None:
    t = LoginThrottle(now=clock)
    for _ in range(3):
        t.record("s", ok=False)
        clock.advance(t.check("s"))
    t.record("s", ok=True)
    assert t.check("s") == 0
    t.record("s", ok=False)
    assert t.check("s") == 1


def test_throttle_capped_at_300_s(clock: FakeClock) -> None:
    t = LoginThrottle(now=clock, global_limit=10_000)
    waits = []
    for _ in range(15):
        t.record("s", ok=False)
        waits.append(t.check("s"))
        clock.advance(waits[-1])
    assert waits[:9] == [1, 2, 4, 8, 16, 32, 64, 128, 256]
    assert waits[9:] == [300] * 6


def test_global_lock_after_21_failures_across_keys(clock: FakeClock) -> None:
    t = LoginThrottle(now=clock)
    for i in range(20):
        t.record(f"session-{i}", ok=False)
        clock.advance(1)
    assert t.check("fresh") == 0
    t.record("session-20", ok=False)
    assert t.check("fresh") == 600
    clock.advance(599)
    assert t.check("fresh") == 1
    clock.advance(1)
    assert t.check("fresh") == 0


def test_global_window_slides(clock: FakeClock) -> None:
    t = LoginThrottle(now=clock)
    for i in range(20):
        t.record(f"s{i}", ok=False)
    clock.advance(600)  # the first 20 have left the 10-minute window
    t.record("late", ok=False)
    assert t.check("fresh") == 0


def test_success_does_not_clear_global_count(clock: FakeClock) -> None:
    t = LoginThrottle(now=clock)
    for i in range(20):
        t.record(f"s{i}", ok=False)
    t.record("editor", ok=True)
    t.record("s21", ok=False)
    assert t.check("editor") == 600


def test_idle_keys_are_forgotten(clock: FakeClock) -> None:
    t = LoginThrottle(now=clock, forget_after=3600)
    for _ in range(5):
        t.record("s", ok=False)
    clock.advance(3600)
    t.record("other", ok=False)  # pruning happens on record
    t.record("s", ok=False)
    assert t.check("s") == 1


def test_throttle_is_thread_safe(clock: FakeClock) -> None:
    t = LoginThrottle(now=clock, global_limit=10_000)

    def hammer(k: int) -> None:
        for _ in range(200):
            t.record(f"k{k}", ok=False)
            t.check(f"k{k}")

    threads = [threading.Thread(target=hammer, args=(k,)) for k in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert all(t.check(f"k{k}") == 300 for k in range(8))


# --- gate ------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [None, "", "  \n"])
def test_gate_disabled_without_hash(value: str | None, clock: FakeClock) -> None:
    gate = EditorGate(value, LoginThrottle(now=clock))
    assert not gate.enabled
    result = gate.try_login("s", "anything")
    assert result == LoginResult(ok=False, message=EDITING_DISABLED, retry_after=0.0)
    assert result.message.startswith("Editing is disabled: no editor password is configured")
    assert "STRIKE_ATLAS_EDITOR_PASSWORD_HASH" in result.message


def test_gate_rejects_bad_hash_at_construction(clock: FakeClock) -> None:
    with pytest.raises(ConfigError, match="not a valid password hash"):
        EditorGate("hunter2", LoginThrottle(now=clock))


def test_gate_login_messages(stored: str, clock: FakeClock) -> None:
    gate = EditorGate(stored, LoginThrottle(now=clock))
    assert gate.enabled
    assert "correct horse" not in repr(gate) and stored not in repr(gate)

    r = gate.try_login("s", "nope")
    assert r == LoginResult(ok=False, message="Wrong password. Try again in 1 s.", retry_after=1)

    r = gate.try_login("s", "correct horse")  # refused before checking: still throttled
    assert r == LoginResult(ok=False, message="Too many attempts; wait 1 s.", retry_after=1)

    clock.advance(1)
    r = gate.try_login("s", "nope")
    assert r.message == "Wrong password. Try again in 2 s."
    clock.advance(1.5)
    r = gate.try_login("s", "nope")
    assert r.message == "Too many attempts; wait 1 s."  # 0.5 s rounds up
    assert r.retry_after == 0.5

    clock.advance(0.5)
    r = gate.try_login("s", "correct horse")
    assert r.ok and r.retry_after == 0
    assert gate.try_login("s", "nope").message == "Wrong password. Try again in 1 s."


def test_gate_empty_password_not_counted(stored: str, clock: FakeClock) -> None:
    gate = EditorGate(stored, LoginThrottle(now=clock))
    r = gate.try_login("s", "")
    assert r == LoginResult(ok=False, message="Enter the editor password.")
    assert gate.try_login("s", "correct horse").ok


def test_gate_global_lock_message(stored: str, clock: FakeClock) -> None:
    throttle = LoginThrottle(now=clock)
    for i in range(20):
        throttle.record(f"s{i}", ok=False)
    gate = EditorGate(stored, throttle)
    r = gate.try_login("attacker-new-session", "guess")
    assert r.message == "Wrong password. Try again in 10 min."
    r = gate.try_login("editor", "correct horse")
    assert r == LoginResult(ok=False, message="Too many attempts; wait 10 min.", retry_after=600)


def test_concurrent_guesses_from_many_sessions_are_not_all_hashed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """200 sessions guessing at once: the global limit is reserved before any hashing."""
    calls = 0
    calls_lock = threading.Lock()
    real_verify = auth.verify_password

    def counting_verify(password: str, stored: str) -> bool:
        nonlocal calls
        with calls_lock:
            calls += 1
        time.sleep(0.01)  # keep attempts in flight together
        return real_verify(password, stored)

    monkeypatch.setattr(auth, "verify_password", counting_verify)
    cheap = "scrypt$n=16,r=1,p=1$MDEyMzQ1Njc4OWFiY2RlZg$"
    key = hashlib.scrypt(b"right", salt=b"0123456789abcdef", n=16, r=1, p=1, dklen=32)
    cheap += base64.b64encode(key).decode().rstrip("=")
    gate = EditorGate(cheap, LoginThrottle(global_limit=20))
    barrier = threading.Barrier(200)
    results: list[LoginResult] = []

    def guess(i: int) -> None:
        barrier.wait()
        r = gate.try_login(f"session-{i}", f"guess-{i}")
        with calls_lock:
            results.append(r)

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(200)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(results) == 200 and not any(r.ok for r in results)
    assert calls == 21  # the limit (20) plus the failure that triggers the lock
    refused = [r for r in results if r.message.startswith("Too many attempts")]
    assert len(refused) == 179 and all(r.retry_after > 0 for r in refused)
    # The real editor is locked out too until the window passes, as designed.
    assert not gate.try_login("editor", "right").ok


def test_reserve_blocks_a_second_attempt_of_the_same_session(clock: FakeClock) -> None:
    t = LoginThrottle(now=clock)
    assert t.reserve("s") == 0
    assert t.reserve("s") == 1  # first attempt still being checked
    t.settle("s", ok=False)
    assert t.reserve("s") == 1  # now the normal 1 s back-off
    clock.advance(1)
    assert t.reserve("s") == 0
    t.settle("s", ok=True)
    assert t.check("s") == 0


def test_success_gives_its_reserved_slot_back(clock: FakeClock) -> None:
    t = LoginThrottle(now=clock, global_limit=2)
    for i in range(5):
        assert t.reserve(f"editor-{i}") == 0
        t.settle(f"editor-{i}", ok=True)
    assert t.check("fresh") == 0
