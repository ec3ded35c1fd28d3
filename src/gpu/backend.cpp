// SPDX-License-Identifier: Apache-2.0
// The factory of the GPU backend: the one place that knows whether this build has NCCL.
#include "gpu/backend.hpp"

#include <nlohmann/json.hpp>

#include "core/build_info.hpp"
#include "core/error.hpp"
#include "ncd/gpu_config.hpp"

namespace ncd::gpu {

#if NCD_HAVE_NCCL
const Backend& nccl_backend();  // src/gpu/nccl_backend.cpp
#endif

namespace {

/// A build without NCCL: no GPU is usable, and asking for a GPU step is one clear error.
class NotBuilt final : public Backend {
 public:
  bool built() const override { return false; }
  std::string build_version() const override { return {}; }
  std::string describe() const override { return "off (rebuild with -DNCD_WITH_NCCL=ON for GPU benchmarks)"; }
  GpuAvailability availability() const override { return {0, "this build has no NCCL backend"}; }
  GpuBenchOutcome run_bench(const collectives::BenchPlan&, dist::Comm&, const dist::Deadline&,
                            const Progress&) const override {
    fail();
  }
  LocalGroupRun run_bench_local(const collectives::BenchPlan&, int, const dist::Deadline&,
                                const Progress&) const override {
    fail();
  }
  std::vector<CopyResult> run_copies(std::size_t, int, const dist::Deadline&) const override { fail(); }
  RingsCapture capture_rings(dist::Comm&, const dist::Deadline&, std::size_t) const override { fail(); }

 private:
  [[noreturn]] static void fail() {
    throw UnavailableError("this build has no NCCL backend (rebuild with -DNCD_WITH_NCCL=ON)");
  }
};

/// What the report's `tool.features` says about this build (core cannot ask the gpu module).
const bool kRegistered = [] {
  BuildInfo& b = build_info();
  b.nccl = NCD_HAVE_NCCL;
  b.nccl_build_version = NCD_NCCL_BUILD_VERSION;
  return true;
}();

}  // namespace

const Backend& backend() {
  (void)kRegistered;
#if NCD_HAVE_NCCL
  return nccl_backend();
#else
  static const NotBuilt none;
  return none;
#endif
}

nlohmann::json copy_to_json(const CopyResult& c, const std::string& host, int rank) {
  auto or_null = [](double v) { return v > 0 ? nlohmann::json(v) : nlohmann::json(nullptr); };
  return {{"kind", c.kind},           {"src", c.src},
          {"dst", c.dst},             {"bus_id", c.bus_id},
          {"bytes", c.bytes},         {"gbps", or_null(c.gbps)},
          {"expected_gbps", or_null(c.expected_gbps)},
          {"expected_from", c.expected_from},
          {"host", host},             {"rank", rank}};
}

// The rings capture as gathered from every rank (the records cross ranks in every build).
void to_json(nlohmann::json& j, const RingsCapture& c) {
  j = nlohmann::json{{"host", c.host},           {"rank", c.rank},           {"leader", c.leader},
                     {"cuda_dev", c.cuda_dev},   {"topo_xml", c.topo_xml},   {"graph_xml", c.graph_xml},
                     {"debug_log", c.debug_log}, {"log_truncated", c.log_truncated}, {"error", c.error}};
}

void from_json(const nlohmann::json& j, RingsCapture& c) {
  c.host = j.value("host", "");
  c.rank = j.value("rank", 0);
  c.leader = j.value("leader", false);
  c.cuda_dev = j.value("cuda_dev", -1);
  c.topo_xml = j.value("topo_xml", "");
  c.graph_xml = j.value("graph_xml", "");
  c.debug_log = j.value("debug_log", "");
  c.log_truncated = j.value("log_truncated", false);
  c.error = j.value("error", "");
}

}  // namespace ncd::gpu
