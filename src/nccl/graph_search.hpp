// SPDX-License-Identifier: Apache-2.0
#pragma once
/// NCCL's graph search (nccl-internals.md §4; NCCL 2.28 graph/search.cc read as reference):
/// from one node's topology alone, the ring, tree and NVLS graphs NCCL will build: channels,
/// speeds, path types, GPU order per channel and the NICs. The search is replayed step by step:
/// per-hop bandwidth accounting, the PCI-order-first rule, NVSwitch neighbour order, NIC
/// choice (crossNic), the fallback order over path types and speeds, its step budgets, and
/// channel duplication. Pure.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "nccl/graph_xml.hpp"
#include "topo/model.hpp"

namespace ncd::nccl {

struct PredictOptions {
  int nodes = 1;              ///< >1: inter-node graphs (channels start and end at a NET)
  int cross_nic = 2;          ///< NCCL_CROSS_NIC (0, 1, 2)
  int max_nchannels = 0;      ///< NCCL_MAX_NCHANNELS (comm channels only; 0 unset)
  int min_nchannels = 0;      ///< NCCL_MIN_NCHANNELS
  bool pxn_disable = false;   ///< NCCL_PXN_DISABLE=1
  int p2p_level = -1;         ///< NCCL_P2P_LEVEL as a 2.28 path type value; -1 default
  bool assume_p2p_ok = false; ///< GeForce boards: assume NVML allows PCIe P2P
  bool nvls = true;           ///< search NVLS where the topology allows it (NVS, sm >= 90)
  /// NCCL release whose search is replayed: 228 (2.28, default) or 218 (2.18: other sm90 speed
  /// arrays, type limits from NVL/PIX, no AMD same-channels rule, crossNic 1 not 2, no split
  /// NVLink rule, rings not raised in pass 2, duplication after pass 2, sm90 NVLink 20.0 GB/s,
  /// no Sapphire/Emerald Rapids inter-socket bandwidth). docs/rings.md lists them.
  int version = 228;
};

/// One predicted channel: GPUs (NVML index) in order, NETs (net dev) where data enters/leaves.
struct PredictedChannel {
  std::vector<int> gpus;
  std::int64_t net_in = -1;
  std::int64_t net_out = -1;
};

struct PredictedGraph {
  int id = 0;                 ///< 0 ring, 1 tree, 3 NVLS (the dump's ids)
  GraphKind kind = GraphKind::kRing;
  int pattern = 4;            ///< NCCL pattern after the search (a tree may fall back to 3)
  int crossnic = 0;
  int nchannels = 0;
  double speed_intra = 0, speed_inter = 0;
  std::string type_intra, type_inter;
  bool same_channels = false;
  std::vector<PredictedChannel> channels;
  bool fallback = false;      ///< "Could not find a path", simple order at 0.1 GB/s
  bool timed_out = false;     ///< a search step budget ran out (NCCL stops there too)
  std::int64_t steps = 0;     ///< search steps spent
};

struct Prediction {
  bool inter = false;
  int gpus = 0;
  int nets = 0;
  int cc_min = 0;
  double max_bw = 0, total_bw = 0;   ///< NCCL's "=== System : maxBw totalBw ==="
  std::vector<PredictedGraph> graphs;
  int comm_channels = 0;       ///< comm->nChannels after Postset and MIN/MAX_NCHANNELS
  std::vector<std::string> notes;
  [[nodiscard]] const PredictedGraph* find(GraphKind k) const;
};

/// Predicts NCCL's graphs for `node` (paths need not be computed). Never throws on a valid
/// System; a node without GPUs gives no graphs and a note.
[[nodiscard]] Prediction predict_graphs(const topo::System& node, const PredictOptions& opts);

/// The predicted graph as the dump structure (for the tuning model and comparisons).
[[nodiscard]] Graph to_graph(const PredictedGraph& p);

/// True when two GPU orders are the same cycle (ring) or the same sequence (tree) up to
/// rotation. Rings compare as cycles: a rotation of the same direction.
[[nodiscard]] bool same_order_up_to_rotation(const std::vector<int>& a, const std::vector<int>& b);

void to_json(nlohmann::json& j, const PredictedChannel& c);
void to_json(nlohmann::json& j, const PredictedGraph& g);

}  // namespace ncd::nccl
