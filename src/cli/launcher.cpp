// SPDX-License-Identifier: Apache-2.0
#include "cli/launcher.hpp"

#include <fmt/format.h>

#include <cstdlib>

#include "core/error.hpp"

namespace ncd::cli {
namespace {

int to_count(const std::optional<std::string>& v) {
  if (!v || v->empty() || v->size() > 9) return 0;
  int n = 0;
  for (char c : *v) {
    if (c < '0' || c > '9') return 0;
    n = n * 10 + (c - '0');
  }
  return n;
}

}  // namespace

LaunchEnv detect_launch(const EnvLookup& lookup_in) {
  EnvLookup lookup = lookup_in;
  if (!lookup)
    lookup = [](const std::string& k) -> std::optional<std::string> {
      const char* v = std::getenv(k.c_str());
      return v ? std::optional<std::string>(v) : std::nullopt;
    };
  auto has = [&](const char* k) { return lookup(k).has_value(); };
  LaunchEnv e;
  // Outermost first: a scheduler, then the MPI wire-up, then a framework launcher.
  if (has("SLURM_JOB_ID") || has("SLURM_JOBID") || has("SLURM_NTASKS") || has("SLURM_STEP_NUM_TASKS"))
    e.launchers.emplace_back("slurm");
  if (has("PMIX_RANK") || has("PMIX_NAMESPACE")) e.launchers.emplace_back("pmix");
  if (has("PMI_FD") || has("PMI_RANK") || has("PMI_SIZE")) {
    // MPICH's Hydra (mpiexec) and Slurm's pmi2 plugin export the same names; Hydra adds its own.
    const bool hydra = has("MPI_LOCALNRANKS") || has("HYDRA_CONTROL_FD") || has("PMI_PORT") ||
                       e.launchers.empty() || e.launchers.back() != "slurm";
    e.launchers.emplace_back(hydra ? "hydra" : "pmi2");
  }
  if (has("OMPI_COMM_WORLD_SIZE")) e.launchers.emplace_back("openmpi");
  if (has("TORCHELASTIC_RUN_ID") || (has("WORLD_SIZE") && has("LOCAL_RANK"))) e.launchers.emplace_back("torchrun");
  e.pmi = has("PMIX_RANK") || has("PMI_FD") || has("PMI_RANK") || has("OMPI_COMM_WORLD_SIZE") ||
          has("MV2_COMM_WORLD_SIZE");

  // The innermost count wins: mpirun inside a Slurm allocation inherits the allocation's
  // SLURM_NTASKS, but its own OMPI_COMM_WORLD_SIZE is the size of this job.
  for (const char* k : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "MV2_COMM_WORLD_SIZE", "SLURM_STEP_NUM_TASKS",
                        "SLURM_NTASKS", "WORLD_SIZE"}) {
    if (std::string(k) == "WORLD_SIZE" && !has("LOCAL_RANK") && !has("TORCHELASTIC_RUN_ID")) continue;
    const int n = to_count(lookup(k));
    if (n > 0) {
      e.tasks = n;
      e.tasks_from = fmt::format("{}={}", k, n);
      break;
    }
  }
  return e;
}

std::string launch_mismatch(const LaunchEnv& e, int mpi_size) {
  if (e.tasks <= 1 || mpi_size != 1) return "";
  auto is = [&](const char* name) {
    for (const auto& l : e.launchers)
      if (l == name) return true;
    return false;
  };
  const std::string said = fmt::format("the launcher started {} processes ({}) but MPI sees 1 rank", e.tasks,
                                       e.tasks_from);
  if (is("torchrun") && !e.pmi)
    return said + ": torchrun does not wire up MPI, so each process is its own one-rank job; start nccl-doctor "
                  "with mpirun or `srun --mpi=pmix` instead";
  if (is("slurm") && !e.pmi)
    return said + ": this srun has no PMI, so each task is its own one-rank job; run `srun --mpi=pmix "
                  "nccl-doctor ...` (`srun --mpi=list` shows the site's plugins; pmi2 also works)";
  return said + ": the launcher's MPI is not the one nccl-doctor was built with; use that MPI's mpirun, or "
                "rebuild nccl-doctor against the site's MPI (docs/install.md)";
}

namespace {
// Read when the program starts: an MPI singleton init exports PMIx/Open MPI variables of its
// own, which would hide what the launcher set.
const LaunchEnv kLaunchAtStart = detect_launch();
}  // namespace

void check_launch(int mpi_size) {
  const std::string msg = launch_mismatch(kLaunchAtStart, mpi_size);
  if (!msg.empty()) throw UsageError(msg);
}

}  // namespace ncd::cli
