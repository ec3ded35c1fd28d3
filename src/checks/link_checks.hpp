// SPDX-License-Identifier: Apache-2.0
#pragma once
/// Attribution of a link sweep: which link, or which node, is slow, asymmetric, late or silent.
/// Pure: works the same on a live sweep and on a saved report's measurements.links[].
#include <map>
#include <optional>
#include <utility>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/catalogue.hpp"
#include "core/finding.hpp"
#include "model/report.hpp"
#include "topo/model.hpp"

namespace ncd::checks {

/// Thresholds of the attribution (check_links). Work is on log-bandwidth: a node is judged by
/// its own links against the links that do not touch it (leave-one-out), a link against its two
/// ends' other links. The noise (robust sigma, 1.4826 MAD of log-bandwidth) is estimated from
/// the healthy links of the same run (and from repeated passes); something is slow when its
/// ratio to its reference is below max_ratio AND its robust z-score below -z. Below
/// error_ratio it is an error.
struct LinkCheckOptions {
  double max_ratio = 0.75;          ///< never slow above this fraction of the reference
  double z_node = 4.0;              ///< robust z-score of a node's links
  double z_link = 4.5;              ///< robust z-score of one link (more links: stricter)
  double sigma_floor = 0.02;        ///< noise is never taken below 2% (log units)
  double error_ratio = 0.35;        ///< at or below this fraction (a quarter, with margin): error
  double asymmetry_ratio = 1.0 / 3; ///< one direction below this fraction of the other
  double latency_ratio = 4.0;       ///< latency above this multiple of the class median
  double latency_floor_us = 50;     ///< and at least this much above it (us)
  double z = 3.0;                   ///< latency: this many robust sigmas above the median
  double expected_fraction = 0.5;   ///< below this fraction of the expected bandwidth
  std::map<std::string, double> expected_gbps;       ///< per class ("net", "shm"), when known
  std::map<std::string, std::string> expected_from;  ///< per class: where the figure comes from
  /// per class: why there is no hardware expectation (said in notes and the 2-node finding)
  std::map<std::string, std::string> no_expectation_reason;
};

/// What the sweep produced, for the checks.
struct LinkSweepData {
  std::vector<model::LinkResult> links;  ///< directed; ok=false: the pair did not finish
  std::vector<int> silent_ranks;          ///< ranks whose results never reached rank 0
  std::vector<std::string> rank_host;     ///< host of each rank (names silent ranks)
  double round_timeout_s = 0;             ///< the deadline a pair had, for messages
  /// Every bandwidth sample of a direction (src rank, dst rank), one per pass of the sweep:
  /// the repeatability of the run (noise). Optional: links[] holds their median.
  std::map<std::pair<int, int>, std::vector<double>> samples;
};

/// The typical values of one link class, as the checks saw them.
struct ClassSummary {
  int links = 0;              ///< directed measurements
  double median_gbps = 0;     ///< typical healthy link (the reference)
  double sigma_gbps = 0;      ///< noise in GB/s at the reference (noise * median)
  double slow_below_gbps = 0; ///< the threshold used for one link
  double expected_gbps = 0;   ///< 0 when unknown
  double median_latency_us = 0;
  double noise = 0;           ///< robust sigma of log-bandwidth used (>= the floor)
  double noise_between = 0;   ///< from the spread of healthy links
  double noise_repeat = 0;    ///< from repeated passes of the same direction (0: one pass)
  int healthy_values = 0;     ///< directed values the noise was estimated from
  double link_limit_ratio = 0;  ///< a link is judged slow below this fraction of its peers
  double node_limit_ratio = 0;  ///< a node (median endpoint) below this fraction
  std::string method;         ///< "leave-one-out", "triangulation", "expectation only", ...
  /// Why the class's links could not be judged slow or not (2 endpoints and no expected
  /// bandwidth: link.not_judged); empty when they were judged.
  std::string not_judged;
};

struct LinkAnalysis {
  std::vector<Finding> findings;
  std::map<std::string, ClassSummary> classes;
  /// Rank pairs behind the pair-level findings (link.slow, link.asymmetric, link.latency_high
  /// of one pair): worth measuring again before blaming them. Node-level findings rest on
  /// several rounds already.
  std::vector<std::pair<int, int>> suspect_rank_pairs;
  /// Remarks for the report: the method per class, no expectation, too noisy to judge.
  std::vector<std::string> notes;
};

/// link.slow's outcome when it judged nothing: no class of links could be judged (2 endpoints,
/// no expected bandwidth). Between nodes that is a fabric link left unjudged (could not run:
/// give the expectation or more nodes); between two ranks of one host there is no fabric link
/// at all (not applicable). Empty when some class was judged (or nothing was measured).
[[nodiscard]] std::optional<CheckOutcome> link_slow_outcome(const LinkAnalysis& analysis);

/// link.unresponsive, node.slow, link.slow, link.asymmetric, link.latency_high,
/// link.not_judged. Endpoints are hosts for the "net" class (several rank pairs of one host pair
/// count once, by their median) and "host rank" for links inside a host. A node slow with more
/// than half of its peers (against the links not touching it) is blamed once as node.slow, and
/// its pairs are not reported again as link.slow. 3 endpoints triangulate (each node's two
/// links against the third); 2 endpoints can only be compared with the expectation.
[[nodiscard]] LinkAnalysis check_links(const LinkSweepData& data, const LinkCheckOptions& opts = {});
/// `sections.links.classes` of a report: one object per link class (its ClassSummary, and where
/// its expectation came from or why it has none, from `opts`). The one writer of that JSON.
[[nodiscard]] nlohmann::json link_classes_json(const LinkAnalysis& analysis, const LinkCheckOptions& opts);

/// What a bisection found (collectives::BisectPlanner), for the checks.
struct BisectFindingsInput {
  std::vector<int> slow;                        ///< ranks confirmed slow
  std::vector<double> slow_gbps;                ///< their test result (GB/s), same order
  std::vector<std::vector<int>> inconclusive;   ///< slow groups whose parts were all fast
  double reference_gbps = 0;
  std::vector<std::string> rank_host;
};

/// What a finished bisection (collectives::LinkSweepResult, mode bisect) found: its slow ranks
/// with their own test's GB/s from the bisection history, its inconclusive groups.
[[nodiscard]] BisectFindingsInput bisect_input(const std::vector<int>& slow,
                                               const std::vector<std::vector<int>>& inconclusive,
                                               const nlohmann::json& bisect, std::vector<std::string> rank_host);

/// node.slow for each rank the bisection confirmed slow; an inconclusive group is a link.slow
/// naming the group (its members are fast apart, so a link between them is slow).
[[nodiscard]] std::vector<Finding> check_bisect(const BisectFindingsInput& in);

/// What one host's hardware should give a link to another host (class "net"): the line rate of
/// its best active RDMA port (InfiniBand, RoCE, EFA), capped by that NIC's PCIe link at its
/// maximum speed and width. None for hosts without an RDMA NIC of known rate (TCP over
/// Ethernet or veth: the kernel's socket path, not the port, sets the pace), said in `reason`.
struct NetExpectation {
  double gbps = 0;     ///< GB/s per direction; 0: none
  std::string from;    ///< "400 Gb/s InfiniBand port mlx5_0/1"
  std::string reason;  ///< why there is none
};
[[nodiscard]] NetExpectation net_expectation(const topo::System& s);

/// Sets opts' "net" expectation from every host's (the lowest: a link is as fast as its slower
/// end), unless --expect already gave one; else the reason there is none. `hosts` pairs a
/// host name with its expectation.
void apply_net_expectations(const std::vector<std::pair<std::string, NetExpectation>>& hosts,
                            LinkCheckOptions& opts);

/// Parses "net=12.5,shm=20" (GB/s per class); throws UsageError naming `what`.
[[nodiscard]] std::map<std::string, double> parse_expected_gbps(const std::string& text,
                                                                const std::string& what);

}  // namespace ncd::checks
