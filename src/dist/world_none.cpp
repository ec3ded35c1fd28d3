// SPDX-License-Identifier: Apache-2.0
// The job's communicator in a build without MPI (NCD_WITH_MPI=OFF): one process, one rank.
#include "core/error.hpp"
#include "dist/comm.hpp"

namespace ncd::dist {

std::unique_ptr<Comm> make_world_comm(const Deadline&) {
  if (launched_by_mpi_launcher())
    throw UnavailableError("this build has no MPI (NCD_WITH_MPI=OFF): run it as one process, or rebuild with MPI "
                           "for a job under mpirun or srun");
  return std::make_unique<SingleComm>();
}

std::string mpi_library_version() { return "none (built without MPI)"; }

}  // namespace ncd::dist
