// SPDX-License-Identifier: Apache-2.0
#pragma once
/// The live topology stage of `topo` and `sweep` (issue 19): every rank takes part in
/// dist::gather_topology (fingerprint first, models on demand); rank 0 turns what came back
/// into one model per distinct topology with each node's rank bindings.
#include <string>
#include <vector>

#include "checks/topo_groups.hpp"
#include "dist/comm.hpp"
#include "dist/topo_gather.hpp"
#include "report/report.hpp"

namespace ncd::cli {

struct LiveTopology {
  std::vector<checks::TopoGroup> groups;  ///< on rank 0: distinct topologies, nodes in job order
  std::vector<int> missing_ranks;         ///< ranks that did not answer (sorted)
  std::size_t nodes = 0;                  ///< nodes with a model
};

/// All ranks call it. `bindings`: probe and resolve each rank's CPU binding (under a launcher).
[[nodiscard]] LiveTopology gather_live_topology(dist::Comm& comm, bool bindings, const dist::Deadline& deadline);

/// Rank 0's half: models parsed (one per group, its paths computed), bindings resolved per
/// node against their group's model. Consumes g's models.
[[nodiscard]] LiveTopology assemble_live_topology(dist::TopoGather& g, const dist::NodeMap& nodes, bool bindings);

/// One model per node, in job order (copies of its group's, named and bound as the node): what a
/// full gather gave. For jobs of at most checks::kExpandNodesUpTo nodes.
[[nodiscard]] std::vector<topo::System> expand_nodes(const LiveTopology& t);

/// The report's hosts[] of a grouped job: each group's first node carries its model, the others
/// their fingerprint and {"same_as": first node}.
[[nodiscard]] std::vector<report::HostEntry> grouped_host_entries(const LiveTopology& t, const dist::NodeMap& nodes);

}  // namespace ncd::cli
