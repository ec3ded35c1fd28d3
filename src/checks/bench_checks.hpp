// SPDX-License-Identifier: Apache-2.0
#pragma once
/// Findings from collective measurements (pure): bench.data_corrupt, bench.unstable,
/// bench.busbw_low, bench.algo_gap. bench.timeout is made by timeout_finding (dist_checks).
/// Verdicts use the large-message rows (the largest sizes of each series) and their
/// per-iteration spread, never nccl-tests' mean over all sizes.
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/finding.hpp"
#include "model/report.hpp"

namespace ncd::topo {
struct System;
}

namespace ncd::checks {

/// The measurements of one bench run, with what the checks need beyond the rows.
struct BenchEvidence {
  std::vector<model::CollectiveResult> rows;
  /// Per row (same index), wrong elements per rank (-1: not checked; empty: unknown).
  std::vector<std::vector<std::int64_t>> wrong_per_rank;
  std::vector<std::string> rank_host;  ///< host of each rank (for subjects)
  std::string host;                    ///< the finding's host field (job's hosts, joined)
  /// Expected large-message busbw (GB/s) per "op/algo" (e.g. "allreduce/ring"), from the
  /// topology and NCCL's model (nccl_model_busbw) or from --expected-busbw. Empty: skipped.
  std::map<std::string, double> expected_busbw;
  /// Second measurements of rows that looked unstable (same op, algo, backend, bytes), taken
  /// at once to tell a passing disturbance of the host from a path that keeps varying.
  std::vector<model::CollectiveResult> repeats;
};

/// Thresholds (defaults for the host backend; the GPU backend is stricter on spread).
struct BenchThresholds {
  double unstable_spread = 0.5;      ///< (p90 - p10) / median above this is unstable
  double busbw_low_ratio = 0.6;      ///< measured / expected below this is low (GPU)
  double host_vs_native_ratio = 0.5; ///< our ring/tree / native below this is low (host)
  double algo_gap_ratio = 0.4;       ///< slower / faster of ring and tree below this is a gap
  std::uint64_t min_large_bytes = 1u << 20;  ///< rows smaller than this are never "large"
};

/// The thresholds of a backend ("mpi", "nccl"): NCCL on GPUs is judged stricter on spread
/// (its iterations vary far less than MPI's on host memory).
[[nodiscard]] BenchThresholds thresholds_for(std::string_view backend);

[[nodiscard]] std::vector<Finding> check_bench(const BenchEvidence& ev, const BenchThresholds& th = {});

/// The rows bench.unstable would warn about (the widest large-message spread of each series,
/// not counting the MPI library's own collective when ours are steady): the ones worth
/// measuring again before blaming the fabric. Indices into ev.rows.
[[nodiscard]] std::vector<std::size_t> unstable_rows(const BenchEvidence& ev, const BenchThresholds& th = {});

/// Fills each row's expected busbw from NCCL's model (nccl::expected_busbw, the one function
/// `bench` and `sweep` share) for a job of `nodes` copies of `node` (compute_paths run), and
/// ev.expected_busbw per "op/algo" at the largest size. Returns "" when the model answered for
/// the large rows, else why not (bench.busbw_low then could not run; it does not pass).
[[nodiscard]] std::string apply_model_expectation(BenchEvidence& ev, const topo::System& node, int nodes);

/// GPU copy results (sections.copies entries): bench.busbw_low findings for copies below half
/// their expected bandwidth, and in `unmeasured` the copies that measured nothing or had no
/// expectation (never a silent pass).
[[nodiscard]] std::vector<Finding> check_copies(const nlohmann::json& copies, std::vector<std::string>& unmeasured);

/// The large-message rows of one (op, algo, backend) series: those of at least a quarter of
/// the series' largest size (and at least th.min_large_bytes). Indices into ev.rows.
[[nodiscard]] std::vector<std::size_t> large_rows(const BenchEvidence& ev, const std::string& op,
                                                  const std::string& algo, std::uint64_t min_bytes);

/// NCCL's large-message bus bandwidth model (nccl-internals.md §6.2, tuning.cc @2.28.9) for
/// Simple protocol, as nccl-tests would report it.
struct NcclModelInput {
  int sm = 90;              ///< minimum compute capability x10 (80 Ampere, 90 Hopper, 100 Blackwell)
  int nnodes = 1;
  int nranks = 8;
  int nchannels = 1;        ///< search channels (graph nChannels)
  double bw_intra = 0;      ///< graph bwIntra, GB/s per channel
  double bw_inter = 0;      ///< graph bwInter, GB/s per channel
  bool tree_pattern_tree = false;  ///< any rank's tree pattern is TREE (x0.85)
};
/// Predicted nccl-tests busbw (GB/s) of `algo` ("ring" or "tree") for `op` ("allreduce",
/// "allgather", "reducescatter", "broadcast", "reduce"); 0 when the model has none.
[[nodiscard]] double nccl_model_busbw(const NcclModelInput& in, const std::string& algo, const std::string& op);

}  // namespace ncd::checks
