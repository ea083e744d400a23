"""``python -m workshop_utils doctor``: the pre-workshop check attendees run at home.

Each check returns a :class:`Check` (pass / warn / fail, what was found, and the fix). Every import of a heavy or
optional package happens inside its check, so the doctor still reports when TensorFlow itself is broken.

Example::

    python -m workshop_utils doctor        # prints a table; exit status 1 if any check fails
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import json
import os
import platform
import re
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

PASS, WARN, FAIL = "pass", "warn", "fail"
REPO_ROOT = Path(__file__).resolve().parent.parent
INSTALL_FIX = "run `python3 workshop.py lab` (or `pip install -r requirements.txt`) in the workshop folder"
# The Keras backends the workshop runs on: the package each needs and the requirements file that installs it.
BACKENDS = {
    "tensorflow": ("tensorflow", "requirements.txt"),
    "jax": ("jax", "requirements-jax.txt"),
    "torch": ("torch", "requirements-torch.txt"),
}


@dataclass(frozen=True)
class Check:
    """One line of the doctor's table.

    Example::

        Check("Python", "pass", "3.11.7", "")
    """

    name: str
    status: str
    found: str
    fix: str = ""


def _version(module: str) -> str | None:
    try:
        imported = importlib.import_module(module)
    except Exception:  # any import failure (missing, broken binary) means "not usable"
        return None
    return str(getattr(imported, "__version__", "installed"))


def _major_version(name: str, module: str, major: str, status: str, why: str) -> tuple[str, Check | None]:
    """``module``'s version and ``None`` if it is installed at ``major`` (e.g. "3."); else the failing Check.

    Not installed is a FAIL; another major version gets ``status`` with the fix ``why + INSTALL_FIX``.
    """
    version = _version(module)
    if version is None:
        return "", Check(name, FAIL, "not installed", INSTALL_FIX)
    if not version.startswith(major):
        return version, Check(name, status, version, why + INSTALL_FIX)
    return version, None

def check_python() -> Check:
    """Python 3.11 is tested; 3.10 and 3.12 are expected to work."""
    version = platform.python_version()
    minor = sys.version_info[:2]
    if minor == (3, 11):
        return Check("Python", PASS, version)
    if (3, 10) <= minor <= (3, 12):
        return Check("Python", WARN, version, "tested on 3.11; 3.10/3.12 should work")
    return Check("Python", FAIL, version, "install Python 3.11 (python.org, pyenv or conda) and set up again")


def check_keras() -> Check:
    """Keras 3 importable, and which backend it runs on."""
    version, problem = _major_version("Keras", "keras", "3.", FAIL, "the workshop needs Keras 3: ")
    if problem is not None:
        return problem
    import keras

    return Check("Keras", PASS, f"{version}, backend {keras.config.backend()}")


def configured_backend() -> tuple[str, str]:
    """The Keras backend Keras will load, and where that was said (as Keras decides: variable, then keras.json).

    Example::

        configured_backend()  # ("tensorflow", "the default")
    """
    if os.environ.get("KERAS_BACKEND"):
        return os.environ["KERAS_BACKEND"], "KERAS_BACKEND"
    config = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "keras.json"
    try:
        backend = json.loads(config.read_text()).get("backend")
    except (OSError, ValueError, AttributeError):
        backend = None
    if backend:
        return str(backend), str(config)
    return "tensorflow", "the default"


def _pip_command() -> str:
    """How to call this environment's pip, as the user would type it in the workshop folder."""
    if Path(sys.prefix).resolve() == (REPO_ROOT / ".venv").resolve():
        return r".venv\Scripts\python -m pip" if os.name == "nt" else ".venv/bin/python -m pip"
    return "python -m pip"


def backend_problem() -> tuple[str, str] | None:
    """Why the configured Keras backend cannot load, as (what was found, the fix); None when its package is there.

    Checks only that the backend's package can be found (nothing is imported), so it is instant: ``workshop.py``
    runs it before anything else, and the doctor before every check that imports Keras.

    Example::

        problem = backend_problem()  # ("KERAS_BACKEND=jax, but jax is not installed", "... requirements-jax.txt")
    """
    backend, source = configured_backend()
    said = f"KERAS_BACKEND={backend}" if source == "KERAS_BACKEND" else f"backend {backend!r} ({source})"
    if backend not in BACKENDS:
        where = "unset KERAS_BACKEND" if source == "KERAS_BACKEND" else f"edit {source}"
        return (f"{said} is not a backend the workshop runs on",
                f"{where} (TensorFlow) or set it to jax or torch")
    package, requirements = BACKENDS[backend]
    if importlib.util.find_spec(package) is not None:
        return None
    if backend == "tensorflow":
        return f"TensorFlow is not installed in this environment ({sys.prefix})", INSTALL_FIX
    undo = "unset KERAS_BACKEND" if source == "KERAS_BACKEND" else f"remove the backend line of {source}"
    return (f"{said}, but {package} is not installed in this environment ({sys.prefix})",
            f"`{_pip_command()} install -r {requirements}` in the workshop folder, or {undo} to use TensorFlow")


def backend_message() -> str | None:
    """:func:`backend_problem` as one line for a terminal; None when the backend's package is installed.

    Example::

        python -m workshop_utils check-backend   # prints this and exits 1 when there is a problem
    """
    problem = backend_problem()
    return None if problem is None else f"{problem[0]}. Fix: {problem[1]}."


def check_backend() -> Check:
    """The Keras backend's own package (TensorFlow by default) imports and runs one op."""
    backend, _ = configured_backend()
    problem = backend_problem()
    if problem is not None:
        return Check(f"backend ({backend})", FAIL, *problem)
    version = _version(BACKENDS[backend][0])
    if version is None:
        fix = INSTALL_FIX if backend == "tensorflow" else (
            f"reinstall it: `{_pip_command()} install --force-reinstall -r {BACKENDS[backend][1]}`")
        return Check(f"backend ({backend})", FAIL, "installed but not importable", fix)
    try:
        import keras

        value = float(keras.ops.sum(keras.ops.ones((2, 2))))
        assert value == 4.0
    except Exception as error:  # a broken binary often fails only at the first op
        return Check(f"backend ({backend})", FAIL, f"{version}, first op failed: {error}", INSTALL_FIX)
    return Check(f"backend ({backend})", PASS, version)


def check_gpu() -> Check:
    """A GPU is optional: without one the cpu run profile keeps each training cell near a minute."""
    try:
        from workshop_utils.settings import gpu_available

        found = gpu_available()
    except Exception as error:
        return Check("GPU", WARN, f"could not ask the backend: {error}", "the workshop runs on the CPU")
    if found:
        return Check("GPU", PASS, "found: the gpu run profile will be used")
    return Check(
        "GPU", PASS, "none (fine: the cpu profile is used)",
        "optional, Linux + NVIDIA: pip install 'tensorflow[and-cuda]==2.21.0'",
    )


def check_jupyterlab() -> Check:
    """JupyterLab 4 is what the notebooks and slides are tested with."""
    version, problem = _major_version("JupyterLab", "jupyterlab", "4.", WARN, "tested with JupyterLab 4.6: ")
    return problem or Check("JupyterLab", PASS, version)


def check_widgets() -> Check:
    """ipywidgets and its JupyterLab front end (jupyterlab_widgets); without the latter sliders show as text."""
    widgets = _version("ipywidgets")
    front_end = _version("jupyterlab_widgets")
    if widgets is None:
        return Check("ipywidgets", FAIL, "not installed", INSTALL_FIX)
    if front_end is None:
        return Check("ipywidgets", WARN, f"{widgets}, no JupyterLab front end",
                     "pip install jupyterlab_widgets, then restart JupyterLab")
    return Check("ipywidgets", PASS, f"{widgets} (front end {front_end})")


def check_graphviz() -> Check:
    """``keras.utils.plot_model`` needs pydot and the graphviz ``dot`` program; the notebooks fall back to text."""
    dot = shutil.which("dot")
    pydot = _version("pydot")
    if dot and pydot:
        return Check("graphviz", PASS, f"dot at {dot}, pydot {pydot}")
    missing = ", ".join(name for name, ok in (("graphviz `dot`", dot), ("pydot", pydot)) if not ok)
    return Check(
        "graphviz", WARN, f"missing {missing}: model diagrams are drawn as text",
        "optional: conda install graphviz pydot, or apt/brew install graphviz plus pip install pydot",
    )


def _free_memory_bytes() -> int | None:
    try:
        import psutil

        return int(psutil.virtual_memory().available)
    except Exception:
        pass
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    return None


def check_memory() -> Check:
    """The largest models built (VGG-16 at 224x224) need about 2 GB; 4 GB free is comfortable."""
    free = _free_memory_bytes()
    if free is None:
        return Check("free RAM", WARN, "could not measure", "make sure about 4 GB are free")
    gib = free / 2**30
    if gib >= 4:
        return Check("free RAM", PASS, f"{gib:.1f} GiB")
    status = WARN if gib >= 2 else FAIL
    return Check("free RAM", status, f"{gib:.1f} GiB", "close other programs: about 4 GiB free is needed")


def check_disk() -> Check:
    """The dataset cache and built slides need a few hundred MB."""
    free = shutil.disk_usage(REPO_ROOT).free / 2**30
    if free >= 2:
        return Check("free disk", PASS, f"{free:.1f} GiB")
    return Check("free disk", WARN if free >= 0.5 else FAIL, f"{free:.1f} GiB", "free at least 2 GiB of disk")


def check_dataset() -> Check:
    """Generates (first time) and loads the offline dataset, so nothing needs the network on the day."""
    try:
        from workshop_utils.data import load_dataset

        dataset = load_dataset("shapes10")
    except Exception as error:
        return Check("offline dataset", FAIL, f"{type(error).__name__}: {error}", INSTALL_FIX)
    return Check(
        "offline dataset", PASS,
        f"{dataset.name}: {len(dataset.x_train):,} train / {len(dataset.x_test):,} test images, cached",
    )


def check_profile() -> Check:
    """The run profile the notebooks will use."""
    try:
        from workshop_utils.settings import detect_profile

        return Check("run profile", PASS, detect_profile())
    except ValueError as error:
        return Check("run profile", FAIL, str(error), "unset WORKSHOP_PROFILE or set it to ci, cpu or gpu")


# The backend first: when its package is missing, the checks that import Keras are not run (they would only repeat
# the same failure as "not importable" and "check crashed" lines, each with a fix that does not help).
CHECKS: tuple[Callable[[], Check], ...] = (
    check_python, check_backend, check_keras, check_gpu, check_jupyterlab, check_widgets, check_graphviz,
    check_memory, check_disk, check_dataset, check_profile,
)
NEEDS_KERAS: dict[Callable[[], Check], str] = {
    check_keras: "Keras", check_gpu: "GPU", check_dataset: "offline dataset", check_profile: "run profile",
}


def run_checks(checks: tuple[Callable[[], Check], ...] | None = None) -> list[Check]:
    """Run every check; a check that crashes becomes a failed line instead of stopping the doctor.

    When the Keras backend's package is missing, the checks that import Keras are left out and one line says so.

    Example::

        failed = [c for c in run_checks() if c.status == "fail"]
    """
    checks = CHECKS if checks is None else checks
    results, notes = [], []
    if check_backend in checks and backend_problem() is not None:
        skipped = [check for check in checks if check in NEEDS_KERAS]
        checks = tuple(check for check in checks if check not in NEEDS_KERAS)
        if skipped:
            names = ", ".join(NEEDS_KERAS[check] for check in skipped)
            notes.append(Check("not checked", WARN, f"{names}: they need the backend above"))
    for check in checks:
        try:
            results.append(check())
        except Exception as error:
            results.append(Check(check.__name__.removeprefix("check_"), FAIL, f"check crashed: {error}"))
    return results + notes


def format_table(results: list[Check]) -> str:
    """The results as a fixed-width table.

    Example::

        print(format_table(run_checks()))
    """
    marks = {PASS: "ok  ", WARN: "WARN", FAIL: "FAIL"}
    width = max(len(result.name) for result in results)
    lines = [f"{'':4}  {'check':<{width}}  found"]
    for result in results:
        lines.append(f"{marks[result.status]}  {result.name:<{width}}  {result.found}")
        if result.fix and result.status != PASS:
            lines.append(f"{'':4}  {'':<{width}}  -> {result.fix}")
    failed = sum(result.status == FAIL for result in results)
    warned = sum(result.status == WARN for result in results)
    verdict = "Ready for the workshop." if not failed else "Fix the FAIL lines before the workshop."
    warnings = f"{warned} warning" + ("" if warned == 1 else "s")
    lines.append(f"\n{len(results)} checks: {failed} failed, {warnings}. {verdict}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Print the table; return 1 if any check failed (the process exit status).

    Example::

        raise SystemExit(main())
    """
    with quiet_native_logs():
        results = run_checks()
    print(format_table(results))
    return 1 if any(result.status == FAIL for result in results) else 0


# TensorFlow's C++ start-up lines: absl's notice, glog-style INFO/WARNING lines (oneDNN, CPU features) and the
# continuation line of the CPU-feature notice. TF_CPP_MIN_LOG_LEVEL does not silence them in TensorFlow 2.21 (they
# are written before its logging starts), and turning oneDNN off to drop one of them makes training ~4x slower.
_NATIVE_NOISE = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog\(\) is called"
    r"|[IW]\d{4} [\d:.]+\s+\d+ \S+:\d+\]"
    r"|To enable the following instructions:)"
)


@contextlib.contextmanager
def quiet_native_logs() -> Iterator[None]:
    """Hold back what C/C++ code writes to stderr meanwhile; afterwards pass on all but TensorFlow's start-up lines.

    Errors (``E...`` lines, Python warnings and tracebacks) still reach stderr, once the block has finished.

    Example::

        with quiet_native_logs():
            import tensorflow
    """
    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no file descriptor 2 (some embedded interpreters): nothing to hold back
        yield
        return
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            lines = sink.read().decode("utf-8", errors="replace").splitlines()
            kept = [line for line in lines if not _NATIVE_NOISE.match(line)]
            if kept:
                print("\n".join(kept), file=sys.stderr)
