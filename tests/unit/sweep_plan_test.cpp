// SPDX-License-Identifier: Apache-2.0
// The sweep's plan (pure): budgets that keep --quick's promises, stages skipped with a reason
// when their inputs are missing, and the plan surviving its broadcast (JSON).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cli/cmd_sweep.hpp"

namespace ncd::cli {

namespace {
SweepFacts facts(int nranks, int nnodes, int gpus, bool quick) {
  SweepFacts f;
  f.nranks = nranks;
  f.nnodes = nnodes;
  f.min_gpus = gpus;
  f.nccl_build = true;
  f.quick = quick;
  f.time_left_s = 105;
  return f;
}
}  // namespace

TEST(SweepPlan, QuickFitsAMinuteOnAnEightGpuNode) {
  SweepPlan p = plan_sweep(facts(8, 1, 8, true));
  EXPECT_EQ(p.backend, "nccl");
  EXPECT_LE(p.total_budget_s(), 60.0);
  ASSERT_NE(p.stage("bench"), nullptr);
  EXPECT_TRUE(p.stage("bench")->run);
  EXPECT_TRUE(p.copies);
  EXPECT_GE(p.bench_sizes.back(), std::size_t{128} << 20);  // large messages decide health
  for (const auto& s : p.stages) EXPECT_GT(s.budget_s, 0) << s.name;
}

TEST(SweepPlan, QuickOnFourHostRanksIsWellUnderTwoMinutes) {
  SweepFacts f = facts(4, 1, 0, true);
  SweepPlan p = plan_sweep(f);
  EXPECT_EQ(p.backend, "mpi");
  EXPECT_FALSE(p.copies);
  EXPECT_LE(p.total_budget_s(), 60.0);
  EXPECT_TRUE(p.stage("bench")->run);
  // A build without NCCL uses the host backend even with GPUs.
  f.min_gpus = 8;
  f.nccl_build = false;
  EXPECT_EQ(plan_sweep(f).backend, "mpi");
}

TEST(SweepPlan, OneRankWithoutGpuSkipsMeasurementsWithANote) {
  SweepPlan p = plan_sweep(facts(1, 1, 0, false));
  const SweepStage* b = p.stage("bench");
  ASSERT_NE(b, nullptr);
  EXPECT_FALSE(b->run);
  EXPECT_NE(b->skip_note.find("one rank"), std::string::npos);
  EXPECT_TRUE(p.stage("env")->run);
}

TEST(SweepPlan, DefaultMeasuresMoreThanQuick) {
  SweepPlan q = plan_sweep(facts(16, 2, 8, true));
  SweepPlan d = plan_sweep(facts(16, 2, 8, false));
  EXPECT_GT(d.bench_sizes.size(), q.bench_sizes.size());
  EXPECT_GT(d.total_budget_s(), q.total_budget_s());
}

TEST(SweepPlan, SurvivesItsBroadcast) {
  SweepPlan p = plan_sweep(facts(4, 2, 0, true));
  SweepPlan back = nlohmann::json::parse(nlohmann::json(p).dump()).get<SweepPlan>();
  ASSERT_EQ(back.stages.size(), p.stages.size());
  for (std::size_t i = 0; i < p.stages.size(); ++i) {
    EXPECT_EQ(back.stages[i].name, p.stages[i].name);
    EXPECT_EQ(back.stages[i].run, p.stages[i].run);
    EXPECT_EQ(back.stages[i].budget_s, p.stages[i].budget_s);
  }
  EXPECT_EQ(back.bench_sizes, p.bench_sizes);
  EXPECT_EQ(back.backend, p.backend);
  EXPECT_EQ(back.links_mode, p.links_mode);
}

}  // namespace ncd::cli
