// SPDX-License-Identifier: Apache-2.0
// Issue 19 (scale): the topology gather's wire forms and digest, the grouped analysis (one per
// distinct topology) against the node-by-node one, and the link sweep simulated at 512 nodes.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "checks/link_sim.hpp"
#include "checks/topo_checks.hpp"
#include "checks/topo_groups.hpp"
#include "cli/topo_live.hpp"
#include "core/error.hpp"
#include "core/text.hpp"
#include "dist/topo_gather.hpp"
#include "nccl/topo_xml.hpp"
#include "topo/fingerprint.hpp"
#include "topo/paths.hpp"

namespace ncd {
namespace {

const std::string kTopo = NCD_TOPOLOGY_DIR;

topo::System oci() { return nccl::load_topo_xml(kTopo + "/nccl/oci-BM.GPU.H100.8-8xH100-16xCX7.xml"); }

TEST(ScaleWire, RankAndNodeMessagesRoundTrip) {
  dist::RankInfo r{13, 5, 96, {0, 1, 2, 3, 48, 49, 50, 95}, "GPU-1234,3"};
  auto back = dist::decode_rank(dist::encode_rank(r));
  EXPECT_EQ(back.rank, 13);
  EXPECT_EQ(back.local_rank, 5);
  EXPECT_EQ(back.total_cpus, 96);
  EXPECT_EQ(back.cpus, r.cpus);
  EXPECT_EQ(back.cuda_visible_devices, r.cuda_visible_devices);
  dist::NodeSummary n;
  n.probed = true;
  n.digest = 0x0123456789abcdefULL;
  n.ranks = {r, dist::RankInfo{14, 6, 96, {12, 13}, ""}};
  n.missing = {15};
  std::string bytes = dist::encode_node(n);
  EXPECT_LT(bytes.size(), 150u) << "a node's summary is a few dozen bytes per rank, not its topology";
  auto m = dist::decode_node(bytes);
  EXPECT_TRUE(m.probed);
  EXPECT_EQ(m.digest, n.digest);
  ASSERT_EQ(m.ranks.size(), 2u);
  EXPECT_EQ(m.ranks[1].cpus, (std::vector<int>{12, 13}));
  EXPECT_EQ(m.missing, std::vector<int>{15});
  // Truncated, padded or foreign bytes are an error, never a misread.
  for (std::size_t cut : {std::size_t{0}, std::size_t{3}, bytes.size() / 2, bytes.size() - 1})
    EXPECT_THROW((void)dist::decode_node(bytes.substr(0, cut)), Error) << cut;
  EXPECT_THROW((void)dist::decode_node(bytes + "x"), Error);
  EXPECT_THROW((void)dist::decode_node(dist::encode_rank(r)), Error);
}

TEST(ScaleWire, UuidsInCudaVisibleDevicesBecomeIndices) {
  std::vector<std::pair<std::string, int>> gpus = {{"GPU-aaaa-1111", 0}, {"GPU-bbbb-2222", 1}};
  EXPECT_EQ(dist::uuids_to_indices("GPU-bbbb,GPU-aaaa-1111", gpus), "1,0");
  EXPECT_EQ(dist::uuids_to_indices("1,0", gpus), "1,0");
  EXPECT_EQ(dist::uuids_to_indices("", gpus), "");
  EXPECT_EQ(dist::uuids_to_indices("GPU-cccc", gpus), "GPU-cccc");
}

TEST(ScaleDigest, IgnoresHostBindingsAndSerialsButNotHardwareOrVersions) {
  topo::System a = oci(), b = oci();
  b.host = "other";
  b.bindings.push_back(topo::RankBinding{});
  if (!b.gpus.empty()) b.gpus[0].uuid = "GPU-ffff";
  EXPECT_EQ(topo::content_digest(a), topo::content_digest(b));
  topo::System c = oci();
  ASSERT_FALSE(c.nics.empty());
  ASSERT_FALSE(c.nics[0].ports.empty());
  c.nics[0].ports[0].rate_gbps /= 2;
  EXPECT_NE(topo::content_digest(a), topo::content_digest(c));
  topo::System d = oci();
  d.versions["driver"] = "999.1";
  EXPECT_NE(topo::content_digest(a), topo::content_digest(d));
}

TEST(ScaleGroups, CompactHostNames) {
  EXPECT_EQ(checks::compact_hosts({"node0", "node1", "node2", "node5", "node3"}), "node[0-3,5]");
  EXPECT_EQ(checks::compact_hosts({"node7"}), "node7");
  EXPECT_EQ(checks::compact_hosts({"gpu-a1", "login", "gpu-a2", "n007"}), "gpu-a[1-2],login,n007");
  std::vector<std::string> many;
  for (int i = 0; i < 4096; i += 2) many.push_back("node" + std::to_string(i));
  std::string s = checks::compact_hosts(many, 100);
  EXPECT_LT(s.size(), 160u);
  EXPECT_NE(s.find("(2048 hosts)"), std::string::npos) << s;
}

/// `nodes` nodes of the fixture; node 3 lost an NVLink, node 9 a GPU, node 20 runs its NICs at
/// half rate. Bindings: 8 ranks a node, each on two cores.
std::vector<checks::TopoGroup> job(int nodes) {
  topo::System base = oci();
  topo::compute_paths(base);
  std::map<int, topo::System> odd;
  odd[3] = base;
  odd[3].gpus[3].nvlinks[0].count -= 1;
  odd[9] = base;
  odd[9].gpus.pop_back();
  odd[20] = base;
  for (auto& n : odd[20].nics)
    for (auto& p : n.ports) p.rate_gbps /= 2;
  std::map<std::uint64_t, std::size_t> index;
  std::vector<checks::TopoGroup> groups;
  for (int n = 0; n < nodes; ++n) {
    const topo::System& s = odd.count(n) ? odd[n] : base;
    auto [it, added] = index.emplace(topo::content_digest(s), groups.size());
    if (added) {
      groups.emplace_back();
      groups.back().system = s;
      topo::compute_paths(groups.back().system);
    }
    auto& g = groups[it->second];
    g.hosts.push_back("node" + std::to_string(n));
    g.node_index.push_back(static_cast<std::size_t>(n));
    std::vector<topo::RankBinding> bs;
    for (int k = 0; k < 8; ++k) {
      topo::RankBinding b;
      b.rank = n * 8 + k;
      b.cpus = {k * 12, k * 12 + 1};
      b.total_cpus = 96;
      bs.push_back(b);
    }
    g.bindings.push_back(bs);
  }
  return groups;
}

std::vector<topo::System> per_node(const std::vector<checks::TopoGroup>& groups) {
  cli::LiveTopology t;
  t.groups = groups;
  return cli::expand_nodes(t);
}

TEST(ScaleGroups, SmallJobsGiveExactlyTheNodeByNodeFindings) {
  auto groups = job(24);
  ASSERT_EQ(groups.size(), 4u);
  auto full = checks::check_topology(per_node(groups));
  auto grouped = checks::check_topology_groups(groups);
  ASSERT_EQ(grouped.findings.size(), full.size());
  for (std::size_t i = 0; i < full.size(); ++i) {
    EXPECT_EQ(grouped.findings[i].id, full[i].id);
    EXPECT_EQ(grouped.findings[i].host, full[i].host);
    EXPECT_EQ(grouped.findings[i].subject, full[i].subject);
    EXPECT_EQ(grouped.findings[i].message, full[i].message);
  }
}

/// id -> every node a finding of that id applies to (a group's finding: all its nodes).
std::map<std::string, std::set<std::string>> coverage(const std::vector<Finding>& fs,
                                                      const std::vector<checks::TopoGroup>& groups) {
  std::map<std::string, std::set<std::string>> out;
  for (const auto& f : fs) {
    if (f.severity == Severity::kInfo) continue;
    auto& hosts = out[f.id];
    bool group = false;
    for (const auto& g : groups)
      if (g.hosts.size() > 1 && g.hosts.front() == f.host && f.message.find("nodes alike") != std::string::npos) {
        hosts.insert(g.hosts.begin(), g.hosts.end());
        group = true;
      }
    if (!group) hosts.insert(f.host);
  }
  return out;
}

TEST(ScaleGroups, LargeJobsNameTheSameNodesOncePerTopology) {
  auto groups = job(48);  // above kExpandNodesUpTo: grouped
  auto nodes = per_node(groups);
  auto full = checks::check_topology(nodes);
  auto grouped = checks::check_topology_groups(groups);
  EXPECT_EQ(coverage(grouped.findings, groups), coverage(full, groups));
  EXPECT_LE(grouped.findings.size(), full.size()) << "a group's findings are said once, not per node";
  // The planted nodes are named, with the fault they have.
  std::set<std::string> named;
  for (const auto& f : grouped.findings)
    if (f.severity != Severity::kInfo) named.insert(f.id + " " + f.host);
  EXPECT_TRUE(named.count("nvlink.count_mismatch node3") || named.count("topo.differs node3")) << ::testing::PrintToString(named);
  EXPECT_TRUE(named.count("gpu.count_mismatch node9")) << ::testing::PrintToString(named);
  EXPECT_TRUE(named.count("nic.rate_low node20")) << ::testing::PrintToString(named);
}

TEST(ScaleGroups, FiveHundredTwelveNodesAreFourAnalyses) {
  auto groups = job(512);
  ASSERT_EQ(groups.size(), 4u) << "memory grows with distinct topologies";
  std::set<std::string> inherent;  // what the fixture raises on one healthy node
  for (const auto& f : checks::check_topology({oci()})) inherent.insert(f.id);
  auto grouped = checks::check_topology_groups(groups);
  std::set<std::string> named;
  for (const auto& f : grouped.findings)
    if (f.severity != Severity::kInfo && !inherent.count(f.id)) named.insert(f.host);
  // The three planted nodes, and at most the reference node a cross-host finding compares with.
  EXPECT_TRUE(named.count("node3") && named.count("node9") && named.count("node20")) << ::testing::PrintToString(named);
  EXPECT_LE(named.size(), 4u) << ::testing::PrintToString(named);
  for (const auto& f : grouped.findings)
    if (f.id == "topo.differs") {
      EXPECT_NE(f.message.find("of 512 hosts alike"), std::string::npos) << f.message;
    }
}

TEST(ScaleGather, OneProcessGathersItsOwnModel) {
  dist::SingleComm comm;
  dist::RankInfo mine;
  topo::System s = oci();
  auto g = dist::gather_topology(
      comm, mine,
      [&]() -> std::optional<dist::ProbedModel> {
        return dist::ProbedModel{nlohmann::json(s).dump(), topo::content_digest(s), {}};
      },
      dist::Deadline::after(10));
  ASSERT_EQ(g.groups.nodes.size(), 1u);
  ASSERT_TRUE(g.models[0].has_value());
  EXPECT_TRUE(g.missing_ranks.empty());
  auto live = cli::assemble_live_topology(g, comm.nodes(), true);
  ASSERT_EQ(live.groups.size(), 1u);
  EXPECT_EQ(live.groups[0].system.gpus.size(), s.gpus.size());
  ASSERT_EQ(live.groups[0].bindings.size(), 1u);
  EXPECT_EQ(live.groups[0].bindings[0].size(), 1u);
}

checks::FabricSim fabric(int n) {
  checks::FabricSim f;
  f.nodes = n;
  f.slow_nodes = {n / 8 + 3, n / 2 + 5, n - 11};
  f.slow_links = {{n / 4 + 2, n / 4 + 3}, {3 * n / 4 + 8, 3 * n / 4 + 9}};
  return f;
}

std::string explain(const checks::SweepSim& s) {
  std::string out = s.mode + ": missed nodes " + format_ranges(s.missed_nodes) + ", false nodes " +
                    format_ranges(s.false_nodes) + ", missed links " + std::to_string(s.missed_links.size()) +
                    ", false links " + std::to_string(s.false_links.size());
  for (const auto& o : s.other_findings) out += "; " + o;
  return out;
}

TEST(ScaleLinks, RingAndBisectAt512NodesFindEveryPlantedFaultAndNothingElse) {
  auto f = fabric(512);
  auto ring = checks::simulate_ring(f);
  EXPECT_TRUE(ring.exact()) << explain(ring);
  EXPECT_EQ(ring.rounds, 2);
  EXPECT_EQ(ring.found_nodes, (std::vector<int>{67, 261, 501}));
  EXPECT_EQ(ring.found_links, (std::vector<std::pair<int, int>>{{130, 131}, {392, 393}}));
  auto bisect = checks::simulate_bisect(f);
  EXPECT_TRUE(bisect.exact()) << explain(bisect);
  EXPECT_LE(bisect.rounds, 8) << "log rounds: 16 groups of 32, then halvings";
  // Healthy fabrics, several seeds: nothing blamed.
  for (unsigned seed = 1; seed <= 5; ++seed) {
    checks::FabricSim h;
    h.nodes = 512;
    h.seed = seed;
    auto r = checks::simulate_ring(h);
    EXPECT_TRUE(r.exact()) << "seed " << seed << ": " << explain(r);
    auto b = checks::simulate_bisect(h);
    EXPECT_TRUE(b.exact()) << "seed " << seed << ": " << explain(b);
  }
}

TEST(ScaleLinks, PairwiseLocalisesToo) {
  auto f = fabric(128);
  auto p = checks::simulate_pairwise(f);
  EXPECT_EQ(p.rounds, 127);
  EXPECT_EQ(p.measured_pairs, 128u * 127 / 2);
  EXPECT_TRUE(p.exact()) << explain(p);
  auto counted = checks::simulate_pairwise(fabric(4096), false);
  EXPECT_EQ(counted.rounds, 4095);
  EXPECT_EQ(counted.measured_pairs, 4096u * 4095 / 2);
}

}  // namespace
}  // namespace ncd
