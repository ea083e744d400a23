"""The day's programme, from the deck's "Program Flow" (Plan A), and which notebook teaches each part.

One source for the welcome notebook's agenda, the slide index page, and the pacing test: a notebook's *slot* is
the sum of the minutes of the sessions that name it (:func:`slot_minutes`), and the ``Timing:`` lines of its
speaker notes must add up to at most that (``tests/test_pacing.py``).

Example::

    from workshop_utils.agenda import PROGRAM, agenda_markdown, slot_minutes
    print(agenda_markdown())
    slot_minutes("07_resnet")  # -> 60 (theory 13:50-14:20 + implementation 14:30-15:00)
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Session:
    """One slot of the day. ``talk_minutes``/``hands_on_minutes`` are the deck's; 0 where it gives none.

    Example::

        Session("10:00", "10:30", "3x3 vs 11x11", 10, 15, "02_kernel_size_alexnet_vgg")
    """

    start: str
    end: str
    title: str
    talk_minutes: int = 0
    hands_on_minutes: int = 0
    notebook: str | None = None  # file stem in notebooks/, None for breaks and Q&A
    note: str = ""  # where the deck's own numbers disagree, say so here

    @property
    def minutes(self) -> int:
        """Length of the slot from its clock times (the deck's talk + hands-on can be shorter)."""
        if not self.end:
            return 0
        (h1, m1), (h2, m2) = (map(int, t.split(":")) for t in (self.start, self.end))
        return (h2 * 60 + m2) - (h1 * 60 + m1)


# Plan A of the deck, which starts at 10:00 (3x3 vs 11x11). Part 1 (convolution basics) is in the deck's Plan B
# only (15 min talk + 15 min hands-on); the notebooks put it first, 09:30-10:00, as the morning's warm-up /
# pre-work. The welcome (notebook 00) is in neither plan: it gets its own 15 minutes before part 1.
PROGRAM: tuple[Session, ...] = (
    Session("09:15", "09:30", "Welcome: the day, the machine check, the tools", 5, 10, "00_welcome",
            note="not in the deck: 15 min before the notebooks' part 1"),
    Session("09:30", "10:00", "Part 1: convolution basics (pre-work or warm-up)", 15, 15, "01_convolution_basics",
            note="from the deck's Plan B; its Plan A starts at 10:00"),
    Session("10:00", "10:30", "3x3 vs 11x11 (AlexNet vs VGG)", 10, 15, "02_kernel_size_alexnet_vgg"),
    Session("10:30", "11:10", '"1x1 conv" vs "FC" (Inception)', 20, 25, "03_inception_1x1_conv",
            note="the deck gives 20 + 25 = 45 min for this 40-min slot: trim 5 min of hands-on"),
    Session("11:10", "12:00", "Depthwise (separable) conv (MobileNet)", 30, 20, "04_depthwise_mobilenet"),
    Session("12:00", "12:45", "Break"),
    Session("12:45", "13:05", "Channel shuffling (ShuffleNet)", 14, 6, "05_shufflenet",
            note="the deck gives all 20 min to talk and no hands-on; here 14 min talk + 6 min hands-on: "
                 "attendees write channel_shuffle"),
    Session("13:05", "13:50", "SqueezeNet", 20, 25, "06_squeezenet"),
    Session("13:50", "14:20", "Residuals & dense connections in ConvNets", 30, 0, "07_resnet"),
    Session("14:20", "14:30", "Break"),
    Session("14:30", "15:00", "Implementation of ResNet", 0, 30, "07_resnet"),
    Session("15:00", "15:30", "Implementation of DenseNet", 0, 30, "08_densenet"),
    Session("15:30", "15:45", "Extras: FPN, Neural ODE", 15, 0, "09_extras"),
    Session("16:00", "", "Q&A"),
)


def slot_minutes(notebook: str, program: tuple[Session, ...] = PROGRAM) -> int:
    """Minutes the programme gives a notebook (file stem): the sum over the sessions that name it.

    Raises ``KeyError`` when no session names the notebook.

    Example::

        slot_minutes("03_inception_1x1_conv")  # -> 40
    """
    minutes = [session.minutes for session in program if session.notebook == notebook]
    if not minutes:
        named = sorted({s.notebook for s in program if s.notebook})
        raise KeyError(f"no session of the programme names {notebook!r}; sessions name {named} "
                       "(add it to workshop_utils/agenda.py PROGRAM)")
    return sum(minutes)


def agenda_markdown(available: set[str] | None = None) -> str:
    """The programme as a Markdown table; notebooks in ``available`` (file stems) are linked.

    Example::

        agenda_markdown({"01_convolution_basics"})
    """
    lines = ["| time | session | talk | hands-on | notebook |", "|---|---|---|---|---|"]
    for session in PROGRAM:
        when = f"{session.start}–{session.end}" if session.end else f"{session.start}–"
        talk = f"{session.talk_minutes} min" if session.talk_minutes else ""
        hands_on = f"{session.hands_on_minutes} min" if session.hands_on_minutes else ""
        notebook = ""
        if session.notebook:
            exists = available is None or session.notebook in available
            notebook = f"[{session.notebook}]({session.notebook}.ipynb)" if exists else f"{session.notebook} (coming)"
        title = f"{session.title} ({session.note})" if session.note else session.title
        lines.append(f"| {when} | {title} | {talk} | {hands_on} | {notebook} |")
    return "\n".join(lines)
