// SPDX-License-Identifier: Apache-2.0
// The NCCL graph dump parser on the corpus dumps, version drift, and bad input.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/fs.hpp"
#include "nccl/graph_xml.hpp"
#include "nccl/tuning_model.hpp"

namespace ncd::nccl {
namespace {

const std::string kGraphs = std::string(NCD_TOPOLOGY_DIR) + "/rings/";

TEST(GraphXml, RtxRingEntersAndLeavesThroughTheNic) {
  GraphFile f = load_graph_xml(kGraphs + "panlichen-8xRTX3090-plx-1xCX6-fdr-graph.xml");
  ASSERT_EQ(f.graphs.size(), 4u);
  const Graph* ring = f.find(GraphKind::kRing);
  ASSERT_NE(ring, nullptr);
  EXPECT_EQ(ring->pattern, GraphPattern::kRing);
  EXPECT_EQ(ring->nchannels, 1);
  EXPECT_DOUBLE_EQ(ring->speed_intra, 4);
  EXPECT_EQ(ring->type_intra, "SYS");
  EXPECT_EQ(ring->type_inter, "SYS");
  EXPECT_TRUE(ring->same_channels);
  ASSERT_EQ(ring->channels.size(), 1u);
  const GraphChannel& c = ring->channels[0];
  ASSERT_TRUE(c.net_in && c.net_out);
  EXPECT_EQ(c.net_in->local, 0);
  ASSERT_EQ(c.gpus.size(), 8u);
  for (int i = 0; i < 8; ++i) EXPECT_EQ(c.gpus[static_cast<std::size_t>(i)].local, i);
  EXPECT_TRUE(ring->inter_node());
  EXPECT_EQ(ring->exit_index(c), 7u);
  // Graphs that were not computed are written with nchannels 0 and no channels.
  EXPECT_EQ(f.graphs[2].kind, GraphKind::kCollnetChain);
  EXPECT_TRUE(f.graphs[2].channels.empty());
  EXPECT_EQ(f.graphs[3].kind, GraphKind::kNvls);
  const Graph* tree = f.find(GraphKind::kTree);
  ASSERT_NE(tree, nullptr);
  EXPECT_EQ(tree->pattern, GraphPattern::kBalancedTree);
  EXPECT_EQ(tree->exit_index(tree->channels[0]), 0u);  // trees return to the NET at GPU 0
}

TEST(GraphXml, AzureNcv4IsIntraNodeOnly) {
  GraphFile f = load_graph_xml(kGraphs + "azure-ncv4-a100-pcie-graph.xml");
  ASSERT_EQ(f.graphs.size(), 3u);
  EXPECT_EQ(f.graphs[0].kind, GraphKind::kRing);
  EXPECT_EQ(f.graphs[1].kind, GraphKind::kTree);
  EXPECT_EQ(f.graphs[2].kind, GraphKind::kCollnetChain);
  EXPECT_FALSE(f.graphs[0].inter_node());
  EXPECT_EQ(f.graphs[0].channels.size(), 2u);
  EXPECT_EQ(f.graphs[1].channels.size(), 4u);
  EXPECT_TRUE(f.notes.empty());
}

TEST(GraphXml, MaintainerExampleWithoutLatencyAndCrossedNets) {
  GraphFile f = load_graph_xml(kGraphs + "issue-nccl524-maintainer-example-4gpu-2nic-graph.xml");
  const Graph& g = f.graphs[0];
  EXPECT_FALSE(g.latency_inter.has_value());
  ASSERT_TRUE(g.channels[0].net_in && g.channels[0].net_out);
  EXPECT_EQ(g.channels[0].net_in->local, 3);
  EXPECT_EQ(g.channels[0].net_out->local, 0);
  GraphFile r = load_graph_xml(kGraphs + "issue-nccl1406-rccl-2gpu-1nic-graph.xml");
  EXPECT_EQ(r.graphs.size(), 4u);
  EXPECT_EQ(r.graphs[0].type_inter, "PXB");
  EXPECT_DOUBLE_EQ(r.graphs[1].speed_intra, 48);
}

TEST(GraphXml, DevIdsHexInNewDumpsDecimalInOld) {
  // NCCL >= 2.19 writes NCCL_TOPO_ID(system, dev) as %#lx: 0 is "0", 10 is "0xa".
  auto r = parse_topo_ref("0xa");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->local, 10);
  EXPECT_EQ(r->system, 0u);
  r = parse_topo_ref("0x100000000000003");  // system 1, dev 3 (MNNVL)
  ASSERT_TRUE(r);
  EXPECT_EQ(r->system, 1u);
  EXPECT_EQ(r->local, 3);
  r = parse_topo_ref("10");  // an old dump's decimal
  ASSERT_TRUE(r);
  EXPECT_EQ(r->local, 10);
  EXPECT_FALSE(parse_topo_ref("-1"));
  EXPECT_FALSE(parse_topo_ref("gpu0"));
  EXPECT_FALSE(parse_topo_ref(""));

  const std::string old_dump = R"(<graphs version="1">
  <graph id="0" pattern="4" crossnic="0" nchannels="1" speedintra="20" speedinter="20" typeintra="NVL" typeinter="PIX" samechannels="1">
    <channel><gpu dev="8"/><gpu dev="9"/><gpu dev="10"/><gpu dev="11"/></channel>
  </graph>
</graphs>)";
  GraphFile f = parse_graph_xml(old_dump, "old.xml");
  EXPECT_EQ(f.graphs[0].channels[0].gpus[2].local, 10);
  ASSERT_EQ(f.notes.size(), 1u);
  EXPECT_NE(f.notes[0].find("decimal"), std::string::npos);

  const std::string new_dump = R"(<graphs version="1">
  <graph id="0" pattern="4" crossnic="0" nchannels="1" speedintra="20" speedinter="20" typeintra="NVL" typeinter="PIX" samechannels="1">
    <channel><gpu dev="0x8"/><gpu dev="0x9"/><gpu dev="0xa"/><gpu dev="0xb"/></channel>
  </graph>
</graphs>)";
  GraphFile n = parse_graph_xml(new_dump, "new.xml");
  EXPECT_EQ(n.graphs[0].channels[0].gpus[2].local, 10);
  EXPECT_TRUE(n.notes.empty());
}

TEST(GraphXml, NchannelsMismatchIsANote) {
  const std::string text = R"(<graphs version="1"><graph id="0" pattern="4" crossnic="0" nchannels="4" speedintra="20"
    speedinter="20" typeintra="NVL" typeinter="PIX" samechannels="1"><channel><gpu dev="0"/><gpu dev="0x1"/></channel></graph></graphs>)";
  GraphFile f = parse_graph_xml(text, "m.xml");
  ASSERT_EQ(f.notes.size(), 1u);
  EXPECT_NE(f.notes[0].find("nchannels=\"4\""), std::string::npos);
}

/// Expects an InputError whose one-line message names the file and contains `what`.
void expect_input_error(const std::string& text, const std::string& what) {
  try {
    (void)parse_graph_xml(text, "bad-graph.xml");
    ADD_FAILURE() << "no error for: " << text;
  } catch (const InputError& e) {
    std::string m = e.what();
    EXPECT_EQ(m.rfind("bad-graph.xml", 0), 0u) << m;
    EXPECT_NE(m.find(what), std::string::npos) << m;
    EXPECT_EQ(m.find('\n'), std::string::npos) << m;
  }
}

TEST(GraphXml, BadInputIsOneLineInputError) {
  std::string full = read_file(kGraphs + "panlichen-8xRTX3090-plx-1xCX6-fdr-graph.xml");
  for (std::size_t cut : {full.size() / 2, full.size() - 12, std::size_t{40}})
    expect_input_error(full.substr(0, cut), "truncated");
  expect_input_error("", "graph dump");
  expect_input_error("not xml at all", "graph dump");
  expect_input_error("<system version=\"1\"/>", "--topo-xml");
  expect_input_error("<graphs version=\"2\"><graph/></graphs>", "version 1");
  expect_input_error("<graphs version=\"1\"></graphs>", "no <graph>");
  const std::string head = R"(<graphs version="1"><graph id="0" pattern="4" crossnic="0" nchannels="1" speedintra="20" speedinter="20" samechannels="1" )";
  expect_input_error(head + R"(typeintra="NVL"><channel><gpu dev="0"/></channel></graph></graphs>)", "typeinter");
  expect_input_error(head + R"(typeintra="FAST" typeinter="PIX"/></graphs>)", "not a path type");
  expect_input_error(head + R"(typeintra="NVL" typeinter="PIX"><channel><gpu dev="zero"/></channel></graph></graphs>)",
                     "not a device number");
  expect_input_error(head + R"(typeintra="NVL" typeinter="PIX"><channel><gpu dev="0"/><net dev="0"/><gpu dev="1"/></channel></graph></graphs>)",
                     "after the channel's exit");
  expect_input_error(head + R"(typeintra="NVL" typeinter="PIX"><channel><net dev="0"/></channel></graph></graphs>)",
                     "without any <gpu>");
  expect_input_error(R"(<graphs version="1"><graph id="x" pattern="4"/></graphs>)", "id=\"x\"");
  // Line numbers point at the element.
  try {
    (void)parse_graph_xml("<graphs version=\"1\">\n\n  <graph id=\"0\"/>\n</graphs>", "l.xml");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("l.xml:3:", 0), 0u) << e.what();
  }
}

TEST(GraphXml, DeepNestingDoesNotRecurse) {
  std::string deep = "<graphs version=\"1\">";
  for (int i = 0; i < 200000; ++i) deep += "<x>";
  EXPECT_THROW((void)parse_graph_xml(deep, "deep.xml"), InputError);
}

TEST(GraphXml, Json) {
  GraphFile f = load_graph_xml(kGraphs + "panlichen-8xRTX3090-plx-1xCX6-fdr-graph.xml");
  nlohmann::json j = f;
  EXPECT_EQ(j["graphs"][0]["kind"], "ring");
  EXPECT_EQ(j["graphs"][0]["channels"][0]["gpus"].size(), 8u);
  EXPECT_EQ(j["graphs"][0]["channels"][0]["net_in"]["dev"], 0);
}

TEST(TuningModel, WorkedExampleTwoAmpereGpusUnderOneSwitch) {
  // nccl-internals.md §6.3: 2 x sm80 under one Gen4 switch, 2 channels x 12 GB/s, PIX.
  TuningInput in;
  in.sm_min = in.sm_max = 80;
  in.nodes = 1;
  in.ranks = 2;
  in.channels = 2;
  in.bw_intra = in.bw_inter = 12;
  in.type_intra = 4;  // PIX
  in.type_inter = 4;
  TuningResult r = model_allreduce(in);
  EXPECT_FALSE(r.ll128_enabled);  // PCIe-only: typeIntra > NVB
  EXPECT_DOUBLE_EQ(r.ring.simple, 24);
  EXPECT_DOUBLE_EQ(r.ring.ll, 12);
  EXPECT_DOUBLE_EQ(r.ring.ll128, 0);
  EXPECT_NEAR(r.tree.simple, 22.08, 1e-9);
  EXPECT_DOUBLE_EQ(r.ring_busbw, 24);
  EXPECT_NEAR(r.tree_busbw, 11.04, 1e-9);  // modelBusBw x (n-1)/n
}

TEST(TuningModel, HopperNvlinkEnablesLl128AndCapsTree) {
  TuningInput in;
  in.sm_min = in.sm_max = 90;
  in.nodes = 1;
  in.ranks = 8;
  in.channels = 12;
  in.bw_intra = in.bw_inter = 30;
  in.type_intra = 1;  // NVL
  in.type_inter = 4;
  TuningResult r = model_allreduce(in);
  EXPECT_TRUE(r.ll128_enabled);
  EXPECT_DOUBLE_EQ(r.ring.simple, 360);
  EXPECT_NEAR(r.ring.ll128, std::min(360 * 0.92, 12 * 36.7), 1e-9);
  EXPECT_NEAR(r.tree.simple, std::min(360 * 0.92, 12 * 38.7), 1e-9);
  EXPECT_EQ(r.ring.best_protocol(), "Simple");
  EXPECT_EQ(comp_cap_index(70), 0);
  EXPECT_EQ(comp_cap_index(86), 1);
  EXPECT_EQ(comp_cap_index(100), 3);
  in.tree_pattern_tree = true;
  EXPECT_NEAR(model_allreduce(in).tree.simple, r.tree.simple * 0.85, 1e-9);
  in.channels = 0;
  EXPECT_DOUBLE_EQ(model_allreduce(in).ring_busbw, 0);
}

}  // namespace
}  // namespace ncd::nccl
