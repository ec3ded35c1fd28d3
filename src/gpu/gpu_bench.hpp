// SPDX-License-Identifier: Apache-2.0
#pragma once
/// The GPU backend (built only with NCCL): NCCL collectives with one communicator per
/// algorithm, and copy-engine bandwidth per GPU. This header has no CUDA/NCCL includes, so
/// commands include it freely under NCD_HAVE_NCCL.
#include <string>
#include <vector>

#include "collectives/bench.hpp"
#include "dist/comm.hpp"
#include "report/report.hpp"

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
};

/// Runs the plan with NCCL: one communicator per algorithm (NCCL_ALGO set before each
/// ncclCommInitRankConfig; native = NCCL's choice), non-blocking init polled against the
/// deadline, ncclCommAbort on expiry. Each rank uses GPU (local rank % visible GPUs).
[[nodiscard]] GpuBenchOutcome run_nccl_bench(const collectives::BenchPlan& plan, dist::Comm& comm,
                                             const dist::Deadline& deadline,
                                             const std::function<void(const std::string&)>& progress = {});

/// Host->device, device->host per local GPU and device->device between local GPUs.
[[nodiscard]] std::vector<CopyResult> run_copy_bench(std::size_t bytes, int iters, const dist::Deadline& deadline);

/// Theoretical PCIe bandwidth (GB/s, after line encoding) of "16.0 GT/s PCIe" x width.
[[nodiscard]] double pcie_gbps(const std::string& speed, int width);

}  // namespace ncd::gpu
