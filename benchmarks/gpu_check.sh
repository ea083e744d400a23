#!/usr/bin/env bash
# The GPU path, on a lent machine that has JAX (with CUDA) but not TensorFlow: install Keras and this package,
# run every notebook in the `gpu` run profile on the JAX backend, and print each notebook's wall time and the
# accuracies its training cells reported.
#
#     bash benchmarks/gpu_check.sh                 # from the repository root; results in ${OUT:-build/gpu_check}
#     WHEELS=wheels/ bash benchmarks/gpu_check.sh  # offline machine: install from a folder of wheels
#
# Make the wheels folder on a connected machine of the same platform:
#     pip download -d wheels -r <(grep -v -e '^tensorflow' -e playwright -e jupyterlab-rise -e mathjax3 requirements.txt)
#
# Exit status: 0 if every notebook ran, 1 otherwise (the table says which failed and keeps going).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-build/gpu_check}
PYTHON=${PYTHON:-python3}
mkdir -p "$OUT"

# 1. Install: everything in requirements.txt except TensorFlow (JAX is the backend here), the browser-test driver
#    and the slide extensions, which a headless run does not need. JAX itself is left as the machine has it.
grep -v -e '^tensorflow' -e '^playwright' -e '^jupyterlab-rise' -e '^jupyterlab-mathjax3' requirements.txt \
  > "$OUT/requirements-gpu.txt"
if [ -n "${WHEELS:-}" ]; then
  "$PYTHON" -m pip install -q --no-index --find-links "$WHEELS" -r "$OUT/requirements-gpu.txt" || exit 1
else
  "$PYTHON" -m pip install -q -r "$OUT/requirements-gpu.txt" || exit 1
fi
"$PYTHON" -m pip install -q --no-deps --no-build-isolation -e . || exit 1

export KERAS_BACKEND=jax WORKSHOP_PROFILE=gpu MPLBACKEND=Agg PYTEST_CURRENT_TEST=1
"$PYTHON" - <<'PY' || exit 1
import jax, keras
devices = jax.devices()
print(f"Keras {keras.__version__} on {keras.config.backend()}; JAX {jax.__version__}; devices: {devices}")
if not any(d.platform == "gpu" for d in devices):
    raise SystemExit("No GPU visible to JAX: install jax[cuda12] of the pinned version, then run this again.")
PY

# 2. Every notebook, executed in place into $OUT (the committed copies stay untouched).
status=0
printf '%-40s %8s  %s\n' notebook seconds result > "$OUT/summary.txt"
for notebook in notebooks/[0-9][0-9]_*.ipynb; do
  name=$(basename "$notebook")
  started=$(date +%s)
  if "$PYTHON" -m jupyter nbconvert --to notebook --execute --ExecutePreprocessor.timeout=1800 \
       --output-dir "$OUT" "$notebook" > "$OUT/${name%.ipynb}.log" 2>&1; then
    result=ok
  else
    result="FAILED (see $OUT/${name%.ipynb}.log)"
    status=1
  fi
  printf '%-40s %8d  %s\n' "$name" "$(( $(date +%s) - started ))" "$result" >> "$OUT/summary.txt"
done

# 3. The accuracies each training cell reported (train_classifier's final line and summaries), per notebook.
"$PYTHON" - "$OUT" >> "$OUT/summary.txt" <<'PY'
import json, re, sys
from pathlib import Path

pattern = re.compile(r"[^\n]*(?:validation|test) accuracy[^\n]*")
for path in sorted(Path(sys.argv[1]).glob("[0-9][0-9]_*.ipynb")):
    lines = []
    for cell in json.loads(path.read_text())["cells"]:
        for output in cell.get("outputs", []):
            text = output.get("text") or output.get("data", {}).get("text/plain") or ""
            lines += pattern.findall(text if isinstance(text, str) else "".join(text))
    print(f"\n{path.name}:")
    print("\n".join(f"  {line.strip()}" for line in lines) or "  (no accuracy line)")
PY
cat "$OUT/summary.txt"
exit $status
