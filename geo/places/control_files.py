"""Reading dated control layers: a folder of GeoJSON files into one `ControlTimeline`.

Every feature is validated once, here: geometry made valid, reprojected to EPSG:4326, its
category mapped to `CATEGORIES` and its date taken from a property or the file name. The file
format is in docs/control-layers.md; the credit comes from ``ATTRIBUTION.txt`` or the features.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path
from typing import Final, TypeAlias

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from numpy.typing import NDArray

from geo.places.control import (
    CATEGORIES,
    FRAME_COLUMNS,
    ControlLayerError,
    ControlTimeline,
    as_day,
    canonical_category,
)

PathLike: TypeAlias = str | os.PathLike[str]

DATE_PROPERTIES: Final = ("date", "snapshot_date", "valid_from")
CATEGORY_PROPERTIES: Final = ("category", "status")
ATTRIBUTION_FILE: Final = "ATTRIBUTION.txt"

_NAME_DATE = re.compile(r"(?:^|_)(\d{4})(-?)(\d{2})\2(\d{2})$")


def date_from_name(path: PathLike) -> date | None:
    """Snapshot date in a file name ending ``_YYYYMMDD`` or ``_YYYY-MM-DD``, else None."""
    match = _NAME_DATE.search(Path(path).stem)
    if match is None:
        return None
    try:
        return date(int(match[1]), int(match[3]), int(match[4]))
    except ValueError:
        return None


def _is_missing(value: object) -> bool:
    if value is None or value is pd.NaT:
        return True
    if isinstance(value, str):
        return not value.strip()
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------


def _resolve_paths(folder_or_files: PathLike | Iterable[PathLike]) -> list[Path]:
    """GeoJSON files of a folder (not recursive, by name) or the files given, checked."""
    if isinstance(folder_or_files, str | os.PathLike):
        root = Path(folder_or_files).expanduser()
        if root.is_dir():
            paths = sorted(
                p
                for p in root.iterdir()
                if p.is_file() and p.suffix.lower() == ".geojson" and not p.name.startswith(".")
            )
            if not paths:
                raise ControlLayerError(
                    f"{root}: no *.geojson files; put one file per snapshot there, named like "
                    "control_2025-07-01.geojson (see docs/control-layers.md)"
                )
            return paths
        candidates = [root]
    else:
        candidates = [Path(p).expanduser() for p in folder_or_files]
    if not candidates:
        raise ControlLayerError("no control layer files given; pass a folder or GeoJSON files")
    for path in candidates:
        if not path.is_file():
            raise ControlLayerError(
                f"{path}: no such file or folder; check STRIKE_ATLAS_CONTROL_DIR or the path given"
            )
    return candidates


def _read_attribution(paths: Sequence[Path]) -> list[str]:
    texts = []
    for folder in dict.fromkeys(p.parent for p in paths):
        note = folder / ATTRIBUTION_FILE
        if note.is_file():
            texts.append(" ".join(note.read_text(encoding="utf-8").split()))
    return [t for t in texts if t]


def _first_present(frame: pd.DataFrame, columns: Sequence[str]) -> NDArray[np.object_]:
    """Per row, the value of the first of `columns` that is filled (None where none is)."""
    out = np.full(len(frame), None, dtype=object)
    empty = np.ones(len(frame), dtype=bool)
    for col in columns:
        if col in frame.columns:
            values = frame[col].to_numpy(dtype=object)
            fill = empty & ~np.fromiter(map(_is_missing, values), bool, len(values))
            out[fill] = values[fill]
            empty &= ~fill
    return out


def _polygonal(geoms: NDArray[np.object_], path: Path) -> NDArray[np.object_]:
    """Valid (multi)polygons; other geometry types are refused, null ones come back None."""
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    kind = shapely.get_type_id(geoms)
    wrong = ~missing & ~np.isin(kind, (3, 6))
    if wrong.any():
        i = int(np.flatnonzero(wrong)[0])
        raise ControlLayerError(
            f"{path}: feature {i} is a {geoms[i].geom_type}, "
            f"not a (Multi)Polygon ({int(wrong.sum())} such feature(s)); control layers hold "
            "areas only, so remove points and lines (e.g. unit positions) from the file"
        )
    out = np.array(geoms, dtype=object)
    out[missing] = None
    fixed = shapely.make_valid(out)
    # make_valid may turn a bow-tie into polygons plus a stray line: keep the area only.
    mixed = np.flatnonzero(shapely.get_type_id(fixed) == 7)
    for i in mixed:
        parts = shapely.get_parts(fixed[i])
        fixed[i] = shapely.union_all(parts[np.isin(shapely.get_type_id(parts), (3, 6))])
    return fixed


def _read_file(
    path: Path, default_category: str | None
) -> tuple[gpd.GeoDataFrame, date | None, list[str]]:
    """One file as rows of (date, category, source_category, source, geometry), in lon/lat.

    Also returns the date in the file name and any ``attribution`` property values.
    """
    try:
        frame = pyogrio.read_dataframe(path)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise ControlLayerError(f"{path}: cannot be read as GeoJSON ({exc})") from exc
    name_day = date_from_name(path)
    if frame.crs is not None and frame.crs.to_epsg() != 4326:
        frame = frame.to_crs(4326)
    geoms = _polygonal(frame.geometry.to_numpy(), path)
    keep = ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)
    if keep.any():
        xmin, ymin, xmax, ymax = shapely.total_bounds(geoms[keep])
        if min(xmin, ymin) < -180 or xmax > 180 or ymax > 90 or ymin < -90:
            raise ControlLayerError(
                f"{path}: coordinates reach ({xmin:.0f}, {ymin:.0f})–({xmax:.0f}, {ymax:.0f}), "
                "which is not lon/lat; declare the file's CRS or export it as EPSG:4326"
            )

    categories = _first_present(frame, CATEGORY_PROPERTIES)
    source_category = ["" if _is_missing(v) else str(v).strip() for v in categories]
    canon = [canonical_category(v) if v else default_category for v in source_category]
    bad = [i for i, c in enumerate(canon) if c is None and keep[i]]
    if bad:
        i, value = bad[0], source_category[bad[0]]
        more = f" ({len(bad) - 1} more like it)" if len(bad) > 1 else ""
        if value:
            raise ControlLayerError(
                f"{path}: feature {i}: category={value!r} is not a control category{more}; "
                f"use one of {', '.join(CATEGORIES)} or an alias such as occupied_since_2022, "
                "grey_zone (table in docs/control-layers.md)"
            )
        raise ControlLayerError(
            f"{path}: feature {i} has no 'category' (or 'status') property{more}; add one "
            f"({', '.join(CATEGORIES)}), or load with default_category='occupied' if every "
            "uncategorised polygon is Russian-held ground (e.g. cyterat/deepstate-map-data files)"
        )

    raw_days = _first_present(frame, DATE_PROPERTIES)
    days = np.empty(len(frame), dtype="datetime64[D]")
    for i, value in enumerate(raw_days):
        if not keep[i]:
            continue
        if _is_missing(value):
            if name_day is None:
                raise ControlLayerError(
                    f"{path}: feature {i} has no date; add a 'date' (or snapshot_date, "
                    "valid_from) property, or name the file like control_YYYYMMDD.geojson"
                )
            days[i] = np.datetime64(name_day, "D")
        else:
            days[i] = as_day(value, f"{path}: feature {i}: date")
    if not keep.any() and name_day is None:
        raise ControlLayerError(
            f"{path}: no polygons and no date in the file name, so it says nothing; remove it "
            "or name it like control_YYYYMMDD.geojson (an empty dated file = nothing held)"
        )
    rows = gpd.GeoDataFrame(
        {
            "date": days[keep].astype("datetime64[s]"),
            "category": np.array(canon, dtype=object)[keep],
            "source_category": np.array(source_category, dtype=object)[keep],
            "source": path.name,
        },
        geometry=geoms[keep],
        crs="EPSG:4326",
    )
    credits = []
    if "attribution" in frame.columns:
        credits = [str(v).strip() for v in frame["attribution"].dropna().unique()]
    return rows, name_day, credits


def _dissolve(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One row per (date, category, source_category), so each original category is one shape.

    Keeping ``source_category`` apart lets the map tell pre-2022 occupation from later gains;
    status treats both rows as the one canonical category.
    """
    if frame.empty:
        return frame
    records = []
    keys = ["date", "category", "source_category"]
    for (day, category, source_category), group in frame.groupby(keys, sort=False):
        geoms = group.geometry.to_numpy()
        geom = geoms[0] if len(geoms) == 1 else shapely.union_all(geoms)
        source = ", ".join(sorted(set(group["source"])))
        records.append((day, category, source_category, source, geom))
    columns = list(FRAME_COLUMNS)
    return gpd.GeoDataFrame(pd.DataFrame(records, columns=columns), crs="EPSG:4326")


def load_control_layers(
    folder_or_files: PathLike | Iterable[PathLike],
    *,
    default_category: str | None = None,
    attribution: str | None = None,
) -> ControlTimeline:
    """Read dated control polygons from a folder of GeoJSON files (or a list of files).

    Validated here, once: geometry made valid, reprojected to EPSG:4326, categories mapped to
    `CATEGORIES`, every feature dated. Everything downstream trusts the timeline.

    Parameters
    ----------
    folder_or_files
        A folder (its ``*.geojson`` files, not recursive; other files such as a
        ``manifest.json`` are ignored) or an iterable of files pyogrio can read.
    default_category
        Category for features with no ``category``/``status`` property, e.g. ``"occupied"``
        for files that hold one bare "occupied territory" polygon. None: such features are
        an error, so an unlabelled layer is never silently taken for occupied ground.
    attribution
        Credit shown with the layer (e.g. ``"© DeepStateMap.live"``). None: the text of
        ``ATTRIBUTION.txt`` next to the files plus any ``attribution`` feature property.

    Raises
    ------
    ControlLayerError
        Naming the file, the 0-based feature index and the bad value.
    """
    if default_category is not None:
        canon = canonical_category(default_category)
        if canon is None:
            raise ControlLayerError(
                f"default_category={default_category!r} is not a control category; "
                f"use one of {', '.join(CATEGORIES)}"
            )
        default_category = canon
    paths = _resolve_paths(folder_or_files)
    parts, named_days, credits = [], [], _read_attribution(paths)
    for path in paths:
        rows, name_day, file_credits = _read_file(path, default_category)
        parts.append(rows)
        credits += file_credits
        if name_day is not None:
            named_days.append(np.datetime64(name_day, "D"))
    frame = _dissolve(pd.concat(parts, ignore_index=True))
    if attribution is None:
        attribution = "; ".join(dict.fromkeys(c for c in credits if c))
    return ControlTimeline(
        frame,
        extra_dates=named_days,
        attribution=attribution,
        sources=tuple(paths),
    )


__all__ = [
    "ATTRIBUTION_FILE",
    "CATEGORY_PROPERTIES",
    "DATE_PROPERTIES",
    "PathLike",
    "date_from_name",
    "load_control_layers",
]
