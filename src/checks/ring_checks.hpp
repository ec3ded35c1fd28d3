// SPDX-License-Identifier: Apache-2.0
#pragma once
/// NCCL's rings and trees held against the topology (ARCHITECTURE §5, "NCCL's rings and
/// trees"): for each graph and channel, the GPU order, each hop's path type and expected
/// bandwidth, where data enters and leaves the node, the transports a log shows, NCCL's model
/// busbw next to what the topology could give, and the ring.* checks. Pure: model in,
/// findings out.
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/finding.hpp"
#include "nccl/graph_xml.hpp"
#include "nccl/tuning_model.hpp"
#include "topo/model.hpp"

namespace ncd::nccl {
struct RunLog;
}

namespace ncd::checks {

/// A graph whose aggregate bandwidth is below this share of what the topology supports has
/// too few channels (ring.channels_low). Generous on purpose: the capacity estimate ignores
/// links shared between hops, so only a clear shortfall is reported.
inline constexpr double kChannelsLowShare = 0.5;
/// NCCL's ring search stops at MAXCHANNELS/2 search channels (init.cc:1015-1059).
inline constexpr int kMaxRingSearchChannels = 32;

struct RingsOptions {
  int nodes = 0;  ///< nodes of the job for the model; 0: from the log, else 2 if the graph has NETs, else 1
  /// Log connections of this host only are held against the topology ("" = every host, each
  /// assumed to have this topology).
  std::string log_host;
  /// Compare hosts of the log with each other (ring.inconsistent); once per job.
  bool compare_hosts = true;
};

/// One hop between consecutive GPUs of a channel, as the topology sees it.
struct RingHop {
  int from_dev = -1;  ///< NVML index
  int to_dev = -1;
  topo::PathType type = topo::PathType::kDIS;
  double bw_gbps = 0;
  std::string bottleneck;
  bool crosses_socket = false;          ///< the path runs over the inter-socket link (SYS)
  std::vector<std::string> transports;  ///< "host: P2P/CUMEM" from a log, distinct
};

/// Where a channel enters (NET -> first GPU) or leaves (a GPU -> NET) the node.
struct RingNetEnd {
  bool entry = true;
  std::int64_t net_dev = -1;
  std::string net;      ///< "mlx5_18/1"; "" when the topology does not have it
  int gpu_dev = -1;
  topo::PathType type = topo::PathType::kDIS;
  double bw_gbps = 0;   ///< min(path, NIC port)
  std::string via;      ///< PXN: the GPU the data goes through
};

struct RingChannel {
  int index = 0;
  std::vector<int> gpus;  ///< NVML indices in order
  std::vector<RingHop> hops;
  std::optional<RingNetEnd> in;
  std::optional<RingNetEnd> out;
  int socket_hops = -1;      ///< hops (NIC ends included) over the inter-socket link; -1 unknown
  int min_socket_hops = -1;  ///< the fewest an order of the same GPUs and NICs needs
};

struct RingGraph {
  nccl::Graph graph;  ///< as read (channels included)
  std::vector<RingChannel> channels;
  std::optional<topo::PathType> worst_intra;  ///< worst topology path over the graph's own hops
  std::optional<topo::PathType> worst_inter;  ///< worst topology path at its NET ends
  double aggregate_gbps = 0;  ///< what the graph's channels carry (nChannels × speed, NIC-capped)
  double capacity_gbps = 0;   ///< what the topology could carry for this graph; 0 unknown
  int channels_needed = 0;    ///< channels at the graph's speed to reach the capacity
  int nic_ports_used = 0;
  int nic_ports_usable = 0;
};

/// The whole inspection of one host's topology and graph file.
struct RingsAnalysis {
  std::string host;
  int nodes = 1;
  bool nodes_assumed = true;  ///< not from a log or the command line
  int ranks = 0;              ///< nodes × GPUs of the ring (for the model)
  std::vector<RingGraph> graphs;
  std::optional<nccl::TuningResult> predicted;  ///< NCCL's model with the graph's channels
  std::optional<nccl::TuningResult> possible;   ///< the same model at the topology's capacity
  /// Inter-node trees from a log, one line per group of channels ("ch 0,2: n1 -> n2, n3").
  std::vector<std::string> node_trees;
  std::vector<Finding> findings;
  std::vector<std::string> notes;
};

/// Inspects `graphs` against `system` (paths computed), with transports from `log` when given.
[[nodiscard]] RingsAnalysis analyze_rings(const topo::System& system, const nccl::GraphFile& graphs,
                                          const nccl::RunLog* log, const RingsOptions& opts);

/// Compares the graph files of several nodes of one job (live inspection): ring.inconsistent
/// when they differ in channels, speeds, path types or GPU order.
[[nodiscard]] std::vector<Finding> compare_node_graphs(
    const std::vector<std::pair<std::string, const nccl::GraphFile*>>& per_host);

void to_json(nlohmann::json& j, const RingsAnalysis& a);

}  // namespace ncd::checks
