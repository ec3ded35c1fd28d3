// SPDX-License-Identifier: Apache-2.0
#pragma once
/// The topology checks of a large job, one analysis per distinct topology (issue 19): nodes
/// whose models are identical (topo::content_digest) form a group; the checks run once on one
/// model per group, the cross-host majorities weigh each group by its size, and a finding of a
/// group names all its nodes compactly ("node[0-36,38-509]"). Small jobs are analysed node by
/// node, exactly as check_topology does.
#include <cstddef>
#include <string>
#include <vector>

#include "core/finding.hpp"
#include "topo/model.hpp"

namespace ncd::checks {

/// Nodes with identical topologies.
struct TopoGroup {
  topo::System system;             ///< the group's model (paths computed; host and bindings ignored)
  std::vector<std::string> hosts;  ///< its nodes, in job order
  /// Each node's rank bindings (resolved against `system`), parallel to hosts; may be empty.
  std::vector<std::vector<topo::RankBinding>> bindings;
  /// Each node's place in the job, parallel to hosts (orders a small job's nodes as the job
  /// does); may be empty.
  std::vector<std::size_t> node_index;
};

/// Up to this many nodes, a job is analysed node by node (check_topology on one model per
/// node): the findings are exactly those of a job gathered in full.
inline constexpr std::size_t kExpandNodesUpTo = 32;

struct GroupedFindings {
  std::vector<Finding> findings;
  std::vector<std::string> notes;  ///< topology_notes, one per group ("node[0-7]: ...")
};

/// check_topology and topology_notes over `groups`. At most `expand_up_to` nodes in all: one
/// model per node (copies of its group's, named and bound as the node), the same findings as
/// check_topology. Above: one model per group named by its nodes, weighted by their count; a
/// finding on a group of several nodes has host = its first node, its nodes in the message and
/// evidence; rank bindings are checked node by node.
[[nodiscard]] GroupedFindings check_topology_groups(std::vector<TopoGroup>& groups,
                                                    std::size_t expand_up_to = kExpandNodesUpTo);

/// Host names compactly: "node[0-36,38-210],gpu-a[1-2],login" (numeric suffixes folded into
/// ranges, hosts in their given order otherwise kept), cut to about `max_chars` with
/// "... (N hosts)".
[[nodiscard]] std::string compact_hosts(const std::vector<std::string>& hosts, std::size_t max_chars = 160);

}  // namespace ncd::checks
