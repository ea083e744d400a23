"""Show a live widget in JupyterLab and its default-state figure everywhere else (decks, GitHub, nbviewer, nbval).

A widget's stored output is only a reference to a live model: any static view of the notebook shows nothing.
:func:`show_widget` displays one output that carries both the widget view and a PNG of the figure the widget
draws in its default state. JupyterLab, with the widget manager, renders the live widget once the cell has run (its
renderer outranks ``image/png``); a freshly cloned notebook is untrusted, so JupyterLab shows its PNG until then.
Everything without a live kernel falls back to the picture:

- the decks (``tools/build_slides.py`` keeps the PNG and drops the widget view);
- nbconvert's HTML and nbviewer, **provided the notebook saved no widget state** for it: with the state saved
  (``jupyter nbconvert --execute`` does so unless given ``--ExecutePreprocessor.store_widget_state=False``) they
  render the widget view instead. ``tests/test_slides.py`` checks the notebooks for this.

Checked in a real JupyterLab by ``tests/test_decks_browser.py::test_show_widget_is_live_in_jupyterlab`` and for
nbconvert by ``tests/test_display.py``.

Example::

    from workshop_utils.display import show_widget
    show_widget(explorer_widget(), draw_default_figure())
"""

from __future__ import annotations

import base64
import io
from typing import Any

WIDGET_VIEW_MIME = "application/vnd.jupyter.widget-view+json"


def figure_png(figure: Any, dpi: int = 100) -> bytes:
    """The figure as PNG bytes (tight bounding box), closing it so the notebook does not draw it twice.

    Example::

        png = figure_png(plot_layer_macs(cost))
    """
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(figure)
    return buffer.getvalue()


def widget_bundle(widget: Any, figure: Any, alt_text: str = "") -> dict[str, Any]:
    """The mime bundle :func:`show_widget` displays: the widget view, the figure as PNG, and a text line.

    Example::

        bundle = widget_bundle(slider, figure); assert "image/png" in bundle
    """
    if not hasattr(widget, "_repr_mimebundle_"):
        raise TypeError(
            f"show_widget needs an ipywidgets widget (e.g. the result of interactive(...)), got "
            f"{type(widget).__name__}; pass the figure alone to IPython.display.display instead."
        )
    bundle = dict(widget._repr_mimebundle_() or {})
    if WIDGET_VIEW_MIME not in bundle:
        raise RuntimeError("ipywidgets gave no widget view; is ipywidgets >= 8 installed? Run the doctor.")
    bundle["image/png"] = base64.b64encode(figure_png(figure)).decode("ascii")
    bundle["text/plain"] = alt_text or "Interactive widget (static figure of its default state shown here)."
    return bundle


def show_widget(widget: Any, figure: Any, alt_text: str = "") -> None:
    """Display ``widget`` live in JupyterLab, with ``figure`` (its default state) for every static view.

    Args:
        widget: an ipywidgets widget, e.g. ``ipywidgets.interactive(draw, alpha=(0.25, 1.0, 0.25))``.
        figure: a matplotlib figure of the widget's default state; it is closed after being encoded.
        alt_text: the plain-text fallback.

    Example::

        show_widget(interactive(draw, alpha=(0.25, 1.0, 0.25)), draw(alpha=1.0))
    """
    from IPython.display import display

    display(widget_bundle(widget, figure, alt_text), raw=True)
