// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "checks/ring_checks.hpp"
#include "cli/context.hpp"

namespace ncd::cli {

struct RingsOptions {
  std::string topo_xml;           ///< NCCL_TOPO_DUMP_FILE (offline)
  std::string graph_xml;          ///< NCCL_GRAPH_DUMP_FILE (offline)
  std::vector<std::string> logs;  ///< NCCL_DEBUG=INFO logs (offline, optional)
  int nodes = 0;                  ///< nodes for the model (offline); 0 = infer
};

/// `nccl-doctor rings`: NCCL's rings and trees against the topology. Offline with
/// --topo-xml/--graph-xml, else live on the GPUs (NCCL backend).
int run_rings(const RingsOptions& opts, Context& ctx);

/// What a live inspection found (rank 0; other ranks get an empty result).
struct LiveRings {
  std::vector<checks::RingsAnalysis> hosts;  ///< one per node, from its leader's dumps
  std::vector<Finding> findings;             ///< every host's, plus cross-node comparisons
  std::vector<std::string> notes;
  nlohmann::json section;                    ///< the "rings" report section
};

/// The live inspection, for `rings` and `sweep`: every rank of ctx.comm() calls it. It runs one
/// NCCL communicator over all ranks and must come before any other NCCL use in the process.
/// Throws UnavailableError without the NCCL backend or without a GPU.
[[nodiscard]] LiveRings inspect_rings_live(Context& ctx);

}  // namespace ncd::cli
