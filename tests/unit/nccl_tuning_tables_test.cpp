// SPDX-License-Identifier: Apache-2.0
// The tree bandwidth table lives once, in nccl/tuning_model.cpp (ncclTunerConstantsDefaults
// perChMaxTreeBws, tuning.cc @2.28.9); the bench check's expectation reads it through the model.
#include <gtest/gtest.h>

#include "checks/bench_checks.hpp"
#include "nccl/tuning_model.hpp"

using namespace ncd;

TEST(NcclTuningTables, TreeCapPerChannelFromTheOneTable) {
  // Fast links so that the per-channel tree cap, not 0.92 x bus, binds.
  struct Case {
    int sm, nodes;
    double per_channel;  // perChMaxTreeBws[compCapIdx][min(nodes-1, 2)]
  };
  const Case cases[] = {{70, 1, 26.5}, {80, 1, 24.0}, {80, 2, 23.6}, {80, 4, 17.8},
                        {90, 1, 38.7}, {90, 2, 41.4}, {90, 3, 36.0}, {100, 1, 70.0},
                        {100, 2, 42.8}, {100, 8, 24.0}};
  for (const auto& c : cases) {
    SCOPED_TRACE(testing::Message() << "sm" << c.sm << " nodes " << c.nodes);
    nccl::TuningInput in;
    in.sm_min = in.sm_max = c.sm;
    in.nodes = c.nodes;
    in.ranks = 8 * c.nodes;
    in.channels = 4;
    in.bw_intra = in.bw_inter = 1000;
    const nccl::TuningResult m = nccl::model_allreduce(in);
    EXPECT_DOUBLE_EQ(m.tree.simple, 4 * c.per_channel);
    // The bench check's expectation is the same number (nccl-tests busbw: x (n-1)/n).
    checks::NcclModelInput b;
    b.sm = c.sm;
    b.nnodes = c.nodes;
    b.nranks = in.ranks;
    b.nchannels = 4;
    b.bw_intra = b.bw_inter = 1000;
    EXPECT_DOUBLE_EQ(checks::nccl_model_busbw(b, "tree", "allreduce"),
                     4 * c.per_channel * (in.ranks - 1) / in.ranks);
  }
}
