"""The opt-in online fallback: `ChainedGeocoder` (gazetteer, then Nominatim); results as a table.

Nominatim (OpenStreetMap) is reached only when the gazetteer finds nothing and the caller
explicitly allows it, throttled to one request a second, cached, never retried, and with a
clear `GeocoderUnreachable` when there is no network. `candidates_table` shows gazetteer and
online results alike, so the page can show the right attribution.
"""

from __future__ import annotations

import functools
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Final, Protocol

import numpy as np
import pandas as pd
from geopy.adapters import BaseSyncAdapter, RequestsAdapter, URLLibAdapter
from geopy.exc import (
    GeocoderAuthenticationFailure,
    GeocoderInsufficientPrivileges,
    GeocoderRateLimited,
    GeocoderTimedOut,
    GeocoderUnavailable,
    GeopyError,
)
from geopy.geocoders import Nominatim
from geopy.geocoders.base import DEFAULT_SENTINEL, Geocoder
from geopy.location import Location
from geopy.point import Point

from geo.errors import ConfigError
from geo.places.gazetteer import (
    GazetteerGeocoder,
    GeocodeError,
    GeocodeQueryError,
    NoNetworkAdapter,
    as_admin1,
    as_country_codes,
)

NOMINATIM_ATTRIBUTION: Final = "Data © OpenStreetMap contributors, ODbL 1.0 (via Nominatim)"


class GeocoderUnreachable(GeocodeError):
    """The online geocoder could not be reached or did not answer in time."""


# pandas' default string dtype from 3.0 on (missing = NaN); object on pandas < 2.3.
try:
    _STR: pd.StringDtype | np.dtype = pd.StringDtype(na_value=np.nan)
except TypeError:  # pragma: no cover - pandas < 2.3
    _STR = np.dtype(object)


class SupportsGeocode(Protocol):
    """Anything with geopy's ``geocode`` method: a geopy geocoder, or a fake in tests."""

    def geocode(self, query: str, *args: Any, **kwargs: Any) -> Any: ...


class _Throttle:
    """At most one call per `interval` seconds; clock and sleep injectable for tests."""

    def __init__(
        self, interval: float, clock: Callable[[], float], sleep: Callable[[float], None]
    ) -> None:
        self.interval, self.clock, self.sleep = interval, clock, sleep
        self._last: float | None = None
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:
            if self._last is not None:
                delay = self._last + self.interval - self.clock()
                if delay > 0:
                    self.sleep(delay)
            self._last = self.clock()


class ChainedGeocoder(Geocoder):
    """The gazetteer first; an online geocoder only when it finds nothing and the caller allows.

    The online leg follows Nominatim's usage policy: one request a second for this object
    (share one instance per process), answers cached in memory, and no retries. Network
    failures become `GeocoderUnreachable`, other service errors `GeocodeError`.

    Parameters
    ----------
    offline
        The gazetteer geocoder; a default `GazetteerGeocoder` when None.
    online
        A geopy geocoder (see `make_nominatim`) or any object with a geopy-style ``geocode``
        method; None keeps everything offline.
    online_name
        Name used in messages; defaults to the online geocoder's class name.
    min_delay_seconds
        Least time between two online requests.
    cache_size
        Online answers kept in memory (least recently used dropped first).
    clock, sleep
        Time source and sleep function for the throttle (tests pass fakes).
    """

    def __init__(
        self,
        offline: GazetteerGeocoder | None = None,
        online: SupportsGeocode | None = None,
        *,
        online_name: str | None = None,
        min_delay_seconds: float = 1.0,
        cache_size: int = 256,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(adapter_factory=NoNetworkAdapter)
        self.offline = offline if offline is not None else GazetteerGeocoder()
        self.online = online
        self.online_name = online_name or (type(online).__name__ if online else "online")
        self.cache_size = cache_size
        self._cache: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._cache_lock = threading.Lock()
        self._throttle = _Throttle(min_delay_seconds, clock, sleep)

    def geocode(
        self,
        query: str,
        *,
        exactly_one: bool = True,
        timeout: object = DEFAULT_SENTINEL,
        limit: int | None = None,
        country_codes: str | Iterable[str] | None = None,
        admin1: str | Iterable[str] | None = None,
        allow_online: bool = True,
    ) -> Location | list[Location] | None:
        """Like `GazetteerGeocoder.geocode`; falls back online if allowed and configured.

        ``allow_online=False`` keeps a call offline even when an online geocoder is set, e.g.
        until the user presses a "search online" button.
        """
        found = self.offline.geocode(
            query,
            exactly_one=exactly_one,
            limit=limit,
            country_codes=country_codes,
            admin1=admin1,
        )
        if found is not None or not allow_online or self.online is None:
            return found
        text = query.strip()
        codes = as_admin1(admin1)
        if codes is not None and len(codes) == 1:  # the online service has no admin-1 filter
            label = self.offline.index().admin1_names.get(next(iter(codes)))
            text = f"{text}, {label}" if label else text
        return self.search_online(
            text,
            exactly_one=exactly_one,
            timeout=timeout,
            limit=limit,
            country_codes=country_codes,
        )

    def search_online(
        self,
        query: str,
        *,
        exactly_one: bool = True,
        timeout: object = DEFAULT_SENTINEL,
        limit: int | None = None,
        country_codes: str | Iterable[str] | None = None,
    ) -> Any:
        """Ask the online geocoder directly: throttled, cached, one attempt, typed errors.

        Results are whatever the online geocoder returns (geopy Locations for Nominatim,
        with OpenStreetMap data under the ODbL: show `NOMINATIM_ATTRIBUTION`).
        """
        if self.online is None:
            raise GeocodeError(
                "no online geocoder configured; enable Nominatim in the settings "
                "(STRIKE_ATLAS_NOMINATIM=on) or pass online= to ChainedGeocoder"
            )
        if not isinstance(query, str) or not query.strip():
            raise GeocodeQueryError(f"query={query!r}: give a place name to look up")
        codes = as_country_codes(country_codes)
        key = (" ".join(query.casefold().split()), codes, exactly_one, limit)
        with self._cache_lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        kwargs: dict[str, Any] = {"exactly_one": exactly_one}
        if codes is not None:
            kwargs["country_codes"] = sorted(c.lower() for c in codes)
        if limit is not None and not exactly_one:
            kwargs["limit"] = limit
        if timeout is not DEFAULT_SENTINEL:
            kwargs["timeout"] = timeout
        self._throttle.wait()
        try:
            result = self.online.geocode(query.strip(), **kwargs)
        except (GeocoderUnavailable, GeocoderTimedOut, ConnectionError, TimeoutError) as exc:
            waited = (
                timeout
                if timeout is not DEFAULT_SENTINEL
                else getattr(self.online, "timeout", None)
            )
            detail = (
                f"no answer within {waited} s" if isinstance(exc, TimeoutError) and waited else exc
            )
            raise GeocoderUnreachable(
                f"{self.online_name} is unreachable (no network?): {detail}. "
                "The offline gazetteer still works."
            ) from exc
        except GeocoderRateLimited as exc:
            raise GeocodeError(
                f"{self.online_name} refused the request as too frequent ({exc}); wait a "
                "minute before searching online again. The offline gazetteer still works."
            ) from exc
        except (GeocoderAuthenticationFailure, GeocoderInsufficientPrivileges) as exc:
            raise GeocodeError(
                f"{self.online_name} refused the request ({exc}); check that the user agent "
                "identifies your deployment (STRIKE_ATLAS_NOMINATIM_USER_AGENT)."
            ) from exc
        except GeopyError as exc:
            raise GeocodeError(f"{self.online_name} failed: {exc}") from exc
        with self._cache_lock:
            self._cache[key] = result
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return result

    def reverse(
        self, query: Point | str | Sequence[float], *, exactly_one: bool = True, **kwargs: Any
    ) -> Location | list[Location] | None:
        """Nearest gazetteer place (offline only; see `GazetteerGeocoder.reverse`)."""
        return self.offline.reverse(query, exactly_one=exactly_one, **kwargs)


def make_nominatim(
    user_agent: str,
    timeout: float = 3.0,
    *,
    domain: str = "nominatim.openstreetmap.org",
    scheme: str = "https",
) -> Nominatim:
    """A Nominatim geocoder that fails fast: short timeout, no HTTP retries.

    geopy's requests adapter retries twice by default, so a silent server would hold the UI
    for three timeouts; with ``max_retries=0`` a dead network costs one ``timeout`` at most.
    Creating it sends nothing; wrap it in `ChainedGeocoder` for the throttle and the cache.

    Parameters
    ----------
    user_agent
        Identifies the deployment to the Nominatim operators, as their policy requires.
    timeout
        Seconds to wait for an answer.
    domain, scheme
        Another Nominatim server, e.g. a self-hosted one (``"localhost:8080"``, ``"http"``).
    """
    if not isinstance(user_agent, str) or not user_agent.strip():
        raise ConfigError(
            f"user_agent={user_agent!r}: Nominatim requires an identifying User-Agent such as "
            "'strike-atlas/0.1 (contact@example.org)'; set STRIKE_ATLAS_NOMINATIM_USER_AGENT"
        )
    if user_agent.strip().lower().startswith("geopy/"):
        raise ConfigError(
            f"user_agent={user_agent!r}: geopy's default agent is blocked by Nominatim; "
            "use one naming your deployment"
        )
    if not isinstance(timeout, int | float) or not math.isfinite(timeout) or timeout <= 0:
        raise ConfigError(f"timeout={timeout!r}: expected a number of seconds > 0")
    adapter: Callable[..., BaseSyncAdapter]
    if RequestsAdapter.is_available:
        adapter = functools.partial(RequestsAdapter, max_retries=0)
    else:  # pragma: no cover - urllib never retries
        adapter = URLLibAdapter
    return Nominatim(
        user_agent=user_agent.strip(),
        timeout=float(timeout),
        domain=domain,
        scheme=scheme,
        adapter_factory=adapter,
    )


# --------------------------------------------------------------------------------------------
# Presentation
# --------------------------------------------------------------------------------------------

CANDIDATE_COLUMNS: Final = (
    "name",
    "admin1",
    "country",
    "lat",
    "lon",
    "population",
    "score",
    "precision",
    "source",
)


def candidates_table(locations: Location | Iterable[Location] | None) -> pd.DataFrame:
    """Geocoding results as a table for the CLI and the UI, one row per candidate, in order.

    Works for gazetteer and online results alike: fields an online geocoder does not give
    (population, score, precision) are missing, and ``source`` tells which is which, so the
    page can show the right attribution.
    """
    if locations is None:
        items: list[Location] = []
    elif isinstance(locations, Location):
        items = [locations]
    else:
        items = list(locations)
    rows = []
    for loc in items:
        raw = loc.raw if isinstance(loc.raw, dict) else {}
        address = raw.get("address") if isinstance(raw.get("address"), dict) else {}
        rows.append(
            {
                "name": raw.get("name") or (loc.address or "").split(",")[0].strip() or None,
                "admin1": raw.get("admin1") or address.get("state"),
                "country": raw.get("country_code")
                or address.get("country_code", "").upper()
                or None,
                "lat": loc.latitude,
                "lon": loc.longitude,
                "population": raw.get("population"),
                "score": raw.get("score"),
                "precision": raw.get("geo_precision"),
                "source": raw.get("source", "online"),
            }
        )
    frame = pd.DataFrame(rows, columns=list(CANDIDATE_COLUMNS))
    for column in ("name", "admin1", "country", "source"):
        frame[column] = frame[column].astype(_STR)
    for column in ("lat", "lon", "score"):
        frame[column] = frame[column].astype(np.float64)
    for column in ("population", "precision"):
        frame[column] = frame[column].astype("Int64")
    return frame


__all__ = [
    "CANDIDATE_COLUMNS",
    "NOMINATIM_ATTRIBUTION",
    "ChainedGeocoder",
    "GeocoderUnreachable",
    "SupportsGeocode",
    "candidates_table",
    "make_nominatim",
]
