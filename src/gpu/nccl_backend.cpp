// SPDX-License-Identifier: Apache-2.0
// The NCCL implementation of gpu::Backend (built only with NCCL).
#include <fmt/format.h>

#include "gpu/backend.hpp"
#include "ncd/gpu_config.hpp"

namespace ncd::gpu {
namespace {

class NcclBackend final : public Backend {
 public:
  bool built() const override { return true; }
  std::string build_version() const override { return NCD_NCCL_BUILD_VERSION; }
  std::string describe() const override { return fmt::format("on (built against NCCL {})", NCD_NCCL_BUILD_VERSION); }
  GpuAvailability availability() const override { return gpu_availability(); }
  GpuBenchOutcome run_bench(const collectives::BenchPlan& plan, dist::Comm& comm, const dist::Deadline& deadline,
                            const Progress& progress) const override {
    return run_nccl_bench(plan, comm, deadline, progress);
  }
  LocalGroupRun run_bench_local(const collectives::BenchPlan& plan, int ngpus, const dist::Deadline& deadline,
                                const Progress& progress) const override {
    return run_nccl_bench_local(plan, ngpus, deadline, progress);
  }
  std::vector<CopyResult> run_copies(std::size_t bytes, int iters, const dist::Deadline& deadline) const override {
    return run_copy_bench(bytes, iters, deadline);
  }
  RingsCapture capture_rings(dist::Comm& comm, const dist::Deadline& deadline,
                             std::size_t max_log_bytes) const override {
    return gpu::capture_rings(comm, deadline, max_log_bytes);
  }
};

}  // namespace

const Backend& nccl_backend() {
  static const NcclBackend b;
  return b;
}

}  // namespace ncd::gpu
