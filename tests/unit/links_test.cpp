// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include <cmath>
#include <iostream>
#include <random>
#include <map>
#include <set>
#include <tuple>

#include <fmt/format.h>

#include "checks/link_checks.hpp"
#include "cli/cmd_links.hpp"
#include "collectives/link_schedule.hpp"
#include "collectives/link_sweep.hpp"
#include "core/error.hpp"
#include "topo/model.hpp"

namespace ncd {
namespace {

using collectives::BisectPlanner;
using collectives::Pair;
using collectives::Round;

void expect_disjoint(const Round& round, int n) {
  std::set<int> seen;
  for (const Pair& p : round) {
    EXPECT_LT(p.a, p.b);
    EXPECT_GE(p.a, 0);
    EXPECT_LT(p.b, n);
    EXPECT_TRUE(seen.insert(p.a).second) << "endpoint " << p.a << " twice in a round";
    EXPECT_TRUE(seen.insert(p.b).second) << "endpoint " << p.b << " twice in a round";
  }
}

TEST(LinkSchedule, TournamentCoversEveryPairOnceInNMinus1Rounds) {
  for (int n = 2; n <= 33; ++n) {
    auto rounds = collectives::tournament_schedule(n);
    EXPECT_EQ(static_cast<int>(rounds.size()), n % 2 == 0 ? n - 1 : n) << "n=" << n;
    std::set<std::pair<int, int>> pairs;
    for (const auto& r : rounds) {
      expect_disjoint(r, n);
      EXPECT_EQ(static_cast<int>(r.size()), n / 2) << "n=" << n;  // one bye when n is odd
      for (const auto& p : r) EXPECT_TRUE(pairs.insert({p.a, p.b}).second) << p.a << "-" << p.b;
    }
    EXPECT_EQ(static_cast<int>(pairs.size()), n * (n - 1) / 2) << "n=" << n;
  }
  EXPECT_TRUE(collectives::tournament_schedule(1).empty());
  EXPECT_TRUE(collectives::tournament_schedule(0).empty());
}

TEST(LinkSchedule, RingIsConstantRoundsAndCoversNeighbours) {
  EXPECT_EQ(collectives::ring_schedule(2).size(), 1u);
  for (int n = 3; n <= 40; ++n) {
    auto rounds = collectives::ring_schedule(n);
    EXPECT_EQ(rounds.size(), n % 2 == 0 ? 2u : 3u) << "n=" << n;
    std::set<std::pair<int, int>> pairs;
    for (const auto& r : rounds) {
      expect_disjoint(r, n);
      for (const auto& p : r) EXPECT_TRUE(pairs.insert({p.a, p.b}).second);
    }
    EXPECT_EQ(static_cast<int>(pairs.size()), n);
    for (int i = 0; i < n; ++i) {
      int j = (i + 1) % n;
      EXPECT_TRUE(pairs.count({std::min(i, j), std::max(i, j)})) << i << "-" << j;
    }
  }
}

TEST(LinkSchedule, PacksSuspectPairsIntoDisjointRounds) {
  std::vector<Pair> suspects = {{0, 3}, {3, 5}, {1, 2}, {2, 3}, {4, 6}};
  auto rounds = collectives::pack_rounds(suspects);
  std::size_t total = 0;
  for (const auto& r : rounds) {
    expect_disjoint(r, 7);
    total += r.size();
  }
  EXPECT_EQ(total, suspects.size());
  EXPECT_EQ(rounds.size(), 3u) << "endpoint 3 is in three pairs";
  EXPECT_TRUE(collectives::pack_rounds({}).empty());
}

TEST(LinkSchedule, ParsesModes) {
  EXPECT_EQ(collectives::parse_link_mode("ring"), collectives::LinkMode::kRing);
  EXPECT_EQ(collectives::parse_link_mode("bisect"), collectives::LinkMode::kBisect);
  EXPECT_THROW((void)collectives::parse_link_mode("star"), UsageError);
}

/// A fake fabric: a group runs at its slowest member's speed, healthy members vary 1.5-3.0 GB/s
/// (what unshaped veth links do on the CI box), slow ones at 0.024 GB/s (200 Mbit/s tbf).
struct FakeFabric {
  std::vector<double> speed;
  std::mt19937 rng{42};
  std::set<std::pair<int, int>> slow_links;

  FakeFabric(int n, const std::vector<int>& slow) : speed(static_cast<std::size_t>(n)) {
    std::uniform_real_distribution<double> u(1.5, 3.0);
    for (auto& s : speed) s = u(rng);
    for (int s : slow) speed[static_cast<std::size_t>(s)] = 0.024;
  }
  double measure(const collectives::GroupTest& t) {
    std::vector<int> ring = t.members;
    if (t.reference >= 0) ring.push_back(t.reference);
    double g = 1e9;
    for (int m : ring) g = std::min(g, speed[static_cast<std::size_t>(m)]);
    for (std::size_t i = 0; i < ring.size(); ++i) {
      int x = ring[i], y = ring[(i + 1) % ring.size()];
      if (slow_links.count({std::min(x, y), std::max(x, y)})) g = std::min(g, 0.05);
    }
    std::uniform_real_distribution<double> jitter(0.9, 1.1);
    return g * jitter(rng);
  }
  void run(BisectPlanner& p) {
    while (!p.done()) {
      std::vector<double> r;
      std::set<int> busy;
      for (const auto& t : p.next_round()) {
        for (int m : t.members) EXPECT_TRUE(busy.insert(m).second) << "endpoint in two tests of a round";
        if (t.reference >= 0) {
          EXPECT_TRUE(busy.insert(t.reference).second);
        }
        r.push_back(measure(t));
      }
      p.record(r);
      ASSERT_LT(p.rounds(), 100);
    }
  }
};

TEST(LinkBisect, FindsSlowNodesAmong1024InLogRounds) {
  const int n = 1024;
  for (std::vector<int> slow : {std::vector<int>{}, std::vector<int>{777}, std::vector<int>{3, 500, 1001},
                                std::vector<int>{10, 11, 200, 300, 301, 640, 900, 1023}}) {
    FakeFabric fabric(n, slow);
    BisectPlanner planner(n);
    fabric.run(planner);
    EXPECT_EQ(planner.slow(), slow);
    EXPECT_TRUE(planner.inconclusive().empty());
    const int k = static_cast<int>(slow.size());
    // 16 groups of 64 first, then one round per halving: 1 + log2(64) rounds whatever k is.
    const int log2_group = 6;
    EXPECT_EQ(planner.rounds(), k > 0 ? 1 + log2_group : 1);
    EXPECT_LE(planner.tests(), 16 + 2 * k * log2_group);
    std::cout << "[ bisect  ] n=" << n << " k=" << k << ": " << planner.rounds() << " rounds, "
              << planner.tests() << " group tests (pairwise: " << n - 1 << " rounds, "
              << n * (n - 1) / 2 << " pairs)\n";
  }
}

TEST(LinkBisect, ASlowLinkInsideAGroupIsInconclusiveNotANode) {
  FakeFabric fabric(64, {});
  fabric.slow_links.insert({20, 21});
  collectives::BisectOptions o;
  o.first_groups = 8;
  BisectPlanner planner(64, o);
  fabric.run(planner);
  EXPECT_TRUE(planner.slow().empty());
  ASSERT_EQ(planner.inconclusive().size(), 1u);
  EXPECT_EQ(planner.inconclusive()[0], (std::vector<int>{20, 21}));
}

TEST(LinkBisect, ExpectedBandwidthFlagsAClusterThatIsSlowEverywhere) {
  FakeFabric fabric(16, {});
  collectives::BisectOptions o;
  o.expected_gbps = 25;  // all links at 1.5-3.0 GB/s: every group is slow
  o.first_groups = 4;
  BisectPlanner planner(16, o);
  fabric.run(planner);
  // With no healthy endpoint left to pair suspects with, nothing is confirmed, and it says so.
  EXPECT_TRUE(planner.slow().empty());
  EXPECT_FALSE(planner.inconclusive().empty());
}

TEST(LinkSweep, RoundDeadlineIsSplitFromTheTimeout) {
  // 300 s, 3 rounds: the reserve (15% capped 2..15 s) comes off first.
  EXPECT_NEAR(collectives::round_timeout(300, 3), (300 - 15) / 3.0, 1e-9);
  // Many rounds: the floor wins, so a round can still fit a slow pair.
  EXPECT_EQ(collectives::round_timeout(300, 1023, 10), 10);
  // A short timeout: never more than what is usable.
  EXPECT_NEAR(collectives::round_timeout(6, 1, 10), 4, 1e-9);
  EXPECT_NEAR(collectives::reserve_s(20), 3, 1e-9);
}

TEST(LinkSweep, EncodesAndMergesMeasurements) {
  report::LinkResult a;
  a.src_rank = 1;
  a.dst_rank = 3;
  a.bytes = 8 << 20;
  a.gbps = 2.5;
  a.latency_us = 7.5;
  auto back = collectives::decode_links(collectives::encode_links({a}));
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].src_rank, 1);
  EXPECT_EQ(back[0].dst_rank, 3);
  EXPECT_DOUBLE_EQ(back[0].gbps, 2.5);
  EXPECT_TRUE(back[0].ok);
  EXPECT_THROW((void)collectives::decode_links("1 2 x\n"), Error);

  report::LinkResult b = a, c = a;
  b.gbps = 1.5;
  b.latency_us = 6;
  c.gbps = 2.0;
  auto m = collectives::merge_measurements({a, b, c});
  EXPECT_DOUBLE_EQ(m.gbps, 2.0);
  EXPECT_DOUBLE_EQ(m.latency_us, 6);
  c.ok = false;
  c.gbps = 0;
  EXPECT_FALSE(collectives::merge_measurements({a, b, c}).ok) << "a failure in any sweep wins";
}

// ---- checks ----

report::LinkResult link(int s, int d, double gbps, double lat = 8, const std::string& sh = "",
                        const std::string& dh = "") {
  report::LinkResult l;
  l.src_rank = s;
  l.dst_rank = d;
  l.src_host = sh.empty() ? "node" + std::to_string(s) : sh;
  l.dst_host = dh.empty() ? "node" + std::to_string(d) : dh;
  l.cls = l.src_host == l.dst_host ? "shm" : "net";
  l.bytes = 8 << 20;
  l.gbps = gbps;
  l.latency_us = lat;
  return l;
}

/// All pairs of n nodes, both directions, healthy speeds drawn in [lo, hi]; `speed` overrides.
checks::LinkSweepData sweep(int n, unsigned seed, double lo = 1.5, double hi = 3.0,
                            const std::function<double(int, int, double)>& speed = nullptr) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(lo, hi);
  std::uniform_real_distribution<double> lat(5, 15);
  checks::LinkSweepData d;
  for (int i = 0; i < n; ++i) d.rank_host.push_back("node" + std::to_string(i));
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j)
      if (i != j) {
        double g = u(rng);
        if (speed) g = speed(i, j, g);
        d.links.push_back(link(i, j, g, lat(rng)));
      }
  d.round_timeout_s = 5;
  return d;
}

std::vector<std::string> ids(const std::vector<Finding>& f) {
  std::vector<std::string> out;
  for (const auto& x : f) out.push_back(x.id + " " + x.subject);
  return out;
}

TEST(LinkChecks, HealthyNoisyClustersRaiseNothing) {
  // One pass, every direction drawn in 1.5-3.0 GB/s (+-33%). 3 and 4 endpoints are left out
  // here: with one pass, 3 or 6 pairs and that spread, a pair at 1.5 among pairs at 3.0 is a
  // half-rate link or node as far as anything can tell (the detector is meant to see 0.5x); the
  // sweep's passes measure the noise (LinkAttribution.HealthyTablesRaiseNothing covers 3 and 4).
  for (int n : {2, 5, 8, 16}) {
    for (unsigned seed = 1; seed <= 40; ++seed) {
      auto a = checks::check_links(sweep(n, seed));
      if (n == 2) {
        // Nothing to compare with and no expectation: said (info), never blamed.
        ASSERT_EQ(a.findings.size(), 1u) << ::testing::PrintToString(ids(a.findings));
        EXPECT_EQ(a.findings[0].id, "link.not_judged");
        EXPECT_EQ(a.findings[0].severity, Severity::kInfo);
        continue;
      }
      EXPECT_TRUE(a.findings.empty()) << "n=" << n << " seed=" << seed << ": " << ::testing::PrintToString(ids(a.findings));
    }
  }
}

TEST(LinkChecks, ASlowNodeIsBlamedOnceNotPerLink) {
  for (int n : {3, 4, 8, 16}) {
    auto d = sweep(n, 7, 1.5, 3.0, [](int s, int t, double g) { return s == 2 || t == 2 ? 0.024 : g; });
    auto a = checks::check_links(d);
    ASSERT_EQ(a.findings.size(), 1u) << "n=" << n << ": " << ::testing::PrintToString(ids(a.findings));
    const Finding& f = a.findings[0];
    EXPECT_EQ(f.id, "node.slow");
    EXPECT_EQ(f.host, "node2");
    EXPECT_NE(f.subject.find("node2"), std::string::npos);
    EXPECT_EQ(f.severity, Severity::kError) << "100x slower is an error";
    EXPECT_NEAR(*f.measured, 0.024, 1e-9);
    if (n >= 4) {
      EXPECT_TRUE(a.suspect_rank_pairs.empty()) << "a node slow in 3 or more rounds needs no second look";
    }
  }
}

TEST(LinkChecks, TwoSlowPairsOfOneRingRoundAreLinksMeasuredAgainNotTwoSlowNodes) {
  // Measured in CI (4 ranks of one 2-core host, a ring sweep, another test running beside it):
  // the two pairs of the ring's second round, 1-2 and 3-0, were slow; the first round's pairs
  // 0-1 and 2-3 were not. Ranks 2 and 3 were once each blamed as node.slow ("the peers are fast
  // with each other"), each leaving out the fast 2-3 link as a link to the other slow node.
  // 0-1's two directions were not in the log (their median was 4.37 GB/s): both readings.
  for (auto [ab, ba] : {std::pair{4.3, 4.45}, std::pair{4.0, 4.77}}) {
    SCOPED_TRACE(fmt::format("0-1 at {} / {} GB/s", ab, ba));
    checks::LinkSweepData d;
    d.rank_host = {"vm", "vm", "vm", "vm"};
    for (auto [s, t, g, lat] : std::vector<std::tuple<int, int, double, double>>{
             {0, 1, ab, 3.0}, {1, 0, ba, 3.0},          // round 1
             {2, 3, 3.075, 37.4}, {3, 2, 3.783, 37.4},  // round 1
             {1, 2, 0.577, 15.6}, {2, 1, 0.535, 15.6},  // round 2
             {0, 3, 1.496, 3.1}, {3, 0, 0.641, 3.1}})   // round 2
      d.links.push_back(link(s, t, g, lat, "vm", "vm"));
    auto a = checks::check_links(d);
    for (const auto& f : a.findings) EXPECT_NE(f.id, "node.slow") << f.message;
    if (a.findings.empty()) {
      // Each rank with one fast and one slow link, no expectation for shm: which half is
      // healthy cannot be told from these links. Too noisy to judge, said.
      ASSERT_EQ(a.notes.size(), 1u);
      EXPECT_NE(a.notes[0].find("too noisy to judge"), std::string::npos) << a.notes[0];
    } else {
      EXPECT_EQ(ids(a.findings), (std::vector<std::string>{"link.slow vm/rank0<->vm/rank3",
                                                            "link.slow vm/rank1<->vm/rank2"}));
    }
    // Either way the two slow pairs are measured again before anything is blamed.
    std::set<std::pair<int, int>> suspects(a.suspect_rank_pairs.begin(), a.suspect_rank_pairs.end());
    EXPECT_EQ(suspects, (std::set<std::pair<int, int>>{{0, 3}, {1, 2}}));

    // Measured again (the sweep keeps the better median of each direction): the disturbance
    // has passed, nothing is left to blame.
    for (auto& l : d.links)
      if ((l.src_rank == 1 && l.dst_rank == 2) || (l.src_rank == 2 && l.dst_rank == 1)) l.gbps = 3.9;
      else if (l.src_rank == 0 && l.dst_rank == 3) l.gbps = 4.1;
      else if (l.src_rank == 3 && l.dst_rank == 0) l.gbps = 3.6;
    auto b = checks::check_links(d);
    EXPECT_TRUE(b.findings.empty()) << ::testing::PrintToString(ids(b.findings));
    for (const auto& n : b.notes) EXPECT_NE(n.find("too noisy to judge below"), std::string::npos) << n;
    EXPECT_TRUE(b.suspect_rank_pairs.empty());

    // Measured again and 1-2 still slow: a slow link, named with both ends.
    for (auto& l : d.links)
      if ((l.src_rank == 1 && l.dst_rank == 2) || (l.src_rank == 2 && l.dst_rank == 1)) l.gbps = 0.55;
    EXPECT_EQ(ids(checks::check_links(d).findings), (std::vector<std::string>{"link.slow vm/rank1<->vm/rank2"}));
  }
}

TEST(LinkChecks, ANodeSlowInFewRoundsIsMeasuredAgain) {
  // Three nodes: a slow node has two links, two rounds; it is blamed, and measured again first.
  auto d = sweep(3, 7, 1.5, 3.0, [](int s, int t, double g) { return s == 2 || t == 2 ? 0.024 : g; });
  auto a = checks::check_links(d);
  ASSERT_EQ(a.findings.size(), 1u) << ::testing::PrintToString(ids(a.findings));
  EXPECT_EQ(a.findings[0].id, "node.slow");
  EXPECT_EQ(a.suspect_rank_pairs, (std::vector<std::pair<int, int>>{{0, 2}, {1, 2}}));
}

TEST(LinkChecks, ASlowLinkNamesBothEnds) {
  auto d = sweep(6, 3, 1.5, 3.0, [](int s, int t, double g) {
    return (s == 1 && t == 4) || (s == 4 && t == 1) ? 0.3 : g;
  });
  auto a = checks::check_links(d);
  ASSERT_EQ(a.findings.size(), 1u) << ::testing::PrintToString(ids(a.findings)) << " median "
                                   << a.classes["net"].median_gbps << " sigma " << a.classes["net"].sigma_gbps
                                   << " threshold " << a.classes["net"].slow_below_gbps;
  EXPECT_EQ(a.findings[0].id, "link.slow");
  EXPECT_EQ(a.findings[0].subject, "node1<->node4");
  EXPECT_EQ(a.findings[0].severity, Severity::kError) << "0.3 against 1.5-3.0 GB/s: under a quarter";
  EXPECT_EQ(a.suspect_rank_pairs, (std::vector<std::pair<int, int>>{{1, 4}})) << "measured again before blaming";
}

TEST(LinkChecks, OneSlowDirectionIsAsymmetric) {
  auto d = sweep(5, 11, 1.5, 3.0, [](int s, int t, double g) { return s == 3 && t == 0 ? 0.2 : g; });
  auto a = checks::check_links(d);
  ASSERT_EQ(a.findings.size(), 1u) << ::testing::PrintToString(ids(a.findings));
  EXPECT_EQ(a.findings[0].id, "link.asymmetric");
  EXPECT_EQ(a.findings[0].subject, "node3->node0");
}

TEST(LinkChecks, ANodeSlowOnlyWhenSendingIsStillTheNode) {
  auto d = sweep(6, 5, 1.5, 3.0, [](int s, int, double g) { return s == 5 ? 0.1 : g; });
  auto a = checks::check_links(d);
  ASSERT_EQ(a.findings.size(), 1u) << ::testing::PrintToString(ids(a.findings));
  EXPECT_EQ(a.findings[0].id, "node.slow");
  EXPECT_NE(a.findings[0].message.find("sending only"), std::string::npos) << a.findings[0].message;
}

TEST(LinkChecks, HighLatencyPairAndNode) {
  auto d = sweep(6, 9);
  for (auto& l : d.links)
    if ((l.src_rank == 0 && l.dst_rank == 3) || (l.src_rank == 3 && l.dst_rank == 0)) l.latency_us = 400;
  auto a = checks::check_links(d);
  ASSERT_EQ(a.findings.size(), 1u) << ::testing::PrintToString(ids(a.findings));
  EXPECT_EQ(a.findings[0].id, "link.latency_high");
  EXPECT_EQ(a.findings[0].subject, "node0<->node3");

  for (auto& l : d.links) l.latency_us = l.src_rank == 4 || l.dst_rank == 4 ? 900 : 9;
  a = checks::check_links(d);
  ASSERT_EQ(a.findings.size(), 1u) << ::testing::PrintToString(ids(a.findings));
  EXPECT_EQ(a.findings[0].host, "node4");
}

TEST(LinkChecks, UnresponsivePairNamesBothEndsAndTheSilentOne) {
  auto d = sweep(4, 2);
  for (auto& l : d.links)
    if ((l.src_rank == 1 && l.dst_rank == 3) || (l.src_rank == 3 && l.dst_rank == 1)) {
      l.ok = false;
      l.gbps = 0;
    }
  d.silent_ranks = {3};
  auto a = checks::check_links(d);
  ASSERT_EQ(a.findings.size(), 1u) << ::testing::PrintToString(ids(a.findings));
  EXPECT_EQ(a.findings[0].id, "link.unresponsive");
  EXPECT_EQ(a.findings[0].subject, "node1<->node3");
  EXPECT_EQ(a.findings[0].host, "node3");
  EXPECT_EQ(a.findings[0].severity, Severity::kError);

  // Silent without a failed pair (cut between rounds): rank 0 could not hear it.
  auto e = sweep(4, 2);
  e.silent_ranks = {2};
  a = checks::check_links(e);
  ASSERT_EQ(a.findings.size(), 1u);
  EXPECT_EQ(a.findings[0].subject, "node0<->node2");
  // Rank 0 hears from nobody: its own link, said once.
  auto z = sweep(5, 2);
  z.silent_ranks = {1, 2, 3, 4};
  a = checks::check_links(z);
  ASSERT_EQ(a.findings.size(), 1u) << ::testing::PrintToString(ids(a.findings));
  EXPECT_EQ(a.findings[0].host, "node0");
}

TEST(LinkChecks, ClassesAreJudgedApartAndAgainstExpectation) {
  // Two hosts with 2 ranks each: shm links at ~20 GB/s, net links at ~2 GB/s. Neither is slow.
  checks::LinkSweepData d;
  const char* host[] = {"a", "a", "b", "b"};
  std::mt19937 rng(1);
  std::uniform_real_distribution<double> u(0.9, 1.1);
  for (int i = 0; i < 4; ++i) {
    d.rank_host.push_back(host[i]);
    for (int j = 0; j < 4; ++j)
      if (i != j) d.links.push_back(link(i, j, (host[i] == host[j] ? 20 : 2) * u(rng), 8, host[i], host[j]));
  }
  auto a = checks::check_links(d);
  // net has 2 endpoints (hosts a and b): not judged without an expectation, said as info.
  ASSERT_EQ(a.findings.size(), 1u) << ::testing::PrintToString(ids(a.findings));
  EXPECT_EQ(a.findings[0].id, "link.not_judged");
  EXPECT_EQ(a.findings[0].subject, "a<->b");
  EXPECT_EQ(a.classes.count("shm"), 1u);
  EXPECT_EQ(a.classes.count("net"), 1u);

  // Expected 12.5 GB/s on net: every net link is far below, said once for the class.
  checks::LinkCheckOptions o;
  o.expected_gbps = checks::parse_expected_gbps("net=12.5", "--expect");
  auto e = checks::check_links(sweep(4, 3), o);
  ASSERT_EQ(e.findings.size(), 1u) << ::testing::PrintToString(ids(e.findings));
  EXPECT_EQ(e.findings[0].id, "link.slow");
  EXPECT_EQ(e.findings[0].subject, "all net links");
  EXPECT_THROW((void)checks::parse_expected_gbps("net", "--expect"), UsageError);
  EXPECT_THROW((void)checks::parse_expected_gbps("net=-1", "--expect"), UsageError);
}

TEST(LinkChecks, BisectFindings) {
  checks::BisectFindingsInput in;
  in.slow = {2};
  in.slow_gbps = {0.02};
  in.inconclusive = {{4, 5}, {7}};
  in.reference_gbps = 2;
  in.rank_host = {"n0", "n1", "n2", "n3", "n4", "n5", "n6", "n7"};
  auto f = checks::check_bisect(in);
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].id, "node.slow");
  EXPECT_EQ(f[0].host, "n2");
  EXPECT_EQ(f[1].id, "link.slow");
  EXPECT_EQ(f[1].host, "n4,n5");
}

// ---- structure-aware attribution on synthetic link tables ----

/// A fabric where every node has a capacity (1 = healthy) and a link runs at the smaller of
/// its two ends' capacities times its own factor (1 = healthy), times log-normal noise, measured
/// in `passes` passes (samples) whose median is the link's value.
struct Table {
  int n = 4;
  double base = 10;     ///< GB/s of a healthy link
  double noise = 0.03;  ///< sigma of log-bandwidth per sample
  int passes = 3;
  std::map<int, double> node;                    ///< capacity of slow nodes
  std::map<std::pair<int, int>, double> link;    ///< factor of slow links (a < b)
  unsigned seed = 1;

  checks::LinkSweepData make() const {
    std::mt19937 rng(seed);
    std::normal_distribution<double> z(0, noise);
    checks::LinkSweepData d;
    for (int i = 0; i < n; ++i) d.rank_host.push_back("node" + std::to_string(i));
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < n; ++j) {
        if (i == j) continue;
        const double ci = node.count(i) ? node.at(i) : 1.0, cj = node.count(j) ? node.at(j) : 1.0;
        const auto key = std::make_pair(std::min(i, j), std::max(i, j));
        const double lf = link.count(key) ? link.at(key) : 1.0;
        std::vector<double> v;
        for (int k = 0; k < passes; ++k) v.push_back(base * std::min(ci, cj) * lf * std::exp(z(rng)));
        std::vector<double> sorted = v;
        std::sort(sorted.begin(), sorted.end());
        d.links.push_back(link_result(i, j, sorted[sorted.size() / 2]));
        d.samples[{i, j}] = v;
      }
    d.round_timeout_s = 5;
    return d;
  }
  static report::LinkResult link_result(int s, int t, double g) {
    report::LinkResult l;
    l.src_rank = s;
    l.dst_rank = t;
    l.src_host = "node" + std::to_string(s);
    l.dst_host = "node" + std::to_string(t);
    l.cls = "net";
    l.bytes = 64 << 20;
    l.gbps = g;
    l.latency_us = 3;
    return l;
  }
};

/// "id subject severity" of every finding, sorted: exact comparison in one assertion.
std::vector<std::string> summary(const std::vector<Finding>& f) {
  std::vector<std::string> out;
  for (const auto& x : f) out.push_back(x.id + " " + x.subject + " " + std::string(to_string(x.severity)));
  std::sort(out.begin(), out.end());
  return out;
}

TEST(LinkAttribution, HealthyTablesRaiseNothing) {
  for (int n : {3, 4, 16, 512}) {
    for (unsigned seed = 1; seed <= (n == 512 ? 1u : 10u); ++seed) {
      Table t;
      t.n = n;
      t.seed = seed;
      auto a = checks::check_links(t.make());
      EXPECT_TRUE(a.findings.empty()) << "n=" << n << " seed=" << seed << ": " << ::testing::PrintToString(summary(a.findings));
      EXPECT_EQ(a.classes["net"].method, n == 3 ? "triangulation (3 endpoints)" : "leave-one-out");
      // The noise is estimated from this run: 3% per sample, a median of 3 passes.
      EXPECT_GT(a.classes["net"].noise, 0.015) << n;
      EXPECT_LT(a.classes["net"].noise, 0.06) << n;
    }
  }
}

TEST(LinkAttribution, OneSlowNodeAtHalfIsAWarningAtAQuarterAnError) {
  for (int n : {3, 4, 16, 512}) {
    for (double cap : {0.5, 0.25}) {
      if (n == 512 && cap == 0.25) continue;  // 512: the quarter is in the mixed table below
      Table t;
      t.n = n;
      t.node[2] = cap;
      auto a = checks::check_links(t.make());
      const std::string sev = cap == 0.5 ? "warn" : "error";
      EXPECT_EQ(summary(a.findings), (std::vector<std::string>{"node.slow node2 (all links) " + sev}))
          << "n=" << n << " cap=" << cap;
      if (a.findings.size() != 1) continue;
      const Finding& f = a.findings[0];
      EXPECT_EQ(f.host, "node2");
      ASSERT_TRUE(f.measured && f.expected);
      EXPECT_NEAR(*f.measured / *f.expected, cap, 0.05 * cap) << "the ratio to its peers";
      EXPECT_NE(f.message.find(fmt::format("{:.2f}x", *f.measured / *f.expected)), std::string::npos) << f.message;
      EXPECT_NE(f.message.find("confidence"), std::string::npos) << f.message;
      if (n >= 4) {
        EXPECT_TRUE(a.suspect_rank_pairs.empty()) << "slow in 3 or more rounds";
      } else {
        EXPECT_EQ(a.suspect_rank_pairs.size(), 2u) << "slow in 2 rounds: measured again";
      }
    }
  }
}

TEST(LinkAttribution, OneSlowLinkIsTheLinkNotANode) {
  for (int n : {3, 4, 16}) {
    Table t;
    t.n = n;
    t.link[{1, n == 3 ? 2 : 3}] = 0.5;
    auto a = checks::check_links(t.make());
    const std::string subject = n == 3 ? "node1<->node2" : "node1<->node3";
    EXPECT_EQ(summary(a.findings), (std::vector<std::string>{"link.slow " + subject + " warn"})) << "n=" << n;
    if (a.findings.size() == 1) {
      EXPECT_NEAR(*a.findings[0].measured / *a.findings[0].expected, 0.5, 0.05);
      EXPECT_EQ(a.findings[0].host, n == 3 ? "node1,node2" : "node1,node3");
    }
    EXPECT_EQ(a.suspect_rank_pairs.size(), 1u) << "measured again before blaming";
  }
}

TEST(LinkAttribution, TwoSlowNodes) {
  // node2 at half, node3 at a quarter: both named, nobody else (not even node2<->node3). With 4
  // nodes only node0<->node1 is healthy: the fabric's level comes from the nodes' best links.
  for (int n : {4, 16}) {
    Table t;
    t.n = n;
    t.node[2] = 0.5;
    t.node[3] = 0.25;
    auto a = checks::check_links(t.make());
    EXPECT_EQ(summary(a.findings), (std::vector<std::string>{"node.slow node2 (all links) warn",
                                                             "node.slow node3 (all links) error"}))
        << "n=" << n;
  }
}

TEST(LinkAttribution, At512NodesTwoSlowNodesAndASlowLinkAreNamedApart) {
  // 130,816 pairs: node2 at half, node3 at a quarter, the link node100<->node300 at half.
  Table t;
  t.n = 512;
  t.node[2] = 0.5;
  t.node[3] = 0.25;
  t.link[{100, 300}] = 0.5;
  auto a = checks::check_links(t.make());
  EXPECT_EQ(summary(a.findings), (std::vector<std::string>{"link.slow node100<->node300 warn",
                                                           "node.slow node2 (all links) warn",
                                                           "node.slow node3 (all links) error"}));
}

TEST(LinkAttribution, AUniformlySlowFabricAgainstTheNicRate) {
  // Every link at 10 GB/s (+-3%) where a 400 Gb/s InfiniBand port should give 50 GB/s.
  topo::System sys;
  sys.host = "node0";
  topo::Nic nic;
  nic.name = "mlx5_0";
  nic.rdma = true;
  topo::NicPort port;
  port.name = "mlx5_0";
  port.state = "ACTIVE";
  port.rate_gbps = 400;
  port.link_layer = "InfiniBand";
  nic.ports.push_back(port);
  sys.nics.push_back(nic);
  const checks::NetExpectation e = checks::net_expectation(sys);
  EXPECT_DOUBLE_EQ(e.gbps, 50);
  EXPECT_EQ(e.from, "400 Gb/s InfiniBand port mlx5_0/1");
  for (int n : {4, 16, 512}) {
    checks::LinkCheckOptions o;
    std::vector<std::pair<std::string, checks::NetExpectation>> hosts;
    for (int i = 0; i < n; ++i) hosts.emplace_back("node" + std::to_string(i), e);
    checks::apply_net_expectations(hosts, o);
    ASSERT_DOUBLE_EQ(o.expected_gbps["net"], 50);
    Table t;
    t.n = n;
    auto a = checks::check_links(t.make(), o);
    EXPECT_EQ(summary(a.findings), (std::vector<std::string>{"link.slow all net links error"})) << "n=" << n;
    if (a.findings.empty()) continue;
    EXPECT_DOUBLE_EQ(*a.findings[0].expected, 50) << "the expected figure is in the finding";
    EXPECT_NE(a.findings[0].message.find("50 GB/s"), std::string::npos) << a.findings[0].message;
    EXPECT_NE(a.findings[0].message.find("400 Gb/s InfiniBand"), std::string::npos) << a.findings[0].message;
    if (n == 512) continue;
    // At 30 GB/s (0.6x) nothing: above half of the line rate.
    t.base = 30;
    EXPECT_TRUE(checks::check_links(t.make(), o).findings.empty()) << n;
  }
  // A veth/TCP host: no expectation, and the reason is said.
  topo::System veth;
  topo::Nic plain;
  plain.name = "eth0";
  topo::NicPort p0;
  p0.name = "eth0";
  p0.rate_gbps = 10;
  p0.link_layer = "Ethernet";
  plain.ports.push_back(p0);
  veth.nics.push_back(plain);
  const auto none = checks::net_expectation(veth);
  EXPECT_EQ(none.gbps, 0);
  EXPECT_NE(none.reason.find("no active RDMA port"), std::string::npos) << none.reason;
  checks::LinkCheckOptions o;
  checks::apply_net_expectations({{"node0", none}, {"node1", none}, {"node2", none}}, o);
  EXPECT_EQ(o.expected_gbps.count("net"), 0u);
  Table t;
  t.n = 3;
  auto a = checks::check_links(t.make(), o);
  EXPECT_TRUE(a.findings.empty());
  ASSERT_FALSE(a.notes.empty());
  EXPECT_NE(a.notes[0].find("no hardware expectation"), std::string::npos) << a.notes[0];
}

TEST(LinkAttribution, TwoNodesCompareWithTheExpectationOnly) {
  Table t;
  t.n = 2;
  auto a = checks::check_links(t.make());
  ASSERT_EQ(summary(a.findings), (std::vector<std::string>{"link.not_judged node0<->node1 info"}));
  EXPECT_NE(a.findings[0].message.find("could not judge"), std::string::npos) << a.findings[0].message;
  // link.slow judged nothing between two nodes: it could not run, and says how to make it run.
  auto outcome = checks::link_slow_outcome(a);
  ASSERT_TRUE(outcome.has_value());
  EXPECT_EQ(outcome->status, CheckStatus::kCouldNotRun);
  EXPECT_NE(outcome->reason.find("--expect net="), std::string::npos) << outcome->reason;
  // Two ranks of one host share memory: no fabric link, so link.slow does not apply.
  checks::LinkAnalysis one_host = a;
  one_host.classes = {{"shm", a.classes.at("net")}};
  outcome = checks::link_slow_outcome(one_host);
  ASSERT_TRUE(outcome.has_value());
  EXPECT_EQ(outcome->status, CheckStatus::kNotApplicable);
  checks::LinkCheckOptions o;
  o.expected_gbps["net"] = 25;
  o.expected_from["net"] = "200 Gb/s InfiniBand port mlx5_0/1";
  a = checks::check_links(t.make(), o);  // 10 of 25 GB/s: 0.4x
  ASSERT_EQ(summary(a.findings), (std::vector<std::string>{"link.slow node0<->node1 warn"}));
  EXPECT_FALSE(checks::link_slow_outcome(a).has_value());  // judged against the expectation
  EXPECT_NE(a.findings[0].message.find("compared against the expectation only"), std::string::npos)
      << a.findings[0].message;
  EXPECT_DOUBLE_EQ(*a.findings[0].expected, 25);
  o.expected_gbps["net"] = 12;  // 10 of 12: fine, and the note says how it was judged
  a = checks::check_links(t.make(), o);
  EXPECT_TRUE(a.findings.empty());
  ASSERT_EQ(a.notes.size(), 1u);
  EXPECT_NE(a.notes[0].find("compared against the expected 12 GB/s"), std::string::npos) << a.notes[0];
}

TEST(LinkAttribution, ANoisyRunSaysWhatItCannotJudge) {
  Table t;
  t.n = 8;
  t.noise = 0.25;  // a loaded 2-core box
  auto a = checks::check_links(t.make());
  EXPECT_TRUE(a.findings.empty()) << ::testing::PrintToString(summary(a.findings));
  bool said = false;
  for (const auto& note : a.notes) said |= note.find("too noisy to judge below") != std::string::npos;
  EXPECT_TRUE(said) << ::testing::PrintToString(a.notes);
  EXPECT_LT(a.classes["net"].link_limit_ratio, 0.5);
  // A node at a tenth stands out of that noise.
  t.node[2] = 0.1;
  a = checks::check_links(t.make());
  EXPECT_EQ(summary(a.findings), (std::vector<std::string>{"node.slow node2 (all links) error"}));
}

TEST(LinkAttribution, RepetitionNoiseComesFromThePasses) {
  // Links tight against each other but each pass jumps by 20%: the repeat noise sets the bar.
  Table t;
  t.n = 4;
  t.noise = 0.2;
  t.passes = 5;
  auto a = checks::check_links(t.make());
  EXPECT_GT(a.classes["net"].noise_repeat, 0.05);
  EXPECT_GE(a.classes["net"].noise, a.classes["net"].noise_repeat);
}

TEST(LinkMatrix, HostsOrRanks) {
  std::vector<report::LinkResult> links = {link(0, 1, 2.5), link(1, 0, 0.024)};
  links.push_back(link(0, 2, 0));
  links.back().ok = false;
  std::string m = cli::format_link_matrix(links, 32);
  EXPECT_NE(m.find("node0"), std::string::npos) << m;
  EXPECT_NE(m.find("2.500"), std::string::npos) << m;
  EXPECT_NE(m.find("0.024"), std::string::npos) << m;
  EXPECT_NE(m.find("FAIL"), std::string::npos) << m;
  std::vector<report::LinkResult> shared = {link(0, 1, 5, 1, "h", "h"), link(1, 0, 5, 1, "h", "h")};
  m = cli::format_link_matrix(shared, 32);
  EXPECT_NE(m.find("r0"), std::string::npos) << m;
  EXPECT_NE(m.find("h: r0-1"), std::string::npos) << m;
  EXPECT_NE(cli::format_link_matrix(shared, 1).find("omitted"), std::string::npos);
}

}  // namespace
}  // namespace ncd
