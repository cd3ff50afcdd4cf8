"""Reproducible export bundles: one zip a reader can check against the store years later.

A bundle holds the selection (GeoJSON and ACLED-column CSV), the filter (URL query and JSON),
the fingerprint with every event's hash and the store revision, the software version, the
sources, CITATION.cff and a citation sentence, the licences, the standalone HTML map and a
README saying what each file is. Importing one first checks that its events still match its
fingerprint (a tampered or damaged bundle is refused whole), then loads the events that the
store lacks and reports whether the store's view of the same filter is "identical" to the
bundle or "changed since" (which events were added, removed or edited).
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import orjson
import pandas as pd

import geo
from geo.errors import AtlasError, ImportFormatError
from geo.filters import EventFilter
from geo.io.citation import (
    DEFAULT_BASE_URL,
    Citation,
    citation_cff,
    cite,
    licences,
    md_text,
    source_rows,
    sources_markdown,
)
from geo.io.exporters import atomic_output, write_csv, write_geojson
from geo.io.fingerprint import ALGORITHM, EXCLUDED, Comparison, compare, fingerprint
from geo.io.importers import read_input
from geo.io.intake import plan_import
from geo.io.safezip import read_member
from geo.schema import normalize_dtypes
from geo.store.base import EventStore

MANIFEST = "fingerprint.json"
EVENTS = "events.geojson"


class BundleError(ImportFormatError):
    """A bundle is not a zip, lacks a file, or its events do not match its fingerprint."""


def _readme(citation: Citation, n_sources: int, with_map: bool) -> str:
    files = [
        ("events.geojson", "the events, GeoJSON (RFC 7946): lon/lat WGS84, every field"),
        ("events.csv", "the same events as CSV with ACLED's column names (plus ours)"),
        ("filter.json", "the filter: as JSON fields and as the dashboard's URL query"),
        (MANIFEST, "fingerprint, each event's hash, store revision, software version"),
        ("SOURCES.md", f"the {n_sources} source(s) the events cite"),
        ("CITATION.cff", "Citation File Format metadata (GitHub, Zenodo, reference managers)"),
        ("CITATION.txt", "a ready-to-paste citation sentence"),
        ("LICENSES.md", "the data licences that apply to these events"),
    ]
    if with_map:
        files.append(("map.html", "the standalone map: opens offline in any browser"))
    rows = "\n".join(f"| `{name}` | {what} |" for name, what in files)
    return f"""# Strike Atlas export bundle

{md_text(citation.description)}

- events: {citation.count:,}
- fingerprint: `{citation.fingerprint}` (algorithm {ALGORITHM})
- store revision: {citation.revision}
- exported: {citation.accessed.isoformat()} with Strike Atlas {geo.__version__}
- view it: {citation.url}

| file | what it is |
|---|---|
{rows}

## Check it

`strike-atlas import THIS.zip --dry-run` recomputes the fingerprint from `events.geojson`
(a modified or damaged bundle is refused), and compares the bundle with the store's events
for the same filter: "identical", or "changed since" naming the events added, removed or
edited. Without `--dry-run` it also loads the events the store lacks.

The fingerprint is SHA-256 over the events' canonical JSON (every field but
{" and ".join(EXCLUDED)}, keys sorted, coordinates to 7 decimals), sorted by event_id: it
does not depend on row order, export time or file format.
"""


def _licences_md(rows: list[tuple[str, str]]) -> str:
    body = "\n".join(f"- **{md_text(what)}**: {md_text(licence)}" for what, licence in rows)
    return f"# Licences\n\nThe data in this bundle comes with these terms:\n\n{body}\n"


def bundle_bytes(
    selection: pd.DataFrame,
    flt: EventFilter,
    *,
    revision: int | None,
    base_url: str = DEFAULT_BASE_URL,
    map_html: Callable[[pd.DataFrame], str] | None = None,
    today: date | None = None,
) -> bytes:
    """The bundle zip in memory. `map_html(selection)` renders the standalone map (None: no
    map, e.g. when the map assets were never fetched)."""
    fp = fingerprint(selection)
    citation = cite(
        selection, flt, base_url=base_url, today=today, revision=revision, digest=fp.digest
    )
    geojson, csv = io.BytesIO(), io.BytesIO()
    write_geojson(selection, geojson)
    write_csv(selection, csv)
    query = flt.to_query()
    manifest = {
        "fingerprint": fp.digest,
        "algorithm": ALGORITHM,
        "count": fp.count,
        "store_revision": revision,
        "software": f"strike-atlas {geo.__version__}",
        "exported_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "filter": query,
        "events": fp.event_hashes,
    }
    filter_doc = {
        "description": flt.describe(),
        "query": query,
        "url_query": citation.url.partition("?")[2],
        "permalink": citation.url,
    }
    members: list[tuple[str, bytes]] = [
        (
            "README.md",
            _readme(citation, len(source_rows(selection)), map_html is not None).encode(),
        ),
        (EVENTS, geojson.getvalue()),
        ("events.csv", csv.getvalue()),
        ("filter.json", orjson.dumps(filter_doc, option=orjson.OPT_INDENT_2)),
        (MANIFEST, orjson.dumps(manifest, option=orjson.OPT_INDENT_2)),
        ("SOURCES.md", sources_markdown(selection).encode()),
        ("CITATION.cff", citation_cff(citation).encode()),
        ("CITATION.txt", (citation.sentence() + "\n").encode()),
        ("LICENSES.md", _licences_md(licences(selection, with_map=map_html is not None)).encode()),
    ]
    if map_html is not None:
        members.append(("map.html", map_html(selection).encode("utf-8")))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            zf.writestr(
                zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data, zipfile.ZIP_DEFLATED
            )
    return buf.getvalue()


def write_bundle(path: str | Path, data: bytes) -> None:
    """Write a bundle atomically (never a half-written zip where the old one was)."""
    with atomic_output(path) as fh:
        fh.write(data)


# -- reading -----------------------------------------------------------------------------------


@dataclass
class Bundle:
    """A bundle whose events were checked against its own fingerprint."""

    name: str
    events: pd.DataFrame
    manifest: dict
    filter: EventFilter
    row_numbers: np.ndarray  # each event's feature number in events.geojson

    @property
    def fingerprint(self) -> str:
        return str(self.manifest["fingerprint"])


def _member(zf: zipfile.ZipFile, name: str, label: str) -> bytes:
    try:
        info = zf.getinfo(name)
    except KeyError:
        raise BundleError(f"{label}: not a Strike Atlas bundle: it has no {name}") from None
    try:
        return read_member(zf, info, label)
    except ImportFormatError as exc:
        raise BundleError(str(exc)) from exc


def read_bundle(path: str | Path) -> Bundle:
    """Open a bundle and check its events against its fingerprint; raises if they differ."""
    path = Path(path)
    label = path.name
    if not path.exists():
        raise BundleError(f"{path}: no such file")
    try:
        with zipfile.ZipFile(path) as zf:
            manifest_bytes = _member(zf, MANIFEST, label)
            events_bytes = _member(zf, EVENTS, label)
    except zipfile.BadZipFile as exc:
        raise BundleError(f"{label}: not a readable zip file ({exc})") from exc
    try:
        manifest = orjson.loads(manifest_bytes)
    except orjson.JSONDecodeError as exc:
        raise BundleError(f"{label}: {MANIFEST} is not valid JSON: {exc}") from exc
    if not isinstance(manifest, dict) or not isinstance(manifest.get("events"), dict):
        raise BundleError(f"{label}: {MANIFEST} lacks the fingerprint and event hashes")
    if manifest.get("algorithm") != ALGORITHM:
        raise BundleError(
            f"{label}: fingerprint algorithm {manifest.get('algorithm')!r} is not {ALGORITHM!r}"
            f" (made by a newer Strike Atlas?)"
        )
    with tempfile.TemporaryDirectory(prefix="sa-bundle-") as tmp:
        events_path = Path(tmp) / EVENTS
        events_path.write_bytes(events_bytes)
        try:
            read = read_input(events_path, "geojson")
        except AtlasError as exc:
            raise BundleError(f"{label}: {exc}") from exc
    frame = read.frame
    fp = fingerprint(frame)
    if fp.digest != manifest.get("fingerprint") or fp.event_hashes != manifest["events"]:
        diff = compare(manifest["events"], fp.event_hashes)
        what = diff.describe() if not diff.identical else "the fingerprint line itself differs"
        raise BundleError(
            f"{label}: the events do not match the bundle's fingerprint "
            f"{manifest.get('fingerprint')} ({what.removeprefix('changed since: ')}): the "
            "bundle was modified or damaged after export; nothing written"
        )
    try:
        flt = EventFilter.from_query(manifest.get("filter") or {})
    except AtlasError as exc:
        raise BundleError(f"{label}: {MANIFEST} has an unusable filter: {exc}") from exc
    return Bundle(label, frame, manifest, flt, read.row_numbers)


@dataclass
class BundleReport:
    """What importing a bundle found and did."""

    name: str
    fingerprint: str
    count: int
    revision: object
    comparison: Comparison
    written: int = 0
    dry_run: bool = False
    not_restored: list[str] = field(default_factory=list)  # deleted in this store
    unchanged: int = 0  # identical to the stored event: skipped
    replaced: int = 0  # edited in this store, overwritten (with replace)

    def summary(self) -> str:
        head = (
            f"{self.name}: {self.count:,} event(s), fingerprint {self.fingerprint} "
            f"(store revision {self.revision} at export): bundle intact"
        )
        verb = "would load" if self.dry_run else "loaded"
        loaded = f"{verb} {self.written - self.replaced:,} event(s) this store lacked"
        if self.replaced:
            loaded += f", replaced {self.replaced:,} edited in this store"
        if self.unchanged:
            loaded += f"; {self.unchanged:,} unchanged (already identical here)"
        lines = [head, loaded]
        if self.not_restored:
            lines.append(
                "not restored (deleted in this store; restore them on the Edit page): "
                + ", ".join(self.not_restored[:20])
            )
        lines.append(f"this store, same filter: {self.comparison.describe()}")
        return "\n".join(lines)


def import_bundle(
    store: EventStore,
    path: str | Path,
    *,
    prepare: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
    replace: bool = False,
    dry_run: bool = False,
    editor: str = "import",
) -> BundleReport:
    """Check a bundle, load the events the store lacks (and, with `replace`, those edited
    here) through the import plan, and compare.

    The comparison is between the bundle and the store's events for the bundle's filter as
    they are after the import: "identical" means a reader now sees exactly what was
    published. Events the store holds in another version are kept (named "edited") unless
    `replace`; events deleted in the store are never silently restored.
    """
    bundle = read_bundle(path)
    ids = bundle.events["event_id"].astype(str)
    stored = store.load()
    live = set(stored["event_id"].astype(str))
    deleted = sorted(store.existing_ids(ids.tolist()) - live)
    keep = ~ids.isin(set(deleted)).to_numpy()
    # The plan every import makes: new events, unchanged ones (identical to the stored event,
    # skipped) and changed ones (edited in this store: written only with `replace`).
    plan = plan_import(
        store,
        bundle.events[keep].reset_index(drop=True),
        replace=True,
        row_numbers=bundle.row_numbers[keep],
        source=bundle.name,
    )
    to_write = plan.write
    if not replace:
        to_write = to_write[~to_write["event_id"].astype(str).isin(set(plan.changed))]
    # Compare first (the filter may refuse this store, e.g. ground without control layers),
    # so a refusal leaves the store untouched; then write in one transaction.
    after = pd.concat(
        [stored[~stored["event_id"].astype(str).isin(set(to_write["event_id"]))], to_write],
        ignore_index=True,
    )
    after = normalize_dtypes(after)
    if prepare is not None:
        after = prepare(after)
    view = bundle.filter.apply(after)
    comparison = compare(bundle.manifest["events"], fingerprint(view).event_hashes)
    written = 0
    if not dry_run and len(to_write):
        written = store.write(
            to_write, replace=replace, editor=editor, reason=f"import of bundle {bundle.name}"
        )
    return BundleReport(
        bundle.name,
        bundle.fingerprint,
        len(bundle.events),
        bundle.manifest.get("store_revision"),
        comparison,
        written=written if not dry_run else len(to_write),
        dry_run=dry_run,
        not_restored=deleted,
        unchanged=len(plan.unchanged),
        replaced=len(plan.changed) if replace else 0,
    )
