// SPDX-License-Identifier: Apache-2.0
#pragma once
/// `nccl-doctor links`: which link, or which node, is slow.
#include <string>
#include <vector>

#include "cli/context.hpp"

namespace ncd::cli {

struct LinksOptions {
  std::string size = "64M";       ///< bandwidth message size
  std::string mode = "pairwise";  ///< pairwise | ring | bisect
  std::string backend = "auto";   ///< auto | mpi (host memory over MPI point-to-point)
  int iters = 5;                  ///< timed transfers per direction
  int warmup = 1;
  int repeat = 1;                 ///< sweeps of the schedule (intermittent links)
  int passes = 3;                 ///< passes over the schedule for repeatability, as time allows
  bool topo = true;               ///< probe the NICs for the expected bandwidth
  double round_timeout = 0;       ///< seconds; 0: split from --timeout
  std::string expect;             ///< expected GB/s per link class, "net=12.5,shm=20"
  bool confirm = true;            ///< measure suspect pairs again before blaming them
};

/// The bandwidth matrix (row sends to column, GB/s) as terminal text: hosts when every host
/// has one rank, else ranks with a legend; omitted beyond `max_endpoints`.
[[nodiscard]] std::string format_link_matrix(const std::vector<report::LinkResult>& links,
                                             std::size_t max_endpoints);

/// Runs the link sweep under MPI (every rank calls it) and reports on rank 0.
int run_links(const LinksOptions& opts, Context& ctx);

}  // namespace ncd::cli
