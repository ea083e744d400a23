"""The ``shapes10`` cache: ``.npz`` arrays with a ``.json`` sidecar (sha256 checksum, generator fingerprint),
written atomically, checked before use, regenerated (with a warning) when a check fails. See ``data/README.md``.

Example::

    data_cache_dir()  # PosixPath('/work/main/data/cache')
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import warnings
import zipfile
from pathlib import Path

import numpy as np

from workshop_utils.data import shapes10 as generator  # module attribute calls: tests can stand in a generator
from workshop_utils.data.dataset import (
    ENV_DATA_DIR,
    IMAGE_SIZE,
    SHAPES10_VERSION,
)

# --------------------------------------------------------------------------------------------
# shapes10: the cache
# --------------------------------------------------------------------------------------------


def _writable_dir(path: Path) -> bool:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return os.access(path, os.W_OK)


def data_cache_dir() -> Path:
    """Folder where ``shapes10`` arrays are cached.

    ``$WORKSHOP_DATA_DIR`` if set; else ``data/cache/`` in the repository (found from this
    package's location) when writable; else ``~/.cache/cnn-workshop``.

    Example: ``data_cache_dir()  # PosixPath('/work/main/data/cache')``
    """
    configured = os.environ.get(ENV_DATA_DIR)
    if configured:
        return Path(configured).expanduser()
    repo = Path(__file__).resolve().parents[2]  # workshop_utils/data/cache.py -> the repository
    if (repo / "pyproject.toml").is_file() and _writable_dir(repo / "data" / "cache"):
        return repo / "data" / "cache"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache").expanduser() / "cnn-workshop"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fingerprint(seed: int, start: int) -> str:
    """Hash of two freshly generated images: changes whenever the generator's output does."""
    return hashlib.sha256(generator._render(seed, np.arange(start, start + 2, dtype=np.int64)).tobytes()).hexdigest()


def _cache_paths(seed: int, start: int) -> tuple[Path, Path]:
    stem = f"shapes10-v{SHAPES10_VERSION}-seed{seed}-start{start}"
    folder = data_cache_dir()
    return folder / f"{stem}.npz", folder / f"{stem}.json"


def _read_cache(npz: Path, sidecar: Path, seed: int, start: int) -> tuple[np.ndarray, np.ndarray] | None:
    """The cached arrays if present and their checksum matches; ``None`` (with a warning) otherwise."""
    if not npz.exists() and not sidecar.exists():
        return None
    try:
        meta = json.loads(sidecar.read_text())
        if meta.get("sha256") != _sha256(npz):
            raise ValueError("its sha256 checksum does not match the one in its .json sidecar")
        if (meta.get("version"), meta.get("seed"), meta.get("start")) != (SHAPES10_VERSION, seed, start):
            raise ValueError("it was written for another version, seed or split")
        if meta.get("fingerprint") != _fingerprint(seed, start):
            raise ValueError("it was made by a different version of the generator")
        with np.load(npz, allow_pickle=False) as archive:
            x, y = archive["x"], archive["y"]
        if x.dtype != np.uint8 or x.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE, 3) or y.shape != (len(x),):
            raise ValueError(f"unexpected arrays {x.dtype}{x.shape}, {y.dtype}{y.shape}")
    except (
        OSError,
        ValueError,
        KeyError,
        TypeError,
        AttributeError,
        EOFError,
        zipfile.BadZipFile,
    ) as error:
        warnings.warn(f"shapes10 cache {npz} is unusable ({error}); regenerating it", stacklevel=3)
        return None
    return x, y.astype(np.int64, copy=False)


def _write_cache(npz: Path, sidecar: Path, x: np.ndarray, y: np.ndarray, seed: int, start: int) -> None:
    """Write arrays then their sidecar atomically (temp file + rename); warn instead of failing."""
    try:
        npz.parent.mkdir(parents=True, exist_ok=True)
        handle, tmp = tempfile.mkstemp(dir=npz.parent, suffix=".npz.tmp")
        with os.fdopen(handle, "wb") as stream:
            np.savez(stream, x=x, y=y)
        meta = {
            "dataset": "shapes10",
            "version": SHAPES10_VERSION,
            "seed": seed,
            "start": start,
            "n": len(x),
            "sha256": _sha256(Path(tmp)),
            "fingerprint": _fingerprint(seed, start),
            "file": npz.name,
        }
        os.chmod(tmp, 0o644)  # mkstemp makes files private; a cache may be shared
        os.replace(tmp, npz)
        handle, tmp_meta = tempfile.mkstemp(dir=npz.parent, suffix=".json.tmp")
        with os.fdopen(handle, "w") as stream:
            json.dump(meta, stream, indent=1)
        os.chmod(tmp_meta, 0o644)
        os.replace(tmp_meta, sidecar)
    except OSError as error:
        warnings.warn(
            f"could not cache shapes10 in {npz.parent} ({error}); set {ENV_DATA_DIR}",
            stacklevel=3,
        )


def _shapes10_cached(n: int, seed: int, start: int) -> tuple[np.ndarray, np.ndarray]:
    """Images ``start .. start + n - 1`` from the cache, generating (and caching) what is missing."""
    npz, sidecar = _cache_paths(seed, start)
    cached = _read_cache(npz, sidecar, seed, start)
    have = 0 if cached is None else len(cached[0])
    if have >= n:
        return cached[0][:n].copy(), cached[1][:n].copy()
    x_extra, y_extra = generator.make_shapes10(n - have, seed=seed, start=start + have)
    if cached is not None:
        x_extra = np.concatenate([cached[0], x_extra])
        y_extra = np.concatenate([cached[1], y_extra])
    _write_cache(npz, sidecar, x_extra, y_extra, seed, start)
    return x_extra, y_extra
