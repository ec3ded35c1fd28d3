// SPDX-License-Identifier: Apache-2.0
// Our ring and tree allreduce (host backend, MPI point-to-point) against the MPI library's
// own MPI_Allreduce, in one run: 1 MiB to 64 MiB, float32 sum, median of repeats, ratios.
// Usage: mpiexec -n 4 --oversubscribe allreduce_bench [repeats] [iters]
#include <fmt/format.h>

#include <cstdlib>
#include <iostream>
#include <map>

#include "collectives/bench.hpp"
#include "core/units.hpp"
#include "dist/mpi_comm.hpp"

int main(int argc, char** argv) {
  using namespace ncd;
  const int repeats = argc > 1 ? std::atoi(argv[1]) : 3;
  const int iters = argc > 2 ? std::atoi(argv[2]) : 10;
  dist::MpiComm comm(dist::Deadline::after(60));
  collectives::BenchPlan plan;
  plan.ops = {collectives::Op::kAllReduce};
  plan.algos = {collectives::Algo::kRing, collectives::Algo::kTree, collectives::Algo::kNative};
  plan.sizes = collectives::size_sweep(1u << 20, 64u << 20, 2);
  plan.iters = iters;
  plan.warmup = 2;
  plan.check = 1;
  // (size, algo) -> busbw of each repeat. Repeats interleave the algorithms, so a slow
  // phase of the machine hits all of them alike.
  std::map<std::pair<std::size_t, std::string>, std::vector<double>> bw;
  std::int64_t wrong = 0;
  for (int rep = 0; rep < repeats; ++rep) {
    for (auto size : plan.sizes) {
      for (auto algo : plan.algos) {
        collectives::BenchPlan one = plan;
        one.sizes = {size};
        one.algos = {algo};
        auto out = collectives::run_host_bench(one, comm, dist::Deadline::after(600));
        if (out.stopped) {
          std::cerr << "allreduce_bench: stopped at " << out.failed_step << "\n";
          return 3;
        }
        for (const auto& p : out.points) {
          bw[{p.row.bytes, p.row.algo}].push_back(p.row.busbw_gbps);
          wrong += p.row.wrong;
        }
      }
    }
  }
  if (comm.rank() != 0) return 0;
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0.0 : v[v.size() / 2];
  };
  fmt::print("# allreduce float32 sum on {} ranks, busbw GB/s (median of {} repeats x {} iterations)\n", comm.size(),
             repeats, iters);
  fmt::print("# {:>8}  {:>8}  {:>8}  {:>8}  {:>10}  {:>10}\n", "size", "ring", "tree", "native", "ring/nat", "tree/nat");
  for (auto size : plan.sizes) {
    const std::size_t bytes = collectives::shape_for(collectives::Op::kAllReduce, plan.dtype, size, comm.size()).bytes;
    const double r = median(bw[{bytes, "ring"}]), t = median(bw[{bytes, "tree"}]), n = median(bw[{bytes, "native"}]);
    fmt::print("  {:>8}  {:>8.3f}  {:>8.3f}  {:>8.3f}  {:>9.2f}x  {:>9.2f}x\n", format_size(bytes), r, t, n,
               n > 0 ? r / n : 0, n > 0 ? t / n : 0);
  }
  fmt::print("# wrong elements: {}\n", wrong);
  return wrong == 0 ? 0 : 2;
}
