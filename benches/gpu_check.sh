#!/usr/bin/env bash
# The GPU check: the Triton kernels compiled (not interpreted) against their references, the
# CUDA-only tests, and the GPU benchmarks. Results land in benches/results/<gpu>-*.json|xml (and
# archived in $OUT/gpu_check-results-<time>.tgz when $OUT is set), with a log of every step.
#
#   bash benches/gpu_check.sh            # on a CUDA machine with torch + triton installed
#   GPU_CHECK_STEPS="kernel-tests kernel-bench-fwd generator-bench" bash benches/gpu_check.sh
#
# Each step has its own time limit, so one slow step cannot starve the others. The test steps run
# one pytest process per file at once: their time is mostly Triton compiling each test's kernels
# on the CPU, and one process per file lets all the machine's cores compile at once.
# The JSON is saved without pytest-benchmark's per-round samples (benches/conftest.py).
set -u
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
export PYTHONUNBUFFERED=1 TRITON_INTERPRET=0
GPU=$($PY -c "import torch; print(torch.cuda.get_device_name(0).replace(' ', '-'))" 2>/dev/null) || {
  echo "no CUDA device visible to $PY"; exit 1; }
RESULTS=benches/results
mkdir -p "$RESULTS"
LOG="$RESULTS/$GPU-gpu_check.log"
STARTED=$(mktemp) && sleep 1  # results written after this file are this run's
RUN_ID=$(date -u +%H%M%S)
echo "##### gpu_check run $(date -u +%Y-%m-%dT%H:%M:%SZ), steps: ${GPU_CHECK_STEPS:-all}" >> "$LOG"  # runs append
collect() {  # after every step, so a run cut short still returns what it measured: one archive per run in $OUT
  if [ -n "${OUT:-}" ]; then
    find "$RESULTS" -name "$GPU-*" -newer "$STARTED" -print0 | tar -czf "$OUT/gpu_check-results-$RUN_ID.tgz" --null -T -
  fi
}
step() {  # step NAME SECONDS COMMAND...; GPU_CHECK_STEPS="name ..." runs only those steps
  local name=$1 limit=$2; shift 2
  if [ -n "${GPU_CHECK_STEPS:-}" ] && [[ " $GPU_CHECK_STEPS " != *" $name "* ]]; then return; fi
  echo "=== $name (limit ${limit}s): $*" | tee -a "$LOG"
  local start=$SECONDS
  timeout --signal=INT "$limit" "$@" 2>&1 | tail -n 40 | tee -a "$LOG"
  echo "=== $name: exit ${PIPESTATUS[0]} after $((SECONDS - start))s" | tee -a "$LOG"
  collect
}
test_files_step() {  # test_files_step NAME SECONDS "ENV=VALUE ..." FILE...: one pytest process per file, all at once
  local name=$1 limit=$2 environment=$3; shift 3
  if [ -n "${GPU_CHECK_STEPS:-}" ] && [[ " $GPU_CHECK_STEPS " != *" $name "* ]]; then return; fi
  echo "=== $name (limit ${limit}s, $# files in parallel): $*" | tee -a "$LOG"
  local start=$SECONDS files=("$@") pids=() logs=() i status
  for i in "${!files[@]}"; do
    logs+=("$(mktemp)")
    env $environment timeout --signal=INT "$limit" $PY -m pytest -q -p no:cacheprovider "${files[$i]}" \
      --junitxml "$RESULTS/$GPU-$name-$(basename "${files[$i]}" .py).xml" > "${logs[$i]}" 2>&1 &
    pids+=($!)
  done
  for i in "${!files[@]}"; do
    wait "${pids[$i]}"; status=$?
    { echo "--- ${files[$i]}: exit $status"; grep -v "^\s*$" "${logs[$i]}" | tail -n 12; } | tee -a "$LOG"
  done
  echo "=== $name: done after $((SECONDS - start))s" | tee -a "$LOG"
  collect
}
{ nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  $PY -c "import torch, triton; print('torch', torch.__version__, 'cuda', torch.version.cuda, 'triton', triton.__version__)"
  $PY -c "import tensorrt; print('tensorrt', tensorrt.__version__)" 2>/dev/null || echo "tensorrt: not installed"
} 2>&1 | tee -a "$LOG"
# Install this checkout without touching the machine's torch (no network needed).
$PY -m pip install -q --no-deps --no-build-isolation -e . 2>&1 | tail -n 3 | tee -a "$LOG"
$PY -c "import PIL, safetensors" 2>&1 | tail -n 1 | tee -a "$LOG"  # core requirements --no-deps does not install

BENCH="--benchmark-only --benchmark-min-rounds=5 --benchmark-max-time=0.3"
KERNEL_BENCHES="benches/test_bench_adain.py benches/test_bench_instance_norm.py benches/test_bench_layer_norm.py"
# Correctness first: the kernels compiled (their first tile each: autotuning every test shape
# would take minutes), CUDA graphs, the translator, the video pipeline and the mixed-precision
# trainer on CUDA.
test_files_step kernel-tests 110 "MUNIT_FAST_AUTOTUNE=0" tests/kernels/test_*.py
test_files_step cuda-tests 150 "MUNIT_FAST_AUTOTUNE=0" tests/test_cuda_graphs.py tests/test_translator.py tests/training/test_precision.py \
  tests/test_backend_parity.py
# Speed, most important first: kernel forward (device time, autotuned), the padding kernel, the
# generator with and without kernels and CUDA graphs, forward+backward, the translation grid,
# host time per call, a full-size training iteration with and without the kernel path.
step kernel-bench-fwd 120 $PY -m pytest -q -p no:cacheprovider $KERNEL_BENCHES $BENCH -k "fwd and not fwd_bwd and fp16 and not (compile and channels_last)" \
  --benchmark-json "$RESULTS/$GPU-kernels.json"
step pad-bench 75 $PY -m pytest -q -p no:cacheprovider benches/test_bench_pad.py $BENCH -k "fp16" \
  --benchmark-json "$RESULTS/$GPU-pad.json"
step generator-bench 70 $PY -m pytest -q -p no:cacheprovider benches/test_bench_generator_kernels.py $BENCH \
  --benchmark-json "$RESULTS/$GPU-generator-kernels.json"
step kernel-bench-fwd-bwd 50 $PY -m pytest -q -p no:cacheprovider $KERNEL_BENCHES $BENCH \
  -k "fwd_bwd and fp16 and not compile and (res-256px-b8 or up1-256px-b8 or enc-in-256px) and not channels_last" \
  --benchmark-json "$RESULTS/$GPU-kernels-fwd-bwd.json"
step translate-bench 90 $PY -m pytest -q -p no:cacheprovider benches/test_bench_translate.py $BENCH \
  -k "(256x256 or 720x1280) and (K1 or K8) and (original or fp16) and not compile" \
  --benchmark-json "$RESULTS/$GPU-translate-graphs.json"
step kernel-host-bench 40 $PY -m pytest -q -p no:cacheprovider benches/test_bench_kernel_host.py $BENCH \
  --benchmark-json "$RESULTS/$GPU-kernel-host.json"
step train-bench 90 $PY -m pytest -q -p no:cacheprovider benches/test_bench_train.py $BENCH -k "full and reuse" \
  --benchmark-json "$RESULTS/$GPU-train.json"
echo "results: $(ls "$RESULTS/$GPU"-* 2>/dev/null | tr '\n' ' ')"
