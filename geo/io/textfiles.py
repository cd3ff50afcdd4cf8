"""Text files as tables: bytes read with one-line errors, text decoded (UTF-8, a named
encoding, or detected Windows-1251), a CSV as text cells.

Shared by every text format (our CSV, ACLED, UCDP GED, KML) so each says the same thing about
a missing file, a wrong encoding or a broken CSV.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pandas as pd

from geo.errors import ImportFormatError


def read_bytes(path: Path) -> bytes:
    """The file's bytes, or a one-line error naming it (missing, a folder, unreadable)."""
    try:
        return path.read_bytes()
    except IsADirectoryError:
        raise ImportFormatError(f"{path}: is a folder, not a file") from None
    except FileNotFoundError:
        raise ImportFormatError(f"{path}: no such file") from None
    except OSError as exc:
        raise ImportFormatError(f"{path}: cannot read: {exc.strerror or exc}") from None


def _looks_cyrillic(text: str) -> bool:
    """Most non-ASCII characters form Cyrillic words: a Windows-1251 file read right.

    A Latin-1 "café" read as Windows-1251 gives "cafй": a lone Cyrillic letter inside a Latin
    word, which does not count.
    """
    high = sum(1 for ch in text if ord(ch) > 127)
    if not high:
        return False
    words = sum(len(m) for m in re.findall(r"[\u0400-\u04ff]{2,}", text))
    return words / high >= 0.8


def decode_text(data: bytes, name: str, encoding: str | None = None) -> tuple[str, list[str]]:
    """The file's text: UTF-8 (BOM allowed), a named encoding, or detected Windows-1251."""
    if encoding:
        try:
            return data.decode(encoding), []
        except LookupError:
            raise ImportFormatError(f"{name}: unknown encoding {encoding!r}") from None
        except UnicodeDecodeError as exc:
            raise ImportFormatError(
                f"{name}: not valid {encoding} (byte 0x{data[exc.start]:02x} at offset "
                f"{exc.start}); choose another --encoding"
            ) from None
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError as exc:
        bad = exc.start
    try:
        text = data.decode("cp1251")
    except UnicodeDecodeError:
        text = ""
    if text and _looks_cyrillic(text):
        return text, [
            f"{name}: not UTF-8; read as Windows-1251 (Cyrillic). If the text looks wrong, "
            "give the encoding (--encoding, or the Import page's Encoding)"
        ]
    line = data[:bad].count(b"\n") + 1
    raise ImportFormatError(
        f"{name}: not UTF-8 (byte 0x{data[bad]:02x} on line {line}); save it as UTF-8 or give "
        "its encoding, e.g. --encoding cp1252 (Import page: Encoding)"
    )


def read_csv_table(
    path: str | Path, *, encoding: str | None = None, notes: list[str] | None = None
) -> pd.DataFrame:
    """The CSV as text cells (no type guessing), header names stripped."""
    path = Path(path)
    name = path.name
    data = read_bytes(path)
    if not data.strip():
        raise ImportFormatError(f"{name}: the file is empty; expected a header row and data rows")
    text, found = decode_text(data, name, encoding)
    if notes is not None:
        notes.extend(found)
    try:
        raw = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_values=[""])
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ImportFormatError(f"{name}: not a readable CSV file: {first}") from None
    if not isinstance(raw.index, pd.RangeIndex):  # pandas took the extra cells as an index
        raise ImportFormatError(f"{name}: {_extra_cells(text)}")
    raw.columns = [str(c).strip() for c in raw.columns]
    dupes = sorted({c for c in raw.columns if list(raw.columns).count(c) > 1})
    if dupes:
        raise ImportFormatError(f"{name}: the header repeats column(s) {', '.join(dupes)}")
    return raw


def _extra_cells(text: str) -> str:
    """Which data row has more cells than the header (only called when one does)."""
    rows = csv.reader(io.StringIO(text))
    width = len(next(rows))
    for number, row in enumerate(rows, start=1):
        if len(row) > width:
            return (
                f"row {number} has {len(row)} cells but the header names {width} columns; "
                "quote cells that contain commas, or add the missing column names"
            )
    return f"rows have more cells than the header's {width} columns"
