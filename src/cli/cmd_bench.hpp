// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <string>

#include "cli/context.hpp"
#include "collectives/bench.hpp"

namespace ncd::cli {

/// `bench` options as given on the command line (nccl-tests' flags); validated by
/// make_bench_plan.
struct BenchOptions {
  std::string backend = "auto";       ///< auto | nccl | mpi
  std::string algos = "ring,tree,native";
  std::string ops = "allreduce";
  std::string min_bytes = "1M";       ///< -b
  std::string max_bytes = "64M";      ///< -e
  double factor = 4;                  ///< -f
  std::string step_bytes;             ///< -i (additive step; overrides -f)
  int iters = 20;                     ///< -n
  int warmup = 5;                     ///< -w
  int check = 1;                      ///< -c: verified iterations after the timed ones
  std::string dtype = "float32";      ///< -d
  std::string redop = "sum";          ///< -o
  int root = 0;                       ///< -r
  double expected_busbw = 0;          ///< GB/s the topology should give (GPU busbw_low)
  bool copies = false;                ///< --copy: copy-engine bandwidth per GPU (nccl backend)
  std::string copy_bytes = "256M";
  int ngpus = 1;                      ///< -g: GPUs per thread (nccl-tests); one rank per GPU here: 1 only
  int nthreads = 1;                   ///< -t: threads per process (nccl-tests); 1 only
  int average = 3;                    ///< -a: nccl-tests' 0 rank 0, 1 mean, 2 min, 3 max; accepted, times are always the slowest rank's (3)
  int graph_iters = 0;                ///< -G: CUDA graph launches (nccl-tests); not used by either backend
  std::string slice_bytes;            ///< hidden: slice size of our pipelined algorithms
  bool self_test = false;             ///< hidden: the exhaustive correctness matrix
};

/// Checks and converts the options; throws UsageError with one line on bad values.
[[nodiscard]] collectives::BenchPlan make_bench_plan(const BenchOptions& opts);

/// `nccl-doctor bench`: collective bandwidth, ring vs tree vs native, with data checks.
int run_bench(const BenchOptions& opts, Context& ctx);

}  // namespace ncd::cli
