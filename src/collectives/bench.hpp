// SPDX-License-Identifier: Apache-2.0
#pragma once
/// The measuring loop shared by `bench`, `sweep` and bench/: for each (op, algo, size) every
/// rank passes a deadline-bounded sync, warms up, times `iters` iterations (per-iteration
/// times, the slowest rank's counting), runs `check` poisoned-and-verified iterations, and
/// rank 0 gathers the results.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "collectives/types.hpp"
#include "dist/comm.hpp"
#include "model/report.hpp"

namespace ncd::dist {
class MpiComm;
}

namespace ncd::collectives {

/// What to measure.
struct BenchPlan {
  std::vector<Op> ops{Op::kAllReduce};
  std::vector<Algo> algos{Algo::kRing, Algo::kTree, Algo::kNative};
  std::vector<std::size_t> sizes{1u << 20};
  DType dtype = DType::kFloat32;
  RedOp redop = RedOp::kSum;
  int root = 0;
  int iters = 20;
  int warmup = 5;
  int check = 1;  ///< verified iterations after the timed ones (0: no data check)
  HostTuning tuning;
  std::uint32_t seed = 0x5eed;
  /// Rank 0: called with each row as soon as it is measured (live nccl-tests-style output).
  std::function<void(const model::CollectiveResult&)> on_row;
};

/// One measured point with its per-rank detail (rank 0).
struct PointResult {
  model::CollectiveResult row;
  std::vector<std::int64_t> wrong_per_rank;  ///< -1: not checked
  std::vector<double> iter_us;               ///< per iteration, slowest rank
};

/// Everything a run produced (complete on rank 0; other ranks only know their own status).
struct BenchOutcome {
  std::vector<PointResult> points;
  std::vector<int> missing_ranks;    ///< ranks that never answered a step
  std::vector<int> timed_out_ranks;  ///< ranks that answered but whose collective expired
  std::string failed_step;           ///< "allreduce ring 16M" where it stopped
  bool stopped = false;              ///< the run ended early (timeout)
};

/// Statistics of per-iteration times: median, min, max, spread = (p90 - p10) / median.
struct IterStats {
  double median = 0, min = 0, max = 0, spread = 0;
  double spread_iqr = 0;  ///< (p75 - p25) / median
};
[[nodiscard]] IterStats iter_stats(std::vector<double> us);

/// Fills algbw/busbw of `row` from its bytes, time and nranks (nccl-tests formulas).
void set_bandwidth(model::CollectiveResult& row, Op op);

/// Deadline-bounded sync before a point: rank 0 learns who is alive (missing ranks go into
/// out.missing_ranks) and tells everyone whether to go on. `stop_now`: this rank asks to stop.
/// Returns true to go on.
[[nodiscard]] bool sync_point(dist::Comm& comm, const dist::Deadline& deadline, BenchOutcome& out, bool stop_now);

/// This rank's result of one point, as gathered: ok (finished in time), wrong, per-iteration us.
[[nodiscard]] std::string point_blob(bool ok, std::int64_t wrong, const std::vector<double>& times_us);

/// Rank 0: fills pr (times, spread, bandwidth, #wrong per rank) from every rank's point_blob.
/// Returns false when a rank is missing or timed out (recorded in out).
bool assemble_point(const std::vector<std::optional<std::string>>& blobs, int iters, int check, Op op,
                    PointResult& pr, BenchOutcome& out);

/// Called from the watchdog thread when the MPI library's own (blocking) collective is still
/// running `kStuckGrace_s` after the deadline (other ranks: 10 s later, so that rank 0 writes
/// the report first): it gets what was measured so far and the step, must not call MPI, and
/// the process then ends with exit code 2.
using StuckHandler = std::function<void(const BenchOutcome& so_far, const std::string& step)>;
inline constexpr double kStuckGrace_s = 5;

/// Runs `plan` on the host backend. `progress` (may be empty) is called on rank 0 before each
/// point. Ranks other than 0 return their own status only. Our algorithms give up at the
/// deadline; the native peer cannot be abandoned, so a watchdog ends the process (after
/// `on_stuck`) if one outlives the deadline.
[[nodiscard]] BenchOutcome run_host_bench(const BenchPlan& plan, dist::MpiComm& comm,
                                          const dist::Deadline& deadline,
                                          const std::function<void(const std::string&)>& progress = {},
                                          const StuckHandler& on_stuck = {});

/// One case of the correctness matrix.
struct SelfTestFailure {
  std::string what;
  int rank = 0;
  std::size_t wrong = 0;
};
/// Runs every op x algo x type x redop (x root) over odd and tiny sizes once each and checks
/// the results exactly. Returns the failures seen by this rank (gathered by the caller).
[[nodiscard]] std::vector<SelfTestFailure> run_self_test(dist::MpiComm& comm, const dist::Deadline& deadline,
                                                         std::size_t* cases);

}  // namespace ncd::collectives
