// SPDX-License-Identifier: Apache-2.0
#pragma once
/// Live capture of NCCL's topology, graphs and connection log (built only with NCCL): one
/// communicator over all ranks with NCCL_TOPO_DUMP_FILE, NCCL_GRAPH_DUMP_FILE and an INFO debug
/// log per rank in a private temporary directory, one small allreduce, then the files.
#include <cstddef>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "dist/comm.hpp"

namespace ncd::gpu {

/// What one rank brings back. The topology and graph dumps come from each node's first rank.
struct RingsCapture {
  std::string host;
  int rank = 0;
  bool leader = false;
  int cuda_dev = -1;
  std::string topo_xml;    ///< NCCL_TOPO_DUMP_FILE of this node (leader only)
  std::string graph_xml;   ///< NCCL_GRAPH_DUMP_FILE of this node (leader only)
  std::string debug_log;   ///< this rank's NCCL_DEBUG_FILE, cut at the size limit
  bool log_truncated = false;
  std::string error;       ///< one line when this rank could not complete; "" otherwise
};

void to_json(nlohmann::json& j, const RingsCapture& c);
void from_json(const nlohmann::json& j, RingsCapture& c);

/// Runs the capture on every rank of `comm`. Must run before any other NCCL use in this
/// process: NCCL reads its parameters once. Throws UnavailableError when no GPU is visible.
/// NCCL failures and the deadline are reported in RingsCapture::error, not thrown, so that
/// rank 0 can still gather and say which ranks failed.
[[nodiscard]] RingsCapture capture_rings(dist::Comm& comm, const dist::Deadline& deadline,
                                         std::size_t max_log_bytes);

}  // namespace ncd::gpu
