"""workshop.py, the quick-start script: standard library only, reinstall on requirement changes, test narrowing,
--no-venv in an active environment, the backend check before anything else, Ctrl-C during setup."""

from __future__ import annotations

import ast
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import time
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import workshop  # noqa: E402


def test_uses_only_the_standard_library() -> None:
    tree = ast.parse((ROOT / "workshop.py").read_text())
    nodes = list(ast.walk(tree))
    imported = {alias.name.split(".")[0] for node in nodes if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module.split(".")[0] for node in nodes if isinstance(node, ast.ImportFrom) and node.module}
    assert imported <= set(sys.stdlib_module_names) | {"__future__"}, imported - set(sys.stdlib_module_names)


def test_digest_follows_requirements(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("requirements.txt", "pyproject.toml"):
        (tmp_path / name).write_text((ROOT / name).read_text())
    monkeypatch.setattr(workshop, "ROOT", tmp_path)
    before = workshop.requirements_digest()
    (tmp_path / "requirements.txt").write_text("numpy==2.4.6\n")
    assert workshop.requirements_digest() != before


def test_venv_python_location() -> None:
    python = workshop.venv_python(Path("env"))
    assert python.parts[-2:] in (("bin", "python"), ("Scripts", "python.exe"))


def test_test_command_narrows_to_given_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []
    monkeypatch.setattr(workshop, "run", lambda command, **kwargs: calls.append([str(c) for c in command]))
    args = workshop.argparse.Namespace(extra=["tests/test_agenda.py", "-k", "slots"])
    workshop.command_test(Path("python"), args)
    (command,) = calls
    assert "tests/test_agenda.py" in command and "notebooks" not in command
    assert command[-2:] == ["-k", "slots"] and "--nbval-lax" in command


def test_unsupported_python_gets_a_clear_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workshop.sys, "version_info", (3, 9, 0))
    with pytest.raises(SystemExit, match="Install Python 3.11"):
        workshop.check_python_version()


def test_help_lists_both_quick_start_commands() -> None:
    out = subprocess.run([sys.executable, str(ROOT / "workshop.py"), "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "lab" in out.stdout and "test" in out.stdout


@pytest.mark.parametrize("argv", [
    ["lab", "--no-venv"], ["--no-venv", "lab"],
    ["test", "--no-venv", "tests/test_agenda.py", "-k", "slots"],
    ["--no-venv", "test", "tests/test_agenda.py", "-k", "slots"],
    ["test", "tests/test_agenda.py", "--no-venv", "-k", "slots"],
])
def test_no_venv_is_taken_wherever_it_is_typed_and_never_passed_on(argv: list[str]) -> None:
    args = workshop.parse_args(argv)
    assert args.no_venv is True and "--no-venv" not in args.extra
    assert args.extra in ([], ["tests/test_agenda.py", "-k", "slots"])


def test_without_the_flag_setup_uses_the_venv(monkeypatch: pytest.MonkeyPatch) -> None:
    used: list[bool] = []
    monkeypatch.setattr(workshop, "setup", lambda use_venv=True: used.append(use_venv) or Path("python"))
    monkeypatch.setattr(workshop, "check_backend", lambda python: None)
    monkeypatch.setattr(workshop, "COMMANDS", {**workshop.COMMANDS, "lab": (lambda python, args: None, "")})
    workshop.main(["lab"])
    workshop.main(["lab", "--no-venv"])
    assert used == [True, False]


def test_reference_command_runs_the_reference_module_in_the_cpu_profile(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[list[str], dict[str, str]]] = []
    monkeypatch.setattr(workshop, "run",
                        lambda command, **kwargs: calls.append(([str(c) for c in command], kwargs["env"])))
    monkeypatch.delenv("WORKSHOP_PROFILE", raising=False)
    args = workshop.parse_args(["reference", "resnet20", "--seeds", "3"])
    workshop.COMMANDS[args.command][0](Path("python"), args)
    ((command, env),) = calls
    assert command == ["python", "-m", "workshop_utils.reference_runs", "resnet20", "--seeds", "3"]
    assert env["WORKSHOP_PROFILE"] == "cpu" and env["TF_CPP_MIN_LOG_LEVEL"] == "1"
    assert workshop.parse_args(["reference", "--list"]).extra == ["--list"]


def _site_packages(env: Path) -> Path:
    """The site-packages folder of a virtual environment made by this Python."""
    relative = Path(sysconfig.get_path("purelib")).relative_to(sys.prefix)
    return env / relative


def _repo_copy(target: Path) -> Path:
    """The files workshop.py's setup and test command need, copied (no .venv, no notebooks)."""
    target.mkdir()
    for name in ("workshop.py", "pyproject.toml", "requirements.txt", "README.md", "conftest.py"):
        shutil.copy2(ROOT / name, target / name)
    shutil.copytree(ROOT / "workshop_utils", target / "workshop_utils",
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    (target / "tests").mkdir()
    (target / "notebooks").mkdir()
    shutil.copy2(ROOT / "tests" / "nbval_sanitize.cfg", target / "tests" / "nbval_sanitize.cfg")
    return target


def _active_environment(path: Path, *extra_paths: Path) -> tuple[Path, dict[str, str]]:
    """A plain virtual environment (as conda would be), activated: its python and the environment variables.

    It has no packages of its own; a .pth file lends it the folders given (e.g. this .venv's site-packages).
    """
    venv.EnvBuilder(with_pip=False).create(path)
    python = workshop.venv_python(path)
    site = _site_packages(path)
    site.mkdir(parents=True, exist_ok=True)
    (site / "lent.pth").write_text("".join(f"{folder}\n" for folder in extra_paths))
    env = {key: value for key, value in os.environ.items()
           if key not in ("PYTHONPATH", "KERAS_BACKEND", "WORKSHOP_PROFILE", "PYTEST_CURRENT_TEST")}
    env.update(VIRTUAL_ENV=str(path), PATH=f"{python.parent}{os.pathsep}{env.get('PATH', '')}")
    return python, env


def test_no_venv_test_command_runs_in_the_active_environment_and_makes_no_venv(tmp_path: Path) -> None:
    """The README's conda route, `python workshop.py test --no-venv` (flag after the command), for real."""
    repo = _repo_copy(tmp_path / "repo")
    (repo / "tests" / "test_probe.py").write_text(
        "import sys, workshop_utils\n"
        "def test_where_it_runs():\n"
        "    print('PREFIX=' + sys.prefix)\n"
        "    print('UTILS=' + workshop_utils.__file__)\n"
    )
    lent = Path(sysconfig.get_path("purelib"))  # this environment's packages: pytest, nbval, keras, ...
    python, env = _active_environment(tmp_path / "env", lent)
    done = subprocess.run([str(python), "workshop.py", "test", "--no-venv", "tests/test_probe.py", "-s"],
                          cwd=repo, env=env, capture_output=True, text=True, timeout=300)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    assert not (repo / ".venv").exists(), "--no-venv must not create .venv"
    assert "1 passed" in output and "unrecognized arguments" not in output
    assert f"PREFIX={tmp_path / 'env'}" in output  # the active environment's Python ran the tests
    assert f"UTILS={repo / 'workshop_utils'}" in output  # and imported this folder's workshop_utils
    # setup installed this folder's workshop_utils into the active environment (so Jupyter's kernel finds it)
    found = subprocess.run([str(python), "-c", "import workshop_utils; print(workshop_utils.__file__)"],
                           cwd=repo / "notebooks", env=env, capture_output=True, text=True)
    assert found.stdout.strip() == str(repo / "workshop_utils" / "__init__.py"), found.stderr


def test_no_venv_lab_command_runs_the_active_environments_jupyterlab(tmp_path: Path) -> None:
    """`python workshop.py lab --no-venv`: doctor, then JupyterLab of the active environment (asked for its version
    here, so that it exits instead of serving); --no-venv reaches neither, and no .venv is made."""
    repo = _repo_copy(tmp_path / "repo")
    python, env = _active_environment(tmp_path / "env", Path(sysconfig.get_path("purelib")))
    env["WORKSHOP_DATA_DIR"] = str(ROOT / "data" / "cache")  # the doctor's dataset check reuses the cached data
    done = subprocess.run([str(python), "workshop.py", "lab", "--no-venv", "--version"],
                          cwd=repo, env=env, capture_output=True, text=True, timeout=300)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    assert not (repo / ".venv").exists()
    assert "checks:" in done.stdout  # the doctor ran first
    launch = next(line for line in done.stdout.splitlines() if "-m jupyterlab" in line)
    assert launch.startswith(f"+ {python} ") and "--no-venv" not in launch and "--version" in launch
    import jupyterlab

    assert done.stdout.strip().splitlines()[-1] == jupyterlab.__version__


@pytest.mark.parametrize(("backend", "requirements"),
                         [("jax", "requirements-jax.txt"), ("torch", "requirements-torch.txt")])
def test_missing_backend_stops_test_before_pytest_with_one_message(tmp_path: Path, backend: str,
                                                                   requirements: str) -> None:
    repo = _repo_copy(tmp_path / "repo")
    # An active environment that has this folder's workshop_utils but no packages at all (no jax, no torch).
    python, env = _active_environment(tmp_path / "env", repo)
    env["KERAS_BACKEND"] = backend
    done = subprocess.run([str(python), "workshop.py", "test", "--no-venv"], cwd=repo, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert "pytest" not in done.stdout, done.stdout  # stopped before the test run
    message = done.stderr.strip()
    assert len(message.splitlines()) == 1, message
    assert f"KERAS_BACKEND={backend}" in message and f"install -r {requirements}" in message
    assert "Traceback" not in message


def test_unknown_backend_name_is_refused_with_the_choices(tmp_path: Path) -> None:
    env = {**os.environ, "KERAS_BACKEND": "tensorfow"}
    done = subprocess.run([sys.executable, "-m", "workshop_utils", "check-backend"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "tensorfow" in done.stderr and "jax or torch" in done.stderr


def test_ctrl_c_during_first_setup_says_so_in_one_line(tmp_path: Path) -> None:
    repo = _repo_copy(tmp_path / "repo")
    # As from a terminal: SIGINT at its default. (A shell's background job, as CI may run this, starts with SIGINT
    # ignored, and Python then never raises KeyboardInterrupt.)
    process = subprocess.Popen([sys.executable, "workshop.py", "doctor"], cwd=repo, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    assert process.stdout is not None
    first = process.stdout.readline()  # printed just before the venv (and its pip) is made: seconds of work
    assert "Creating the virtual environment" in first, first
    time.sleep(0.5)
    os.killpg(process.pid, signal.SIGINT)  # Ctrl-C reaches the whole foreground process group
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, (out, err)
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert "Setup was interrupted" in err and "run the same command again" in err


def test_setup_recreates_a_venv_whose_pip_is_broken(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What re-running after an interrupted venv creation meets: python there, pip not."""
    env = tmp_path / ".venv"
    venv.EnvBuilder(with_pip=False).create(env)
    for name in ("requirements.txt", "pyproject.toml"):
        (tmp_path / name).write_text((ROOT / name).read_text())
    monkeypatch.setattr(workshop, "ROOT", tmp_path)
    monkeypatch.setattr(workshop, "VENV", env)
    monkeypatch.setattr(workshop.venv_python, "__defaults__", (env,))
    created: list[bool] = []

    class Builder:
        def __init__(self, with_pip: bool, clear: bool) -> None:
            created.append(clear)

        def create(self, path: Path) -> None:
            raise KeyboardInterrupt  # stop here: the rest is pip installing 2 GB

    monkeypatch.setattr(workshop.venv, "EnvBuilder", Builder)
    with pytest.raises(KeyboardInterrupt):
        workshop.setup()
    assert created == [True]  # pip missing: made again from scratch


@pytest.mark.parametrize("argument", ["--help", "notebooks/no_such_notebook.ipynb", "README.md"])
def test_execute_refuses_what_is_not_a_notebook_before_running_anything(argument: str,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []
    monkeypatch.setattr(workshop, "run", lambda command, **kwargs: calls.append(command))
    with pytest.raises(SystemExit, match=f"not a notebook file: {argument}"):
        workshop.command_execute(Path(sys.executable), workshop.parse_args(["execute", argument]))
    assert calls == []
