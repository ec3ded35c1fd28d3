# SPDX-License-Identifier: Apache-2.0
# Sourced by the stand-in tests: bin=$1, the stand-in libraries in $2, mpiexec and its flags after.
# Every run sees 4 stand-in GPUs, a private TMPDIR (the communicators' files) and a trace file.
set -u
bin=$1
standin_lib=$2
shift 2
mpiexec=("$@")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export LD_LIBRARY_PATH="$standin_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export NCD_STANDIN_GPUS=${NCD_STANDIN_GPUS:-4}
export TMPDIR=$tmp
export NCD_STANDIN_TRACE=$tmp/trace
# The binary must load the stand-in, not the real libraries (which would find no GPU here).
ldd "$bin" | grep -q "$standin_lib/libnccl.so.2" || { echo "FAIL: $bin does not load the stand-in libnccl:"; ldd "$bin"; exit 1; }
ldd "$bin" | grep -q "$standin_lib/libcudart.so.13" || { echo "FAIL: $bin does not load the stand-in libcudart:"; ldd "$bin"; exit 1; }
now() { date +%s.%N; }
# The stand-in's devices are no GPU NCCL's tuning model knows (the probed topology has none), so
# `bench.busbw_low` could not run and a bench would be INCOMPLETE (exit 3). Tests about
# orchestration supply an expectation with --expected-busbw (a floor far below what the
# stand-in moves), so the verdict is about what they test.
