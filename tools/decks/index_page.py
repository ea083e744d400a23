"""The index page of a deck folder: the day's programme (``workshop_utils.agenda.PROGRAM``: the seed deck's PROGRAM
FLOW, Plan A) with a link to each session's deck, then the decks no session names.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path

from tools.decks.export import Deck
from workshop_utils.agenda import PROGRAM, Session, slot_minutes


def notebook_slots(program: Sequence[Session] = PROGRAM) -> dict[str, int]:
    """Minutes per notebook stem in the programme (``workshop_utils.agenda.slot_minutes``).

    Example: ``notebook_slots()["07_resnet"]  # -> 60``
    """
    return {s.notebook: slot_minutes(s.notebook, tuple(program)) for s in program if s.notebook}


def match_agenda(decks: Sequence[Deck], program: Sequence[Session] | None = None) -> dict[int, list[Deck]]:
    """Map each session's index in the programme to the decks of the notebook it names (by file stem).

    ``program`` defaults to ``workshop_utils.agenda.PROGRAM`` (the deck's Plan A). Decks that no session
    names are left out (the index lists them apart). Example: ``match_agenda(decks)  # -> {1: [Deck(...)]}``
    """
    program = PROGRAM if program is None else program
    by_stem = {deck.notebook.stem: deck for deck in decks}
    return {i: [by_stem[s.notebook]] for i, s in enumerate(program) if s.notebook in by_stem}


def _minutes(talk: int | None, hands_on: int | None) -> str:
    parts = []
    if talk:
        parts.append(f"talk {talk} min")
    if hands_on:
        parts.append(f"hands-on {hands_on} min")
    return ", ".join(parts)


def _deck_link(deck: Deck) -> str:
    timing = _minutes(deck.talk_min, deck.hands_on_min)
    timing_html = f' <span class="timing">(notes: {html.escape(timing)})</span>' if timing else ""
    return (
        f'<a href="{html.escape(deck.html_path.name)}">{html.escape(deck.title)}</a>'
        f' <span class="file">{html.escape(deck.notebook.name)}</span>{timing_html}'
    )


def write_index(decks: Sequence[Deck], out_dir: Path, program: Sequence[Session] | None = None) -> Path:
    """Write ``out_dir/index.html``: the programme with each session's deck link, then the other decks.

    Example: ``write_index(result.decks, Path("build/slides"))  # -> Path("build/slides/index.html")``
    """
    program = PROGRAM if program is None else program
    rows = match_agenda(decks, program)
    matched = {id(d) for ds in rows.values() for d in ds}
    lines = []
    for i, session in enumerate(program):
        when = f"{session.start} – {session.end}" if session.end else f"{session.start} –"
        if i in rows:
            links = "<br>".join(_deck_link(d) for d in rows[i])
        elif session.notebook:
            links = f'<span class="missing">{html.escape(session.notebook)}: no deck yet</span>'
        else:
            links = ""
        css = "" if session.notebook else ' class="break"'
        planned = _minutes(session.talk_minutes, session.hands_on_minutes)
        note = f'<br><span class="note">{html.escape(session.note)}</span>' if session.note else ""
        lines.append(
            f"<tr{css}><td>{html.escape(when)}</td><td>{html.escape(session.title)}{note}</td>"
            f"<td>{html.escape(planned)}</td><td>{links}</td></tr>"
        )
    others = [d for d in decks if id(d) not in matched]
    other_html = ""
    if others:
        items = "\n".join(f"<li>{_deck_link(d)}</li>" for d in others)
        other_html = f"<h2>Other decks</h2>\n<ul>\n{items}\n</ul>"
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<link rel="icon" href="data:,">
<title>CNN Architectures workshop: slides</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; color: #222; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ text-align: left; padding: .4rem .6rem; border-bottom: 1px solid #ddd; vertical-align: top; }}
tr.break td {{ color: #888; }}
td:first-child {{ white-space: nowrap; }}
.file, .timing, .missing, .note {{ color: #777; font-size: .9em; }}
kbd {{ border: 1px solid #aaa; border-radius: 3px; padding: 0 .3em; }}
</style>
</head>
<body>
<h1>CNN Architectures: slides</h1>
<p>Program flow (Plan A). Each deck is built from the notebook attendees run. In a deck press
<kbd>s</kbd> for the speaker notes, <kbd>Esc</kbd> for the overview, <kbd>f</kbd> for full screen.</p>
<table>
<thead><tr><th>Time</th><th>Session</th><th>Planned</th><th>Deck</th></tr></thead>
<tbody>
{chr(10).join(lines)}
</tbody>
</table>
{other_html}
</body>
</html>
"""
    index = out_dir / "index.html"
    index.write_text(page, encoding="utf-8")
    return index
