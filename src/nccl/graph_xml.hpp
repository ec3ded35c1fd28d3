// SPDX-License-Identifier: Apache-2.0
#pragma once
/// NCCL graph dumps (NCCL_GRAPH_DUMP_FILE / NCCL_GRAPH_FILE, `<graphs version="1">`): the
/// channels NCCL's search produced for its ring, tree, CollNet and NVLS graphs. Format and its
/// version drift: shared/reference/nccl-internals.md §3.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace ncd::nccl {

/// `graph pattern=` (NCCL graph.h:95-100).
enum class GraphPattern : int {
  kUnknown = 0,
  kBalancedTree = 1,
  kSplitTree = 2,
  kTree = 3,
  kRing = 4,
  kNvls = 5,
  kCollnetDirect = 6,
};

/// What a graph is for, from its id and pattern (init.cc:1016-1052 @2.28.9).
enum class GraphKind { kRing, kTree, kCollnetChain, kCollnetDirect, kNvls, kUnknown };

[[nodiscard]] std::string_view to_string(GraphPattern p);
[[nodiscard]] std::string_view to_string(GraphKind k);

/// A node id as NCCL writes it: NCCL_TOPO_ID(systemId, local) = (system << 56) + local.
/// For a GPU, `local` is the NVML index; for a NET, the net plugin's device index.
struct TopoRef {
  std::uint32_t system = 0;
  std::int64_t local = 0;
  std::string raw;  ///< the attribute as written ("0x1", "3", "0x100000000000002")
  friend bool operator==(const TopoRef& a, const TopoRef& b) {
    return a.system == b.system && a.local == b.local;
  }
};

/// One search channel: data enters through `net_in`, visits `gpus` in order, leaves through
/// `net_out`. The NETs are present only when the system is multi-node (system->inter).
struct GraphChannel {
  std::optional<TopoRef> net_in;
  std::vector<TopoRef> gpus;  ///< ring order or tree chain (parent first); NVLS: the head only
  std::optional<TopoRef> net_out;
  int line = 0;               ///< line of `<channel>` in the file
};

/// One `<graph>` element.
struct Graph {
  int id = -1;
  GraphPattern pattern = GraphPattern::kUnknown;
  int pattern_raw = 0;
  GraphKind kind = GraphKind::kUnknown;
  int crossnic = 0;
  int nchannels = 0;        ///< the attribute (after ncclTopoDupChannels)
  double speed_intra = 0;   ///< GB/s per channel inside the node (bwIntra)
  double speed_inter = 0;   ///< GB/s per channel toward the network (bwInter)
  std::optional<double> latency_inter;  ///< µs; absent in old dumps
  std::string type_intra;   ///< path type name as written: LOC NVL NVB PIX PXB P2C PXN PHB SYS
  std::string type_inter;
  bool same_channels = false;
  std::vector<GraphChannel> channels;
  int line = 0;

  /// True when the channels carry NETs (the graph was computed for a multi-node job).
  [[nodiscard]] bool inter_node() const;
  /// Index in a channel's GPU list of the GPU that sends to the exit NET (search.cc:770-782):
  /// ring the last, split tree 1, tree and balanced tree 0.
  [[nodiscard]] std::size_t exit_index(const GraphChannel& c) const;
};

/// A whole graph file.
struct GraphFile {
  std::string source;  ///< file name, for messages
  int version = 0;
  std::vector<Graph> graphs;
  /// Remarks on the file itself: decimal ids from an old NCCL, nchannels vs channels, ...
  std::vector<std::string> notes;

  /// The first graph of `kind` with channels, or nullptr.
  [[nodiscard]] const Graph* find(GraphKind kind) const;
};

/// Parses graph XML text. Throws InputError naming `source` (and the line) on malformed or
/// truncated XML, a different root element, a bad number, or a channel in the wrong shape.
[[nodiscard]] GraphFile parse_graph_xml(std::string_view text, const std::string& source);
/// Reads and parses a graph file (InputError naming the file when it cannot be read).
[[nodiscard]] GraphFile load_graph_xml(const std::string& path);

/// Parses one `dev` attribute: "0x.." is hex (NCCL ≥ 2.19 writes `%#lx`), anything else is
/// decimal (older NCCL wrote `%d`). Returns nullopt for text that is not a non-negative number.
[[nodiscard]] std::optional<TopoRef> parse_topo_ref(std::string_view text);

/// The 2.28 numeric value of a path type name (LOC 0 … DIS 11), or -1 when unknown.
[[nodiscard]] int path_type_value(std::string_view name);

void to_json(nlohmann::json& j, const TopoRef& r);
void to_json(nlohmann::json& j, const GraphChannel& c);
void to_json(nlohmann::json& j, const Graph& g);
void to_json(nlohmann::json& j, const GraphFile& f);

}  // namespace ncd::nccl
