"""The topics file (xmpp_plugin/topics.py) and the opening-hours calendar (xmpp_plugin/hours.py)."""

from __future__ import annotations

import base64
import logging
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from tokenlab import ROOT
from xmpp_plugin import topics
from xmpp_plugin.hours import Hours, parse_window
from xmpp_plugin.settings import SettingsError, load_settings

UTC = UTC
ENV = {"IDCHAT_STORE_ATTRIBUTES_KEY": base64.b64encode(b"k" * 32).decode(),
       "IDCHAT_XMPP_COMPONENT_SECRET": "s"}
TODAYS_PURPOSES = {  # what xmpp_plugin/i18n.py hard-coded before the topics file
    "report_move": ("Verhuizing doorgeven", "Report a move"),
    "request_permit": ("Vergunning aanvragen", "Request a permit"),
    "request_passport": ("Paspoort aanvragen", "Request a passport"),
    "notice_of_marriage": ("Melding voorgenomen huwelijk", "Notice of marriage"),
    "personal_question": ("Persoonlijke vraag", "Personal question"),
    "test_purpose": ("Testonderwerp", "Test purpose"),
}
TODAYS_ATTRIBUTES = {
    "fullname": ("Naam", "Name"), "email": ("E-mailadres", "E-mail address"),
    "city": ("Woonplaats", "City"), "bsn": ("BSN", "Citizen service number (BSN)"),
    "test_attribute": ("Testattribuut", "Test attribute"),
}
GOOD = """
[attributes]
fullname = { nl = "Naam", en = "Name" }
bsn = { nl = "BSN", en = "BSN" }
city = { nl = "Woonplaats", en = "City" }

[hours]
monday = ["08:00-17:00"]
closed = [2026-12-25]

[[replies]]
key = "welkom"
nl = "Goedendag, u spreekt met {agent}."

[[topics]]
purpose = "parking"
nl = "Parkeren"
en = "Parking"
attributes = ["city", "fullname"]
alternative = { nl = "Bel 14 020.", en = "Call 14 020." }

[[topics.replies]]
key = "vergunning"
nl = "Uw vergunning voor {topic} is verlengd."
en = "Your permit for {topic} has been renewed."

[[topics]]
purpose = "waste"
nl = "Afval"
en = "Waste"
[topics.hours]
sunday = ["01:00-04:00"]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "topics.toml"
    path.write_text(text)
    return path


def problems_of(tmp_path: Path, text: str) -> list[str]:
    return topics.parse(write(tmp_path, text))[1]


# -- the shipped files ---------------------------------------------------------------

@pytest.mark.parametrize("path", [topics.DEFAULT_FILE, ROOT / "demo" / "topics.toml"])
def test_shipped_files_are_todays_set(path: Path) -> None:
    catalogue, problems = topics.parse(path)
    assert problems == []
    assert {tag: (t.labels["nl"], t.labels["en"]) for tag, t in catalogue.topics.items()} \
        == TODAYS_PURPOSES
    assert {n: (v["nl"], v["en"]) for n, v in catalogue.attributes.items()} == TODAYS_ATTRIBUTES
    assert all(t.hours.always and t.attributes is None and t.alternative is None
               for t in catalogue.topics.values())


def test_settings_default_to_the_shipped_file_and_read_another() -> None:
    s = load_settings(environ=ENV, role="component")
    assert s.topics.file == ""
    assert s.topics.catalogue().label("report_move", "en") == "Report a move"
    demo = load_settings(environ={**ENV, "IDCHAT_TOPICS_FILE": str(ROOT / "demo" / "topics.toml")},
                         role="component")
    assert {r.key for r in demo.topics.catalogue().replies} == {"welkom", "moment", "afsluiten", "adres"}


# -- parsing ---------------------------------------------------------------------------

def test_a_full_file(tmp_path: Path) -> None:
    catalogue, problems = topics.parse(write(tmp_path, GOOD))
    assert problems == []
    parking = catalogue.topic("parking")
    assert parking.attributes == ("city", "fullname")
    assert parking.alternative == {"nl": "Bel 14 020.", "en": "Call 14 020."}
    assert not parking.hours.always and parking.hours.closed == {date(2026, 12, 25)}
    assert catalogue.topic("waste").hours.week[6] == ((60, 240),)   # its own hours replace [hours]
    assert catalogue.topic("waste").hours.week[0] == ()
    assert [(r.key, r.lang, r.purpose) for r in catalogue.replies] == [
        ("welkom", "nl", ""), ("vergunning", "nl", "parking"), ("vergunning", "en", "parking")]
    # Shown attributes: the topic's, in its order; unknown ones and unlisted ones never.
    given = {"fullname": "Juliet Capulet", "bsn": "999999999", "city": "Verona"}
    assert catalogue.shown("parking", given) == [("city", "Verona"), ("fullname", "Juliet Capulet")]
    # A topic without a list shows all, labelled first in the file's order.
    assert [n for n, _ in catalogue.shown("waste", {"x": "1", "city": "V", "fullname": "J"})] \
        == ["fullname", "city", "x"]


def test_unknown_purpose_served_under_its_tag_and_warned_once(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    catalogue, _ = topics.parse(write(tmp_path, GOOD))
    caplog.set_level(logging.WARNING, logger="xmpp_plugin.topics")
    for _ in range(3):
        topic = catalogue.topic("dog_licence")
    assert topic.labels == {"nl": "dog_licence", "en": "dog_licence"} and topic.hours.always
    assert catalogue.label("dog_licence", "nl") == "dog_licence"
    catalogue.warn_unknown("Juliet Capulet, 999999999")   # not a tag: never written out
    catalogue.warn_unknown("parking")                      # known: no warning
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 2
    assert "dog_licence" in warnings[0]
    assert "Juliet" not in warnings[1] and "999999999" not in warnings[1]
    assert "(not a tag)" in warnings[1]


@pytest.mark.parametrize("text, expected", [
    ('bogus = 1\n[[topics]]\npurpose = "a"\nnl = "A"\nen = "A"', "unknown key 'bogus'"),
    ('[[topics]]\npurpose = "a"\nnl = "A"\nen = "A"\ncolour = "red"', "unknown key 'colour'"),
    ('[[topics]]\npurpose = "a"\nnl = "A"', "(a): missing language en"),
    ('[attributes]\nbsn = { nl = "BSN" }\n[[topics]]\npurpose = "a"\nnl = "A"\nen = "A"',
     "[attributes] bsn: missing language en"),
    ('[attributes]\nbsn = { nl = "BSN", en = "BSN", de = "BSN" }\n[[topics]]\npurpose = "a"\nnl = "A"\nen = "A"',
     "unknown key 'de'"),
    ('[[topics]]\npurpose = "a"\nnl = "A"\nen = "A"\n[[topics]]\npurpose = "a"\nnl = "B"\nen = "B"',
     "duplicate topic 'a'"),
    ('[[topics]]\npurpose = "a b"\nnl = "A"\nen = "A"', "purpose must be the ID Contact purpose tag"),
    ('', "no [[topics]]"),
    ('[[topics]]\npurpose = "a"\nnl = "A"\nen = "A"\nattributes = ["phone"]',
     "'phone' has no labels in [attributes]"),
    ('[[topics]]\npurpose = "a"\nnl = "A"\nen = "A"\nalternative = { nl = "Bel." }',
     "(a).alternative: missing language en"),
    ('[hours]\nmonday = ["8-17"]\n[[topics]]\npurpose = "a"\nnl = "A"\nen = "A"',
     "[hours].monday: '8-17' is not a window"),
    ('[hours]\nmonday = ["17:00-08:00"]\n[[topics]]\npurpose = "a"\nnl = "A"\nen = "A"',
     "ends before it starts"),
    ('[hours]\nmonday = ["08:00-12:00", "11:00-17:00"]\n[[topics]]\npurpose = "a"\nnl = "A"\nen = "A"',
     "windows overlap"),
    ('[hours]\nmondag = ["08:00-12:00"]\n[[topics]]\npurpose = "a"\nnl = "A"\nen = "A"',
     "unknown key 'mondag'"),
    ('[hours]\nclosed = ["25-12-2026"]\n[[topics]]\npurpose = "a"\nnl = "A"\nen = "A"',
     "is not a date"),
    ('[[replies]]\nkey = "Hallo!"\nnl = "x"\n[[topics]]\npurpose = "a"\nnl = "A"\nen = "A"',
     "key must be what the agent types after /"),
    ('[[replies]]\nkey = "x"\nnl = "a"\n[[replies]]\nkey = "x"\nnl = "b"\n[[topics]]\npurpose = "a"\nnl = "A"\nen = "A"',
     "duplicate key 'x'"),
    ('[[replies]]\nkey = "x"\n[[topics]]\npurpose = "a"\nnl = "A"\nen = "A"', "missing language nl, en"),
    ('[[replies]]\nkey = "x"\nnl = "' + "x" * 1001 + '"\n[[topics]]\npurpose = "a"\nnl = "A"\nen = "A"',
     "(x).nl: longer than 1000 characters"),
    ("".join(f'[[replies]]\nkey = "k{i}"\nnl = "{"x" * 999}"\n' for i in range(31))
     + '[[topics]]\npurpose = "a"\nnl = "A"\nen = "A"', "more than 30000 characters together"),
    ('[[replies]]\nkey = "x"\nnl = "Op {datum}"\n[[topics]]\npurpose = "a"\nnl = "A"\nen = "A"',
     "unknown placeholder {datum}; only {agent} and {topic}"),
    ('[[replies]]\nkey = "x"\nnl = "Hallo {naam}"\n[[topics]]\npurpose = "a"\nnl = "A"\nen = "A"',
     "placeholder {naam} would put an attribute value in a reply"),
])
def test_specific_problems(tmp_path: Path, text: str, expected: str) -> None:
    problems = problems_of(tmp_path, text)
    assert any(expected in p for p in problems), problems


def test_a_placeholder_for_an_attribute_is_refused_at_start(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("is verlengd.", "staat op naam van {fullname}, BSN {bsn}."))
    with pytest.raises(SettingsError) as info:
        load_settings(environ={**ENV, "IDCHAT_TOPICS_FILE": str(path)}, role="component")
    text = "\n".join(info.value.problems)
    assert "placeholder {fullname} would put an attribute value in a reply" in text
    assert "placeholder {bsn} would put an attribute value" in text
    assert "vergunning" in text                       # which reply


def test_every_problem_reported_with_the_settings(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as info:
        load_settings(environ={**ENV, "IDCHAT_TOPICS_FILE": str(tmp_path / "missing.toml"),
                               "IDCHAT_UI_PRIMARY_COLOUR": "red"}, role="component")
    assert any("missing.toml" in p for p in info.value.problems)
    assert any("primary_colour" in p for p in info.value.problems)


# -- the calendar ----------------------------------------------------------------------

def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def weekdays(*windows: str, closed: tuple[date, ...] = (), sunday: tuple[str, ...] = ()) -> Hours:
    parsed = tuple(parse_window(w) for w in windows)
    return Hours((parsed,) * 5 + ((), tuple(parse_window(w) for w in sunday)),
                 frozenset(closed), always=False)


def test_edge_minutes() -> None:
    h = weekdays("08:00-17:00")
    assert not h.is_open(at("2026-12-01T07:59:59+01:00"))   # a Tuesday in winter (CET)
    assert h.is_open(at("2026-12-01T08:00:00+01:00"))
    assert h.is_open(at("2026-12-01T16:59:59+01:00"))
    assert not h.is_open(at("2026-12-01T17:00:00+01:00"))
    assert h.next_opening(at("2026-12-01T17:00:00+01:00")) == at("2026-12-02T08:00:00+01:00")
    assert h.next_opening(at("2026-12-01T07:59:00+01:00")) == at("2026-12-01T08:00:00+01:00")
    assert h.next_opening(at("2026-12-01T10:00:00+01:00")) == at("2026-12-01T10:00:00+01:00")
    # Friday evening: Monday morning.
    assert h.next_opening(at("2026-12-04T18:00:00+01:00")) == at("2026-12-07T08:00:00+01:00")
    whole = weekdays("00:00-24:00")
    assert whole.is_open(at("2026-12-01T23:59:59+01:00")) and whole.is_open(at("2026-12-01T00:00:00+01:00"))


def test_closed_days_and_lunch() -> None:
    h = weekdays("08:30-12:00", "13:00-17:00", closed=(date(2026, 12, 25), date(2026, 12, 28)))
    assert not h.is_open(at("2026-12-01T12:30:00+01:00"))
    assert h.next_opening(at("2026-12-01T12:30:00+01:00")) == at("2026-12-01T13:00:00+01:00")
    assert not h.is_open(at("2026-12-25T10:00:00+01:00"))   # Christmas, a Friday
    # Thursday evening before: past Christmas, the weekend and the closed Monday.
    assert h.next_opening(at("2026-12-24T17:30:00+01:00")) == at("2026-12-29T08:30:00+01:00")
    never = Hours(((),) * 7, frozenset(), always=False)
    assert not never.is_open(at("2026-12-01T10:00:00+01:00"))
    assert never.next_opening(at("2026-12-01T10:00:00+01:00")) is None
    assert Hours().is_open(at("2026-12-25T03:00:00+01:00"))   # no schedule: always open


def test_wall_clock_across_daylight_saving_time() -> None:
    h = weekdays("08:00-17:00")
    # Friday before the spring switch (CET, +01:00) and Monday after it (CEST, +02:00):
    # 08:00 local is 07:00 UTC before and 06:00 UTC after.
    assert h.next_opening(at("2026-03-27T20:00:00+00:00")) == at("2026-03-30T06:00:00+00:00")
    assert h.is_open(at("2026-03-30T06:00:00+00:00")) and not h.is_open(at("2026-03-30T05:59:00+00:00"))
    assert not h.is_open(at("2026-03-30T15:00:00+00:00"))     # 17:00 CEST
    # Autumn: back to CET, 08:00 local is 07:00 UTC again.
    assert h.next_opening(at("2026-10-23T20:00:00+00:00")) == at("2026-10-26T07:00:00+00:00")
    assert not h.is_open(at("2026-10-26T06:30:00+00:00"))     # 07:30 CET
    assert h.is_open(at("2026-10-26T15:59:00+00:00"))         # 16:59 CET


def test_the_switch_nights_themselves() -> None:
    # Sunday 29 March 2026: at 01:00 UTC the clock jumps from 02:00 to 03:00.
    spring = weekdays(sunday=("01:00-04:00",))
    assert spring.next_opening(at("2026-03-28T12:00:00+00:00")) == at("2026-03-29T00:00:00+00:00")
    assert spring.is_open(at("2026-03-29T00:59:00+00:00"))    # 01:59 CET
    assert spring.is_open(at("2026-03-29T01:00:00+00:00"))    # 03:00 CEST
    assert not spring.is_open(at("2026-03-29T02:00:00+00:00"))  # 04:00 CEST: two hours of clock time
    skipped = weekdays(sunday=("02:30-03:30",))                 # 02:30 never happens that night
    assert skipped.next_opening(at("2026-03-28T12:00:00+00:00")) == at("2026-03-29T01:00:00+00:00")
    assert not skipped.is_open(at("2026-03-29T01:30:00+00:00"))  # 03:30 CEST
    # Sunday 25 October 2026: at 01:00 UTC the clock goes back from 03:00 to 02:00.
    autumn = weekdays(sunday=("02:00-03:00",))
    assert autumn.next_opening(at("2026-10-24T12:00:00+00:00")) == at("2026-10-25T00:00:00+00:00")
    assert autumn.is_open(at("2026-10-25T00:30:00+00:00"))    # 02:30 CEST
    assert autumn.is_open(at("2026-10-25T01:30:00+00:00"))    # 02:30 CET: the hour again
    assert not autumn.is_open(at("2026-10-25T02:00:00+00:00"))  # 03:00 CET
