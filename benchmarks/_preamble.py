"""What every benchmark script does first: ``import _preamble`` before any other import but ``__future__``.

Three things, before Keras loads its backend:

* puts the repository root on ``sys.path``, so ``workshop_utils`` imports from a checkout without
  ``pip install -e .`` (a GPU machine that was handed the tree, ``python benchmarks/bench_x.py`` from anywhere);
* sets ``TF_CPP_MIN_LOG_LEVEL=2`` (unless already set): TensorFlow's C++ INFO and WARNING lines are hidden,
  errors still show;
* imports TensorFlow with its start-up lines dropped, when TensorFlow is the backend (``KERAS_BACKEND`` unset or
  ``tensorflow``) and is installed. TensorFlow 2.19+ writes them before its logging reads ``TF_CPP_MIN_LOG_LEVEL``
  (tensorflow/tensorflow#100442), so the variable alone does not hide them: ``WARNING: All log messages before
  absl::InitializeLog() is called ...`` and ``I0000 ... port.cc:153] oneDNN custom operations are on ...``, twice.
  Any other line written during the import (an error, a Python warning) is written back to stderr.

Nothing here changes what a benchmark measures: oneDNN stays on (turning it off makes training about 4x slower),
and the scripts start their timers after their imports.

Example (the first lines of a benchmark script)::

    from __future__ import annotations

    import _preamble  # noqa: F401 (first: quiets TensorFlow, puts the repository on sys.path)
    import argparse
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
#: A glog/absl line of severity INFO or WARNING (``I0000 00:00:1796436212.753677   22297 port.cc:153] ...``), or
#: the line absl prints before its first message when logging is not initialised yet.
STARTUP_NOISE = re.compile(r"^(?:[IW]\d{4} \d\d:\d\d:\d+\.\d+ +\d+ [\w./-]+:\d+\] |WARNING: All log messages before "
                           r"absl::InitializeLog\(\) is called)")


def is_startup_noise(line: str) -> bool:
    """Whether a line TensorFlow wrote to stderr during its import is start-up information (dropped) or not (kept).

    Example: ``is_startup_noise("I0000 00:00:17.7 22297 port.cc:153] oneDNN custom operations are on.")  # True``
    """
    return STARTUP_NOISE.match(line) is not None


def import_tensorflow_quietly() -> None:
    """Import TensorFlow with file descriptor 2 sent to a temporary file, then write back what is not start-up noise.

    Does nothing when TensorFlow is already imported, not installed, or not the Keras backend, or when
    ``TF_CPP_MIN_LOG_LEVEL`` asks for INFO lines (0 or 1). If the import fails, everything it wrote goes back to
    stderr before the error propagates.
    Example: ``import_tensorflow_quietly()  # TensorFlow loaded, no oneDNN line printed``
    """
    if "tensorflow" in sys.modules or os.environ.get("KERAS_BACKEND", "tensorflow") != "tensorflow":
        return
    if os.environ.get("TF_CPP_MIN_LOG_LEVEL", "0") in ("0", "1") or importlib.util.find_spec("tensorflow") is None:
        return
    failed = True
    with tempfile.TemporaryFile(mode="w+b") as captured:
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(captured.fileno(), 2)
        try:
            import tensorflow  # noqa: F401 (loads the C++ runtime now, while its log goes to the file)

            failed = False
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            lines = captured.read().decode("utf-8", errors="replace").splitlines(keepends=True)
            kept = lines if failed else [line for line in lines if not is_startup_noise(line)]
            sys.stderr.write("".join(kept))
            sys.stderr.flush()


if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import_tensorflow_quietly()
