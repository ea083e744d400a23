"""The deck builder behind ``tools/build_slides.py``, one job per module.

* :mod:`tools.decks.transform` -- a notebook as its deck shows it: slide types, tags, timing lines, cell anchors;
* :mod:`tools.decks.assets` -- reveal.js, require.js, jQuery and MathJax from ``tools/slides/node_modules``;
* :mod:`tools.decks.export` -- one deck through nbconvert's reveal.js exporter and the workshop's template;
* :mod:`tools.decks.index_page` -- ``index.html``: the day's programme with a link to each deck.
"""
