// SPDX-License-Identifier: Apache-2.0
#pragma once
/// The topology gather of a large job (issue 19): fingerprint first, detail on demand,
/// hierarchical, binary.
///  1. every rank sends its binding (RankInfo, a few dozen bytes) to its node leader;
///  2. every leader sends rank 0 a NodeSummary: the digest of its node's model
///     (topo::content_digest, versions included) and its ranks' bindings;
///  3. rank 0 groups the nodes by digest and asks the first node of each group for its model;
///  4. those leaders, and only those, send their model as JSON.
/// Each step has its own deadline (a share of the stage's), so a silent rank costs one step,
/// and rank 0 holds one model per distinct topology, not per node.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dist/comm.hpp"

namespace ncd::dist {

/// One rank's binding, as probe::resolve_bindings reads it.
struct RankInfo {
  int rank = 0;
  int local_rank = 0;
  int total_cpus = 0;
  std::vector<int> cpus;
  std::string cuda_visible_devices;
};

/// What a node leader sends rank 0.
struct NodeSummary {
  bool probed = false;          ///< the leader has a model (false: its probe failed)
  std::uint64_t digest = 0;     ///< topo::content_digest of the model
  std::vector<RankInfo> ranks;  ///< bindings of the node's ranks that answered the leader
  std::vector<int> missing;     ///< the node's ranks that did not
};

/// Compact binary forms (little-endian, length-prefixed; cpus as ranges). decode_* throw
/// ncd::Error on a truncated or malformed message.
[[nodiscard]] std::string encode_rank(const RankInfo& r);
[[nodiscard]] RankInfo decode_rank(std::string_view bytes);
[[nodiscard]] std::string encode_node(const NodeSummary& n);
[[nodiscard]] NodeSummary decode_node(std::string_view bytes);

/// Nodes grouped by digest, groups in order of their first node; nodes without a summary or a
/// model are in no group.
struct DigestGroups {
  std::vector<std::uint64_t> digest;
  std::vector<std::vector<int>> nodes;  ///< node indices of each group
};
[[nodiscard]] DigestGroups group_by_digest(const std::vector<std::optional<NodeSummary>>& nodes);

/// What rank 0 holds after the gather.
struct TopoGather {
  std::vector<std::optional<NodeSummary>> nodes;  ///< per node index; nullopt: the leader was silent
  DigestGroups groups;
  std::vector<std::optional<std::string>> models;  ///< per group: its first node's model (JSON)
  std::vector<int> missing_ranks;                  ///< every rank that did not answer, sorted
  double step_deadline_s = 0;                      ///< the share of a step, for messages
};

/// What a node leader's probe gives.
struct ProbedModel {
  std::string json;          ///< the model (topo::System as JSON)
  std::uint64_t digest = 0;  ///< topo::content_digest
  /// (GPU UUID, index): the leader rewrites its ranks' CUDA_VISIBLE_DEVICES=GPU-... into
  /// indices, since rank 0 resolves them against another node's model of the same group.
  std::vector<std::pair<std::string, int>> gpu_uuids;
};

/// CUDA_VISIBLE_DEVICES with each entry that a GPU's UUID starts with replaced by its index.
[[nodiscard]] std::string uuids_to_indices(const std::string& cvd, const std::vector<std::pair<std::string, int>>& gpus);

/// Runs steps 1-4 on every rank. `probe` runs on node leaders (nullopt: it cannot probe).
/// Returns the result on rank 0; elsewhere an empty one.
[[nodiscard]] TopoGather gather_topology(Comm& comm, const RankInfo& mine,
                                         const std::function<std::optional<ProbedModel>()>& probe,
                                         const Deadline& deadline);

}  // namespace ncd::dist
