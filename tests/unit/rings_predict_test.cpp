// SPDX-License-Identifier: Apache-2.0
// NCCL's graph search replayed on real topologies (nccl/graph_search, checks/ring_predict):
// the match table of docs/rings.md (one test per real topology + graph pair), known NCCL
// results on NVSwitch boxes, the planted faults of topology/planted/ and the CLI.
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <sstream>

#include "checks/ring_predict.hpp"
#include "cli/cli.hpp"
#include "nccl/graph_search.hpp"
#include "nccl/graph_xml.hpp"
#include "nccl/topo_xml.hpp"

namespace ncd::checks {
namespace {

const std::string kTopo = std::string(NCD_TOPOLOGY_DIR) + "/";

struct Pair {
  RingsPrediction p;
  nccl::GraphFile dump;
};

Pair predict_pair(const std::string& topo, const std::string& graph) {
  topo::System s = nccl::load_topo_xml(kTopo + topo);
  Pair out{{}, nccl::load_graph_xml(kTopo + graph)};
  RingsPredictOptions o;
  o.what_if = false;
  out.p = predict_rings(s, &out.dump, o);
  return out;
}

const GraphComparison& cmp(const Pair& p, nccl::GraphKind k) {
  auto it = std::find_if(p.p.comparisons.begin(), p.p.comparisons.end(), [&](const auto& c) { return c.kind == k; });
  if (it == p.p.comparisons.end()) throw std::runtime_error("no comparison");
  return *it;
}

bool has_diff(const GraphComparison& c, const std::string& field) {
  return std::any_of(c.diffs.begin(), c.diffs.end(), [&](const FieldDiff& d) { return d.field.rfind(field, 0) == 0; });
}

std::string diffs_text(const GraphComparison& c) {
  std::string s;
  for (const auto& d : c.diffs) s += d.field + ": dump " + d.dumped + " predicted " + d.predicted + "\n";
  for (const auto& e : c.explanations) s += "why: " + e + "\n";
  return s;
}

// ---- the match table (docs/rings.md) ------------------------------------------------------

TEST(RingsPredictTable, Rtx3090PlxOneCx6RingMatchesDumpExactly) {
  Pair p = predict_pair("rings/panlichen-8xRTX3090-plx-1xCX6-fdr.xml", "rings/panlichen-8xRTX3090-plx-1xCX6-fdr-graph.xml");
  ASSERT_EQ(p.p.scopes.size(), 1u);
  EXPECT_EQ(p.p.scopes[0].nodes, 2);  // the dump has NETs: a multi-node search
  const auto& ring = cmp(p, nccl::GraphKind::kRing);
  EXPECT_TRUE(ring.matches()) << diffs_text(ring);
  EXPECT_EQ(ring.orders_equal, 1);
  const auto* g = p.p.scopes[0].prediction.find(nccl::GraphKind::kRing);
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->nchannels, 1);
  EXPECT_DOUBLE_EQ(g->speed_intra, 4);
  EXPECT_EQ(g->type_intra, "SYS");
  EXPECT_EQ(g->type_inter, "SYS");
  EXPECT_EQ(g->channels[0].net_in, 0);
  EXPECT_EQ(g->channels[0].net_out, 0);
}

TEST(RingsPredictTable, Rtx3090PlxOneCx6TreeMatchesDumpExactly) {
  Pair p = predict_pair("rings/panlichen-8xRTX3090-plx-1xCX6-fdr.xml", "rings/panlichen-8xRTX3090-plx-1xCX6-fdr-graph.xml");
  const auto& tree = cmp(p, nccl::GraphKind::kTree);
  EXPECT_TRUE(tree.matches()) << diffs_text(tree);
  EXPECT_EQ(tree.orders_equal, 1);
}

TEST(RingsPredictTable, Rtx3090NeedsTheGeForceP2pRule) {
  // Without NVML's "no PCIe P2P on GeForce" the search finds 5 GB/s, not the dumped 4.
  topo::System s = nccl::load_topo_xml(kTopo + "rings/panlichen-8xRTX3090-plx-1xCX6-fdr.xml");
  nccl::PredictOptions o;
  o.nodes = 2;
  o.assume_p2p_ok = true;
  auto p = nccl::predict_graphs(s, o);
  ASSERT_NE(p.find(nccl::GraphKind::kRing), nullptr);
  EXPECT_NE(p.find(nccl::GraphKind::kRing)->speed_intra, 4);
}

TEST(RingsPredictTable, AzureNcv4RingTypesMatchChannelsExplainedByBlankLinkSpeed) {
  Pair p = predict_pair("rings/azure-ncv4-a100-pcie.xml", "rings/azure-ncv4-a100-pcie-graph.xml");
  EXPECT_EQ(p.p.scopes[0].nodes, 1);
  const auto& ring = cmp(p, nccl::GraphKind::kRing);
  // Match: types, speeds, the first channel's order. Mismatch: 1 channel predicted, 2 dumped.
  EXPECT_FALSE(has_diff(ring, "typeintra")) << diffs_text(ring);
  EXPECT_FALSE(has_diff(ring, "typeinter")) << diffs_text(ring);
  EXPECT_FALSE(has_diff(ring, "speedintra")) << diffs_text(ring);
  EXPECT_FALSE(has_diff(ring, "speedinter")) << diffs_text(ring);
  EXPECT_TRUE(has_diff(ring, "nchannels")) << diffs_text(ring);
  EXPECT_EQ(ring.orders_equal, 1);
  // The explanation is computed, not asserted: with the blank link_speed read as Gen4 and
  // NCCL 2.18's search (no "same channels on AMD through SYS" rule: the dump says
  // samechannels="0") the replay gives the dump's 2 x 12.
  bool reproduced = std::any_of(ring.explanations.begin(), ring.explanations.end(), [](const std::string& e) {
    return e.find("reproduced with the PCI elements with an empty link_speed read as 16.0 GT/s PCIe (NCCL reads an empty "
                  "one as Gen3) and NCCL 2.18's search") != std::string::npos;
  });
  EXPECT_TRUE(reproduced) << diffs_text(ring);
}

TEST(RingsPredictTable, AzureNcv4TreeIsNotFromOneSearch) {
  Pair p = predict_pair("rings/azure-ncv4-a100-pcie.xml", "rings/azure-ncv4-a100-pcie-graph.xml");
  const auto& tree = cmp(p, nccl::GraphKind::kTree);
  EXPECT_TRUE(has_diff(tree, "nchannels")) << diffs_text(tree);
  EXPECT_FALSE(has_diff(tree, "typeintra")) << diffs_text(tree);
  EXPECT_FALSE(has_diff(tree, "speedintra")) << diffs_text(tree);
  bool explained = std::any_of(tree.explanations.begin(), tree.explanations.end(), [](const std::string& e) {
    return e.find("not written by one NCCL search") != std::string::npos;
  });
  EXPECT_TRUE(explained) << diffs_text(tree);
}

// ---- known NCCL results --------------------------------------------------------------------

nccl::Prediction predict_file(const std::string& f, int nodes) {
  nccl::PredictOptions o;
  o.nodes = nodes;
  return nccl::predict_graphs(nccl::load_topo_xml(kTopo + f), o);
}

TEST(RingsPredict, HgxH100SingleNodeIs12By30OverNvlAndNvlsHeadsEveryGpu) {
  auto p = predict_file("rings/oci-BM.GPU.H100.8-8xH100-16xCX7.xml", 1);
  const auto* ring = p.find(nccl::GraphKind::kRing);
  ASSERT_NE(ring, nullptr);
  EXPECT_EQ(ring->nchannels, 12);  // 6 x 60 found, duplicated to 12 x 30 (24 comm channels)
  EXPECT_DOUBLE_EQ(ring->speed_intra, 30);
  EXPECT_EQ(ring->type_intra, "NVL");
  EXPECT_EQ(p.comm_channels, 24);
  EXPECT_EQ(ring->channels[0].gpus, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7}));  // PCI order first
  const auto* nvls = p.find(nccl::GraphKind::kNvls);
  ASSERT_NE(nvls, nullptr);
  EXPECT_EQ(nvls->nchannels, 8);
}

TEST(RingsPredict, HgxA100SingleNodeIs12By20) {
  auto p = predict_file("nccl/oci-BM.GPU.A100-v2.8-8xA100-80G.xml", 1);
  const auto* ring = p.find(nccl::GraphKind::kRing);
  ASSERT_NE(ring, nullptr);
  EXPECT_EQ(ring->nchannels, 12);
  EXPECT_DOUBLE_EQ(ring->speed_intra, 20);
  EXPECT_EQ(p.find(nccl::GraphKind::kNvls), nullptr);  // sm80: no NVLS
}

TEST(RingsPredict, HgxH100TwoNodesUsesEveryNicPort) {
  auto p = predict_file("rings/oci-BM.GPU.H100.8-8xH100-16xCX7.xml", 2);
  const auto* ring = p.find(nccl::GraphKind::kRing);
  ASSERT_NE(ring, nullptr);
  EXPECT_EQ(ring->nchannels, 16);
  EXPECT_DOUBLE_EQ(ring->speed_inter, 22);
  std::set<std::int64_t> nets;
  for (const auto& c : ring->channels) nets.insert(c.net_in);
  EXPECT_EQ(nets.size(), 16u);
}

TEST(RingsPredict, NoGpuGivesNoGraphAndANote) {
  auto p = predict_file("nccl/aws-g5.48xlarge-8xA10G.xml", 1);
  EXPECT_TRUE(p.graphs.empty());
  EXPECT_FALSE(p.notes.empty());
}

TEST(RingsPredict, RotationCompare) {
  EXPECT_TRUE(nccl::same_order_up_to_rotation({0, 1, 2, 3}, {2, 3, 0, 1}));
  EXPECT_FALSE(nccl::same_order_up_to_rotation({0, 1, 2, 3}, {0, 3, 2, 1}));
  EXPECT_FALSE(nccl::same_order_up_to_rotation({0, 1, 2}, {0, 1, 2, 3}));
}

// ---- planted faults -------------------------------------------------------------------------

std::vector<Finding> degraded(const std::string& f, int nodes) {
  topo::System s = nccl::load_topo_xml(kTopo + f);
  RingsPredictOptions o;
  o.nodes = nodes;
  auto p = predict_rings(s, nullptr, o);
  std::vector<Finding> out;
  for (const auto& x : p.findings)
    if (x.id == "ring.predicted_degraded") out.push_back(x);
  return out;
}

TEST(RingsPredictPlanted, HealthyH100HasNoDegradedPart) {
  EXPECT_TRUE(degraded("nccl/oci-BM.GPU.H100.8-8xH100-16xCX7.xml", 1).empty());
}

TEST(RingsPredictPlanted, Gpu3LostNvlinksNamesGpu3) {
  auto healthy = predict_file("nccl/oci-BM.GPU.H100.8-8xH100-16xCX7.xml", 1);
  auto faulty = predict_file("planted/oci-h100-gpu3-nvlinks-lost.xml", 1);
  EXPECT_LT(aggregate(*faulty.find(nccl::GraphKind::kRing), false), aggregate(*healthy.find(nccl::GraphKind::kRing), false));
  auto f = degraded("planted/oci-h100-gpu3-nvlinks-lost.xml", 1);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].subject, "GPU3 0000:5b:00.0");
  EXPECT_NE(f[0].message.find("14 NVLinks where its siblings have 18"), std::string::npos) << f[0].message;
  ASSERT_TRUE(f[0].expected && f[0].measured);
  EXPECT_GT(*f[0].expected, *f[0].measured);
}

TEST(RingsPredictPlanted, NicMovedToOtherSocketNamesTheNic) {
  auto healthy = predict_file("nccl/oci-BM.GPU.H100.8-8xH100-16xCX7.xml", 2);
  auto faulty = predict_file("planted/oci-h100-nic-moved-socket.xml", 2);
  EXPECT_LT(aggregate(*faulty.find(nccl::GraphKind::kRing), true), aggregate(*healthy.find(nccl::GraphKind::kRing), true));
  auto f = degraded("planted/oci-h100-nic-moved-socket.xml", 2);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_NE(f[0].subject.find("0000:0c:00.0"), std::string::npos) << f[0].subject;
  EXPECT_NE(f[0].message.find("GPU0 0000:0f:00.0 has no NIC of its own"), std::string::npos) << f[0].message;
}

TEST(RingsPredictPlanted, PortAtHalfRateNamesThePort) {
  auto f = degraded("planted/oci-h100-port-half-rate.xml", 2);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_NE(f[0].subject.find("mlx5_30"), std::string::npos) << f[0].subject;
}

TEST(RingsPredictPlanted, SweepNamesTheNodeWorseThanItsSiblingsAndThePart) {
  topo::System a = nccl::load_topo_xml(kTopo + "nccl/oci-BM.GPU.H100.8-8xH100-16xCX7.xml");
  topo::System b = a;
  topo::System c = nccl::load_topo_xml(kTopo + "planted/oci-h100-gpu3-nvlinks-lost.xml");
  a.host = "node1", b.host = "node2", c.host = "node3";
  std::vector<std::string> notes;
  auto f = predicted_node_findings({{"healthy", &a}, {"healthy", &b}, {"gpu3", &c}}, 1, &notes);
  EXPECT_EQ(notes.size(), 2u);  // one prediction per distinct topology
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].id, "ring.predicted_degraded");
  EXPECT_EQ(f[0].host, "node3");
  EXPECT_EQ(f[0].subject, "GPU3 0000:5b:00.0");
  // Identical nodes: nothing to report.
  EXPECT_TRUE(predicted_node_findings({{"healthy", &a}, {"healthy", &b}}, 1, nullptr).empty());
}

// ---- CLI ------------------------------------------------------------------------------------

TEST(RingsPredictCli, TopologyAlonePrintsAndReportsThePrediction) {
  std::ostringstream out, err;
  int rc = cli::run_cli({"rings", "--topo-xml", kTopo + "rings/azure-ncv4-a100-pcie.xml", "--format", "json"}, out, err);
  EXPECT_EQ(rc, 0) << out.str() << err.str();
  auto j = nlohmann::json::parse(out.str());
  const auto& pred = j["sections"]["rings"][0]["predicted"];
  ASSERT_TRUE(pred.is_array());
  ASSERT_GE(pred.size(), 2u);
  for (const char* k : {"pattern", "nchannels", "speedintra", "speedinter", "typeintra", "typeinter", "channels"})
    EXPECT_TRUE(pred[0].contains(k)) << k;
  EXPECT_EQ(pred[0]["nchannels"], 1);
  EXPECT_EQ(pred[0]["typeintra"], "SYS");
  EXPECT_EQ(pred[0]["channels"][0]["gpus"], nlohmann::json({0, 1, 2, 3}));
}

TEST(RingsPredictCli, WithAGraphComparesAndExplains) {
  std::ostringstream out, err;
  int rc = cli::run_cli({"rings", "--topo-xml", kTopo + "rings/azure-ncv4-a100-pcie.xml", "--graph-xml",
                         kTopo + "rings/azure-ncv4-a100-pcie-graph.xml"},
                        out, err);
  EXPECT_EQ(rc, 0) << out.str() << err.str();  // a difference is explained, not a finding
  EXPECT_NE(out.str().find("dump vs prediction, ring: differs"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("reproduced with"), std::string::npos) << out.str();
}

TEST(RingsPredictCli, GraphWithoutTopologyIsAUsageError) {
  std::ostringstream out, err;
  int rc = cli::run_cli({"rings", "--graph-xml", kTopo + "rings/azure-ncv4-a100-pcie-graph.xml"}, out, err);
  EXPECT_NE(rc, 0);
}

}  // namespace
}  // namespace ncd::checks
