"""geo.drafting: our own sentences in four languages, and the seed article end to end."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
import yaml

from geo.cli import main
from geo.drafting.dates import find_dates
from geo.drafting.drafts import draft_events, drafts_frame, split_sentences
from geo.drafting.happened import what_happened
from geo.drafting.lang import detect_language
from geo.drafting.places import REGION, find_places
from geo.drafting.report import ReportError, extract_text, highlighted_html
from geo.store.records import read_curated

SEED = Path(__file__).resolve().parents[2] / "shared" / "seed" / "article-fr.txt"
PUB = date(2025, 7, 4)


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Les frappes ont touché la ville, selon le gouverneur.", "fr"),
        ("The strike hit the town, the governor said.", "en"),
        ("Удар влучив у місто, повідомив голова області.", "uk"),
        ("Удар пришёлся по городу, сообщил губернатор.", "ru"),
    ],
)
def test_detect_language(text: str, lang: str) -> None:
    assert detect_language(text) == lang


@pytest.mark.parametrize(
    ("text", "lang", "name", "kind", "iso"),
    [
        ("Un drone a frappé Koursk.", "fr", "Kursk", "town", "RU-KRS"),
        ("У Полтаві пролунали вибухи.", "uk", "Poltava", "town", "UA-53"),
        ("В Полтаве прогремели взрывы.", "ru", "Poltava", "town", "UA-53"),
        ("Снаряд упал в Коренево.", "ru", "Korenevo", "town", "RU-KRS"),
        ("Drones hit depots in Donetsk Oblast.", "en", None, REGION, "UA-14"),
        ("Des dépôts dans l'oblast de Donetsk ont brûlé.", "fr", None, REGION, "UA-14"),
        ("Удари по Донецькій області тривають.", "uk", None, REGION, "UA-14"),
        ("Обстрел Белгородской области продолжается.", "ru", None, REGION, "RU-BEL"),
    ],
)
def test_find_places(text: str, lang: str, name: str | None, kind: str, iso: str) -> None:
    found = find_places(text, lang)
    assert len(found) == 1, found
    assert found[0].kind == kind and found[0].admin1_iso == iso
    if name:
        assert found[0].name == name and found[0].geo_precision == 1
    else:
        assert found[0].geo_precision == 3


@pytest.mark.parametrize(
    ("text", "lang", "expected", "precision"),
    [
        ("hier soir, une frappe", "fr", date(2025, 7, 3), 1),
        ("вчора ввечері", "uk", date(2025, 7, 3), 1),
        ("в ночь на 3 июля", "ru", date(2025, 7, 3), 1),
        ("overnight, drones", "en", date(2025, 7, 4), 1),
        ("on Monday the city", "en", date(2025, 6, 30), 1),
        ("ces dernières semaines", "fr", date(2025, 7, 4), 3),
        ("dans la nuit du 1er au 2 juillet", "fr", date(2025, 7, 2), 1),
        ("on 30 December 2023", "en", date(2023, 12, 30), 1),
    ],
)
def test_find_dates(text: str, lang: str, expected: date, precision: int) -> None:
    found = [d for d in find_dates(text, lang, PUB) if not d.relative] or find_dates(
        text, lang, PUB
    )
    assert found[0].date == expected and found[0].time_precision == precision


@pytest.mark.parametrize(
    ("sentence", "killed", "injured", "weapon", "side"),
    [
        (
            "Une frappe de drone russe a touché l'immeuble, faisant deux morts.",
            2,
            None,
            "drone",
            "RU",
        ),
        (
            "Two people were killed and five injured in a Russian missile strike.",
            2,
            5,
            "missile",
            "RU",
        ),
        ("Унаслідок обстрілу з РСЗВ двоє загиблих та троє поранених.", 2, 3, "MLRS", None),
        ("В результате атаки беспилотника ВСУ погибли трое.", 3, None, "drone", "UA"),
        ("Обстріл обійшовся без жертв.", 0, 0, "artillery", None),
    ],
)
def test_what_happened(sentence, killed, injured, weapon, side) -> None:
    h = what_happened(sentence)
    assert h.is_strike
    assert (h.fatalities.value if h.fatalities else None) == killed
    assert (h.injuries.value if h.injuries else None) == injured
    assert h.weapon is not None and h.weapon.value == weapon
    assert (h.side.value if h.side else None) == side


def test_sentences_keep_abbreviations() -> None:
    text = "Maj. Gen. Ivanov was killed. A second strike hit х. Заречный. Done!"
    assert [s.text for s in split_sentences(text)] == [
        "Maj. Gen. Ivanov was killed.",
        "A second strike hit х. Заречный.",
        "Done!",
    ]


def test_government_and_interceptions_are_not_strikes() -> None:
    text = (
        "Kiev a confirmé l'attaque. Moscou affirme que vingt drones ont été abattus au-dessus "
        "de la région de Briansk. Hier, un missile russe a frappé Kharkiv, faisant un mort."
    )
    drafts = draft_events(text, published=PUB, language="fr")
    assert [d.fields["location"] for d in drafts] == ["Kharkiv"]
    assert drafts[0].fields["fatalities"] == 1
    assert drafts[0].fields["event_date"] == date(2025, 7, 3)


def test_repeated_event_is_one_draft_and_several_are_several() -> None:
    text = (
        "Overnight, Russian drones struck Sumy, injuring three people. "
        "Later the mayor said the strike on Sumy damaged a school. "
        "Artillery also shelled Nikopol."
    )
    drafts = draft_events(text, published=PUB, url="https://example.org/a")
    assert [d.fields["location"] for d in drafts] == ["Sumy", "Nikopol"]
    sumy = drafts[0]
    assert sumy.fields["injuries"] == 3 and "[…]" in sumy.fields["sources"][0]["quote"]
    assert sumy.fields["sources"][0]["publisher"] == "example.org"


def test_near_and_no_date_flagged() -> None:
    [d] = draft_events("A missile hit a village near Kramatorsk.", published=PUB)
    assert d.fields["geo_precision"] == 2
    assert d.fields["event_date"] == PUB and any("date" in r for r in d.review)


def test_html_is_extracted_and_highlight_escapes() -> None:
    html = "<html><body><nav>menu</nav><article><p>A drone hit Poltava.</p></article></body></html>"
    assert "Poltava" in extract_text(html.encode(), "r.html")
    fragment = extract_text(b"<p>A drone hit Poltava.</p><script>steal()</script>", "f.html")
    assert fragment == "A drone hit Poltava."
    with pytest.raises(ReportError, match="not UTF-8"):
        extract_text(b"\xff\xfe\x00bad", "r.txt")
    out = highlighted_html("<b>Poltava</b>", [(3, 10, "place")])
    assert "&lt;b&gt;" in out and '<mark class="sa-place"' in out


@pytest.mark.skipif(not SEED.is_file(), reason="shared/ not beside the checkout")
def test_seed_article_chain(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "drafts.yaml"
    assert main(["draft", str(SEED), "--published", "2025-07-04", "-o", str(out)]) == 0
    records = {r["location"]: r for r in yaml.safe_load_all(out.read_text(encoding="utf-8"))}
    assert "Kyiv" not in records and "Moscow" not in records
    poltava = records["Poltava"]
    assert poltava["geo_precision"] == 1 and poltava["fatalities"] == 2
    assert poltava["target"] == "recruitment centre"
    assert poltava["actor1"] == "Military Forces of Ukraine"  # the text's claim, kept
    korenevo = records["Korenevo"]
    assert korenevo["admin1"] == "Kursk Oblast" and korenevo["fatalities"] == 1
    lipetsk = [r for r in records.values() if r["admin1"] == "Lipetsk Oblast"]
    assert lipetsk and lipetsk[0]["target"] == "plant (Energuiïa)"  # named, not a place
    donetsk = [r for r in records.values() if r["country"] == "UA" and r["geo_precision"] == 3]
    assert donetsk and donetsk[0]["weapon"] == "drone"
    assert donetsk[0]["target"] == "ammunition depot"
    for record in records.values():
        [src] = record["sources"]
        assert src["language"] == "fr" and src["quote"] in SEED.read_text(encoding="utf-8")
        assert record["verification"] == "reported"
    assert main(["draft", str(SEED), "--format", "json", "--published", "2025-07-04"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == len(records)


def test_cli_errors_are_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["draft", "no-such-report.txt"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("strike-atlas: error: no-such-report.txt: no such file")


@pytest.mark.parametrize(
    ("path", "why"), [("/dev/null", "not a regular file"), (".", "not a regular file")]
)
def test_cli_draft_of_a_device_or_folder_says_what_it_is(capsys, path: str, why: str) -> None:
    assert main(["draft", path]) == 2
    assert capsys.readouterr().err == (
        f"strike-atlas: error: {path}: {why}; give a .txt or .html report\n"
    )


def test_a_book_is_refused_before_drafting() -> None:
    """A megabyte takes drafting ~20 s: refused at once, with the limit and what to do."""
    with pytest.raises(ReportError, match=r"^the pasted text: 1,000,000 characters, more than"):
        extract_text("Полтава. " * 111_111 + "x", "the pasted text")
    assert extract_text("Полтава. " * 20_000, "r")  # 180,000: a (long) report, read


def test_drafts_frame_ids_avoid_taken() -> None:
    drafts = draft_events("Hier, un drone a frappé Poltava.", published=PUB, language="fr")
    frame = drafts_frame(drafts, taken={"sa-20250703-poltava"})
    assert frame["event_id"].tolist() == ["sa-20250703-poltava-2"]


def test_follow_up_sentence_and_headline_join_the_dated_draft() -> None:
    text = (
        "Missile strike on Kramatorsk\n"
        "On 27 June 2023 Russian missiles struck a café in Kramatorsk. "
        "Thirteen people were killed, including a 17-year-old girl."
    )
    [d] = draft_events(text, published=date(2023, 6, 28))
    assert d.fields["event_date"] == date(2023, 6, 27) and d.fields["fatalities"] == 13
    assert "Thirteen people" in d.fields["sources"][0]["quote"]


def test_coordinated_districts_and_authorities() -> None:
    text = (
        "Голова Дніпропетровської ОВА повідомив: уночі окупанти обстріляли Нікополь, "
        "Марганецьку та Покровську громади."
    )
    drafts = draft_events(text, published=PUB, language="uk")
    by_place = {d.fields["location"]: d for d in drafts}
    assert set(by_place) >= {"Nikopol", "Marhanets"}
    assert by_place["Marhanets"].fields["geo_precision"] == 2
    assert all(d.admin1_iso == "UA-12" for d in drafts)
    assert all(d.fields["geo_precision"] != 3 for d in drafts)  # the ОВА is not a region draft


def test_people_are_not_places_and_spellings_are_found_in_the_region() -> None:
    text = (
        "Volodymyr Zelensky said Russian drones struck the village of Velykopysarivka "
        "in Sumy region overnight."
    )
    [d] = draft_events(text, published=PUB, language="en")
    assert d.fields["location"] == "Velyka Pysarivka" and d.admin1_iso == "UA-59"


def test_ages_are_not_counts_and_24_hours_is_not_a_date() -> None:
    h = what_happened("A 74-year-old woman was killed when a shell hit her house.")
    assert h.fatalities is not None and h.fatalities.value == 1
    assert not [d for d in find_dates("en 24 heures, 300 frappes", "fr", PUB) if not d.relative]
    [night] = [
        d for d in find_dates("dans la nuit de mercredi à jeudi", "fr", PUB) if "di" in d.text
    ]
    assert night.text == "jeudi" and night.date == date(2025, 7, 3)


@pytest.mark.parametrize(
    ("sentence", "killed", "injured"),
    [
        ("Внаслідок удару поранено двох чоловіків, загиблих немає.", 0, 2),
        ("После атаки беспилотника пострадавших нет.", 0, 0),
        ("Un drone a frappé une voiture, tuant deux hommes.", 2, None),
        ("При обстреле погиб водитель грузовика.", 1, None),
    ],
)
def test_tolls_with_negation_and_people(sentence: str, killed: int, injured: int | None) -> None:
    h = what_happened(sentence)
    assert (h.fatalities.value if h.fatalities else None) == killed
    assert (h.injuries.value if h.injuries else None) == injured


def test_each_place_gets_its_nearest_weapon() -> None:
    text = "Вчера армия РФ нанесла авиаудар по Купянску и обстреляла из РСЗО Изюм."
    drafts = {d.fields["location"]: d for d in draft_events(text, published=PUB, language="ru")}
    assert drafts["Kupyansk"].fields["weapon"] == "air strike"
    assert drafts["Izyum"].fields["weapon"] == "MLRS"
    assert drafts["Izyum"].fields["sub_event_type"] == "Shelling/artillery/missile attack"


def test_fighting_is_a_battle_and_a_toll_after_dots_joins_its_place() -> None:
    text = (
        "Fighting went on near Sudzha in the Kursk region on 2 July 2025... A colonel was killed."
    )
    [d] = draft_events(text, published=date(2025, 7, 4), language="en")
    assert (d.fields["event_type"], d.fields["sub_event_type"]) == ("Battles", "Armed clash")
    assert d.fields["location"] == "Sudzha" and d.fields["geo_precision"] == 2
    assert d.fields["event_date"] == date(2025, 7, 2) and d.fields["fatalities"] == 1
    assert any("fighting" in r for r in d.review)


def test_land_names_and_reporting_clauses() -> None:
    uk = (
        "Уночі ворог атакував ударними БпЛА Одесу: пошкоджено портову інфраструктуру, "
        "травмовано двох працівників. Також під обстрілом була Херсонщина, де загинула жінка."
    )
    drafts = {d.fields["location"]: d for d in draft_events(uk, published=PUB, language="uk")}
    assert drafts["Odesa"].fields["injuries"] == 2 and drafts["Odesa"].fields["fatalities"] is None
    kherson = drafts["Kherson Oblast"]
    assert kherson.fields["geo_precision"] == 3 and kherson.fields["fatalities"] == 1
    ru = (
        "В ночь на 12 марта беспилотники ВСУ атаковали нефтебазу в Новороссийске, сообщил "
        "губернатор. Пострадавших нет. Над Белгородской областью сбиты 10 дронов."
    )
    [d] = draft_events(ru, published=date(2025, 3, 12), language="ru")
    assert d.fields["location"] == "Novorossiysk" and d.fields["target"] == "oil depot"
    assert d.fields["actor1"] == "Military Forces of Ukraine"
    assert (d.fields["fatalities"], d.fields["injuries"]) == (0, 0)


def test_main_names_tolls_per_verb_and_residents() -> None:
    uk = "Росіяни вдарили КАБами по Краматорську та Слов'янську."
    assert [m.name for m in find_places(uk, "uk")] == ["Kramatorsk", "Slovyansk"]  # not Nikopol
    h = what_happened("A glide bomb hit a block, killing four people and wounding 30.")
    assert (h.fatalities.value, h.injuries.value) == (4, 30)  # type: ignore[union-attr]
    ru = "Жители Курска сообщили о взрывах. Обломки беспилотника упали на дом, ранен один человек."
    [d] = draft_events(ru, published=PUB, language="ru")
    assert d.fields["location"] == "Kursk" and d.fields["injuries"] == 1


def test_no_request_leaves_the_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"network access attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    html = "<html><body><article><p>Le 3 juillet, un drone a frappé Koursk.</p></article></html>"
    text = extract_text(html.encode(), "r.html")
    [d] = draft_events(text, published=PUB, url="https://example.org/r")
    assert d.fields["location"] == "Kursk" and d.fields["event_date"] == date(2025, 7, 3)


def test_cli_writes_one_curated_record_per_draft(tmp_path: Path) -> None:
    report = tmp_path / "report.txt"
    report.write_text(
        "Hier, un drone russe a frappé Soumy, faisant deux morts. "
        "Un missile a touché Kharkiv dans la nuit.",
        encoding="utf-8",
    )
    out = tmp_path / "events"
    args = ["draft", str(report), "--published", "2025-07-04", "--url", "https://example.org/a"]
    assert main([*args, "-o", f"{out}/"]) == 0
    records = read_curated(out)  # the same reader and checks as data/events/
    assert sorted(records["location"]) == ["Kharkiv", "Sumy"]
    assert set(records["verification"]) == {"reported"}
    assert main([*args, "-o", f"{out}/"]) == 2  # never overwrites a record
    assert len(list(out.glob("*.yaml"))) == 2
