// SPDX-License-Identifier: Apache-2.0
// ring.* checks on the corpus graph dumps with their topologies and on hand-made graphs over
// the corpus topologies (topology/rings/README.md lists each fixture and its expected findings).
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "checks/ring_checks.hpp"
#include "core/catalogue.hpp"
#include "nccl/graph_xml.hpp"
#include "nccl/log_model.hpp"
#include "nccl/topo_xml.hpp"

namespace ncd::checks {
namespace {

const std::string kDir = std::string(NCD_TOPOLOGY_DIR) + "/rings/";
const std::string kOci = "oci-BM.GPU.H100.8-8xH100-16xCX7.xml";
const std::string kRtx = "panlichen-8xRTX3090-plx-1xCX6-fdr.xml";
const std::string kNcv4 = "azure-ncv4-a100-pcie.xml";

RingsAnalysis analyze(const std::string& topo, const std::string& graph, const nccl::RunLog* log = nullptr,
                      RingsOptions opts = {}) {
  topo::System s = nccl::load_topo_xml(kDir + topo);
  nccl::GraphFile g = nccl::load_graph_xml(kDir + graph);
  return analyze_rings(s, g, log, opts);
}

RingsAnalysis analyze_text(const std::string& topo, const std::string& graph_xml, const nccl::RunLog* log = nullptr) {
  topo::System s = nccl::load_topo_xml(kDir + topo);
  nccl::GraphFile g = nccl::parse_graph_xml(graph_xml, "inline.xml");
  return analyze_rings(s, g, log, {});
}

std::multiset<std::string> ids(const RingsAnalysis& a) {
  std::multiset<std::string> out;
  for (const auto& f : a.findings) out.insert(f.id);
  return out;
}

std::string dump(const RingsAnalysis& a) {
  std::string s;
  for (const auto& f : a.findings) s += f.id + " [" + f.subject + "] " + f.message + "\n";
  return s;
}

const Finding* find(const RingsAnalysis& a, const std::string& id) {
  for (const auto& f : a.findings)
    if (f.id == id) return &f;
  return nullptr;
}

std::string ring_xml(const std::string& type_intra, int nch, double speed, const std::vector<std::vector<int>>& chans) {
  std::string s = "<graphs version=\"1\"><graph id=\"0\" pattern=\"4\" crossnic=\"0\" nchannels=\"" + std::to_string(nch) +
                  "\" speedintra=\"" + std::to_string(speed) + "\" speedinter=\"" + std::to_string(speed) +
                  "\" typeintra=\"" + type_intra + "\" typeinter=\"PIX\" samechannels=\"1\">";
  for (const auto& c : chans) {
    s += "<channel>";
    for (int g : c) s += "<gpu dev=\"" + std::to_string(g) + "\"/>";
    s += "</channel>";
  }
  return s + "</graph></graphs>";
}

TEST(RingChecks, IdsAreRegistered) {
  for (const char* id : {"ring.path_degraded", "ring.crosses_socket", "ring.nic_far", "ring.channels_low",
                         "ring.net_socket", "ring.inconsistent"}) {
    const CheckInfo* c = Catalogue::instance().find(id);
    ASSERT_NE(c, nullptr) << id;
    EXPECT_EQ(c->domain, "rings");
  }
}

TEST(RingChecks, OciH100NvlinkRingIsSilent) {
  RingsAnalysis a = analyze(kOci, "oci-h100-nvlink-ring-graph.xml");
  EXPECT_TRUE(a.findings.empty()) << dump(a);
  ASSERT_GE(a.graphs.size(), 1u);
  const RingGraph& ring = a.graphs[0];
  ASSERT_TRUE(ring.worst_intra);
  EXPECT_EQ(*ring.worst_intra, topo::PathType::kNVL);
  ASSERT_EQ(ring.channels.size(), 12u);
  ASSERT_EQ(ring.channels[0].hops.size(), 8u);  // a loop: 7 -> 0 closes it
  EXPECT_EQ(ring.channels[0].hops[7].from_dev, 7);
  EXPECT_EQ(ring.channels[0].hops[7].to_dev, 0);
  EXPECT_NEAR(ring.channels[0].hops[0].bw_gbps, 18 * 20.6, 0.01);
  EXPECT_EQ(ring.channels[0].socket_hops, 0);  // NVLink between sockets never touches UPI
  EXPECT_NEAR(ring.capacity_gbps, 370.8, 0.01);
  EXPECT_DOUBLE_EQ(ring.aggregate_gbps, 360);
  ASSERT_TRUE(a.predicted);
  EXPECT_EQ(a.nodes, 1);
  EXPECT_DOUBLE_EQ(a.predicted->ring_busbw, 360);  // 12 channels x 30 GB/s, Simple
  EXPECT_TRUE(a.predicted->ll128_enabled);
  ASSERT_TRUE(a.possible);
  EXPECT_NEAR(a.possible->ring_busbw, 370.8, 0.01);
}

TEST(RingChecks, OciH100SysRingIsPathDegraded) {
  RingsAnalysis a = analyze(kOci, "oci-h100-sys-ring-graph.xml");
  // Ring and tree both settled for SYS on an NVSwitch box; channels_low is the consequence
  // and is not reported separately.
  EXPECT_EQ(ids(a), (std::multiset<std::string>{"ring.path_degraded", "ring.path_degraded"})) << dump(a);
  const Finding* f = find(a, "ring.path_degraded");
  EXPECT_EQ(f->severity, Severity::kError);
  EXPECT_NE(f->message.find("SYS"), std::string::npos);
  EXPECT_NE(f->message.find("NVL"), std::string::npos);
  EXPECT_DOUBLE_EQ(a.predicted->ring_busbw, 22);
}

TEST(RingChecks, OciH100RailAlignedPxnRingsAreSilent) {
  // 16 channels, one per NIC port, entering at the port's own GPU and leaving through it by
  // PXN: how NCCL builds multi-node rings on HGX H100.
  RingsAnalysis a = analyze(kOci, "oci-h100-2node-pxn-ring-graph.xml");
  EXPECT_TRUE(a.findings.empty()) << dump(a);
  const RingGraph& ring = a.graphs[0];
  ASSERT_TRUE(ring.channels[0].out);
  EXPECT_EQ(ring.channels[0].out->type, topo::PathType::kPXN);
  EXPECT_EQ(ring.channels[0].out->via, "GPU0");
  // GPU0 and mlx5_18 share a Broadcom PEX switch: PIX once NCCL flattens it, PXB otherwise.
  EXPECT_LE(static_cast<int>(ring.channels[0].in->type), static_cast<int>(topo::PathType::kPXB));
  EXPECT_EQ(ring.nic_ports_used, 16);
  EXPECT_EQ(ring.nic_ports_usable, 16);
  EXPECT_EQ(a.nodes, 2);
  EXPECT_TRUE(a.nodes_assumed);
}

TEST(RingChecks, OciH100FarSocketNicIsNicFar) {
  RingsAnalysis a = analyze(kOci, "oci-h100-far-nic-ring-graph.xml");
  EXPECT_EQ(ids(a), (std::multiset<std::string>{"ring.nic_far"})) << dump(a);
  const Finding* f = find(a, "ring.nic_far");
  EXPECT_NE(f->message.find("mlx5_32/1 at GPU0, which reaches it over SYS"), std::string::npos) << f->message;
  EXPECT_EQ(f->evidence.size(), 16u);  // every channel end, GPU and port named
}

TEST(RingChecks, OciH100TwoChannelsIsChannelsLow) {
  RingsAnalysis a = analyze(kOci, "oci-h100-2-channels-ring-graph.xml");
  EXPECT_EQ(ids(a), (std::multiset<std::string>{"ring.channels_low"})) << dump(a);
  const Finding* f = find(a, "ring.channels_low");
  ASSERT_TRUE(f->expected && f->measured);
  EXPECT_DOUBLE_EQ(*f->measured, 60);
  EXPECT_NEAR(*f->expected, 370.8, 0.01);
}

TEST(RingChecks, AzureNcv4SysGraphIsAsGoodAsTheHardware) {
  // Four A100 PCIe on four NUMA nodes: SYS is all there is, so no ring.path_degraded, and the
  // ring visits the four sockets once each.
  RingsAnalysis a = analyze(kNcv4, "azure-ncv4-a100-pcie-graph.xml");
  EXPECT_EQ(ids(a).count("ring.path_degraded"), 0u) << dump(a);
  EXPECT_TRUE(a.findings.empty()) << dump(a);
  ASSERT_TRUE(a.graphs[0].worst_intra);
  EXPECT_EQ(*a.graphs[0].worst_intra, topo::PathType::kSYS);
  EXPECT_EQ(a.graphs[0].channels[0].socket_hops, 4);
  EXPECT_EQ(a.graphs[0].channels[0].min_socket_hops, 4);
}

TEST(RingChecks, Rtx3090RingTakesTheOnlyNicOverSys) {
  RingsAnalysis a = analyze(kRtx, "panlichen-8xRTX3090-plx-1xCX6-fdr-graph.xml");
  // The box offers nothing better than SYS between its two switches: not path_degraded. But
  // the ring enters at GPU0 (socket 0) from the only NIC (socket 1) over SYS, while GPUs 4-7
  // sit next to it: ring.nic_far for the ring and the tree.
  EXPECT_EQ(ids(a), (std::multiset<std::string>{"ring.nic_far", "ring.nic_far"})) << dump(a);
  for (const auto& f : a.findings) {
    EXPECT_EQ(f.subject, "GPU0 0000:0f:00.0 <- mlx5_0/1");
    EXPECT_NE(f.message.find("over SYS"), std::string::npos);
    EXPECT_NE(f.message.find("GPU4"), std::string::npos);
  }
  const RingChannel& ch = a.graphs[0].channels[0];
  EXPECT_EQ(ch.in->type, topo::PathType::kSYS);
  EXPECT_EQ(ch.out->type, topo::PathType::kPHB);  // gdr=0 on GeForce: through the CPU
  EXPECT_EQ(ch.socket_hops, 1);                   // GPU3 -> GPU4 crosses, as it must once
  EXPECT_EQ(ch.min_socket_hops, 1);
}

TEST(RingChecks, CrossesSocketOnlyWhenAnotherOrderNeedsFewer) {
  // Alternating sockets on the RTX box: 8 inter-socket hops where 2 do.
  RingsAnalysis a = analyze_text(kRtx, ring_xml("SYS", 1, 10, {{0, 4, 1, 5, 2, 6, 3, 7}}));
  EXPECT_EQ(ids(a), (std::multiset<std::string>{"ring.crosses_socket"})) << dump(a);
  EXPECT_EQ(a.graphs[0].channels[0].socket_hops, 8);
  EXPECT_EQ(a.graphs[0].channels[0].min_socket_hops, 2);
  RingsAnalysis ok = analyze_text(kRtx, ring_xml("SYS", 1, 10, {{0, 1, 2, 3, 4, 5, 6, 7}}));
  EXPECT_TRUE(ok.findings.empty()) << dump(ok);
}

TEST(RingChecks, GraphThatDoesNotMatchTheTopologyIsInconsistent) {
  RingsAnalysis a = analyze_text(kRtx, ring_xml("SYS", 1, 4, {{0, 1, 2, 3, 4, 5, 6, 9}}));
  const Finding* f = find(a, "ring.inconsistent");
  ASSERT_NE(f, nullptr) << dump(a);
  EXPECT_EQ(f->severity, Severity::kError);
  EXPECT_NE(f->message.find("GPU dev 9"), std::string::npos);
  RingsAnalysis b = analyze_text(kRtx, ring_xml("SYS", 2, 4, {{0, 1, 2, 3, 4, 5, 6, 7}, {0, 1, 2, 3, 4, 5, 6, 6}}));
  f = find(b, "ring.inconsistent");
  ASSERT_NE(f, nullptr) << dump(b);
  EXPECT_NE(f->message.find("visits a GPU twice"), std::string::npos);
}

TEST(RingChecks, MultiNodeNvlinkGraphIsShownNotJudged) {
  // GB200-style: the graph names GPUs of two NVLink-connected systems.
  std::string xml = R"(<graphs version="1"><graph id="0" pattern="4" crossnic="0" nchannels="1" speedintra="40"
    speedinter="40" typeintra="NVL" typeinter="PIX" samechannels="1"><channel><gpu dev="0"/><gpu dev="0x1"/>
    <gpu dev="0x100000000000000"/><gpu dev="0x100000000000001"/></channel></graph></graphs>)";
  RingsAnalysis a = analyze_text(kOci, xml);
  EXPECT_TRUE(a.findings.empty()) << dump(a);
  ASSERT_FALSE(a.notes.empty());
  EXPECT_NE(a.notes.back().find("MNNVL"), std::string::npos);
  EXPECT_EQ(a.graphs[0].channels[0].gpus.size(), 4u);
}

// ---- transports from a log (the RunLog is built by hand: the log parser has its own tests)

nccl::Connection conn(const std::string& host, int ch, int from, int to, const std::string& transport) {
  nccl::Connection c;
  c.channel = ch;
  c.from_rank = from;
  c.to_rank = to;
  c.from_dev = std::to_string(from % 8);
  c.to_dev = std::to_string(to % 8);
  c.transport = transport;
  c.kind = transport.rfind("P2P", 0) == 0   ? nccl::TransportKind::kP2P
           : transport.rfind("SHM", 0) == 0 ? nccl::TransportKind::kShm
                                            : nccl::TransportKind::kNet;
  if (c.kind == nccl::TransportKind::kNet) {
    c.net = transport.substr(4, transport.find('/', 4) - 4);
    c.dir = nccl::ConnDir::kSend;
  }
  c.host = host;
  c.at = {0, 100 + ch};
  return c;
}

/// Three 8-GPU hosts of an NVLink ring; `odd` connects its GPUs with `odd_transport`.
nccl::RunLog three_hosts(const std::string& odd, const std::string& odd_transport) {
  nccl::RunLog log;
  log.files = {"job.log"};
  log.version = *nccl::NcclVersion::parse("2.28.9");
  const std::vector<std::string> hosts = {"n1", "n2", "n3"};
  for (std::size_t h = 0; h < hosts.size(); ++h) {
    for (int l = 0; l < 8; ++l) {
      int r = static_cast<int>(h) * 8 + l;
      log.ranks[r].rank = r;
      log.ranks[r].host = hosts[h];
      log.hosts[hosts[h]].ranks.insert(r);
    }
    log.hosts[hosts[h]].name = hosts[h];
    for (int ch = 0; ch < 2; ++ch)
      for (int l = 0; l < 7; ++l) {
        int r = static_cast<int>(h) * 8 + l;
        log.connections.push_back(conn(hosts[h], ch, r, r + 1, hosts[h] == odd ? odd_transport : "P2P/CUMEM"));
      }
  }
  log.nranks = 24;
  return log;
}

TEST(RingChecks, ShmBetweenNvlinkGpusIsPathDegradedAndInconsistent) {
  nccl::RunLog log = three_hosts("n2", "SHM/direct/direct");
  RingsAnalysis a = analyze(kOci, "oci-h100-nvlink-ring-graph.xml", &log);
  const Finding* f = find(a, "ring.path_degraded");
  ASSERT_NE(f, nullptr) << dump(a);
  EXPECT_EQ(f->host, "n2");
  EXPECT_NE(f->message.find("GPU0->GPU1 via SHM/direct/direct (topology NVL)"), std::string::npos) << f->message;
  // The degraded pairs explain why n2 differs from the others: no second finding for them.
  EXPECT_EQ(find(a, "ring.inconsistent"), nullptr) << dump(a);
  EXPECT_EQ(ids(a).count("ring.path_degraded"), 1u) << dump(a);  // n1 and n3 use P2P
  EXPECT_EQ(a.nodes, 3);                                          // from the log
  EXPECT_FALSE(a.nodes_assumed);
  // The hop shows what each host logged.
  const auto& hop = a.graphs[0].channels[0].hops[0];
  EXPECT_EQ(hop.transports.size(), 3u);
}

TEST(RingChecks, HostsThatDisagreeWithoutADegradedPathAreInconsistent) {
  // A PCIe-switch box: NET between GPUs 0 and 1 can be legitimate (a NIC faster than the
  // switch path), but one host doing it while the others use P2P is worth a look.
  nccl::RunLog log = three_hosts("n3", "NET/IB/0");
  for (auto& c : log.connections) c.from_dev = std::to_string(c.from_rank % 4), c.to_dev = std::to_string(c.to_rank % 4);
  RingsAnalysis a = analyze(kRtx, "panlichen-8xRTX3090-plx-1xCX6-fdr-graph.xml", &log);
  const Finding* g = find(a, "ring.inconsistent");
  ASSERT_NE(g, nullptr) << dump(a);
  EXPECT_EQ(g->host, "n3");
  EXPECT_NE(g->message.find("via NET where 2 host(s) use P2P"), std::string::npos) << g->message;
}

TEST(RingChecks, RanksThatDisagreeAboutATreeAreInconsistent) {
  nccl::RunLog log = three_hosts("", "");
  auto link = [](int ch, int rank, int up, std::vector<int> down) {
    nccl::TreeLink t;
    t.channel = ch;
    t.rank = rank;
    t.up = up;
    t.down = std::move(down);
    return t;
  };
  // Node trees of channel 0: n1 (rank 0) is the root, n2 (rank 8) and n3 (rank 16) its children.
  log.trees = {link(0, 0, -1, {1, 8, 16}), link(0, 8, 0, {9}), link(0, 16, 0, {17})};
  RingsAnalysis ok = analyze(kOci, "oci-h100-nvlink-ring-graph.xml", &log);
  EXPECT_TRUE(ok.findings.empty()) << dump(ok);
  ASSERT_EQ(ok.node_trees.size(), 1u);
  EXPECT_EQ(ok.node_trees[0], "ch 0: root n1; n1 -> n2,n3");
  // Rank 16 believes its parent is rank 8, which does not list it.
  log.trees[2].up = 8;
  RingsAnalysis bad = analyze(kOci, "oci-h100-nvlink-ring-graph.xml", &log);
  const Finding* f = find(bad, "ring.inconsistent");
  ASSERT_NE(f, nullptr) << dump(bad);
  std::string all = f->message;
  for (const auto& e : f->evidence) all += "\n" + e;
  EXPECT_NE(all.find("rank 16 names rank 8 as its parent"), std::string::npos) << all;
  EXPECT_NE(all.find("rank 0 lists rank 16 as a child, whose parent is rank 8"), std::string::npos) << all;
  // A logged ring that misses a rank.
  nccl::RunLog ring = three_hosts("", "");
  std::vector<int> order;
  for (int r = 0; r < 24; ++r) order.push_back(r == 5 ? 4 : r);
  ring.rings[0] = order;
  RingsAnalysis ra = analyze(kOci, "oci-h100-nvlink-ring-graph.xml", &ring);
  const Finding* g = find(ra, "ring.inconsistent");
  ASSERT_NE(g, nullptr);
  EXPECT_NE(g->message.find("ring channel 0"), std::string::npos) << g->message;
}

TEST(RingChecks, HealthyLogIsSilent) {
  nccl::RunLog log = three_hosts("", "");
  RingsAnalysis a = analyze(kOci, "oci-h100-nvlink-ring-graph.xml", &log);
  EXPECT_TRUE(a.findings.empty()) << dump(a);
}

TEST(RingChecks, SocketTransportWithRdmaNicsIsNetSocket) {
  nccl::RunLog log = three_hosts("", "");
  log.connections.push_back(conn("n1", 0, 7, 8, "NET/Socket/0"));
  RingsAnalysis a = analyze(kOci, "oci-h100-2node-pxn-ring-graph.xml", &log);
  const Finding* f = find(a, "ring.net_socket");
  ASSERT_NE(f, nullptr) << dump(a);
  EXPECT_EQ(f->severity, Severity::kError);
  EXPECT_NE(f->message.find("mlx5_18/1"), std::string::npos) << f->message;
  // Without connection lines, "Using network Socket" on a multi-node job says the same.
  nccl::RunLog chose = three_hosts("", "");
  chose.hosts["n3"].networks.insert("Socket");
  chose.connections.push_back(conn("n1", 0, 7, 8, "NET/IB/0"));
  RingsAnalysis by_choice = analyze(kOci, "oci-h100-2node-pxn-ring-graph.xml", &chose);
  const Finding* g = find(by_choice, "ring.net_socket");
  ASSERT_NE(g, nullptr) << dump(by_choice);
  EXPECT_EQ(g->host, "n3");
  // Over IB it is silent.
  nccl::RunLog ib = three_hosts("", "");
  ib.connections.push_back(conn("n1", 0, 7, 8, "NET/IB/0/GDRDMA"));
  RingsAnalysis over_ib = analyze(kOci, "oci-h100-2node-pxn-ring-graph.xml", &ib);
  EXPECT_EQ(find(over_ib, "ring.net_socket"), nullptr);
}

TEST(RingChecks, GraphThroughAPlainInterfaceWhileRdmaNicsExistIsNetSocket) {
  // No log: the graph's NET is an Ethernet interface (NCCL's Socket transport dumps those)
  // while the box has RDMA NICs.
  topo::System s = nccl::load_topo_xml(kDir + kOci);
  s.nics[0].rdma = false;
  s.nics[0].ports[0].name = "eth0";
  nccl::GraphFile g = nccl::load_graph_xml(kDir + "oci-h100-2node-pxn-ring-graph.xml");
  RingsAnalysis a = analyze_rings(s, g, nullptr, {});
  const Finding* f = find(a, "ring.net_socket");
  ASSERT_NE(f, nullptr) << dump(a);
  EXPECT_NE(f->message.find("eth0"), std::string::npos) << f->message;
  EXPECT_EQ(ids(a).count("ring.net_socket"), 1u);
  // The Azure NC A100 v4 box has only eth0: nothing better exists, nothing to say.
  RingsAnalysis ncv4 = analyze(kNcv4, "azure-ncv4-a100-pcie-graph.xml");
  EXPECT_EQ(find(ncv4, "ring.net_socket"), nullptr);
}

TEST(RingChecks, NodesThatComputedDifferentGraphsAreInconsistent) {
  nccl::GraphFile good = nccl::load_graph_xml(kDir + "oci-h100-nvlink-ring-graph.xml");
  nccl::GraphFile bad = nccl::load_graph_xml(kDir + "oci-h100-sys-ring-graph.xml");
  auto f = compare_node_graphs({{"n1", &good}, {"n2", &bad}, {"n3", &good}});
  ASSERT_FALSE(f.empty());
  for (const auto& x : f) {
    EXPECT_EQ(x.id, "ring.inconsistent");
    EXPECT_EQ(x.host, "n2");
  }
  EXPECT_TRUE(compare_node_graphs({{"n1", &good}, {"n3", &good}}).empty());
}

TEST(RingChecks, JsonSection) {
  RingsAnalysis a = analyze(kRtx, "panlichen-8xRTX3090-plx-1xCX6-fdr-graph.xml");
  nlohmann::json j = a;
  EXPECT_EQ(j["graphs"][0]["kind"], "ring");
  EXPECT_EQ(j["graphs"][0]["channels"][0]["net_in"]["type"], "SYS");
  EXPECT_EQ(j["graphs"][0]["channels"][0]["hops"][3]["type"], "SYS");
  EXPECT_EQ(j["graphs"][0]["channels"][0]["hops"][3]["crosses_socket"], true);
  EXPECT_DOUBLE_EQ(j["model"]["ring_busbw_gbps"].get<double>(), 4.0);
}

}  // namespace
}  // namespace ncd::checks
