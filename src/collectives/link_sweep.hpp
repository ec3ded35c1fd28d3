// SPDX-License-Identifier: Apache-2.0
#pragma once
/// The link sweep over MPI point-to-point (host backend): rounds of disjoint pairs measured
/// concurrently, each pair both directions (large messages for bandwidth, 8-byte ping-pong for
/// latency), every round under a deadline, results gathered at rank 0.
#include <cstdint>
#include <functional>
#include <map>
#include <utility>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "collectives/link_schedule.hpp"
#include "dist/deadline.hpp"
#include "model/report.hpp"

namespace ncd::dist {
class MpiComm;
}

namespace ncd::collectives {

/// What to measure and how long each round may take.
struct LinkPlan {
  LinkMode mode = LinkMode::kPairwise;
  std::uint64_t bytes = 64ull << 20;  ///< bandwidth message size
  int iters = 5;                      ///< timed transfers per direction (fewer if the round's time runs short)
  int warmup = 1;                     ///< untimed transfers per direction first
  int latency_iters = 100;            ///< timed 8-byte round trips per pair (the best counts)
  int repeat = 1;                     ///< sweeps of the whole schedule (flapping links), within the deadline
  /// Passes over the schedule for repeatability: up to this many, each pass in the reverse
  /// order of rounds of the previous (interleaved: a pair is measured at other moments, next
  /// to other pairs), but a further pass only starts when it fits the time left (with a
  /// margin). The spread of a direction's passes is the run's own noise.
  int passes = 1;
  /// A pair stops iterating once its bandwidth phase took this long (after at least one timed
  /// transfer each way): a slow link is measured precisely by one long transfer, and a few slow
  /// nodes must not stretch a sweep of thousands of pairs.
  double pair_time_s = 2.0;
  double round_timeout_s = 0;         ///< 0: derived from the command's deadline (round_timeout())
  BisectOptions bisect;
};

/// Time kept back from the command's deadline for the final gather and the report.
[[nodiscard]] double reserve_s(double timeout_s);
/// The deadline of one round: what remains of `timeout_s` after the reserve, split over the
/// rounds of one sweep, but never below `floor_s` (a round must fit one warm-up and one timed
/// transfer each way of a slow link) nor above the time left.
[[nodiscard]] double round_timeout(double timeout_s, int rounds, double floor_s = 10);

/// What the sweep found. On rank 0 the links of every rank (one entry per direction); on the
/// other ranks their own.
struct LinkSweepResult {
  std::vector<model::LinkResult> links;
  std::vector<int> silent_ranks;  ///< rank 0: ranks whose results never arrived
  int rounds_planned = 0;
  int rounds_done = 0;
  int rounds_per_sweep = 0;       ///< one pass over the schedule (pairwise, ring)
  double round_timeout_s = 0;
  bool failed = false;            ///< a pair did not finish or a rank went silent: the job must end
  bool deadline_reached = false;  ///< stopped before the planned rounds because --timeout ran out
  std::string stop_reason;
  nlohmann::json bisect;          ///< mode bisect: rounds, tests, outcomes, slow and inconclusive
  std::vector<int> bisect_slow;   ///< mode bisect: ranks found slow
  std::vector<std::vector<int>> bisect_inconclusive;
  int confirmed_pairs = 0;        ///< suspect pairs measured a second time
  int passes_done = 0;            ///< complete passes over the schedule
  /// Rank 0: each direction's bandwidth samples (src rank, dst rank), one per pass (and per
  /// re-measurement), as its sending end timed them.
  std::map<std::pair<int, int>, std::vector<double>> samples;
};

/// Rank 0 names the pairs that look slow after the sweep; they are measured once more, at
/// another moment, and a direction keeps the better of its two medians: a pair is blamed only
/// when it is slow twice (a noisy neighbour on a shared host is not a bad link).
using SuspectFn = std::function<std::vector<Pair>(const std::vector<model::LinkResult>&)>;

/// Link class of two ranks: "shm" on the same host, "net" across hosts.
[[nodiscard]] std::string link_class(const std::string& host_a, const std::string& host_b);

/// Runs the sweep on every rank of `comm` (collective: every rank calls it). Never waits past
/// `deadline` plus a short grace. On failure the MPI state may be stuck: the caller writes the
/// report and then ends the job (comm.broken() is set).
[[nodiscard]] LinkSweepResult run_link_sweep(const LinkPlan& plan, dist::MpiComm& comm,
                                             const dist::Deadline& deadline, double timeout_s,
                                             const SuspectFn& suspects = nullptr);

/// One entry from every measurement of a direction (both ends, repeated sweeps): a failure
/// wins, else the median bandwidth and the best latency.
[[nodiscard]] model::LinkResult merge_measurements(const std::vector<model::LinkResult>& v);

/// Compact text form of link results for the gather ("src dst ok bytes gbps latency" lines).
[[nodiscard]] std::string encode_links(const std::vector<model::LinkResult>& links);
/// Parses encode_links' output; throws Error on malformed text.
[[nodiscard]] std::vector<model::LinkResult> decode_links(const std::string& text);

}  // namespace ncd::collectives
