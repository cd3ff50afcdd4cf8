"""`strike-atlas`: the command line over the same store, filter and exporters as the dashboard."""

from __future__ import annotations

import argparse
import dataclasses
import getpass
import logging
import os
import sys
import warnings
from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from geo import __version__
from geo.curation.auth import hash_password
from geo.errors import AtlasError, ConfigError, ImportFormatError, ValidationError
from geo.filters import EventFilter
from geo.io.exporters import FORMATS, STREAM_FORMATS, ExportError, export, export_stream
from geo.io.importers import (
    detect_format,
    import_events,
    read_table,
    suggest_for,
)
from geo.io.mapping import parse_mapping
from geo.places.label_names import LABEL_LANGUAGES
from geo.schema import normalize_dtypes
from geo.settings import Settings, settings_help
from geo.store import open_store
from geo.views.basemap import DEFAULT_LANG
from geo.views.catalog import prepare_events


def _add_filter_flags(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("filters (the same as the dashboard's)")
    g.add_argument("--from", dest="date_from", metavar="YYYY-MM-DD", help="on or after this date")
    g.add_argument("--to", dest="date_to", metavar="YYYY-MM-DD", help="on or before this date")
    g.add_argument("--actor", action="append", help="side that acted (whole word, repeatable)")
    g.add_argument("--type", dest="event_type", action="append", help="ACLED event type")
    g.add_argument("--region", action="append", help="admin-1 region name (repeatable)")
    g.add_argument("--country", action="append", help="ISO 3166-1 code such as UA")
    g.add_argument("--bbox", metavar="W,S,E,N", help="bounding box in degrees")
    g.add_argument("--text", help="free text in notes, place, actors, target")
    g.add_argument("--verification", action="append", help="reported/corroborated/…")
    g.add_argument(
        "--ground",
        action="append",
        help="who held the ground that day: occupied, contested, 'held by Ukraine', … "
        "(needs STRIKE_ATLAS_CONTROL_DIR)",
    )


def filter_from_args(args: argparse.Namespace) -> EventFilter:
    """EventFilter from the shared filter flags."""
    return EventFilter.build(
        date_from=args.date_from,
        date_to=args.date_to,
        actors=args.actor,
        event_types=args.event_type,
        regions=args.region,
        countries=args.country,
        bbox=args.bbox,
        text=args.text,
        verification=args.verification,
        ground=args.ground,
    )


def _query(settings: Settings, flt: EventFilter) -> pd.DataFrame:
    """Matching events, with the derived columns (ground status) the filter may use.

    From PostGIS only the matching rows are read, in chunks (a filter on a 10M-event store
    never loads the table); the embedded store filters its loaded frame."""
    with open_store(settings) as store:
        if hasattr(store, "iter_query"):
            return normalize_dtypes(pd.concat(list(_streamed(store, settings, flt))))
        frame = store.load()
    return flt.apply(prepare_events(frame, settings))


def _count(settings: Settings, flt: EventFilter) -> int:
    """How many events match, holding at most one chunk of them (PostGIS) at a time."""
    with open_store(settings) as store:
        if hasattr(store, "iter_query"):
            return sum(len(chunk) for chunk in _streamed(store, settings, flt))
    return len(_query(settings, flt))


def _cmd_init(args: argparse.Namespace, settings: Settings) -> int:
    with open_store(settings) as store:
        print(f"event store {store.url}: {store.count():,} events")
    return 0


def _cmd_list(args: argparse.Namespace, settings: Settings) -> int:
    flt = filter_from_args(args)
    if args.count:
        print(_count(settings, flt))
        return 0
    frame = _query(settings, flt)
    cols = ["event_id", "event_date", "event_type", "actor1", "location", "admin1", "fatalities"]
    table = frame[cols].sort_values(["event_date", "event_id"])
    table["event_date"] = table["event_date"].dt.strftime("%Y-%m-%d")
    with pd.option_context(
        "display.max_rows", None, "display.width", 200, "display.max_colwidth", 40
    ):
        print(table.to_string(index=False) if len(table) else "(no events)")
    print(flt.describe(len(frame)), file=sys.stderr)
    return 0


def _cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    if args.format == "bundle":  # share: geo/io/bundle.py
        return _export_bundle(args, settings)
    flt = filter_from_args(args)
    with open_store(settings) as store:
        if args.format in STREAM_FORMATS and hasattr(store, "iter_query"):
            count = export_stream(_streamed(store, settings, flt), args.format, args.output)
        else:
            frame = flt.apply(prepare_events(store.load(), settings))
            export(frame, args.format, args.output)
            count = len(frame)
    if args.output != "-":
        print(f"wrote {count:,} event(s) to {args.output} ({args.format})", file=sys.stderr)
    return 0


def _streamed(store: Any, settings: Settings, flt: EventFilter) -> Iterator[pd.DataFrame]:
    """Matching events in chunks from a store that streams them (PostGIS), so exporting 1M
    of 10M events never holds them all; the in-memory stores export from the whole frame.
    """
    # The ground status is derived per event from the settings: each chunk gains it and
    # then passes the whole filter (the store filtered on the rest).
    for frame in store.iter_query(dataclasses.replace(flt, ground=())):
        yield flt.apply(prepare_events(frame, settings)).reset_index(drop=True)


def _date_order(args: argparse.Namespace) -> str | None:
    if args.dayfirst and args.monthfirst:
        raise ConfigError("choose one of --dayfirst and --monthfirst")
    return "dmy" if args.dayfirst else "mdy" if args.monthfirst else None


def _cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    if (args.format or detect_format(args.path)) == "bundle":  # share: geo/io/bundle.py
        return _import_bundle(args, settings)
    mapping = None
    if args.map or args.set:
        fmt = args.format or detect_format(args.path)
        columns = list(read_table(args.path, fmt, encoding=args.encoding).columns)
        mapping = parse_mapping(args.map, args.set, columns, suggest_for(fmt, columns))
    with open_store(settings) as store:
        report = import_events(
            store,
            args.path,
            fmt=args.format,
            dry_run=args.dry_run,
            replace=args.replace,
            mapping=mapping,
            editor=args.editor,
            date_order=_date_order(args),
            encoding=args.encoding,
            skip_invalid=args.skip_invalid,
        )
    for error in report.skipped[:20]:
        print(f"skipped: {error}", file=sys.stderr)
    if len(report.skipped) > 20:
        print(f"skipped: … and {len(report.skipped) - 20} more problems", file=sys.stderr)
    for warning in report.warnings[:20]:
        print(f"warning: {warning}", file=sys.stderr)
    if len(report.warnings) > 20:
        print(f"warning: … and {len(report.warnings) - 20} more", file=sys.stderr)
    print(report.summary())
    return 0


def _export_bundle(args: argparse.Namespace, settings: Settings) -> int:
    from geo.io.bundle import bundle_bytes, write_bundle
    from geo.io.standalone import standalone_html

    if args.output == "-":
        raise ExportError("a bundle cannot be written to stdout: give -o FILE.zip")
    if not args.output.lower().endswith(".zip"):  # import knows a bundle by its .zip name
        raise ExportError(f"{args.output}: a bundle is a zip file: give -o FILE.zip")
    flt = filter_from_args(args)
    with open_store(settings) as store:
        frame, revision = store.load(), store.revision()
    selection = flt.apply(prepare_events(frame, settings))
    map_html = None
    if not args.no_map:
        map_html = lambda sel: standalone_html(sel, max_markers=settings.max_markers)  # noqa: E731
    data = bundle_bytes(
        selection, flt, revision=revision, base_url=_base_url(settings), map_html=map_html
    )
    write_bundle(args.output, data)
    print(f"wrote bundle of {len(selection):,} event(s) to {args.output}", file=sys.stderr)
    return 0


def _import_bundle(args: argparse.Namespace, settings: Settings) -> int:
    from geo.io.bundle import import_bundle

    if args.map or args.set:
        raise ImportFormatError("--map/--set do not apply to a bundle: its fields are ours")
    with open_store(settings) as store:
        report = import_bundle(
            store,
            args.path,
            prepare=lambda f: prepare_events(f, settings),
            replace=args.replace,
            dry_run=args.dry_run,
            editor=args.editor,
        )
    print(report.summary())
    return 0


def _base_url(settings: Settings) -> str:
    from geo.io.citation import DEFAULT_BASE_URL

    return settings.public_url or DEFAULT_BASE_URL


def _cmd_cite(args: argparse.Namespace, settings: Settings) -> int:
    from geo.io.citation import cite

    flt = filter_from_args(args)
    with open_store(settings) as store:
        frame, revision = store.load(), store.revision()
    selection = flt.apply(prepare_events(frame, settings))
    print(cite(selection, flt, base_url=_base_url(settings), revision=revision).text())
    return 0


def _cmd_hash_password(args: argparse.Namespace, settings: Settings) -> int:
    first = getpass.getpass("Editor password: ")
    if getpass.getpass("Again: ") != first:
        raise ConfigError("the two passwords differ; nothing was printed")
    print(hash_password(first))
    print(
        "Set STRIKE_ATLAS_EDITOR_PASSWORD_HASH to the line above (environment or "
        ".streamlit/secrets.toml); the password itself is stored nowhere.",
        file=sys.stderr,
    )
    return 0


def _cmd_assets(args: argparse.Namespace, settings: Settings) -> int:
    from geo.views.assets_fetch import default_vendor_dir, fetch_assets

    files = fetch_assets(default_vendor_dir(), force=args.force)
    print(f"{len(files)} map assets in {default_vendor_dir()}")
    return 0


def _cmd_map(args: argparse.Namespace, settings: Settings) -> int:
    from geo.io.standalone import ensure_assets, write_standalone

    flt = filter_from_args(args)
    frame = _query(settings, flt)
    ensure_assets(lambda text: print(text, file=sys.stderr, flush=True))
    write_standalone(
        frame,
        args.output,
        self_contained=args.self_contained,
        max_markers=settings.max_markers,
        lang=args.lang,
    )
    kind = "self-contained" if args.self_contained else f"with {Path(args.output).stem}_files/"
    print(f"wrote map of {len(frame):,} event(s) to {args.output} ({kind})", file=sys.stderr)
    return 0


def _cmd_draft(args: argparse.Namespace, settings: Settings) -> int:
    from geo.drafting.report import draft_file, write_drafts

    drafts, frame = draft_file(
        args.file, published=args.published, url=args.url, language=args.lang,
        publisher=args.publisher,
    )  # fmt: skip
    where = write_drafts(frame, drafts, args.output, args.format)
    print(f"{len(drafts)} draft event(s) from {args.file} {where}; review them", file=sys.stderr)
    return 0


def _cmd_geocode(args: argparse.Namespace, settings: Settings) -> int:
    from geo.places.gazetteer import GazetteerGeocoder
    from geo.places.gazetteer_index import ATTRIBUTION
    from geo.places.online_geocoder import (
        NOMINATIM_ATTRIBUTION,
        ChainedGeocoder,
        candidates_table,
        make_nominatim,
    )

    codes = [c.upper() for c in args.country] if args.country else None
    online = None
    if args.online:
        online = make_nominatim(settings.nominatim_user_agent)
    geocoder = ChainedGeocoder(GazetteerGeocoder(), online)
    found = geocoder.geocode(
        args.name,
        exactly_one=False,
        limit=args.limit,
        country_codes=codes,
        allow_online=args.online,
    )
    if not found:
        hint = "" if args.online else " (try --online to ask Nominatim)"
        print(f"no place matches {args.name!r}{hint}", file=sys.stderr)
        return 1
    table = candidates_table(found)
    with pd.option_context("display.width", 200, "display.max_columns", None):
        print(table.to_string(index=False))
    sources = set(table["source"]) if "source" in table else {"gazetteer"}
    print(NOMINATIM_ATTRIBUTION if sources - {"gazetteer"} else ATTRIBUTION, file=sys.stderr)
    return 0


def _iso_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date YYYY-MM-DD") from None


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and docs)."""
    epilog = "settings (environment):\n" + "\n".join(
        f"  {name}\n      {text}" for name, text in settings_help()
    )
    parser = _Parser(
        prog="strike-atlas",
        description="Curated conflict events: list, import, export, maps.",
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("init", help="create the store (seeded from data/events) and say where")
    p.set_defaults(func=_cmd_init)

    p = sub.add_parser("list", help="list matching events")
    p.add_argument("--count", action="store_true", help="print only the number of events")
    _add_filter_flags(p)
    p.set_defaults(func=_cmd_list)

    p = sub.add_parser("export", help="export matching events")
    p.add_argument("--format", choices=(*FORMATS, "bundle"), default="geojson")
    p.add_argument("-o", "--output", required=True, help="file to write, or - for stdout")
    p.add_argument("--no-map", action="store_true", help="bundle: leave out the HTML map")
    _add_filter_flags(p)
    p.set_defaults(func=_cmd_export)

    p = sub.add_parser(
        "import",
        help="import a GeoJSON, CSV (ours, ACLED's, UCDP GED's), GeoPackage, KML/KMZ or bundle",
    )
    p.add_argument("path")
    p.add_argument(
        "--format",
        choices=("geojson", "csv", "gpkg", "kml", "kmz", "ucdp", "bundle"),
        help="default: from suffix (and a UCDP GED header)",
    )
    p.add_argument("--dry-run", action="store_true", help="check everything, write nothing")
    p.add_argument("--replace", action="store_true", help="overwrite events with the same id")
    p.add_argument(
        "--map",
        metavar="COL=FIELD,…",
        help="CSV or KML column mapping on top of the recognised names, e.g. date=event_date,"
        "lat=latitude,lon=longitude,title=notes,link=sources.url (FIELD empty: ignore)",
    )
    p.add_argument(
        "--set",
        metavar="FIELD=VALUE,…",
        help='fixed values for fields the file lacks, e.g. "event_type=Explosions/Remote '
        'violence,actor1=Military Forces of Russia"',
    )
    p.add_argument("--editor", default="import", help="name recorded in the history")
    p.add_argument(
        "--dayfirst", action="store_true", help="read numeric dates as DD/MM/YYYY (07/03 = 7 Mar)"
    )
    p.add_argument(
        "--monthfirst", action="store_true", help="read numeric dates as MM/DD/YYYY (07/03 = 3 Jul)"
    )
    p.add_argument(
        "--skip-invalid",
        action="store_true",
        help="leave out rows with errors (each listed) instead of refusing the whole file",
    )
    p.add_argument(
        "--encoding",
        help="text encoding of a CSV or UCDP GED file (default: UTF-8, or detected Windows-1251)",
    )
    p.set_defaults(func=_cmd_import)

    p = sub.add_parser("cite", help="print the citation of matching events (permalink, …)")
    _add_filter_flags(p)
    p.set_defaults(func=_cmd_cite)

    p = sub.add_parser("geocode", help="find a place in the offline gazetteer")
    p.add_argument("name", help="any spelling, Latin or Cyrillic; 'Korenevo, Kursk' narrows")
    p.add_argument("--country", action="append", help="ISO code such as UA (repeatable)")
    p.add_argument("--limit", type=int, default=5)
    p.add_argument(
        "--online", action="store_true", help="ask Nominatim if the gazetteer finds nothing"
    )
    p.set_defaults(func=_cmd_geocode)

    p = sub.add_parser("draft", help="draft events from a news report (.txt or .html)")
    p.add_argument("file", help="the report: UTF-8 .txt, or .html (main text extracted offline)")
    p.add_argument("--published", type=_iso_date, metavar="YYYY-MM-DD", help="publication date")
    p.add_argument("--url", help="the report's http(s) URL, cited in each draft's source")
    p.add_argument("--publisher", help="who published it (default: the URL's host)")
    p.add_argument("--lang", choices=["fr", "en", "uk", "ru"], help="language (default: detected)")
    p.add_argument("-o", "--output", help="file, or folder for one <event_id>.yaml each")
    p.add_argument("--format", choices=["yaml", "json"], default="yaml")
    p.set_defaults(func=_cmd_draft)

    p = sub.add_parser("hash-password", help="make STRIKE_ATLAS_EDITOR_PASSWORD_HASH")
    p.set_defaults(func=_cmd_hash_password)

    p = sub.add_parser("map", help="write a standalone HTML map of matching events")
    p.add_argument("-o", "--output", required=True, help="HTML file to write")
    p.add_argument(
        "--self-contained", action="store_true", help="inline every script and style (one file)"
    )
    p.add_argument(
        "--lang",
        choices=list(LABEL_LANGUAGES),
        default=DEFAULT_LANG,
        help="language of the place names on the map (as the dashboard's ?lang=)",
    )
    _add_filter_flags(p)
    p.set_defaults(func=_cmd_map)

    p = sub.add_parser("assets", help="offline map assets")
    asub = p.add_subparsers(dest="assets_command", required=True)
    pf = asub.add_parser("fetch", help="fetch Leaflet & co. from the npm registry")
    pf.add_argument("--force", action="store_true")
    pf.set_defaults(func=_cmd_assets)
    return parser


class _Parser(argparse.ArgumentParser):
    """argparse, with its usage errors as our one-line errors (exit status 2)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        print(f"{self.prog}: error: {message} (see {self.prog} --help)", file=sys.stderr)
        raise SystemExit(2)


def _report_error(exc: BaseException) -> int:
    if isinstance(exc, ValidationError):
        if len(exc.errors) == 1:
            print(f"strike-atlas: error: {exc.errors[0]}; nothing written", file=sys.stderr)
        else:
            print(
                f"strike-atlas: error: {len(exc.errors)} invalid values, nothing written:",
                file=sys.stderr,
            )
            for err in exc.errors[:50]:
                print(f"  {err}", file=sys.stderr)
            if len(exc.errors) > 50:
                print(f"  … and {len(exc.errors) - 50} more", file=sys.stderr)
        return 2
    if isinstance(exc, AtlasError):
        print(f"strike-atlas: error: {exc}", file=sys.stderr)
        return 2
    # The net under everything else: one line, never a traceback (STRIKE_ATLAS_DEBUG=1 shows it).
    text = str(exc).strip().splitlines()
    print(
        f"strike-atlas: error: unexpected {type(exc).__name__}"
        f"{': ' + text[0] if text else ''}; nothing more was done. Please report this "
        "(run with STRIKE_ATLAS_DEBUG=1 for the details)",
        file=sys.stderr,
    )
    return 2


def _library_warnings(caught: list[warnings.WarningMessage]) -> None:
    """Library warnings (pandas, GDAL via pyogrio, …) as one line each, once."""
    seen: set[str] = set()
    for w in caught:
        lines = str(w.message).strip().splitlines()
        line = lines[0] if lines else w.category.__name__
        if line not in seen:
            seen.add(line)
            print(f"strike-atlas: note: {line}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `strike-atlas` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    debug = os.environ.get("STRIKE_ATLAS_DEBUG", "").strip() not in ("", "0")
    logging.getLogger("pyogrio").setLevel(logging.ERROR)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            settings = Settings.from_env()
            code = int(args.func(args, settings) or 0)
        except BrokenPipeError:
            code = 0
        except KeyboardInterrupt:
            print("strike-atlas: interrupted; nothing more was done", file=sys.stderr)
            code = 130
        except Exception as exc:
            if debug:
                raise
            code = _report_error(exc)
    _library_warnings(caught)
    return code


if __name__ == "__main__":
    sys.exit(main())
