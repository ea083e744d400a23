"""The doctor: a table of pass/warn/fail with fixes, exit status 1 on a failure, robust to crashing checks."""

from __future__ import annotations

import pytest

from workshop_utils import doctor
from workshop_utils.doctor import FAIL, PASS, WARN, Check


def test_crashing_check_becomes_a_fail_line_not_a_crash() -> None:
    def check_broken() -> Check:
        raise RuntimeError("boom")

    (result,) = doctor.run_checks((check_broken,))
    assert result.status == FAIL and result.name == "broken" and "boom" in result.found


def test_table_shows_fixes_for_problems_only() -> None:
    table = doctor.format_table(
        [Check("A", PASS, "fine", "never shown"), Check("B", WARN, "meh", "do this"),
         Check("C", FAIL, "bad", "do that")]
    )
    assert "never shown" not in table
    assert "-> do this" in table and "-> do that" in table
    assert "3 checks: 1 failed, 1 warning." in table and "Fix the FAIL lines" in table  # singular for one


def test_main_exits_1_on_failure_and_0_otherwise(monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(doctor, "CHECKS", (lambda: Check("x", WARN, "w"),))
    assert doctor.main() == 0
    monkeypatch.setattr(doctor, "CHECKS", (lambda: Check("x", PASS, "p"), lambda: Check("y", FAIL, "f")))
    assert doctor.main() == 1
    assert "FAIL" in capsys.readouterr().out


def test_graphviz_missing_is_a_warning_with_the_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(doctor.shutil, "which", lambda name: None)
    result = doctor.check_graphviz()
    assert result.status == WARN and "dot" in result.found and "graphviz" in result.fix


def test_low_memory_fails_with_advice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(doctor, "_free_memory_bytes", lambda: 1 * 2**30)
    result = doctor.check_memory()
    assert result.status == FAIL and "1.0 GiB" in result.found and "4 GiB" in result.fix


def test_missing_package_fails_with_install_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(doctor, "_version", lambda module: None)
    result = doctor.check_jupyterlab()
    assert result.status == FAIL and "workshop.py" in result.fix


def test_bad_profile_variable_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKSHOP_PROFILE", "turbo")
    result = doctor.check_profile()
    assert result.status == FAIL and "WORKSHOP_PROFILE" in result.fix


def test_this_machine_has_the_core_stack() -> None:
    results = {check.name: check for check in doctor.run_checks((doctor.check_python, doctor.check_keras,
                                                                  doctor.check_backend, doctor.check_jupyterlab))}
    assert all(check.status != FAIL for check in results.values()), results
    assert results["Keras"].found.startswith("3.")


def test_native_start_up_lines_are_held_back_and_errors_passed_on(capfd: pytest.CaptureFixture[str]) -> None:
    import os

    with doctor.quiet_native_logs():
        for line in (
            "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n",
            "I0000 00:00:1796026622.406226    6031 port.cc:153] oneDNN custom operations are on.\n",
            "To enable the following instructions: AVX2 FMA, in other operations, rebuild TensorFlow.\n",
            "E0000 00:00:1796026622.406226    6031 node_def_util.cc:682] a real error\n",
        ):
            os.write(2, line.encode())
    err = capfd.readouterr().err
    assert "absl::InitializeLog" not in err and "oneDNN" not in err and "To enable" not in err
    assert "a real error" in err


def test_doctor_output_has_no_tensorflow_log_lines() -> None:
    import subprocess
    import sys

    env = {key: value for key, value in __import__("os").environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"}
    done = subprocess.run([sys.executable, "-m", "workshop_utils", "doctor"], capture_output=True, text=True, env=env)
    output = done.stdout + done.stderr
    assert "checks:" in done.stdout and done.stdout.lstrip().startswith("check")
    assert "absl::InitializeLog" not in output and "oneDNN" not in output, output[:500]


@pytest.mark.parametrize(("backend", "requirements"),
                         [("jax", "requirements-jax.txt"), ("torch", "requirements-torch.txt")])
def test_missing_backend_names_its_requirements_file_and_nothing_else_fails_for_it(
    monkeypatch: pytest.MonkeyPatch, backend: str, requirements: str
) -> None:
    real_find_spec = doctor.importlib.util.find_spec
    monkeypatch.setattr(doctor.importlib.util, "find_spec",
                        lambda name, *rest: None if name == backend else real_find_spec(name, *rest))
    monkeypatch.setenv("KERAS_BACKEND", backend)
    result = doctor.check_backend()
    assert result.status == FAIL and result.name == f"backend ({backend})"
    assert f"KERAS_BACKEND={backend}" in result.found and f"install -r {requirements}" in result.fix
    assert "unset KERAS_BACKEND" in result.fix
    # the whole table: one FAIL for the backend, no "not importable" Keras line, no crashed profile check
    results = doctor.run_checks((doctor.check_python, doctor.check_backend, doctor.check_keras, doctor.check_gpu,
                                 doctor.check_disk, doctor.check_dataset, doctor.check_profile))
    names = [check.name for check in results]
    assert "Keras" not in names and "run profile" not in names and "offline dataset" not in names
    assert not any("crashed" in check.found for check in results)
    assert [check.name for check in results if check.status == FAIL] == [f"backend ({backend})"]
    assert results[-1].name == "not checked" and "Keras" in results[-1].found
    assert doctor.backend_message() == f"{result.found}. Fix: {result.fix}."


def test_backend_from_keras_json_is_the_one_checked(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "keras.json").write_text('{"backend": "jax", "floatx": "float32"}')
    monkeypatch.delenv("KERAS_BACKEND", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    assert doctor.configured_backend() == ("jax", str(tmp_path / "keras.json"))
    monkeypatch.setenv("KERAS_BACKEND", "torch")  # the variable wins, as in Keras
    assert doctor.configured_backend() == ("torch", "KERAS_BACKEND")


def test_unknown_backend_fails_with_the_names_to_use(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KERAS_BACKEND", "pytorch")
    result = doctor.check_backend()
    assert result.status == FAIL and "pytorch" in result.found and "jax or torch" in result.fix
