"""How well `geo.drafting` drafts events from real reports: places, dates, types, tolls, time.

Reads the evaluation reports by path (never copied into the repository):
``../shared/eval/reports/`` beside the checkout, or the folder given as the first argument.
For each report it drafts events with the report's language and publication date from
``gold.json`` and compares them with the gold strikes:

- place recall = gold strikes *found* by some draft: a draft within 15 km of the gold point,
  or, for a region-level gold strike (geo_precision 3), a draft in the same admin-1;
- place precision = drafts that are *correct*: they find a gold strike, or they are
  region-level and a gold strike lies in their admin-1 (a draft on a place the text names
  only as a capital, dateline, launch area or interception area counts against it);
- date / type / fatalities accuracy over matched gold events that state a value (date: the
  same day, or the same ISO week / month when the gold date is week / month precision;
  type: the ACLED sub-event type implied by the gold weapon; fatalities: equal);
- time per report: median of 5 runs, each reading the text afresh (word caches emptied), after
  the one-time loading of the gazetteer index and dictionaries (reported separately);
- a baseline in the same run: every capitalised word that is a gazetteer name as written
  becomes a town point (no inflection, no regions, no roles), scored the same way.

Run: ``.venv/bin/python bench/drafting.py [REPORTS_DIR]``.
"""

from __future__ import annotations

import json
import math
import re
import statistics
import sys
import time
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from geo.drafting.drafts import draft_events  # noqa: E402
from geo.drafting.happened import SUB_TYPES  # noqa: E402
from geo.drafting.places import find_places  # noqa: E402

DEFAULT_DIR = REPO.parent / "shared" / "eval" / "reports"
RADIUS_KM = 15.0


def km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in kilometres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 6371.0 * 2 * math.asin(math.sqrt(a))


def _iso(draft: dict) -> str | None:
    return draft.get("_iso")


def finds(draft: dict, gold: dict) -> bool:
    """Recall: the draft is within 15 km of the gold strike, or the gold strike is
    region-level and the draft is in its admin-1 (a region draft never stands for a town)."""
    if km(draft["latitude"], draft["longitude"], gold["lat"], gold["lon"]) <= RADIUS_KM:
        return True
    return gold["geo_precision"] == 3 and _iso(draft) == gold["admin1_iso"]


def correct(draft: dict, gold: dict) -> bool:
    """Precision: as `finds`, and a region-level draft is right when a strike the text
    reports lies in that region (it says no more than "somewhere in region X")."""
    return finds(draft, gold) or (draft["geo_precision"] == 3 and _iso(draft) == gold["admin1_iso"])


def evaluate(folder: Path) -> dict[str, dict[str, list]]:
    """Per-language tallies: recall hits, precision hits, date/type/fatality hits, times."""
    gold_all = json.loads((folder / "gold.json").read_text(encoding="utf-8"))
    tallies: dict[str, dict[str, list]] = {}
    for report in gold_all:
        text = (folder / report["file"]).read_text(encoding="utf-8")
        published = date.fromisoformat(report["published"]) if report["published"] else None
        lang = report["language"]

        def run(text: str = text, published: date | None = published, lang: str = lang):
            return draft_events(text, published=published, language=lang)

        times = []
        for _ in range(5):
            _forget_text()  # each run reads the text as if for the first time
            t0 = time.perf_counter()
            drafts = run()
            times.append(time.perf_counter() - t0)
        rows = [{**d.fields, "_iso": d.admin1_iso} for d in drafts]
        for name, found in ((lang, rows), ("naive", _naive(text))):
            t = tallies.setdefault(
                name, {k: [] for k in ("rec", "prec", "date", "type", "fat", "t")}
            )
            if name != "naive":
                t["t"].append(statistics.median(times))
            _score(t, found, report["events"])
    return tallies


def _score(t: dict[str, list], rows: list[dict], events: list[dict]) -> None:
    for row in rows:
        t["prec"].append(any(correct(row, g) for g in events))
    for g in events:
        hit = [r for r in rows if finds(r, g)]
        t["rec"].append(bool(hit))
        if not hit:
            continue
        if g["date"]:
            t["date"].append(any(_same_date(r["event_date"], g) for r in hit))
        if g["weapon"] in SUB_TYPES:
            t["type"].append(any(r["sub_event_type"] == SUB_TYPES[g["weapon"]] for r in hit))
        if g["fatalities"] is not None:
            t["fat"].append(any(r["fatalities"] == g["fatalities"] for r in hit))


def _same_date(drafted: object, gold: dict) -> bool:
    """The same day; for a gold date of week or month precision, the same week or month."""
    if drafted is None:
        return False
    day, want = date.fromisoformat(str(drafted)[:10]), date.fromisoformat(gold["date"])
    if gold["time_precision"] == 2:
        return day.isocalendar()[:2] == want.isocalendar()[:2]
    if gold["time_precision"] == 3:
        return (day.year, day.month) == (want.year, want.month)
    return day == want


def _forget_text() -> None:
    """Empty the caches that remember words of texts already read (not the loaded data)."""
    from geo.drafting import dates, lang, names

    lang.fold.cache_clear()
    names.word_forms.cache_clear()
    dates._parse_day_month.cache_clear()


_NOTHING = {"event_date": None, "sub_event_type": None, "fatalities": None}


def _naive(text: str) -> list[dict]:
    """Baseline: every capitalised word that is a gazetteer name as written becomes a
    town-level point (the most populous namesake), as a plain dictionary geoparser would."""
    from geo.drafting.lang import fold
    from geo.drafting.names import name_index

    names = name_index()
    out = []
    for word in re.findall(r"\b[A-ZА-ЯІЇЄ][\w'’-]+", text):
        rows = names.exact.get(fold(word))
        if rows:
            r = max(rows, key=lambda k: int(names.population[k]))
            point = {"latitude": float(names.lat[r]), "longitude": float(names.lon[r])}
            iso = names.col["admin1_iso_3166_2"][r]
            out.append({**point, "geo_precision": 1, "_iso": iso, **_NOTHING})
    return out


def _ratio(values: list) -> str:
    return f"{sum(values) / len(values):.2f} ({sum(values)}/{len(values)})" if values else "—"


def main(argv: list[str]) -> int:
    folder = Path(argv[1]) if len(argv) > 1 else DEFAULT_DIR
    if not (folder / "gold.json").is_file():
        print(f"bench/drafting.py: no gold.json in {folder}; pass the reports folder")
        return 2
    t0 = time.perf_counter()
    find_places("Poltava", "fr")
    draft_events("Вчора у Полтаві.", published=date(2025, 1, 2), language="uk")
    draft_events("Вчера в Полтаве.", published=date(2025, 1, 2), language="ru")
    draft_events("Hier à Poltava.", published=date(2025, 1, 2), language="fr")
    load = time.perf_counter() - t0
    tallies = evaluate(folder)
    naive = tallies.pop("naive")
    keys = next(iter(tallies.values()))
    total = {k: [v for t in tallies.values() for v in t[k]] for k in keys}
    print(f"one-time load (gazetteer index, dictionaries, dateparser): {load:.2f} s\n")
    print("| language | place recall | place precision | date | type | fatalities "
          "| time/report (median) |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|")
    for lang in ("en", "fr", "uk", "ru"):
        if lang in tallies:
            _row(lang, tallies[lang])
    _row("**all**", total)
    print(
        f"| baseline: capitalised words looked up | {_ratio(naive['rec'])} | "
        f"{_ratio(naive['prec'])} | — | — | — | — |"
    )
    return 0


def _row(name: str, t: dict[str, list]) -> None:
    print(
        f"| {name} | {_ratio(t['rec'])} | {_ratio(t['prec'])} | {_ratio(t['date'])} | "
        f"{_ratio(t['type'])} | {_ratio(t['fat'])} | {statistics.median(t['t']) * 1000:.0f} ms "
        f"(max {max(t['t']) * 1000:.0f}) |"
    )


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
