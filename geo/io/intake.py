"""What an import would do, decided before anything is written: the import plan.

Real files repeat themselves and overlap what the store holds. The rules, the same in the CLI
and on the Import page:

* a row identical to an earlier row of the same input is imported once and reported;
* a record identical (on its content, write timestamps aside) to the stored event with the
  same id is skipped and reported as unchanged, so re-importing a file, or a store's own
  export into a fresh seeded store, is a no-op for those records;
* a record that differs from the stored one with the same id is refused unless `replace`.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import orjson
import pandas as pd

from geo.errors import RowError, ValidationError
from geo.places.placement import placement_warnings
from geo.places.regions import load_admin1, normalize_admin1, place_points
from geo.schema import COLUMNS
from geo.store.base import EventStore, NotFoundError

# Fields compared to decide "identical": all but the write timestamps.
CONTENT_COLUMNS: tuple[str, ...] = tuple(
    c for c in COLUMNS if c not in ("created_at", "updated_at")
)
_FETCH_ONE_BY_ONE = 500  # above this many clashing ids, one full load is cheaper than gets


def _cell_text(raw: pd.DataFrame) -> pd.DataFrame:
    """Every cell as text; lists and dicts (GeoJSON properties) as canonical JSON."""
    parts = pd.DataFrame(index=raw.index)
    for name in raw.columns:
        col = raw[name]
        if col.dtype == object:
            col = col.map(
                lambda v: (
                    orjson.dumps(v, option=orjson.OPT_SORT_KEYS, default=str).decode()
                    if isinstance(v, (list, dict))
                    else v
                )
            )
        parts[str(name)] = col.astype("string").fillna("\x00")
    return parts


def stable_id(columns: list[str], values: tuple) -> str:
    """An id from a row's content: the same row gives the same id in every run.

    The cells are encoded unambiguously (JSON, with column names) and hashed with SHA-256;
    64 bits make a collision between distinct rows of even a billion-row store negligible.
    """
    cells = sorted(
        (str(c), None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v))
        for c, v in zip(columns, values, strict=True)
    )
    return f"imp-{hashlib.sha256(orjson.dumps(cells)).hexdigest()[:16]}"


@dataclass(frozen=True)
class Repeat:
    """A row of the input identical to an earlier one (imported once)."""

    row: int
    first_row: int


def repeated_rows(raw: pd.DataFrame, row_numbers: np.ndarray) -> tuple[np.ndarray, list[Repeat]]:
    """Positions of the first occurrence of each distinct row, and the repeats.

    Rows are compared cell by cell on their exact text (no hashing shortcuts), so two rows
    are merged only when they are truly identical.
    """
    if raw.empty or not len(raw.columns):
        return np.arange(len(raw)), []
    cells = _cell_text(raw)
    group = cells.groupby(list(cells.columns), sort=False, dropna=False).ngroup().to_numpy()
    first_of_group = pd.Series(np.arange(len(group))).groupby(group).transform("min").to_numpy()
    is_repeat = first_of_group != np.arange(len(group))
    repeats = [
        Repeat(int(row_numbers[i]), int(row_numbers[first_of_group[i]]))
        for i in np.flatnonzero(is_repeat)
    ]
    return np.flatnonzero(~is_repeat), repeats


def describe_repeats(repeats: list[Repeat], limit: int = 10) -> str:
    """ "rows 2187, 4542 repeat rows 12, 40; imported once" (at most `limit` listed)."""
    if not repeats:
        return ""
    shown = repeats[:limit]
    more = f" and {len(repeats) - limit} more" if len(repeats) > limit else ""
    s = "s" if len(repeats) > 1 else ""
    return (
        f"row{s} {', '.join(str(r.row) for r in shown)}{more} repeat{'' if s else 's'} "
        f"row{s} {', '.join(str(r.first_row) for r in shown)}{more and ' …'}; imported once"
    )


def _text(col: pd.Series, name: str) -> pd.Series:
    """The canonical text of one content column (dates as days, floats to ~1 cm)."""
    if name == "event_date":
        return pd.to_datetime(col).dt.strftime("%Y-%m-%d").fillna("")
    if name in ("latitude", "longitude"):
        return pd.to_numeric(col).round(7).map(lambda v: "" if pd.isna(v) else repr(float(v)))
    if name in ("sources", "tags"):
        memo: dict[object, str] = {}

        def canon(v: object) -> str:
            if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
                return "[]"
            if v not in memo:
                parsed = orjson.loads(v) if isinstance(v, str) else v
                memo[v] = orjson.dumps(parsed, option=orjson.OPT_SORT_KEYS).decode()
            return memo[v]

        return col.astype(object).map(canon)
    return col.astype(object).map(lambda v: "" if v is None or pd.isna(v) else str(v))


def content_keys(frame: pd.DataFrame) -> pd.Series:
    """Canonical content of each event (write timestamps ignored), for "identical" checks."""
    names = [c for c in CONTENT_COLUMNS if c in frame.columns]
    out = pd.Series([""] * len(frame), index=frame.index, dtype=object)
    for name in names:
        out = out + name + "=" + _text(frame[name], name) + "\x1f"
    return out


def stored_events(store: EventStore, ids: list[str]) -> pd.DataFrame:
    """The live stored events with these ids (deleted ones are left out)."""
    if not ids:
        return pd.DataFrame(columns=list(COLUMNS))
    if len(ids) > _FETCH_ONE_BY_ONE:
        frame = store.load()
        return frame[frame["event_id"].astype(str).isin(set(ids))]
    rows = []
    for eid in ids:
        try:
            rows.append(store.get(eid)[0])
        except NotFoundError:
            continue  # deleted: treated as a clash by the caller
    return pd.DataFrame(rows) if rows else pd.DataFrame(columns=list(COLUMNS))


@dataclass
class ImportPlan:
    """What an import would write, skip and refuse (nothing has been written)."""

    frame: pd.DataFrame  # every distinct valid event of the input
    write: pd.DataFrame  # those to write (new ones, and changed ones with replace)
    unchanged: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)  # written only with replace
    repeats: list[Repeat] = field(default_factory=list)


def plan_import(
    store: EventStore,
    frame: pd.DataFrame,
    *,
    replace: bool,
    row_numbers: np.ndarray,
    source: str,
    repeats: list[Repeat] | None = None,
) -> ImportPlan:
    """Split a validated frame into new, unchanged and changed events.

    Raises `ValidationError` naming each row whose id is stored with different content
    (or deleted) when `replace` is off.
    """
    ids = frame["event_id"].astype(str)
    clash = store.existing_ids(ids.tolist())
    plan = ImportPlan(frame=frame, write=frame, repeats=list(repeats or []))
    if not clash:
        return plan
    stored = stored_events(store, sorted(clash))
    stored_key = dict(
        zip(
            stored["event_id"].astype(str), content_keys(stored.reset_index(drop=True)), strict=True
        )
    )
    mine = content_keys(frame)
    unchanged = np.zeros(len(frame), dtype=bool)
    problems: list[RowError] = []
    for pos in np.flatnonzero(ids.isin(clash).to_numpy()):
        eid = ids.iat[pos]
        if stored_key.get(eid) == mine.iat[pos]:
            unchanged[pos] = True
            plan.unchanged.append(eid)
            continue
        plan.changed.append(eid)
        why = (
            "differs from the stored event with this id; re-import with --replace to update it"
            if eid in stored_key
            else "is a deleted event in the store; restore it, or re-import with --replace"
        )
        problems.append(RowError(int(row_numbers[pos]), "event_id", eid, why, source))
    if problems and not replace:
        raise ValidationError(problems)
    plan.write = frame[~unchanged]
    return plan


def point_warnings(frame: pd.DataFrame, *, source: str, row_numbers: np.ndarray) -> list[str]:
    """Points that lie nowhere they should, with "lat/lon swapped?" when swapping them lands
    inside the typed region (or country).

    A point is flagged when it lies outside every known admin-1 region although the record
    names one of them or a country we hold regions for (UA, RU, BY, MD: at sea, off the map),
    or in another country than the typed one. A point in a country we hold no regions for (a
    diplomatic event in Istanbul or Washington) is not.
    """
    if frame.empty:
        return []
    lon = frame["longitude"].to_numpy(dtype=float)
    lat = frame["latitude"].to_numpy(dtype=float)
    here = place_points(lon, lat)
    typed_admin1 = frame["admin1"].astype("string")
    iso_of = {n: normalize_admin1(n) for n in pd.unique(typed_admin1.dropna())}
    typed_iso = typed_admin1.map(iso_of).astype("string")
    typed_country = frame["country"].astype("string")
    d_country = here["country"].astype("string")
    outside = here["admin1_iso"].isna()
    nowhere = d_country.isna()
    wrong_country = typed_country.notna() & d_country.notna() & (typed_country != d_country)
    ours = typed_country.isin(set(load_admin1()["iso_a2"].dropna()))  # countries we map
    flagged = (outside & ((nowhere & ours) | typed_iso.notna() | wrong_country)).fillna(False)
    positions = np.flatnonzero(flagged.to_numpy(dtype=bool))
    if not positions.size:
        return []
    # Swapped, a longitude beyond ±90 is no latitude: such points stay unplaced (NaN).
    s_lat = np.where(np.abs(lon[positions]) <= 90, lon[positions], np.nan)
    swapped = place_points(lat[positions], s_lat)
    out = []
    for k, pos in enumerate(positions):
        where = f"{source} row {int(row_numbers[pos])}"
        what = "boundary" if nowhere.iat[pos] else "region"
        text = (
            f"{where}: the point (lat {lat[pos]:g}, lon {lon[pos]:g}) lies outside every known "
            f"{what}"
        )
        if not nowhere.iat[pos]:
            text += f" (in {d_country.iat[pos]})"
        s_iso, s_country = swapped["admin1_iso"].iat[k], swapped["country"].iat[k]
        want_iso, want_country = typed_iso.iat[pos], typed_country.iat[pos]
        s_iso = s_iso if pd.notna(s_iso) else None
        if pd.notna(s_iso) and pd.notna(want_iso) and s_iso == want_iso:
            text += (
                f"; lat/lon swapped? (lat {lon[pos]:g}, lon {lat[pos]:g}) lies in "
                f"{typed_admin1.iat[pos]}"
            )
        elif pd.notna(s_iso) and pd.notna(want_country) and s_country == want_country:
            text += (
                f"; lat/lon swapped? (lat {lon[pos]:g}, lon {lat[pos]:g}) lies in "
                f"{swapped['admin1'].iat[k]} ({want_country})"
            )
        out.append(text)
    return out


def placement_messages(
    frame: pd.DataFrame, *, source: str, row_numbers: np.ndarray, limit: int = 200
) -> list[str]:
    """Typed country or oblast that does not contain the point, with the file's row numbers."""
    out = []
    for w in placement_warnings(frame, limit=limit):
        out.append(
            f"{source} row {int(row_numbers[w.row - 1])} ({w.event_id}): {w.field} is "
            f"{w.typed!r} but the point lies in {w.derived!r}; check the coordinates or the "
            f"{w.field}"
        )
    return out


def plan_lines(plan: ImportPlan) -> list[str]:
    """The plan in words, for the Import page's preview (the CLI prints the report's summary)."""
    n = len(plan.write)
    lines = [f"{n:,} event{'s' if n != 1 else ''} to import"]
    if plan.changed:
        lines.append(f"{len(plan.changed):,} replacing stored events with the same id")
    if plan.unchanged:
        lines.append(f"{len(plan.unchanged):,} identical to stored events: unchanged, skipped")
    if plan.repeats:
        lines.append(describe_repeats(plan.repeats))
    return lines


@contextmanager
def staged_upload(name: str, data: bytes) -> Iterator[Path]:
    """An uploaded file under its own name (messages name it, the format comes from it) in a
    private temporary folder that is removed when the block ends, whatever happens."""
    with tempfile.TemporaryDirectory(prefix="strike-atlas-import-") as tmp:
        path = Path(tmp) / (Path(name).name or "upload")
        path.write_bytes(data)
        yield path
