// SPDX-License-Identifier: Apache-2.0
#pragma once
/// Attribution of a link sweep: which link, or which node, is slow, asymmetric, late or silent.
/// Pure: works the same on a live sweep and on a saved report's measurements.links[].
#include <map>
#include <utility>
#include <string>
#include <vector>

#include "core/finding.hpp"
#include "report/report.hpp"

namespace ncd::checks {

/// Thresholds. Robust statistics within a link class (median, and sigma = 1.4826 * MAD): a
/// value is slow when it is below BOTH ratio * median and median - z * sigma (z = 3), so neither a
/// noisy class (unshaped veth links on a 2-core box: 1.5-3.0 GB/s) nor a tight one raises
/// anything on a healthy cluster; but below always_slow_ratio * median is slow however noisy
/// the class is. Where the class's expected bandwidth is known, a value
/// below expected_fraction * expected is slow as well.
struct LinkCheckOptions {
  double slow_ratio = 0.5;          ///< bandwidth below this fraction of the class median
  double z = 3.0;                   ///< and this many robust sigmas below the median
  double always_slow_ratio = 0.25;  ///< noise never lowers the threshold below this fraction
  double asymmetry_ratio = 1.0 / 3; ///< one direction below this fraction of the other
  double latency_ratio = 4.0;       ///< latency above this multiple of the class median
  double latency_floor_us = 50;     ///< and at least this much above it (us)
  double expected_fraction = 0.5;   ///< below this fraction of the expected bandwidth
  std::map<std::string, double> expected_gbps;  ///< per class ("net", "shm"), when known
};

/// What the sweep produced, for the checks.
struct LinkSweepData {
  std::vector<report::LinkResult> links;  ///< directed; ok=false: the pair did not finish
  std::vector<int> silent_ranks;          ///< ranks whose results never reached rank 0
  std::vector<std::string> rank_host;     ///< host of each rank (names silent ranks)
  double round_timeout_s = 0;             ///< the deadline a pair had, for messages
};

/// The typical values of one link class, as the checks saw them.
struct ClassSummary {
  int links = 0;              ///< directed measurements
  double median_gbps = 0;
  double sigma_gbps = 0;      ///< 1.4826 * MAD
  double slow_below_gbps = 0; ///< the threshold used for links
  double expected_gbps = 0;   ///< 0 when unknown
  double median_latency_us = 0;
};

struct LinkAnalysis {
  std::vector<Finding> findings;
  std::map<std::string, ClassSummary> classes;
  /// Rank pairs behind the pair-level findings (link.slow, link.asymmetric, link.latency_high
  /// of one pair): worth measuring again before blaming them. Node-level findings rest on
  /// several rounds already.
  std::vector<std::pair<int, int>> suspect_rank_pairs;
};

/// link.unresponsive, node.slow, link.slow, link.asymmetric, link.latency_high. Endpoints are
/// hosts for the "net" class (several rank pairs of one host pair count once, by their
/// median) and "host rank" for links inside a host. A node slow with more than half of its
/// peers is blamed once as node.slow, and its pairs are not reported again as link.slow.
[[nodiscard]] LinkAnalysis check_links(const LinkSweepData& data, const LinkCheckOptions& opts = {});

/// What a bisection found (collectives::BisectPlanner), for the checks.
struct BisectFindingsInput {
  std::vector<int> slow;                        ///< ranks confirmed slow
  std::vector<double> slow_gbps;                ///< their test result (GB/s), same order
  std::vector<std::vector<int>> inconclusive;   ///< slow groups whose parts were all fast
  double reference_gbps = 0;
  std::vector<std::string> rank_host;
};

/// node.slow for each rank the bisection confirmed slow; an inconclusive group is a link.slow
/// naming the group (its members are fast apart, so a link between them is slow).
[[nodiscard]] std::vector<Finding> check_bisect(const BisectFindingsInput& in);

/// Parses "net=12.5,shm=20" (GB/s per class); throws UsageError naming `what`.
[[nodiscard]] std::map<std::string, double> parse_expected_gbps(const std::string& text,
                                                                const std::string& what);

}  // namespace ncd::checks
