"""How to cite a selection: the permalink of its filter, its count, fingerprint and date.

The same text is shown by "Cite this view" on every browsing page, printed by
`strike-atlas cite` and written into export bundles (CITATION.cff, CITATION.txt), so a reader
can open the same view, or check a bundle against the store, from the citation alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from urllib.parse import quote, urlencode

import orjson
import pandas as pd
import yaml

import geo
from geo.filters import EventFilter
from geo.io.fingerprint import selection_digest
from geo.validation import is_http_url

DEFAULT_BASE_URL = "http://localhost:8501"
TITLE = "Strike Atlas"
AUTHOR = "Strike Atlas contributors"

# Licences that apply to every export: where the places and boundaries come from.
BASE_LICENCES: tuple[tuple[str, str], ...] = (
    (
        "Curated Strike Atlas records (data/events)",
        "CC BY 4.0; quoted passages remain their publishers'",
    ),
    (
        "Place names and admin-1 names derived from GeoNames (geonames.org)",
        "CC BY 4.0: attribute “GeoNames (geonames.org)”",
    ),
    ("Natural Earth admin-0/admin-1 boundaries (naturalearthdata.com)", "public domain"),
)
# Datasets an imported record declares by a tag, and their terms.
DATASET_LICENCES: dict[str, tuple[str, str]] = {
    "ucdp-ged": (
        "UCDP Georeferenced Event Dataset (Uppsala Conflict Data Program)",
        "CC BY 4.0: cite Sundberg & Melander (2013), Journal of Peace Research 50(4), and "
        "Davies, Pettersson & Öberg (2023), Journal of Peace Research 60(4)",
    ),
    "acled": (
        "ACLED (acleddata.com)",
        "ACLED terms of use: attribution required; check them before redistributing rows",
    ),
}
MAP_LICENCE = (
    "Standalone map (map.html): Leaflet and plugins",
    "BSD-2-Clause / MIT, fonts OFL-1.1, as shipped with each package",
)


def permalink(flt: EventFilter, base_url: str = DEFAULT_BASE_URL, page: str = "") -> str:
    """The dashboard URL that opens this filter (`page` such as "Events"; "" = the map)."""
    query = urlencode(flt.to_query(), doseq=True)
    url = base_url.rstrip("/") + "/" + page.strip("/")
    return f"{url}?{query}" if query else url


@dataclass(frozen=True)
class Citation:
    """Everything a citation of one view says."""

    description: str  # the filter in words: "region: Poltava", "all events"
    count: int
    fingerprint: str  # "sha256:…"
    url: str
    accessed: date
    revision: int | None = None

    @property
    def short_fingerprint(self) -> str:
        return self.fingerprint.removeprefix("sha256:")[:12]

    def sentence(self) -> str:
        """A ready-to-paste citation."""
        rev = f", store revision {self.revision}" if self.revision is not None else ""
        return (
            f"{TITLE} ({self.accessed.year}). Conflict events, {self.description} [data set, "
            f"{self.count:,} event{'s' if self.count != 1 else ''}; fingerprint "
            f"{self.fingerprint}{rev}]. Strike Atlas {geo.__version__}. {self.url} "
            f"(accessed {self.accessed.isoformat()})."
        )

    def text(self) -> str:
        """The block shown by "Cite this view" and printed by `strike-atlas cite`."""
        return "\n".join(
            [
                self.sentence(),
                "",
                f"permalink:   {self.url}",
                f"events:      {self.count:,}",
                f"fingerprint: {self.fingerprint}",
                f"date:        {self.accessed.isoformat()}",
            ]
        )


def cite(
    selection: pd.DataFrame,
    flt: EventFilter,
    *,
    base_url: str = DEFAULT_BASE_URL,
    page: str = "",
    today: date | None = None,
    revision: int | None = None,
    digest: str | None = None,
) -> Citation:
    """The citation of a selection (the events `flt` matched)."""
    return Citation(
        description=flt.describe(),
        count=len(selection),
        fingerprint=digest or selection_digest(selection),
        url=permalink(flt, base_url, page),
        accessed=today or date.today(),
        revision=revision,
    )


def citation_cff(citation: Citation, *, author: str = AUTHOR) -> str:
    """CITATION.cff (Citation File Format 1.2.0) describing the selection as a data set."""
    doc = {
        "cff-version": "1.2.0",
        "message": "If you use these events, please cite them as below.",
        "type": "dataset",
        "title": f"{TITLE}: {citation.description}",
        "authors": [{"name": author}],
        "version": citation.fingerprint,
        "date-released": citation.accessed.isoformat(),
        "url": citation.url,
        "abstract": (
            f"{citation.count} conflict events selected in Strike Atlas {geo.__version__} "
            f"({citation.description}). Fingerprint {citation.fingerprint} over the events' "
            "canonical content (algorithm sa-fp-1)."
        ),
        "keywords": ["conflict events", "geospatial", "Strike Atlas"],
    }
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)


def source_rows(selection: pd.DataFrame) -> list[dict]:
    """Every distinct source cited by the selection (publisher, url, published, language)."""
    seen: dict[tuple, dict] = {}
    for text in pd.unique(selection["sources"].astype(object).fillna("[]")):
        for src in orjson.loads(text):
            key = (src.get("publisher"), src.get("url"), src.get("published"))
            if key not in seen:
                seen[key] = {k: src.get(k) for k in ("publisher", "url", "published", "language")}
                seen[key]["events"] = 0
    # Count how many events cite each source.
    for text in selection["sources"].astype(object).fillna("[]"):
        for src in orjson.loads(text):
            seen[(src.get("publisher"), src.get("url"), src.get("published"))]["events"] += 1
    return sorted(seen.values(), key=lambda s: (str(s["publisher"]).lower(), s["published"] or ""))


_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>&|#!~])")


def md_text(value: object) -> str:
    """Event text for a Markdown file: every character Markdown or HTML would act on is
    backslash-escaped, so a publisher named `<script>` or `[x](javascript:…)` stays text."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(value).split()))


def md_link(url: str) -> str:
    """An http(s) URL as a Markdown autolink, percent-encoding what could end it early."""
    return "<" + quote(url.strip(), safe=":/?#[]@!$&'()*+,;=%~-._") + ">"


def sources_markdown(selection: pd.DataFrame) -> str:
    """SOURCES.md: the readable list of every source cited by the selection."""
    rows = source_rows(selection)
    lines = [
        "# Sources",
        "",
        f"{len(rows)} distinct source(s) cited by the {len(selection)} event(s) of this "
        "selection. Links are given as recorded; only http(s) links were accepted.",
        "",
    ]
    for s in rows:
        bits = [md_text(s["publisher"])]
        if s["published"]:
            bits.append(md_text(s["published"]))
        if s["language"]:
            bits.append(f"language: {md_text(s['language'])}")
        bits.append(f"{s['events']} event(s)")
        line = "- " + " · ".join(bits)
        if s["url"] and is_http_url(s["url"]):
            line += f"\n  {md_link(s['url'])}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def licences(selection: pd.DataFrame, *, with_map: bool) -> list[tuple[str, str]]:
    """(what, licence) for the data in a selection: base data, tagged datasets, the map.

    Records declare their dataset by a tag (`ucdp-ged`, `acled`) or a licence directly by a
    `licence:…` / `license:…` tag.
    """
    tags: set[str] = set()
    for text in pd.unique(selection["tags"].astype(object).fillna("[]")):
        tags.update(str(t) for t in orjson.loads(text))
    out = list(BASE_LICENCES)
    out += [DATASET_LICENCES[t] for t in sorted(tags) if t in DATASET_LICENCES]
    for tag in sorted(tags):
        low = tag.lower()
        if low.startswith(("licence:", "license:")):
            out.append((f"Records tagged {tag!r}", tag.split(":", 1)[1].strip()))
    if with_map:
        out.append(MAP_LICENCE)
    return out
