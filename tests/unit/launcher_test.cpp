// SPDX-License-Identifier: Apache-2.0
// Launch environments: which launcher started the process, and the one-line fix when the
// launcher started N processes that MPI sees as N one-rank jobs.
#include <gtest/gtest.h>

#include <map>

#include "cli/launcher.hpp"

namespace ncd::cli {
namespace {

LaunchEnv detect(const std::map<std::string, std::string>& env) {
  return detect_launch([&](const std::string& k) -> std::optional<std::string> {
    auto it = env.find(k);
    return it == env.end() ? std::nullopt : std::optional<std::string>(it->second);
  });
}

bool has(const LaunchEnv& e, const std::string& l) {
  return std::find(e.launchers.begin(), e.launchers.end(), l) != e.launchers.end();
}

TEST(Launcher, SrunWithoutPmiIsOneLineWithTheFix) {
  const LaunchEnv e = detect({{"SLURM_JOB_ID", "7"}, {"SLURM_NTASKS", "2"}, {"SLURM_PROCID", "1"}});
  EXPECT_TRUE(has(e, "slurm"));
  EXPECT_FALSE(e.pmi);
  EXPECT_EQ(e.tasks, 2);
  const std::string m = launch_mismatch(e, 1);
  EXPECT_NE(m.find("srun --mpi=pmix"), std::string::npos) << m;
  EXPECT_NE(m.find("SLURM_NTASKS=2"), std::string::npos) << m;
  EXPECT_EQ(m.find('\n'), std::string::npos);
  EXPECT_EQ(launch_mismatch(e, 2), "");  // MPI joined them: fine
}

TEST(Launcher, StepCountWinsOverTheAllocation) {
  const LaunchEnv e = detect({{"SLURM_NTASKS", "16"}, {"SLURM_STEP_NUM_TASKS", "4"}, {"PMIX_RANK", "0"}});
  EXPECT_TRUE(has(e, "slurm"));
  EXPECT_TRUE(has(e, "pmix"));
  EXPECT_TRUE(e.pmi);
  EXPECT_EQ(e.tasks, 4);
  EXPECT_EQ(launch_mismatch(e, 4), "");
  // PMIx present but this binary's MPI did not join it: a different MPI.
  EXPECT_NE(launch_mismatch(e, 1).find("rebuild nccl-doctor against the site's MPI"), std::string::npos);
}

TEST(Launcher, MpirunInsideAnAllocationUsesItsOwnSize) {
  // mpirun -np 1 in a 16-task batch job: one rank is what was asked for.
  const LaunchEnv e = detect({{"SLURM_NTASKS", "16"}, {"OMPI_COMM_WORLD_SIZE", "1"}, {"PMIX_RANK", "0"}});
  EXPECT_TRUE(has(e, "openmpi"));
  EXPECT_EQ(e.tasks, 1);
  EXPECT_EQ(launch_mismatch(e, 1), "");
}

TEST(Launcher, HydraPmi2AndTorchrun) {
  const LaunchEnv hydra = detect({{"PMI_RANK", "0"}, {"PMI_SIZE", "4"}, {"PMI_FD", "5"}, {"MPI_LOCALNRANKS", "4"}});
  EXPECT_TRUE(has(hydra, "hydra"));
  EXPECT_EQ(hydra.tasks, 4);
  EXPECT_NE(launch_mismatch(hydra, 1).find("use that MPI's mpirun"), std::string::npos);

  const LaunchEnv pmi2 = detect({{"SLURM_JOB_ID", "1"}, {"SLURM_STEP_NUM_TASKS", "8"}, {"PMI_FD", "5"},
                                 {"PMI_RANK", "3"}, {"PMI_SIZE", "8"}});
  EXPECT_TRUE(has(pmi2, "pmi2"));
  EXPECT_FALSE(has(pmi2, "hydra"));
  EXPECT_EQ(launch_mismatch(pmi2, 8), "");

  const LaunchEnv torch = detect({{"WORLD_SIZE", "8"}, {"LOCAL_RANK", "0"}, {"TORCHELASTIC_RUN_ID", "x"}});
  EXPECT_TRUE(has(torch, "torchrun"));
  EXPECT_EQ(torch.tasks, 8);
  EXPECT_NE(launch_mismatch(torch, 1).find("torchrun does not wire up MPI"), std::string::npos);
}

TEST(Launcher, NothingOrOneTaskIsNotAMismatch) {
  EXPECT_EQ(launch_mismatch(detect({}), 1), "");
  EXPECT_EQ(launch_mismatch(detect({{"SLURM_NTASKS", "1"}}), 1), "");
  EXPECT_EQ(launch_mismatch(detect({{"WORLD_SIZE", "8"}}), 1), "");  // WORLD_SIZE alone is not torchrun
  EXPECT_EQ(launch_mismatch(detect({{"SLURM_NTASKS", "junk"}}), 1), "");
}

}  // namespace
}  // namespace ncd::cli
