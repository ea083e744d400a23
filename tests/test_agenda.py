"""The programme: the deck's Plan A times and minutes, linked to notebooks that exist."""

from __future__ import annotations

from pathlib import Path

import pytest

from workshop_utils.agenda import PROGRAM, Session, agenda_markdown, slot_minutes

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def test_slots_follow_each_other_without_overlap() -> None:
    timed = [session for session in PROGRAM if session.end]
    for earlier, later in zip(timed, timed[1:]):
        assert earlier.end <= later.start, (earlier.title, later.title)


def test_talk_and_hands_on_fit_in_their_slot_or_the_overrun_is_noted() -> None:
    overruns = [s for s in PROGRAM if s.end and s.talk_minutes + s.hands_on_minutes > s.minutes]
    assert [s.title for s in overruns] == ['"1x1 conv" vs "FC" (Inception)']  # the deck's own inconsistency
    assert all("45 min" in s.note for s in overruns)
    assert "trim 5 min" in agenda_markdown()


def test_deck_plan_a_minutes() -> None:
    by_title = {session.title.split(" (")[0]: session for session in PROGRAM}
    assert (by_title["3x3 vs 11x11"].talk_minutes, by_title["3x3 vs 11x11"].hands_on_minutes) == (10, 15)
    assert (by_title["Depthwise"].talk_minutes, by_title["Depthwise"].hands_on_minutes) == (30, 20)
    assert by_title["SqueezeNet"].minutes == 45


def test_markdown_links_only_available_notebooks() -> None:
    table = agenda_markdown({"01_convolution_basics"})
    assert "[01_convolution_basics](01_convolution_basics.ipynb)" in table
    assert "02_kernel_size_alexnet_vgg (coming)" in table
    assert table.count("\n") == len(PROGRAM) + 1


def test_every_existing_section_notebook_is_on_the_agenda() -> None:
    on_agenda = {session.notebook for session in PROGRAM if session.notebook}
    for path in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"):
        if not path.stem.startswith("00_"):
            assert path.stem in on_agenda, f"{path.name} is not in workshop_utils/agenda.py PROGRAM"


def test_welcome_has_its_own_slot_before_plan_a() -> None:
    welcome = [s for s in PROGRAM if s.notebook == "00_welcome"]
    assert [(s.start, s.end, s.minutes) for s in welcome] == [("09:15", "09:30", 15)]
    first_taught = next(s for s in PROGRAM if s.notebook and s.notebook != "00_welcome")
    assert welcome[0].end <= first_taught.start == "09:30"
    assert "09:15–09:30" in agenda_markdown() and "00_welcome" in agenda_markdown()


def test_shufflenet_session_has_the_leads_hands_on_and_says_the_deck_had_none() -> None:
    (shufflenet,) = [s for s in PROGRAM if s.notebook == "05_shufflenet"]
    assert (shufflenet.talk_minutes, shufflenet.hands_on_minutes, shufflenet.minutes) == (14, 6, 20)
    assert "no hands-on" in shufflenet.note and "channel_shuffle" in shufflenet.note


def test_slot_is_the_sum_of_the_sessions_naming_the_notebook() -> None:
    expected = {"00_welcome": 15, "01_convolution_basics": 30, "02_kernel_size_alexnet_vgg": 30,
                "03_inception_1x1_conv": 40, "04_depthwise_mobilenet": 50, "05_shufflenet": 20, "06_squeezenet": 45,
                "07_resnet": 60, "08_densenet": 30, "09_extras": 15}
    assert {stem: slot_minutes(stem) for stem in expected} == expected
    two_sessions = (Session("09:00", "09:20", "a", notebook="x"), Session("10:00", "10:05", "b", notebook="x"))
    assert slot_minutes("x", two_sessions) == 25
    with pytest.raises(KeyError, match="no session of the programme names '99_nothing'"):
        slot_minutes("99_nothing")
