// SPDX-License-Identifier: Apache-2.0
#pragma once
/// Link sweeps at scale, simulated (issue 19): the real schedules (collectives/link_schedule)
/// and the real attribution (check_links, BisectPlanner + check_bisect) fed a synthetic fabric
/// of `nodes` nodes (one rank each, class "net") with planted slow nodes and links. Counts the
/// rounds a sweep needs and scores the localisation: every planted fault found, nothing else
/// blamed. Used by bench/scale_bench (4,096 nodes) and the unit tests (512).
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace ncd::checks {

struct FabricSim {
  int nodes = 512;
  std::vector<int> slow_nodes;                   ///< every link of these is slow
  std::vector<std::pair<int, int>> slow_links;   ///< (a, b), both directions slow
  double healthy_gbps = 24.0;                    ///< a healthy link (400 Gb/s NDR ~ 48 GB/s; half, conservatively)
  double noise = 0.03;                           ///< log-normal spread of healthy links (sigma, log units)
  double slow_node_factor = 0.3;                 ///< a slow node's links run at this fraction
  double slow_link_factor = 0.4;                 ///< a slow link runs at this fraction
  unsigned seed = 1;
};

struct SweepSim {
  std::string mode;               ///< "ring", "pairwise", "bisect"
  int nodes = 0;
  int rounds = 0;                 ///< rounds of the sweep (bisect: of the group testing)
  int recheck_rounds = 0;         ///< rounds to measure the suspects again (pack_rounds)
  std::size_t measured_pairs = 0; ///< pairs (or group tests) measured
  std::vector<int> found_nodes;                ///< node.slow, sorted
  std::vector<std::pair<int, int>> found_links; ///< link.slow, (a < b), sorted
  std::vector<std::string> other_findings;     ///< anything else warn/error: false alarms
  std::vector<int> missed_nodes, false_nodes;
  std::vector<std::pair<int, int>> missed_links, false_links;
  double analysis_cpu_s = 0;      ///< CPU seconds of the attribution (rank 0's share)
  [[nodiscard]] bool exact() const {
    return missed_nodes.empty() && false_nodes.empty() && missed_links.empty() && false_links.empty() &&
           other_findings.empty();
  }
};

/// Ring sweep (2 rounds; slow links must lie on the ring, i.e. (i, i+1), to be measurable).
[[nodiscard]] SweepSim simulate_ring(const FabricSim& f);
/// Round-robin tournament over all pairs (n-1 rounds). `analyse` false: count the rounds and
/// pairs only (4,096 nodes: 8.4 million pairs).
[[nodiscard]] SweepSim simulate_pairwise(const FabricSim& f, bool analyse = true);
/// Group testing (BisectPlanner): slow nodes in log rounds; a slow link (i, i+1) inside a
/// group shows as an inconclusive pair.
[[nodiscard]] SweepSim simulate_bisect(const FabricSim& f);

}  // namespace ncd::checks
