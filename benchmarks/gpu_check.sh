#!/usr/bin/env bash
# The GPU path, on a lent machine that has JAX (with CUDA) but not TensorFlow, Keras or Jupyter: in one call,
# about 8 minutes of wall time ($TOTAL_S) on a 16-core machine with one big GPU,
#
#   1. install Keras, nbclient/ipykernel/ipywidgets and the rest from a folder of wheels (no network) into $SITE,
#      and put $SITE and this repository on PYTHONPATH (`workshop_utils` imports without `pip install -e`);
#   2. print the versions and the devices, and stop at once if JAX sees no GPU;
#   3. run $GPU_NOTEBOOKS in the `gpu` run profile and every notebook in the `ci` profile on the JAX backend, in one
#      pool of $JOBS at a time (the gpu-profile runs first, then the ci ones longest first), until the notebooks'
#      deadline, $TOTAL_S - $BENCH_S after the start;
#   4. run benchmarks/bench_gpu_training.py alone on the machine in the time left (training images/s and TFLOP/s of
#      notebook 02's pair and ResNet-50 against the GPU's own matmul ceiling: batch, data placement, dtype, jit);
#   5. write summary.txt and print it: per notebook, only what this run executed (the accuracy and images/s lines
#      its training cells printed, where it stopped, which cells did not run, its slowest cells), the benchmark's
#      table, then the table of notebook runs (profile, seconds, ok / FAILED / timed out and where).
#
# Time plan (seconds after the start, from the first run on an H200: ci notebooks took 23-239 s each 5-6 at a
# time, mostly XLA compilation; the ci phase alone took ~270 s; 07 in the gpu profile did 6 of its code cells in
# 170 s): ~20 set-up; 20-350 the notebooks, 8 at a time (16 cores); 350-480 the benchmark, which starts no new
# setting after 480 - 40 and is killed at 490. Not yet run in this form on a GPU: adjust TOTAL_S, BENCH_S, JOBS.
#
#     WHEELS=.whl bash benchmarks/gpu_check.sh      # from the repository root; results in ${OUT:-build/gpu_check}
#     bash benchmarks/gpu_check.sh                  # Keras and nbclient already importable: nothing installed
#     bash benchmarks/gpu_check.sh --summarize DIR  # only rebuild the summary from a work folder (DIR/results, nb, logs)
#     bash benchmarks/gpu_check.sh --write-helpers DIR  # write the nbclient driver and the summary script (tests)
#
# Make the wheels folder here, for the machine's Python 3.12 (only what that machine lacks: never numpy, jax,
# jaxlib, ml-dtypes or scipy, which must not be shadowed; one version of each package):
#     echo /.whl/ >> .git/info/exclude
#     python3 -m pip download --only-binary=:all: --python-version 3.12 --implementation cp --abi cp312 \
#       --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
#       --platform any -d /tmp/whl_all keras==3.15.1 nbconvert==7.17.2 nbclient==0.11.0 ipykernel==7.4.0 \
#       ipywidgets==8.1.9 pydot==4.0.1
#   then copy into .whl/ the wheels of the packages the machine does not have (its list: the device's KINDS.md).
#
# Notebooks run through nbclient (a small driver below, so no `jupyter` console script is needed) with the
# kernel `python3` = this interpreter. A notebook still running at its deadline is stopped, its kernel shut down,
# and it is reported as "timed out" with the cells it finished; that is not a failure of the check.
# $OUT gets at most three files: summary.txt, console.log and gpu_check.tar.gz (executed notebooks, logs, results).
#
# Only this run's outputs are reported: the driver clears every code cell's stored outputs before executing and
# records in the executed copy's metadata ("gpu_check") the cells nbclient started and finished; the summary quotes
# only those and names the cells that did not run.
#
# Settings (environment): PYTHON (python3), SITE (/tmp/site), WORK (/tmp/gpu_check_work), TOTAL_S (480: everything
# ends by then), BENCH_S (130: kept at the end for the benchmark; the notebooks end by TOTAL_S - BENCH_S),
# BENCH_MARGIN_S (40: the benchmark starts no new setting in its last 40 s), NB_TIMEOUT_S (300: one ci notebook
# at most), JOBS (8 notebook runs at a time), GPU_NOTEBOOKS ("02_kernel_size_alexnet_vgg 07_resnet"; "" for none).
# For a smoke test of the script itself on a machine without a GPU: ALLOW_CPU=1 (go on without a GPU),
# CI_NOTEBOOKS ("00_welcome": only these in the ci profile; default every notebook), BENCH_ARGS ("--quick").
#
# Exit status: 0 if no notebook FAILED (timed out is not a failure) and the benchmark did not fail, 1 otherwise or
# when set-up fails.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
REPO=$PWD
PYTHON=${PYTHON:-python3}
WORK=${WORK:-/tmp/gpu_check_work}

# The summary: one row per notebook run, then what each one's training cells printed. Also run on its own.
write_summary_py() {
  cat > "$1" <<'PY'
"""Summary of a gpu_check work folder: results/*.tsv rows, nb/<name>.<profile>.ipynb executed copies, logs/."""
import json
import re
import sys
from datetime import datetime
from pathlib import Path

work = Path(sys.argv[1])
PATTERN = re.compile(r"(?:validation|test) accuracy|images/s")
RATE = re.compile(r"\d[\d,.]*\s*images/s")  # a measured rate, not a table header
ANSI = re.compile(r"\x1b\[[0-9;]*m")
MAX_LINES = 14


def text_of(output):
    text = output.get("text") or output.get("data", {}).get("text/plain") or ""
    return text if isinstance(text, str) else "".join(text)


def ran_in_this_run(notebook):
    """(code cells, cells this run started, cells it finished), from the driver's record; None without one.

    The driver clears every code cell's outputs before executing and records each cell nbclient starts and
    finishes, so a notebook stopped at cell 12 cannot pass off the stored outputs of cells 13+ as this run's."""
    record = notebook.get("metadata", {}).get("gpu_check")
    if not isinstance(record, dict) or "code_cells" not in record:
        return None
    return (list(record.get("code_cells", [])), set(record.get("started", [])), set(record.get("finished", [])))


def spans(indices):
    """[3, 4, 5, 9] -> '#3-5, #9'."""
    parts, indices = [], sorted(indices)
    start = previous = None
    for index in indices + [None]:
        if start is not None and (index is None or index != previous + 1):
            parts.append(f"#{start}" if start == previous else f"#{start}-{previous}")
            start = None
        if index is not None and start is None:
            start = index
        previous = index
    return ", ".join(parts)


def reported_lines(notebook, cells):
    lines, seen = [], set()
    for index, cell in enumerate(notebook.get("cells", [])):
        if index not in cells:
            continue
        for output in cell.get("outputs", []):
            block = text_of(output).splitlines()
            index = 0
            while index < len(block):
                line = block[index].rstrip()
                take = []
                if PATTERN.search(line):
                    take.append(line)
                    if "images/s" in line and not RATE.search(line):  # a table's header: keep its rows too
                        while index + 1 < len(block) and block[index + 1].strip() and len(take) < 16:
                            index += 1
                            take.append(block[index].rstrip())
                for item in take:
                    if item.strip() and item not in seen:
                        seen.add(item)
                        lines.append(item)
                index += 1
    return lines


def when(stamp):
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def slowest_cells(notebook, cells, count=3):
    timed = []
    for index, cell in enumerate(notebook.get("cells", [])):
        if index not in cells:
            continue
        execution = cell.get("metadata", {}).get("execution", {})
        start = execution.get("iopub.execute_input") or execution.get("shell.execute_reply.started")
        end = execution.get("shell.execute_reply")
        if start and end:
            timed.append(((when(end) - when(start)).total_seconds(), index))
    timed.sort(reverse=True)
    return ", ".join(f"#{index} {seconds:.0f} s" for seconds, index in timed[:count])


rows = []
for path in (work / "results").glob("*.tsv"):
    fields = path.read_text().rstrip("\n").split("\t") + ["", "", "", "", ""]
    rows.append(fields[:5])
rows.sort(key=lambda row: ({"ci": 0, "cpu": 1, "gpu": 2}.get(row[1], 3), row[0]))

# What each run reported first, the table last (so the end of the console output shows it).
for name, profile, seconds, status, detail in rows:
    print(f"{name} [{profile}, {status}, {seconds} s]:")
    executed = work / "nb" / f"{name}.{profile}.ipynb"
    if executed.is_file():
        notebook = json.loads(executed.read_text())
        record = ran_in_this_run(notebook)
        if record is None:
            print("  (no record of which cells this run executed: its outputs are not quoted)")
        else:
            code_cells, started, finished = record
            lines = reported_lines(notebook, started)
            for line in lines[:MAX_LINES]:
                print(f"  {line.strip()}")
            if len(lines) > MAX_LINES:
                print(f"  ... and {len(lines) - MAX_LINES} more such lines in the executed notebook")
            if not lines:
                print("  (no accuracy or images/s line in the cells this run executed)")
            unfinished = sorted(started - finished)
            if unfinished:
                print(f"  stopped in cell {spans(unfinished)}")
            not_run = [index for index in code_cells if index not in started]
            if not_run:
                print(f"  cells that did not run: {spans(not_run)} ({len(not_run)} of {len(code_cells)} code cells)")
            slow = slowest_cells(notebook, started)
            if slow:
                print(f"  slowest cells: {slow}")
    else:
        print("  (no executed notebook)")
    log = work / "logs" / f"{name}.{profile}.log"
    if status.startswith("FAILED") and log.is_file():
        tail = [line for line in log.read_text(errors="replace").splitlines() if line.strip()][-8:]
        print("  log tail:\n" + "\n".join(f"    {ANSI.sub('', line)[:200]}" for line in tail))
    print()
bench_status = work / "bench.status"
if bench_status.is_file() or (work / "bench.txt").is_file():
    status = bench_status.read_text().strip() if bench_status.is_file() else "no status (still running?)"
    print(f"bench_gpu_training.py [{status}]:")
    bench = work / "bench.txt"
    text = bench.read_text(errors="replace").rstrip() if bench.is_file() else ""
    print("\n".join(f"  {line}" for line in text.splitlines()) if text else "  (printed nothing)")
    log = work / "logs" / "bench.log"
    if not status.startswith("ok") and log.is_file():
        tail = [line for line in log.read_text(errors="replace").splitlines() if line.strip()][-8:]
        print("  log tail:\n" + "\n".join(f"    {ANSI.sub('', line)[:200]}" for line in tail))
    print()
print(f"{'notebook':32} {'profile':7} {'seconds':>7}  result")
for name, profile, seconds, status, detail in rows:
    print(f"{name:32} {profile:7} {seconds:>7}  {status}{'  (' + detail + ')' if detail else ''}")
PY
}

# The driver: one notebook through nbclient until a deadline (epoch seconds); the executed copy is written even
# when it fails or times out, with a status line "ok" / "FAILED<TAB>where" / "timed out<TAB>where".
write_driver_py() {
  cat > "$1" <<'PY'
import os, sys, time, traceback
import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

source, target, deadline, status_path, pid_path = sys.argv[1:6]
deadline = float(deadline)
notebook = nbformat.read(source, as_version=4)
code_cells = [index for index, cell in enumerate(notebook.cells) if cell.cell_type == "code"]
current = {"index": None}
# Only this run's outputs: clear every code cell's stored outputs, count and timings first (a cell this run never
# reaches stays empty), and record which cells nbclient starts and finishes (the summary quotes only those).
for cell in notebook.cells:
    if cell.cell_type == "code":
        cell.outputs, cell.execution_count = [], None
        cell.metadata.pop("execution", None)
record = {"started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
          "profile": os.environ.get("WORKSHOP_PROFILE", ""),
          "code_cells": [index for index in code_cells if notebook.cells[index].source.strip()],
          "started": [], "finished": []}  # stored in the notebook's metadata when it is written


def on_notebook_start(**_):  # the kernel runs in its own session: the shell kills it by this pid if we cannot
    process = getattr(getattr(client.km, "provisioner", None), "process", None)
    if process is not None:
        with open(pid_path, "w") as file:
            file.write(str(process.pid))


def on_cell_start(cell=None, cell_index=None, **_):
    if cell is not None and cell.cell_type == "code":
        current["index"] = cell_index
        print(f"{time.strftime('%H:%M:%S')} cell {cell_index} ({deadline - time.time():.0f} s left)", flush=True)


def on_cell_execute(cell=None, cell_index=None, **_):  # a non-empty code cell about to be sent to the kernel
    record["started"].append(cell_index)


def on_cell_executed(cell=None, cell_index=None, **_):  # its reply came back (also when it raised)
    record["finished"].append(cell_index)


def where():
    index = current["index"]
    if index is None:
        return "before the first cell"
    return f"cell {index}, code cell {code_cells.index(index) + 1} of {len(code_cells)}"


client = NotebookClient(notebook, kernel_name="python3", timeout=None, startup_timeout=180,
                        resources={"metadata": {"path": os.path.dirname(os.path.abspath(source))}},
                        on_notebook_start=on_notebook_start, on_cell_start=on_cell_start,
                        on_cell_execute=on_cell_execute, on_cell_executed=on_cell_executed)
client.timeout_func = lambda cell: max(1, int(deadline - time.time()))  # 0 would mean "no limit"
status, detail = "ok", ""
try:
    client.execute()
except CellTimeoutError:
    status, detail = "timed out", where()
except DeadKernelError:
    status, detail = ("timed out" if time.time() >= deadline - 2 else "FAILED"), f"kernel died in {where()}"
except CellExecutionError as error:
    message = (str(getattr(error, "evalue", "")) or str(error)).strip().splitlines()
    status, detail = "FAILED", f"{where()}: {getattr(error, 'ename', type(error).__name__)}: {message[0] if message else ''}"
    print(error, flush=True)
except BaseException as error:  # noqa: BLE001 - reported, and the partial notebook still written
    status, detail = "FAILED", f"{where()}: {type(error).__name__}: {error}"
    traceback.print_exc()
finally:
    notebook.metadata["gpu_check"] = record
    nbformat.write(notebook, target)
    with open(status_path, "w") as file:
        file.write(f"{status}\t{' '.join(detail.split())[:300]}\n")  # one line, no tabs in the detail
    print(f"{status} {detail}", flush=True)
PY
}

if [ "${1:-}" = "--write-helpers" ]; then  # for the tests: the driver and the summary as files in DIR
  [ -d "${2:-}" ] || { echo "usage: $0 --write-helpers DIR" >&2; exit 2; }
  write_driver_py "$2/run_notebook.py" && write_summary_py "$2/summary.py"
  exit $?
fi
if [ "${1:-}" = "--summarize" ]; then
  [ -d "${2:-}" ] || { echo "usage: $0 --summarize WORKDIR" >&2; exit 2; }
  write_summary_py "${TMPDIR:-/tmp}/gpu_check_summary.$$.py"
  "$PYTHON" "${TMPDIR:-/tmp}/gpu_check_summary.$$.py" "$2"
  status=$?
  rm -f "${TMPDIR:-/tmp}/gpu_check_summary.$$.py"
  exit $status
fi

T0=$(date +%s)
OUT=${OUT:-build/gpu_check}
SITE=${SITE:-/tmp/site}
TOTAL_S=${TOTAL_S:-480}
BENCH_S=${BENCH_S:-130}
BENCH_MARGIN_S=${BENCH_MARGIN_S:-40}
NB_TIMEOUT_S=${NB_TIMEOUT_S:-300}
JOBS=${JOBS:-8}
GPU_NOTEBOOKS=${GPU_NOTEBOOKS-02_kernel_size_alexnet_vgg 07_resnet}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
rm -rf "$WORK" && mkdir -p "$WORK"/{nb,logs,results,pids,runtime} || exit 1
# Everything printed also goes to console.log; on exit the tee is waited for, so no line is lost.
exec 3>&1 4>&2
exec > >(tee "$OUT/console.log") 2>&1
tee_pid=$!
trap 'exec 1>&3 2>&4; wait "$tee_pid" 2>/dev/null' EXIT
say() { printf '[%4ds] %s\n' "$(( $(date +%s) - T0 ))" "$*"; }

# 1. Install (no network, no dependency resolution: the folder holds exactly what the machine lacks).
if [ -n "${WHEELS:-}" ]; then
  wheels=("$WHEELS"/*.whl)
  say "installing ${#wheels[@]} wheels from $WHEELS into $SITE"
  "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$SITE" \
    "${wheels[@]}" || exit 1
fi
export PYTHONPATH="$SITE:$REPO${PYTHONPATH:+:$PYTHONPATH}"
export KERAS_BACKEND=jax XLA_PYTHON_CLIENT_PREALLOCATE=false MPLBACKEND=Agg PYTEST_CURRENT_TEST=1 \
  PYTHONUNBUFFERED=1 JUPYTER_PLATFORM_DIRS=1 JUPYTER_RUNTIME_DIR="$WORK/runtime"
# PYTEST_CURRENT_TEST: ipykernel leaves C-level stderr alone (XLA's messages go to the logs, not the notebooks).
# The kernel `python3` is this interpreter: a kernelspec of our own, first on JUPYTER_PATH, so no other one is used.
"$PYTHON" -m ipykernel install --prefix "$WORK/kernel" --name python3 > "$WORK/logs/kernelspec.log" 2>&1 ||
  { cat "$WORK/logs/kernelspec.log"; exit 1; }
export JUPYTER_PATH="$WORK/kernel/share/jupyter"

# 2. Versions, devices, the kernel; warm matplotlib's font cache and the shapes10 data cache once, here.
say "checking the stack"
"$PYTHON" - <<'PY' 2>&1 | tee "$WORK/env.txt" || exit 1
import importlib, sys
import jax, keras
print(f"Python {sys.version.split()[0]} at {sys.executable}")
print(f"Keras {keras.__version__} on {keras.config.backend()}; JAX {jax.__version__}; devices: {jax.devices()}")
import os
if not any(d.platform == "gpu" for d in jax.devices()) and os.environ.get("ALLOW_CPU") != "1":
    raise SystemExit("No GPU visible to JAX: stopping before any notebook runs.")
gpu = ([d for d in jax.devices() if d.platform == "gpu"] or jax.devices())[0]
print("a sum on", gpu, "=", float(jax.device_put(jax.numpy.arange(4.0), gpu).sum()))
from workshop_utils.devices import device_name
print("Keras computes on:", device_name())
missing = []
for name in ("numpy", "matplotlib", "tqdm", "rich", "h5py", "ml_dtypes", "optree", "psutil", "PIL", "pydot",
             "IPython", "ipykernel", "ipywidgets", "jupyter_client", "nbformat", "nbclient", "nbconvert", "zmq",
             "tornado", "jinja2", "pygments", "workshop_utils"):
    try:
        module = importlib.import_module(name)
        print(f"  {name} {getattr(module, '__version__', '?')} ({module.__file__})")
    except Exception as error:  # noqa: BLE001 - report every missing piece at once
        missing.append(f"{name}: {type(error).__name__}: {error}")
from jupyter_client.kernelspec import KernelSpecManager
print("kernel python3:", KernelSpecManager().get_kernel_spec("python3").argv)
import matplotlib.pyplot  # noqa: F401  (font cache built once, not by four kernels at the same time)
from workshop_utils.data import load_dataset
data = load_dataset()  # shapes10's default 10,000 / 2,000 images, cached in data/cache for every notebook
print(f"shapes10 cached: {data.x_train.shape} train, {data.x_test.shape} test")
if missing:
    raise SystemExit("missing or broken:\n  " + "\n  ".join(missing))
PY
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null | tee -a "$WORK/env.txt"


write_driver_py "$WORK/run_notebook.py"

# One notebook in one profile, ending by min(now + NB_TIMEOUT_S, phase end); appends its row to results/.
run_one() {
  local notebook=$1 profile=$2 phase_end=$3 limit=$4
  local name tag now end rc pid seconds row
  name=$(basename "$notebook" .ipynb)
  tag=$name.$profile
  now=$(date +%s)
  end=$(( now + limit < phase_end ? now + limit : phase_end ))
  if (( end - now < 15 )); then
    printf '%s\t%s\t0\ttimed out\tnot started: too little time left\n' "$name" "$profile" > "$WORK/results/$tag.tsv"
    say "skip  $tag (too little time left)"
    return 0
  fi
  say "start $tag (until +$(( end - T0 )) s)"
  WORKSHOP_PROFILE=$profile timeout -k 10 $(( end - now + 30 )) "$PYTHON" "$WORK/run_notebook.py" "$notebook" \
    "$WORK/nb/$tag.ipynb" "$end" "$WORK/results/$tag.status" "$WORK/pids/$tag" > "$WORK/logs/$tag.log" 2>&1
  rc=$?
  seconds=$(( $(date +%s) - now ))
  pid=$(cat "$WORK/pids/$tag" 2>/dev/null)
  if [ -n "$pid" ] && grep -qs ipykernel "/proc/$pid/cmdline"; then  # its kernel outlived the driver
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null
  fi
  if [ -s "$WORK/results/$tag.status" ]; then
    row=$(head -n 1 "$WORK/results/$tag.status")
  elif [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
    row=$'timed out\tdriver killed at the deadline'
  else
    row=$'FAILED\tdriver exited with status '"$rc"
  fi
  printf '%s\t%s\t%s\t%s\n' "$name" "$profile" "$seconds" "$row" > "$WORK/results/$tag.tsv"
  say "done  $tag in $seconds s: ${row%%$'\t'*}"
}
export -f run_one say
export T0 WORK PYTHON

# 3. One pool of $JOBS notebook runs until the notebooks' deadline: the gpu-profile runs first (they take longest and
# get the whole window), then every notebook in the ci profile, longest first (by their cpu-profile times), so the
# last wave is short. All overlap: one after the other they did not fit (the ci profile alone took ~270 s).
nb_end=$(( T0 + TOTAL_S - BENCH_S ))
queue=()
for name in $GPU_NOTEBOOKS; do
  if [ -f "notebooks/$name.ipynb" ]; then
    queue+=("notebooks/$name.ipynb gpu $nb_end $TOTAL_S")
  else
    printf '%s\tgpu\t0\tFAILED\tno notebooks/%s.ipynb\n' "$name" "$name" > "$WORK/results/$name.gpu.tsv"
  fi
done
order=${CI_NOTEBOOKS:-"09_extras 07_resnet 04_depthwise_mobilenet 08_densenet 02_kernel_size_alexnet_vgg 06_squeezenet
       05_shufflenet 03_inception_1x1_conv 01_convolution_basics 00_welcome"}
notebooks=()
for name in $order; do [ -f "notebooks/$name.ipynb" ] && notebooks+=("notebooks/$name.ipynb"); done
if [ -z "${CI_NOTEBOOKS:-}" ]; then
  for path in notebooks/[0-9][0-9]_*.ipynb; do  # any notebook not in the list above runs last
    case " ${notebooks[*]} " in *" $path "*) ;; *) notebooks+=("$path") ;; esac
  done
fi
for path in "${notebooks[@]}"; do queue+=("$path ci $nb_end $NB_TIMEOUT_S"); done
say "notebooks: ${GPU_NOTEBOOKS:-none} in the gpu profile, then ${#notebooks[@]} in the ci profile; $JOBS at a time, until +$(( TOTAL_S - BENCH_S )) s"
# Each queue entry is "notebook profile end limit". The gpu-profile runs share the machine with ci runs that are
# compiling, so their images/s lines are lower bounds; the benchmark below measures speed alone on the machine.
# shellcheck disable=SC2016  # $@ is expanded by the inner bash
printf '%s\n' "${queue[@]}" | xargs -P "$JOBS" -n 4 bash -c 'run_one "$@"' _

# 4. The GPU training benchmark, alone on the machine, in the time left: it starts no new setting after its budget
# (the time left less BENCH_MARGIN_S, for a setting begun just before), and is killed at the overall deadline.
left=$(( T0 + TOTAL_S - $(date +%s) ))
if (( left < 30 )); then
  printf 'not run: %d s left\n' "$left" > "$WORK/bench.status"
  say "bench_gpu_training: not run ($left s left)"
else
  budget=$(( left - BENCH_MARGIN_S > 15 ? left - BENCH_MARGIN_S : 15 ))
  say "bench_gpu_training: starting, budget $budget s, killed after $(( left + 10 )) s"
  # shellcheck disable=SC2086  # BENCH_ARGS: words on purpose
  timeout -k 5 $(( left + 10 )) "$PYTHON" benchmarks/bench_gpu_training.py --budget-s "$budget" ${BENCH_ARGS:-} \
    > "$WORK/bench.txt" 2> "$WORK/logs/bench.log"
  rc=$?
  case $rc in
    0) printf 'ok\n' ;;
    124|137) printf 'timed out: killed at the deadline; the rows it printed are kept\n' ;;
    *) printf 'FAILED: exit status %d (logs/bench.log)\n' "$rc" ;;
  esac > "$WORK/bench.status"
  say "bench_gpu_training: $(cat "$WORK/bench.status")"
fi

# 5. Summary, the archive, the exit status.
write_summary_py "$WORK/summary.py"
"$PYTHON" "$WORK/summary.py" "$WORK" > "$OUT/summary.txt"
cp "$OUT/summary.txt" "$WORK/summary.txt"
tar -czf "$OUT/gpu_check.tar.gz" -C "$WORK" summary.txt env.txt nb logs results $(cd "$WORK" && ls bench.txt bench.status 2>/dev/null) 2>/dev/null
say "finished; in $OUT: $(cd "$OUT" && echo *)"
echo
cat "$OUT/summary.txt"
failed=0
awk -F '\t' '$4 ~ /^FAILED/ { failed = 1 } END { exit failed }' "$WORK"/results/*.tsv || failed=1
grep -qs '^FAILED' "$WORK/bench.status" && failed=1
exit $failed
