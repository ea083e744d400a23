"""show_widget: one output with the live widget view and a PNG of its default state, and who shows which.

- JupyterLab with the widget manager renders the live widget (checked in a real JupyterLab:
  tests/test_decks_browser.py::test_show_widget_is_live_in_jupyterlab);
- nbconvert's HTML (what nbviewer serves) shows the PNG, as long as the notebook saved no widget state for it;
- the decks show the PNG even when the state was saved (tools/build_slides.py drops the widget view and the state).
"""

from __future__ import annotations

import base64

import matplotlib

matplotlib.use("agg")

import matplotlib.pyplot as plt  # noqa: E402
import nbformat  # noqa: E402
import pytest  # noqa: E402

from tools import build_slides as bs  # noqa: E402 (repo root is on sys.path: root conftest.py)
from workshop_utils.display import WIDGET_VIEW_MIME, figure_png, show_widget, widget_bundle  # noqa: E402

ipywidgets = pytest.importorskip("ipywidgets")
STATE_MIME = "application/vnd.jupyter.widget-state+json"


def _figure():
    figure, axes = plt.subplots(figsize=(2, 1.5))
    axes.plot([0, 1], [0, 1])
    return figure


def _notebook(bundle: dict, saved_state: bool) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("show_widget(slider, figure)")
    cell.outputs = [nbformat.v4.new_output("display_data", data=bundle)]
    nb.cells = [cell]
    if saved_state:  # what `jupyter nbconvert --execute` stores by default (nbclient's store_widget_state=True)
        model = bundle[WIDGET_VIEW_MIME]["model_id"]
        nb.metadata["widgets"] = {STATE_MIME: {"state": {model: {"model_name": "IntSliderModel", "state": {}}},
                                               "version_major": 2, "version_minor": 0}}
    return nb


def _html(nb: nbformat.NotebookNode) -> str:
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter().from_notebook_node(nb)
    return body.split("<body", 1)[1]


def test_bundle_has_widget_view_png_and_text() -> None:
    figure = _figure()
    bundle = widget_bundle(ipywidgets.IntSlider(value=3), figure, alt_text="kernel-size slider")
    assert set(bundle) == {WIDGET_VIEW_MIME, "image/png", "text/plain"}
    assert bundle[WIDGET_VIEW_MIME]["model_id"]
    assert base64.b64decode(bundle["image/png"]).startswith(b"\x89PNG")
    assert bundle["text/plain"] == "kernel-size slider"
    assert not plt.fignum_exists(figure.number), "the figure must be closed, or the notebook draws it twice"


def test_bundle_refuses_what_is_not_a_widget() -> None:
    with pytest.raises(TypeError, match="needs an ipywidgets widget"):
        widget_bundle(_figure(), _figure())


def test_figure_png_is_a_png() -> None:
    assert figure_png(_figure()).startswith(b"\x89PNG")


def test_show_widget_displays_one_raw_bundle(monkeypatch) -> None:
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj, raw=False: shown.append((obj, raw)))
    show_widget(ipywidgets.IntSlider(), _figure())
    assert len(shown) == 1 and shown[0][1] is True and "image/png" in shown[0][0]


def test_nbconvert_html_shows_the_png_when_no_widget_state_is_saved() -> None:
    html = _html(_notebook(widget_bundle(ipywidgets.IntSlider(), _figure()), saved_state=False))
    assert html.count('src="data:image/png') == 1
    assert WIDGET_VIEW_MIME not in html


def test_saved_widget_state_makes_nbconvert_prefer_the_widget_but_not_the_deck() -> None:
    # Why notebooks should be executed with --ExecutePreprocessor.store_widget_state=False: with the state saved,
    # nbconvert (and nbviewer) render the widget view (which needs a CDN and a kernel) instead of the PNG.
    nb = _notebook(widget_bundle(ipywidgets.IntSlider(), _figure()), saved_state=True)
    html = _html(nb)
    assert WIDGET_VIEW_MIME in html and 'src="data:image/png' not in html
    deck = bs.deck_notebook(nb)
    assert "widgets" not in deck["metadata"]
    assert set(deck["cells"][0]["outputs"][0]["data"]) == {"image/png", "text/plain"}
