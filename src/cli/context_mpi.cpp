// SPDX-License-Identifier: Apache-2.0
// Context::mpi(): the commands that measure over MPI itself (bench on host memory, links,
// sweep). Built only with MPI, like those commands (src/CMakeLists.txt).
#include "cli/context.hpp"
#include "dist/mpi_comm.hpp"

namespace ncd::cli {

dist::MpiComm& Context::mpi() {
  if (comm_ && !comm_->is_mpi()) comm_.reset();
  if (!comm_) adopt_comm(std::make_unique<dist::MpiComm>(deadline_.capped(120)));
  return static_cast<dist::MpiComm&>(*comm_);
}

}  // namespace ncd::cli
