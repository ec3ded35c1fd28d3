// SPDX-License-Identifier: Apache-2.0
#pragma once
/// CPU stand-in for the CUDA runtime and NCCL, for tests only (never installed or shipped).
/// libcudart.so.13 (cuda_standin.cpp) and libnccl.so.2 (nccl_standin.cpp) replace the real
/// libraries through LD_LIBRARY_PATH. Device memory is host memory; a stream is a worker thread
/// running its queue in order; events carry CLOCK_MONOTONIC time stamps; collectives exchange
/// buffers through files in the directory named by the unique id, so the ranks of one
/// collective may be processes (mpiexec) or threads of one process, one device each (the
/// current device is per thread, as in CUDA; bench -g N). Knobs (environment):
///   NCD_STANDIN_GPUS=N               visible devices (0 or unset: no device)
///   NCD_STANDIN_NCCL_VERSION=2.28.9  what ncclGetVersion reports (2.17.1 to test the refusal)
///   NCD_STANDIN_COLL_US=D            every collective takes exactly D us on the stream (busy-wait)
///   NCD_STANDIN_STALL_RANK=R         rank R's host thread hangs inside its first collective call
///   NCD_STANDIN_INIT_FAIL_RANK=R     rank R's communicator init fails asynchronously
///   NCD_STANDIN_INIT_FAIL_ALGO=A     ... only when NCCL_ALGO was A at init
///   NCD_STANDIN_CORRUPT_RANK=R       rank R's output has one element flipped
///   NCD_STANDIN_TOPO_XML / _GRAPH_XML  copied to NCCL_TOPO_DUMP_FILE / NCCL_GRAPH_DUMP_FILE
///   NCD_STANDIN_TRACE=FILE           one line per init, and per collective its duration
#include <cuda_runtime_api.h>

#include <functional>

namespace ncd_standin {

/// Runs `task` on `stream` after everything queued before it (nullptr: the default stream).
__attribute__((visibility("default"))) void enqueue(cudaStream_t stream, std::function<void()> task);
/// Microseconds on CLOCK_MONOTONIC.
__attribute__((visibility("default"))) double now_us();
/// The calling thread's current device.
__attribute__((visibility("default"))) int current_device();

}  // namespace ncd_standin
