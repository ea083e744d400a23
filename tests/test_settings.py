"""Run profiles: detection, overrides, bad values, and seeding that makes runs repeatable."""

from __future__ import annotations

import numpy as np
import pytest

from workshop_utils import settings


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("WORKSHOP_PROFILE", "CI"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_environment_variable_overrides_detection(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("WORKSHOP_PROFILE", "GPU")
    assert settings.detect_profile() == "gpu"


def test_unknown_profile_in_environment_says_what_to_use(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("WORKSHOP_PROFILE", "fast")
    with pytest.raises(ValueError, match="ci, cpu, gpu"):
        settings.detect_profile()


@pytest.mark.parametrize("ci_value, expected", [("true", "ci"), ("1", "ci"), ("false", "cpu"), ("0", "cpu")])
def test_ci_variable_selects_ci_profile(clean_env: pytest.MonkeyPatch, ci_value: str, expected: str) -> None:
    clean_env.setattr(settings, "gpu_available", lambda: False)
    clean_env.setenv("CI", ci_value)
    assert settings.detect_profile() == expected


def test_gpu_found_selects_gpu_profile(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setattr(settings, "gpu_available", lambda: True)
    assert settings.detect_profile() == "gpu"


def test_profiles_grow_from_ci_to_gpu_and_ask_only_for_data_that_exists() -> None:
    from workshop_utils.data.dataset import SHAPES10_TEST_SIZE, SHAPES10_TRAIN_SIZE

    ci, cpu, gpu = (settings.get_profile(name) for name in ("ci", "cpu", "gpu"))
    assert ci.train_samples < cpu.train_samples == gpu.train_samples == SHAPES10_TRAIN_SIZE
    assert gpu.test_samples <= SHAPES10_TEST_SIZE and cpu.test_samples <= SHAPES10_TEST_SIZE
    assert ci.epochs * ci.epoch_scale < cpu.epochs * cpu.epoch_scale < gpu.epochs * gpu.epoch_scale
    # the time limit is a safety cap, well above a minute's training: a run it stops is void, so it must not
    # fire on a normal run
    assert cpu.max_train_seconds >= 180
    assert gpu.mixed_precision and not cpu.mixed_precision


def test_get_profile_rejects_unknown_name() -> None:
    with pytest.raises(ValueError, match="Unknown run profile"):
        settings.get_profile("laptop")


def test_describe_names_the_profile_and_how_to_change_it() -> None:
    line = settings.get_profile("cpu").describe()
    assert line.startswith("Run profile: cpu") and "WORKSHOP_PROFILE" in line and "10,000" in line


def test_scaled_changes_only_what_is_asked() -> None:
    cpu = settings.get_profile("cpu")
    longer = cpu.scaled(epochs=cpu.epochs * 2)
    assert longer.epochs == 2 * cpu.epochs and longer.train_samples == cpu.train_samples and longer.name == "cpu"


def test_setup_seeds_numpy_and_keras_repeatably(capsys: pytest.CaptureFixture[str]) -> None:
    import keras

    run = settings.setup(seed=3, profile="ci")
    first = (np.random.rand(3), np.asarray(keras.random.uniform((3,))))
    settings.setup(seed=3, profile="ci", verbose=False)
    second = (np.random.rand(3), np.asarray(keras.random.uniform((3,))))
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])
    assert run.name == "ci"
    assert "Run profile: ci" in capsys.readouterr().out
    assert keras.mixed_precision.global_policy().name == "float32"


def test_setup_rejects_bad_seed() -> None:
    with pytest.raises(ValueError, match="seed"):
        settings.setup(seed=-1, verbose=False)
