// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <ostream>
#include <string>
#include <vector>

#include "cli/context.hpp"
#include "topo/model.hpp"

namespace ncd::cli {

struct TopoOptions {
  std::string hwloc_xml;               ///< --hwloc-xml F
  std::vector<std::string> nccl_topo;  ///< --nccl-topo F (repeatable: one host each)
  std::string sysfs_root;              ///< --sysfs-root DIR
  std::string load;                    ///< --load F (written by --save)
  std::string save;                    ///< --save F
};

/// `nccl-doctor topo`: what is where, how it is connected, what each path should give, what is
/// wrong. Offline from files, or live (one rank per node probes; rank 0 analyses).
int run_topo(const TopoOptions& opts, Context& ctx);

/// The text body for one host: path matrix, GPU lines, NIC port lines.
void render_topology_text(const topo::System& s, std::ostream& out);

}  // namespace ncd::cli
