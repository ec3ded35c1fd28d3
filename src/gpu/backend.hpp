// SPDX-License-Identifier: Apache-2.0
// The GPU side of nccl-doctor behind one interface: the collective bench, the copy bench, the
// rings capture and the device facts. src/gpu/backend.cpp is the factory: NCCL's implementation
// when the build has NCCL, else one that says so. Nothing outside src/gpu/ switches on NCCL.
#pragma once
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "collectives/bench.hpp"
#include "dist/comm.hpp"
#include "gpu/gpu_bench.hpp"
#include "gpu/rings_capture.hpp"

namespace ncd::gpu {

using Progress = std::function<void(const std::string&)>;

class Backend {
 public:
  virtual ~Backend() = default;
  /// Whether this build has a GPU backend at all (NCCL found at build time).
  [[nodiscard]] virtual bool built() const = 0;
  /// The NCCL version built against ("" when not built).
  [[nodiscard]] virtual std::string build_version() const = 0;
  /// One line for `version`: "on (built against NCCL 2.28.9)" or "off (rebuild ...)".
  [[nodiscard]] virtual std::string describe() const = 0;
  /// GPUs this process can use, with the reason when none.
  [[nodiscard]] virtual GpuAvailability availability() const = 0;
  /// One rank per GPU over `comm`.
  [[nodiscard]] virtual GpuBenchOutcome run_bench(const collectives::BenchPlan& plan, dist::Comm& comm,
                                                  const dist::Deadline& deadline, const Progress& progress) const = 0;
  /// bench -g N: this process drives N GPUs, one thread and communicator rank each.
  [[nodiscard]] virtual LocalGroupRun run_bench_local(const collectives::BenchPlan& plan, int ngpus,
                                                      const dist::Deadline& deadline,
                                                      const Progress& progress) const = 0;
  /// Copy-engine bandwidth of this node's GPUs (H2D, D2H, D2D).
  [[nodiscard]] virtual std::vector<CopyResult> run_copies(std::size_t bytes, int iters,
                                                           const dist::Deadline& deadline) const = 0;
  /// NCCL's own topology and graph dumps and debug log from one live allreduce.
  [[nodiscard]] virtual RingsCapture capture_rings(dist::Comm& comm, const dist::Deadline& deadline,
                                                   std::size_t max_log_bytes) const = 0;
};

/// The factory: the backend this build has.
[[nodiscard]] const Backend& backend();

/// A copy measurement as the report's `sections.copies[]` entry (unmeasured values are null).
[[nodiscard]] nlohmann::json copy_to_json(const CopyResult& c, const std::string& host, int rank);

}  // namespace ncd::gpu
