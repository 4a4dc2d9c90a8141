#!/usr/bin/env bash
# The one-shot GPU check (<= 8 minutes on one H100/H200, no network needed).
#
#   benchmarks/gpu/check.sh [--wheels DIR] [-- extra args for `rdpt-fast bench gpu`]
#
# 1. Installs the project from this working tree into the current Python environment without build
#    isolation and without downloads (torch, triton, transformers must already be there, as on any GPU
#    image); peers' wheels (Liger-Kernel, cut-cross-entropy) are installed from --wheels DIR (default
#    benchmarks/gpu/wheels) when that folder holds any, also offline.
# 2. Runs `rdpt-fast bench gpu --out benchmarks/results`: GPU tests, head benchmark (+ crossover),
#    end-to-end Scorer run; each step timed and failure-isolated; one JSON under benchmarks/results/.
# Exit code: that of the check (1 when a step failed); the JSON is written either way.
set -uo pipefail
cd "$(dirname "$0")/../.."

wheels="benchmarks/gpu/wheels"
if [ "${1:-}" = "--wheels" ]; then
    wheels="$2"
    shift 2
fi
[ "${1:-}" = "--" ] && shift

export PIP_NO_INDEX=1 PIP_DISABLE_PIP_VERSION_CHECK=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
export TRITON_DEFAULT_FP_FUSION=1
python -m pip install --quiet --no-build-isolation --no-deps -e . || { echo "install failed" >&2; exit 2; }
if compgen -G "$wheels/*.whl" >/dev/null; then
    python -m pip install --quiet --no-deps "$wheels"/*.whl || echo "peer wheels from $wheels failed to install: continuing" >&2
fi
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
exec python -m rdpt_fast.bench.gpu --out benchmarks/results "$@"
