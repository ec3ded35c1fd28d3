// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "checks/bench_checks.hpp"
#include "cli/cmd_bench.hpp"
#include "collectives/bench.hpp"
#include "collectives/types.hpp"
#include "core/error.hpp"

namespace ncd {

using collectives::busbw_factor;
using collectives::Op;

TEST(BenchBusbw, FactorsFollowNcclTests) {
  EXPECT_DOUBLE_EQ(busbw_factor(Op::kAllReduce, 8), 2.0 * 7 / 8);
  EXPECT_DOUBLE_EQ(busbw_factor(Op::kAllReduce, 4), 1.5);
  EXPECT_DOUBLE_EQ(busbw_factor(Op::kAllGather, 4), 0.75);
  EXPECT_DOUBLE_EQ(busbw_factor(Op::kReduceScatter, 5), 0.8);
  EXPECT_DOUBLE_EQ(busbw_factor(Op::kAllToAll, 2), 0.5);
  EXPECT_DOUBLE_EQ(busbw_factor(Op::kBroadcast, 16), 1.0);
  EXPECT_DOUBLE_EQ(busbw_factor(Op::kReduce, 3), 1.0);
  EXPECT_DOUBLE_EQ(busbw_factor(Op::kSendRecv, 2), 1.0);
  EXPECT_DOUBLE_EQ(busbw_factor(Op::kAllReduce, 1), 0.0);
}

TEST(BenchBusbw, ShapesUseNcclTestsSizeSemantics) {
  // allgather: the size column is the whole gathered buffer, rounded to a multiple of n
  auto s = collectives::shape_for(Op::kAllGather, collectives::DType::kFloat32, 1000, 3);
  EXPECT_EQ(s.block, 83u);
  EXPECT_EQ(s.count, 249u);
  EXPECT_EQ(s.bytes, 996u);
  EXPECT_EQ(s.send_count, 83u);
  EXPECT_EQ(s.recv_count, 249u);
  auto r = collectives::shape_for(Op::kReduceScatter, collectives::DType::kFloat64, 64, 4);
  EXPECT_EQ(r.send_count, 8u);
  EXPECT_EQ(r.recv_count, 2u);
  auto a = collectives::shape_for(Op::kAllReduce, collectives::DType::kInt8, 7, 4);
  EXPECT_EQ(a.count, 7u);  // allreduce sizes need not divide by the rank count
}

TEST(BenchStats, MedianMinMaxAndSpread) {
  auto st = collectives::iter_stats({10, 12, 11, 50, 9, 10, 11, 10, 12, 10, 11});
  EXPECT_DOUBLE_EQ(st.median, 10.0 + 1.0);  // sorted: 9 10 10 10 10 11 11 11 12 12 50
  EXPECT_DOUBLE_EQ(st.min, 9);
  EXPECT_DOUBLE_EQ(st.max, 50);
  EXPECT_NEAR(st.spread, (12 - 10) / 11.0, 1e-12);  // p10 = 10, p90 = 12: one outlier does not count
  EXPECT_DOUBLE_EQ(collectives::iter_stats({}).median, 0);
  report::CollectiveResult r;
  r.bytes = 1000000000;
  r.time_us = 1e6;
  r.nranks = 4;
  collectives::set_bandwidth(r, Op::kAllReduce);
  EXPECT_DOUBLE_EQ(r.algbw_gbps, 1.0);
  EXPECT_DOUBLE_EQ(r.busbw_gbps, 1.5);
}

TEST(BenchStats, NcclTestsLoopMeanBesideOurMedian) {
  // Rank 0: 10 10 10 10 (mean 10); rank 1: 10 10 10 50 (mean 20, one slow iteration).
  // Ours: per iteration the slowest rank (10 10 10 50), median 10. nccl-tests (-a 1): each
  // rank's loop mean, averaged over ranks: (10 + 20) / 2 = 15, and its busbw from that.
  std::vector<std::optional<std::string>> blobs{collectives::point_blob(true, 0, {10, 10, 10, 10}),
                                                collectives::point_blob(true, 0, {10, 10, 10, 50})};
  collectives::PointResult pr;
  pr.row.bytes = 3000000;
  collectives::BenchOutcome out;
  ASSERT_TRUE(collectives::assemble_point(blobs, 4, 1, Op::kAllReduce, pr, out));
  EXPECT_DOUBLE_EQ(pr.row.time_us, 10);
  EXPECT_DOUBLE_EQ(pr.row.busbw_gbps, 300);  // 3 MB / 10 us = 300 GB/s, x 2(n-1)/n = 1
  EXPECT_DOUBLE_EQ(pr.row.nccltests_avg_time_us, 15);
  EXPECT_DOUBLE_EQ(pr.row.nccltests_algbw_gbps, 200);
  EXPECT_DOUBLE_EQ(pr.row.nccltests_busbw_gbps, 200);
  // Written and read back under their own names; a row without them reads as not measured.
  nlohmann::json j = pr.row;
  EXPECT_DOUBLE_EQ(j.at("nccltests_avg_time_us").get<double>(), 15);
  EXPECT_DOUBLE_EQ(j.get<report::CollectiveResult>().nccltests_busbw_gbps, 200);
  report::CollectiveResult empty;
  j = empty;
  EXPECT_TRUE(j.at("nccltests_avg_time_us").is_null());
}

TEST(BenchPlan, ParsesNcclTestsFlags) {
  cli::BenchOptions o;
  o.ops = "allreduce,all_gather,reducescatter,broadcast";
  o.algos = "ring,tree,native";
  o.min_bytes = "1M";
  o.max_bytes = "16M";
  o.factor = 4;
  o.dtype = "half";
  o.redop = "max";
  auto p = cli::make_bench_plan(o);
  EXPECT_EQ(p.ops.size(), 4u);
  EXPECT_EQ(p.ops[1], Op::kAllGather);
  EXPECT_EQ(p.algos.size(), 3u);
  EXPECT_EQ(p.sizes, (std::vector<std::size_t>{1u << 20, 4u << 20, 16u << 20}));
  EXPECT_EQ(p.dtype, collectives::DType::kFloat16);
  EXPECT_EQ(p.redop, collectives::RedOp::kMax);
  o.step_bytes = "1M";
  o.min_bytes = "0";
  o.max_bytes = "3M";
  EXPECT_EQ(cli::make_bench_plan(o).sizes, (std::vector<std::size_t>{0, 1u << 20, 2u << 20, 3u << 20}));
}

TEST(BenchPlan, RejectsBadValuesWithUsageErrors) {
  auto bad = [](auto mutate) {
    cli::BenchOptions o;
    mutate(o);
    EXPECT_THROW((void)cli::make_bench_plan(o), UsageError);
  };
  bad([](cli::BenchOptions& o) { o.min_bytes = "1G"; o.max_bytes = "1M"; });
  bad([](cli::BenchOptions& o) { o.dtype = "nosuchtype"; });
  bad([](cli::BenchOptions& o) { o.redop = "xor"; });
  bad([](cli::BenchOptions& o) { o.ops = "allreduce,gather"; });
  bad([](cli::BenchOptions& o) { o.algos = "nvlink"; });
  bad([](cli::BenchOptions& o) { o.algos = ""; });
  bad([](cli::BenchOptions& o) { o.iters = 0; });
  bad([](cli::BenchOptions& o) { o.factor = 1; });
  bad([](cli::BenchOptions& o) { o.min_bytes = "12Q"; });
  bad([](cli::BenchOptions& o) { o.backend = "gloo"; });
  bad([](cli::BenchOptions& o) { o.ngpus = 0; });
  bad([](cli::BenchOptions& o) { o.ngpus = 2; o.backend = "mpi"; });  // the host backend: one rank per process
  cli::BenchOptions g;
  g.ngpus = 4;  // the NCCL backend drives them from one process (auto: when there are GPUs)
  EXPECT_NO_THROW((void)cli::make_bench_plan(g));
}

namespace {
report::CollectiveResult row(const std::string& op, const std::string& algo, std::uint64_t bytes, double busbw,
                             double spread = 0.05, std::int64_t wrong = 0) {
  report::CollectiveResult r;
  r.op = op;
  r.algo = algo;
  r.backend = "mpi";
  r.bytes = bytes;
  r.count = bytes / 4;
  r.busbw_gbps = busbw;
  r.time_us = 100;
  r.spread = spread;
  r.iters = 20;
  r.wrong = wrong;
  r.nranks = 4;
  return r;
}
std::vector<std::string> ids(const std::vector<Finding>& fs) {
  std::vector<std::string> v;
  for (const auto& f : fs) v.push_back(f.id + " " + f.subject);
  return v;
}
}  // namespace

TEST(BenchChecks, HealthyRunHasNoFindings) {
  checks::BenchEvidence ev;
  for (std::uint64_t b : {1u << 20, 4u << 20, 16u << 20}) {
    ev.rows.push_back(row("allreduce", "ring", b, 1.0));
    ev.rows.push_back(row("allreduce", "tree", b, 0.8));
    ev.rows.push_back(row("allreduce", "native", b, 1.0));
  }
  ev.wrong_per_rank.assign(ev.rows.size(), {0, 0, 0, 0});
  EXPECT_TRUE(checks::check_bench(ev).empty()) << testing::PrintToString(ids(checks::check_bench(ev)));
}

TEST(BenchChecks, EachProblemGivesItsFinding) {
  checks::BenchEvidence ev;
  ev.rank_host = {"a", "a", "b", "b"};
  ev.rows.push_back(row("allreduce", "ring", 1u << 20, 5.0, 0.9));  // small: spread ignored
  ev.rows.push_back(row("allreduce", "ring", 16u << 20, 0.2, 0.05, 3));
  ev.rows.push_back(row("allreduce", "tree", 16u << 20, 1.0));
  ev.rows.push_back(row("allreduce", "native", 16u << 20, 1.1));
  ev.rows.push_back(row("broadcast", "tree", 16u << 20, 1.0, 0.9));
  ev.wrong_per_rank = {{0, 0, 0, 0}, {0, 0, 3, 0}, {0, 0, 0, 0}, {0, 0, 0, 0}, {0, 0, 0, 0}};
  auto got = ids(checks::check_bench(ev));
  EXPECT_EQ(got, (std::vector<std::string>{"bench.data_corrupt ranks 2", "bench.unstable broadcast tree",
                                           "bench.busbw_low allreduce ring", "bench.algo_gap allreduce ring vs tree"}));
}

TEST(BenchChecks, NoisySeriesAreNotComparedButReportedUnstable) {
  checks::BenchEvidence ev;
  ev.rows.push_back(row("allreduce", "ring", 16u << 20, 1.0, 0.05));
  ev.rows.push_back(row("allreduce", "tree", 16u << 20, 0.1, 1.5));
  ev.rows.push_back(row("allreduce", "native", 16u << 20, 1.0, 0.05));
  EXPECT_EQ(ids(checks::check_bench(ev)), (std::vector<std::string>{"bench.unstable allreduce tree"}));
}

TEST(BenchChecks, VerdictUsesLargeMessagesNotTheMean) {
  // A slow small size must not drag the verdict: only sizes >= max/4 count.
  checks::BenchEvidence ev;
  ev.rows.push_back(row("allreduce", "ring", 1u << 20, 0.01));
  ev.rows.push_back(row("allreduce", "ring", 64u << 20, 1.0));
  ev.rows.push_back(row("allreduce", "native", 1u << 20, 1.0));
  ev.rows.push_back(row("allreduce", "native", 64u << 20, 1.0));
  EXPECT_TRUE(checks::check_bench(ev).empty());
}

TEST(BenchChecks, GpuExpectationFromNcclModel) {
  // The worked example of nccl-internals §6.3: two sm80 GPUs under one Gen4 switch, 2x12 GB/s.
  checks::NcclModelInput in;
  in.sm = 80;
  in.nranks = 2;
  in.nchannels = 2;
  in.bw_intra = 12;
  EXPECT_DOUBLE_EQ(checks::nccl_model_busbw(in, "ring", "allreduce"), 24.0);
  EXPECT_NEAR(checks::nccl_model_busbw(in, "tree", "allreduce"), 22.08 * 0.5, 1e-9);
  EXPECT_EQ(checks::nccl_model_busbw(in, "tree", "allgather"), 0.0);
  checks::BenchEvidence ev;
  auto r = row("allreduce", "ring", 256u << 20, 10.0);
  r.backend = "nccl";
  ev.rows.push_back(r);
  ev.expected_busbw["allreduce/ring"] = checks::nccl_model_busbw(in, "ring", "allreduce");
  auto f = checks::check_bench(ev);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].id, "bench.busbw_low");
  EXPECT_DOUBLE_EQ(*f[0].expected, 24.0);
}

}  // namespace ncd
