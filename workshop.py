#!/usr/bin/env python3
"""Set up and run the CNN Architectures workshop with nothing but Python 3.10-3.12 installed.

    python3 workshop.py lab       # set up (first time), check the machine, open JupyterLab on notebooks/
    python3 workshop.py test      # set up (first time), run the unit tests and every notebook (nbval)

More: ``doctor`` (the pre-workshop check), ``slides`` (offline reveal.js decks in build/slides),
``execute NOTEBOOK...`` (re-run notebooks in place to refresh their stored outputs), ``reference [NAME ...]``
(the reference training runs, ``--list`` names them).

Setup makes a virtual environment in ``.venv`` and installs ``requirements.txt`` into it; it is redone only when
requirements.txt or pyproject.toml change. ``--no-venv`` (before or after the command) uses the running Python
instead (an active conda environment, Colab): no ``.venv`` is made and that environment's packages are used.
Only the standard library is used here, because this runs before anything is installed.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP_NAME = "workshop-setup.sha256"
NOTEBOOKS = ROOT / "notebooks"
SUPPORTED = ((3, 10), (3, 12))


def venv_python(env: Path = VENV) -> Path:
    """The interpreter inside the virtual environment (Windows keeps it in Scripts/)."""
    return env / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def requirements_digest() -> str:
    """Hash of the files that decide what gets installed; a change triggers a reinstall."""
    digest = hashlib.sha256()
    for name in ("requirements.txt", "pyproject.toml"):
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()


def run(command: list[str], **kwargs: object) -> None:
    """Run a command, echoing it; stop with its exit status if it fails.

    Ctrl-C reaches the command too (same terminal), which handles it its own way (JupyterLab asks whether to shut
    down): this waits for the command to end, then raises KeyboardInterrupt so that main() says what happened in
    one line instead of a traceback.
    """
    print("+", " ".join(str(part) for part in command), flush=True)
    process = subprocess.Popen([str(part) for part in command], cwd=ROOT, **kwargs)  # type: ignore[arg-type]
    interrupted = False
    while True:
        try:
            returncode = process.wait()
            break
        except KeyboardInterrupt:
            interrupted = True
    if interrupted:
        raise KeyboardInterrupt
    if returncode != 0:
        sys.exit(returncode)


def check_python_version() -> None:
    low, high = SUPPORTED
    if not (low <= sys.version_info[:2] <= high):
        sys.exit(
            f"This is Python {sys.version.split()[0]}; the workshop needs Python {low[0]}.{low[1]} to "
            f"{high[0]}.{high[1]} (TensorFlow 2.21 wheels). Install Python 3.11 and run this again with it, "
            f"e.g. `python3.11 workshop.py lab`, or use conda: `conda env create -f environment.yml`."
        )


def workshop_utils_location(python: Path) -> Path | None:
    """Where ``python`` imports workshop_utils from when started in notebooks/ (as Jupyter's kernel is); None if not."""
    found = subprocess.run(
        [str(python), "-c", "import workshop_utils; print(workshop_utils.__file__)"],
        cwd=NOTEBOOKS, capture_output=True, text=True,
    )
    return Path(found.stdout.strip()).resolve().parent if found.returncode == 0 and found.stdout.strip() else None


def has_working_pip(python: Path) -> bool:
    """Whether the environment's pip runs (an interrupted venv creation can leave python without pip)."""
    return subprocess.run([str(python), "-m", "pip", "--version"], capture_output=True).returncode == 0


def install_this_package(python: Path) -> None:
    """workshop_utils from this folder, editable, into the environment of ``python`` (no dependencies).

    PYTHONWARNINGS=ignore hides setuptools' build-time notice about editable installs (a dozen lines of stars that
    say nothing about this folder); pip's errors still show.
    """
    run([python, "-m", "pip", "install", "-q", "-e", ".", "--no-deps"], env={**os.environ, "PYTHONWARNINGS": "ignore"})


def setup(use_venv: bool = True) -> Path:
    """Create/refresh the environment and return the Python to run everything with.

    ``use_venv=False`` (``--no-venv``): the running Python and its environment as they are (conda, Colab). Nothing is
    installed except this folder's workshop_utils (editable, no dependencies), and only if the environment does not
    already import this copy of it.
    """
    if not use_venv:
        python = Path(sys.executable)
        if workshop_utils_location(python) != ROOT / "workshop_utils":
            install_this_package(python)
        return python
    check_python_version()
    python = venv_python()
    stamp = VENV / STAMP_NAME
    wanted = requirements_digest()
    if python.exists() and stamp.exists() and stamp.read_text().strip() == wanted:
        return python
    if not python.exists() or not has_working_pip(python):
        print(f"Creating the virtual environment in {VENV} ...", flush=True)
        venv.EnvBuilder(with_pip=True, clear=VENV.exists()).create(VENV)
    print("Installing the pinned packages (first time: a few minutes, about 2 GB) ...", flush=True)
    run([python, "-m", "pip", "install", "-q", "--upgrade", "pip"])
    run([python, "-m", "pip", "install", "-q", "-r", "requirements.txt"])
    install_this_package(python)
    stamp.write_text(wanted)
    return python


def check_backend(python: Path) -> None:
    """Stop with one message if the Keras backend asked for (KERAS_BACKEND) is not installed in the environment.

    Without this, JupyterLab opens and every notebook cell fails with ModuleNotFoundError; the message names the
    requirements file to install (requirements-jax.txt, requirements-torch.txt). The check itself lives in
    workshop_utils.doctor (one place), and imports nothing heavy.
    """
    completed = subprocess.run([str(python), "-m", "workshop_utils", "check-backend"], cwd=ROOT)
    if completed.returncode != 0:
        sys.exit(completed.returncode)


def quiet_tensorflow_env(**extra: str) -> dict[str, str]:
    """Environment for child processes: TensorFlow's C++ INFO lines hidden (warnings and errors still show)."""
    return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "1", **extra}


def command_lab(python: Path, args: argparse.Namespace) -> None:
    subprocess.run([str(python), "-m", "workshop_utils", "doctor"], cwd=ROOT, env=quiet_tensorflow_env())
    # Jupyter refuses to start as root unless told; containers and some classroom machines run as root.
    as_root = ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
    # `-m jupyterlab`, not `-m jupyter lab`: the latter looks for a jupyter-lab script on PATH, which an environment
    # used with --no-venv need not put there; this runs the given Python's own JupyterLab.
    run([python, "-m", "jupyterlab", f"--notebook-dir={NOTEBOOKS}", *as_root, *args.extra],
        env=quiet_tensorflow_env())


def command_test(python: Path, args: argparse.Namespace) -> None:
    # One pytest run over the unit tests and every notebook, so one summary line says what passed.
    # The ci run profile keeps each notebook's training cells to a few steps.
    # Paths among the extra arguments narrow the run (e.g. one notebook); other arguments go to pytest as is.
    env = quiet_tensorflow_env(WORKSHOP_PROFILE=os.environ.get("WORKSHOP_PROFILE", "ci"), MPLBACKEND="Agg")
    paths = [arg for arg in args.extra if not arg.startswith("-") and (ROOT / arg.split("::")[0]).exists()]
    options = [arg for arg in args.extra if arg not in paths]
    run(
        [python, "-m", "pytest", *(paths or ["tests", "notebooks"]), "--nbval-lax", "--nbval-current-env",
         "--nbval-sanitize-with", "tests/nbval_sanitize.cfg", "--nbval-cell-timeout=600",
         "-p", "no:cacheprovider", "--durations=15", *options],
        env=env,
    )


def command_doctor(python: Path, args: argparse.Namespace) -> None:
    run([python, "-m", "workshop_utils", "doctor"], env=quiet_tensorflow_env())


def command_slides(python: Path, args: argparse.Namespace) -> None:
    run([python, "tools/build_slides.py", *args.extra])


def command_execute(python: Path, args: argparse.Namespace) -> None:
    # PYTEST_CURRENT_TEST makes ipykernel stop capturing C-level stderr, so TensorFlow's import noise is not
    # stored in the notebook; WORKSHOP_PROFILE stays as the caller set it (cpu on a laptop) for real outputs.
    notebooks = args.extra or [str(path.relative_to(ROOT)) for path in sorted(NOTEBOOKS.glob("*.ipynb"))]
    wrong = [arg for arg in notebooks if not (arg.endswith(".ipynb") and Path(arg).is_file())]
    if wrong:  # e.g. --help: nbconvert would take it for a file name and fail deep in a traceback
        sys.exit(f"usage: python3 workshop.py execute [NOTEBOOK.ipynb ...] (default: every notebook in notebooks/); "
                 f"not a notebook file: {' '.join(wrong)}")
    profile = os.environ.get("WORKSHOP_PROFILE", "cpu")
    env = quiet_tensorflow_env(PYTEST_CURRENT_TEST="1", WORKSHOP_PROFILE=profile)
    for notebook in notebooks:
        run([python, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute", "--inplace",
             "--ExecutePreprocessor.timeout=900", notebook], env=env)
        # Drop the saved widget state: with it, nbviewer/GitHub draw an empty widget instead of show_widget's PNG.
        # (nbclient's store_widget_state=False would do it, but it crashes on ipywidgets.interactive outputs.)
        run([python, "tools/nbbuild.py", "strip-widget-state", notebook])
        # One output per cell's printed text, as JupyterLab shows it (per-print chunks each become a block on a slide).
        run([python, "tools/nbbuild.py", "coalesce-streams", notebook])


def command_reference(python: Path, args: argparse.Namespace) -> None:
    # The reference training runs (workshop_utils.reference_runs): NAME ... picks runs, --seeds N, --list names
    # them. Same environment as `execute`: real outputs, so the cpu profile unless WORKSHOP_PROFILE says otherwise.
    env = quiet_tensorflow_env(WORKSHOP_PROFILE=os.environ.get("WORKSHOP_PROFILE", "cpu"))
    run([python, "-m", "workshop_utils.reference_runs", *args.extra], env=env)


COMMANDS = {
    "lab": (command_lab, "set up and open JupyterLab on notebooks/"),
    "test": (command_test, "set up and run every test: unit tests and nbval over every notebook"),
    "doctor": (command_doctor, "check this machine for the workshop"),
    "slides": (command_slides, "build offline reveal.js decks into build/slides"),
    "execute": (command_execute, "re-run notebooks in place to refresh stored outputs (default: all)"),
    "reference": (command_reference, "reference training runs: [NAME ...] [--seeds N] [--list]"),
}
# Commands that run Keras code and so need the Keras backend installed; doctor reports it in its own table.
NEEDS_BACKEND = ("lab", "test", "execute", "reference")
NO_VENV = "--no-venv"
INTERRUPTED_SETUP = (
    "\nSetup was interrupted. Nothing is broken: run the same command again and setup picks up where it stopped."
)


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The command, --no-venv wherever it is typed (it is never passed on to pytest or Jupyter), and the rest."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("command", choices=COMMANDS, help="; ".join(f"{k}: {v[1]}" for k, v in COMMANDS.items()))
    parser.add_argument(NO_VENV, action="store_true",
                        help="use the active environment (conda, Colab) instead of .venv; before or after the command")
    parser.add_argument("extra", nargs=argparse.REMAINDER, help="passed on (pytest args, notebook paths, ...)")
    args = parser.parse_args([arg for arg in argv if arg != NO_VENV])
    args.no_venv = NO_VENV in argv
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        python = setup(use_venv=not args.no_venv)
    except KeyboardInterrupt:
        print(INTERRUPTED_SETUP, file=sys.stderr)
        sys.exit(130)
    try:
        if args.command in NEEDS_BACKEND:
            check_backend(python)
        COMMANDS[args.command][0](python, args)
    except KeyboardInterrupt:
        print(f"\nStopped (Ctrl-C): workshop.py {args.command}.", file=sys.stderr)
        sys.exit(130)


if __name__ == "__main__":
    main()
