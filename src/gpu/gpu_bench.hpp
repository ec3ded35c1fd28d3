// SPDX-License-Identifier: Apache-2.0
#pragma once
/// The GPU backend (built only with NCCL): NCCL collectives with one communicator per
/// algorithm, and copy-engine bandwidth per GPU. This header has no CUDA/NCCL includes, so
/// commands include it freely under NCD_HAVE_NCCL.
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "collectives/bench.hpp"
#include "dist/comm.hpp"
#include "core/finding.hpp"
#include "model/report.hpp"

namespace ncd::gpu {

/// Visible CUDA devices, or 0 with the reason (no driver, no device, stub library).
struct GpuAvailability {
  int count = 0;
  std::string reason;
};
[[nodiscard]] GpuAvailability gpu_availability();

/// Copy bandwidth of one direction on one GPU (or GPU pair), with the PCIe expectation.
struct CopyResult {
  std::string kind;  ///< "h2d", "d2h", "d2d"
  int src = -1, dst = -1;
  std::string bus_id;  ///< PCI bus id of the (source) GPU
  std::uint64_t bytes = 0;
  double gbps = 0;
  double expected_gbps = 0;  ///< from the PCIe link (sysfs); 0 when unknown
  std::string expected_from;
};

struct GpuBenchOutcome {
  collectives::BenchOutcome bench;
  std::vector<CopyResult> copies;
  std::vector<std::string> notes;
  std::vector<Finding> findings;  ///< rank 0: gpu.duplicate (ranks on one GPU)
};

/// The libnccl this process loaded: ncclGetVersion's code, "2.28.9", and the file (dladdr).
struct NcclRuntime {
  int code = 0;
  std::string version;
  std::string path;
};
[[nodiscard]] NcclRuntime nccl_runtime();
/// The oldest NCCL the backend runs on (ncclCommInitRankConfig, ncclGetLastError, ncclAvg...).
inline constexpr int kMinNcclCode = 21800;
/// Throws UnavailableError (one line, exit 3) when the loaded libnccl is older than 2.18.
void require_nccl_runtime();

/// Which GPU this rank drives: its rank among the ranks of its node (MPI), or, where this
/// process is alone in its job (srun --mpi=none, torchrun), the launcher's local rank from
/// LOCAL_RANK, SLURM_LOCALID, OMPI_COMM_WORLD_LOCAL_RANK, MPI_LOCALRANKID or PMI_LOCAL_RANK.
struct LocalDevice {
  int device = 0;
  int local_rank = 0;
  int local_size = 1;       ///< processes on this node (from the job, or the launcher's env)
  std::string from;         ///< "MPI" or the environment variable used
};
[[nodiscard]] LocalDevice local_device(const dist::Comm& comm, int ndev);

/// A GPU step reports by its deadline: its work (inits, collectives, events, the rings capture)
/// stops a reserve earlier, a fifth of the time left and 1-5 s, and the exchanges that name the
/// ranks that did not answer run in that reserve.
[[nodiscard]] inline dist::Deadline work_deadline(const dist::Deadline& d) {
  return d.reserving(std::clamp(d.remaining_s() / 5, 1.0, 5.0));
}

/// Runs the plan with NCCL: one communicator per algorithm (NCCL_ALGO set before each
/// ncclCommInitRankConfig; native = NCCL's choice), non-blocking init polled against the
/// deadline, ncclCommAbort on expiry. Each rank uses GPU (local rank % visible GPUs).
[[nodiscard]] GpuBenchOutcome run_nccl_bench(const collectives::BenchPlan& plan, dist::Comm& comm,
                                             const dist::Deadline& deadline,
                                             const std::function<void(const std::string&)>& progress = {});

/// `bench -g N`: N local GPUs from this one process, without MPI (a Slurm prolog, a container
/// health probe). One thread per GPU, each an in-process rank (gpu::ThreadComm) running
/// run_nccl_bench on GPU r with its own communicator (ncclCommInitRankConfig per thread, NCCL's
/// "one device per thread" model), so every deadline, abort and data check is the MPI path's.
/// A thread that never returns (a wedged launch) is left behind once rank 0 has its outcome.
/// Throws UnavailableError (one line, exit 3) when fewer than N GPUs are visible.
struct LocalGroupRun {
  GpuBenchOutcome outcome;           ///< rank 0's, complete
  std::shared_ptr<dist::Comm> comm;  ///< rank 0's view of the job: N ranks on this host
};
[[nodiscard]] LocalGroupRun run_nccl_bench_local(const collectives::BenchPlan& plan, int ngpus,
                                                 const dist::Deadline& deadline,
                                                 const std::function<void(const std::string&)>& progress = {});

/// Host->device, device->host per local GPU and device->device between local GPUs.
[[nodiscard]] std::vector<CopyResult> run_copy_bench(std::size_t bytes, int iters, const dist::Deadline& deadline);

/// Theoretical PCIe bandwidth (GB/s, after line encoding) of "16.0 GT/s PCIe" x width.
[[nodiscard]] double pcie_gbps(const std::string& speed, int width);

}  // namespace ncd::gpu
