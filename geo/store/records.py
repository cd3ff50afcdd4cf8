"""Curated records: one reviewable YAML file per event in `data/events/`.

YAML keeps each record diff-friendly (one field a line, quotes in their original language)
so a reviewer sees exactly what a curator changed.
"""

from __future__ import annotations

from pathlib import Path

import orjson
import pandas as pd
import yaml

from geo.errors import ImportFormatError, RowError, ValidationError
from geo.places.placement import fill_places
from geo.schema import COLUMNS
from geo.validation import validate_frame

MAX_RECORD_BYTES = 256 * 1024  # one event with long quotes is a few KB


class _NoAliasLoader(yaml.SafeLoader):
    """safe_load without aliases: `*ref` could blow one field up to gigabytes (billion laughs).

    A curated record has no use for them; anchors alone are harmless and allowed.
    """

    def compose_node(self, parent, index):  # type: ignore[no-untyped-def]
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None, None, "aliases (*name) are not allowed in curated records", event.start_mark
            )
        return super().compose_node(parent, index)


def _load_record(path: Path) -> object:
    """One curated YAML file, size-capped and without aliases."""
    size = path.stat().st_size
    if size > MAX_RECORD_BYTES:
        raise ValueError(f"{size:,} bytes; a record may hold at most {MAX_RECORD_BYTES:,}")
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_NoAliasLoader)


def read_curated(folder: str | Path) -> pd.DataFrame:
    """Read and validate every `*.yaml` record in a folder (all or nothing).

    Raises `ValidationError` naming the file and field of each bad value.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ImportFormatError(f"curated records folder {folder} does not exist")
    rows: list[dict] = []
    names: list[str] = []
    errors: list[RowError] = []
    for path in sorted(folder.glob("*.yaml")):
        try:
            record = _load_record(path)
        except yaml.YAMLError as exc:
            why = " ".join(str(exc).split())
            errors.append(RowError(None, "(file)", path.name, f"not valid YAML: {why}", path.name))
            continue
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            errors.append(RowError(None, "(file)", path.name, f"cannot read: {exc}", path.name))
            continue
        if not isinstance(record, dict):
            errors.append(
                RowError(None, "(file)", path.name, "expected a mapping of fields", path.name)
            )
            continue
        unknown = sorted(set(record) - set(COLUMNS))
        for key in unknown:
            errors.append(RowError(None, key, record[key], "unknown field", path.name))
        rows.append(
            {
                k: (str(v) if k in ("event_date",) and v is not None else v)
                for k, v in record.items()
            }
        )
        names.append(path.name)
    frame = pd.DataFrame(rows, columns=list(COLUMNS)) if rows else pd.DataFrame(columns=COLUMNS)
    try:
        # Like every write path: admin1_code from the point, admin1 in its canonical name.
        valid = validate_frame(fill_places(frame), source=str(folder))
    except ValidationError as exc:
        errors.extend(
            RowError(None, e.field, e.value, e.why, names[e.row - 1] if e.row else e.source)
            for e in exc.errors
        )
        valid = None
    if errors:
        raise ValidationError(errors)
    assert valid is not None
    return valid


def record_to_yaml(row: pd.Series) -> str:
    """One event as the YAML text of a curated record (fields in canonical order)."""
    out: dict[str, object] = {}
    for name in COLUMNS:
        value = row[name]
        if pd.isna(value) if not isinstance(value, (list, dict)) else False:
            out[name] = None
        elif name == "event_date":
            out[name] = value.date()
        elif name in ("created_at", "updated_at"):
            out[name] = value.strftime("%Y-%m-%dT%H:%M:%SZ")
        elif name in ("sources", "tags"):
            out[name] = orjson.loads(value)
        elif name in ("latitude", "longitude"):
            out[name] = float(value)
        elif hasattr(value, "item"):
            out[name] = value.item()
        else:
            out[name] = str(value)
    return yaml.safe_dump(out, sort_keys=False, allow_unicode=True, width=100)
