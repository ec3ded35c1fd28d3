// SPDX-License-Identifier: Apache-2.0
// `bench`, `links` and `sweep` in a build without MPI (NCD_WITH_MPI=OFF): they measure between
// ranks over MPI, so each says so in one line (exit 3). The offline commands (log, topo on
// files, rings on dumps, diff, show, explain, version) are the same in every build.
#include "cli/cmd_bench.hpp"
#include "cli/cmd_links.hpp"
#include "cli/cmd_sweep.hpp"
#include "core/error.hpp"

namespace ncd::cli {
namespace {
[[noreturn]] void no_mpi(const char* command) {
  throw UnavailableError(std::string(command) +
                         ": this build has no MPI (NCD_WITH_MPI=OFF); it measures between ranks over MPI (rebuild "
                         "with -DNCD_WITH_MPI=ON). Offline here: log, topo, rings, diff, show, explain");
}
}  // namespace

int run_bench(const BenchOptions&, Context&) { no_mpi("bench"); }
int run_links(const LinksOptions&, Context&) { no_mpi("links"); }
int run_sweep(const SweepOptions&, Context&) { no_mpi("sweep"); }

}  // namespace ncd::cli
