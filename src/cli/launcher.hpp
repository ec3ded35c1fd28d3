// SPDX-License-Identifier: Apache-2.0
#pragma once
/// Which launcher started this process (Slurm, PMIx, PMI2, Open MPI, MPICH/Hydra, torchrun),
/// read from the environment, and the check that the MPI job is as large as the launcher says.
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace ncd::cli {

/// What the environment says about the launch. `tasks` is the number of processes the launcher
/// started (0 when it does not say).
struct LaunchEnv {
  std::vector<std::string> launchers;  ///< e.g. {"slurm", "pmix"}: every one detected, outermost first
  int tasks = 0;                       ///< processes the launcher started (largest count it states)
  std::string tasks_from;              ///< the variable that said so, e.g. "SLURM_STEP_NUM_TASKS=2"
  bool pmi = false;                    ///< a PMI/PMIx/Open MPI wire-up is present (MPI can join the ranks)
};

using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;

/// Reads the launch environment through `lookup` (the process environment by default).
[[nodiscard]] LaunchEnv detect_launch(const EnvLookup& lookup = {});

/// One line when the launcher started more processes than the MPI job has ranks (each process
/// is then its own one-rank job), naming the fix; empty when they agree.
[[nodiscard]] std::string launch_mismatch(const LaunchEnv& env, int mpi_size);

/// Throws UsageError with launch_mismatch() of this process's environment when it is not empty.
void check_launch(int mpi_size);

}  // namespace ncd::cli
