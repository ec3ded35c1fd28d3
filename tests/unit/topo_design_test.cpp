// SPDX-License-Identifier: Apache-2.0
// gpu.nic_far tells a node's design (fewer RDMA NIC cards than GPU CPU nodes: info, with its cost)
// from a fault (a GPU on a socket that has a NIC, or a NIC moved away from its peers: warn); and
// the sysfs paths that had no test: Slingshot (class/cxi) and EFA detection, and an IB device
// matched to the model by its name when it has no `device` link.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "checks/ring_checks.hpp"
#include "checks/topo_checks.hpp"
#include "core/fs.hpp"
#include "nccl/graph_xml.hpp"
#include "nccl/topo_xml.hpp"
#include "probe/hwloc_probe.hpp"
#include "probe/local.hpp"
#include "probe/sysfs.hpp"
#include "topo/paths.hpp"

namespace ncd {
namespace {

const std::string kTopo = NCD_TOPOLOGY_DIR;

std::vector<Finding> nic_far(const topo::System& s) {
  std::vector<Finding> out;
  for (auto& f : checks::check_topology({s}))
    if (f.id == "gpu.nic_far") out.push_back(f);
  return out;
}

std::string dump(const std::vector<Finding>& fs) {
  std::string s;
  for (const auto& f : fs) s += f.id + " [" + f.subject + "] " + f.message + "\n";
  return s;
}

topo::System hwloc(const std::string& rel) {
  topo::System s = probe::hwloc_xml_system(kTopo + rel);
  topo::compute_paths(s);
  return s;
}

// Two sockets, one GPU on each; NICs placed by the caller (NCCL topology XML, CPU node = socket).
std::string two_socket_xml(const std::string& nics0, const std::string& nics1) {
  auto nic = [](const std::string& bus, int dev) {
    return "<pci busid=\"" + bus + "\" class=\"0x020700\" vendor=\"0x15b3\" device=\"0x1021\" link_speed=\"32.0 GT/s PCIe\" "
           "link_width=\"16\"><nic><net name=\"mlx5_" + std::to_string(dev) + "\" dev=\"" + std::to_string(dev) +
           "\" speed=\"400000\" port=\"1\" guid=\"0x1111000000000" + std::to_string(100 + dev) +
           "\" maxconn=\"131072\" gdr=\"1\"/></nic></pci>";
  };
  std::string x = "<system version=\"1\">";
  for (int cpu = 0; cpu < 2; ++cpu) {
    x += "<cpu numaid=\"" + std::to_string(cpu) + "\" affinity=\"" + (cpu ? "ffff0000" : "0000ffff") +
         "\" arch=\"x86_64\" vendor=\"GenuineIntel\" familyid=\"6\" modelid=\"143\">";
    std::string gbus = cpu ? "0000:9b:00.0" : "0000:1b:00.0";
    x += "<pci busid=\"" + gbus + "\" class=\"0x030200\" vendor=\"0x10de\" device=\"0x2330\" link_speed=\"32.0 GT/s PCIe\" "
         "link_width=\"16\"><gpu dev=\"" + std::to_string(cpu) + "\" sm=\"90\" rank=\"" + std::to_string(cpu) +
         "\" gdr=\"1\"/></pci>";
    const std::string& list = cpu ? nics1 : nics0;
    int dev = cpu ? 10 : 0;
    for (char c : list) {
      std::string bus = std::string("0000:") + (cpu ? "a" : "2") + c + ":00.0";
      x += nic(bus, dev++);
    }
    x += "</cpu>";
  }
  return x + "</system>";
}

topo::System parse(const std::string& xml, const std::string& name) {
  topo::System s = nccl::parse_topo_xml(xml, name);
  topo::compute_paths(s);
  return s;
}

TEST(NicFarDesign, SingleNicNodesAreInfoWithTheirCost) {
  struct Case {
    topo::System s;
    std::size_t far;
  };
  std::vector<Case> cases;
  cases.push_back({hwloc("/hwloc/llnl-aws-g4dn.metal-8xT4-ena.xml"), 4});
  cases.push_back({hwloc("/hwloc/llnl-corona-epyc-amdgpu-p2.xml"), 4});
  cases.push_back({hwloc("/hwloc/hp-sl390s-3xM2070-v3.xml"), 2});
  cases.push_back({nccl::load_topo_xml(kTopo + "/nccl/azure-ndv2-v100.xml"), 4});
  cases.push_back({nccl::load_topo_xml(kTopo + "/nccl/panlichen-8xRTX3090-plx-1xCX6-fdr.xml"), 4});
  for (const auto& c : cases) {
    SCOPED_TRACE(c.s.source);
    auto f = nic_far(c.s);
    ASSERT_EQ(f.size(), c.far) << dump(f);
    for (const auto& x : f) {
      EXPECT_EQ(x.severity, Severity::kInfo) << x.message;
      EXPECT_NE(x.message.find("the node has 1 RDMA NIC card(s) for GPUs on 2 CPU nodes, so by design"), std::string::npos)
          << x.message;
      EXPECT_NE(x.message.find("NCCL reaches it via "), std::string::npos) << x.message;  // the cost
      EXPECT_NE(x.message.find(" GB/s"), std::string::npos) << x.message;
    }
  }
}

TEST(NicFarDesign, PlantedNicMovedToTheOtherSocketStillWarns) {
  auto f = nic_far(nccl::load_topo_xml(kTopo + "/planted/oci-h100-nic-moved-socket.xml"));
  ASSERT_EQ(f.size(), 1u) << dump(f);
  EXPECT_EQ(f[0].severity, Severity::kWarn);
  EXPECT_EQ(f[0].subject, "GPU0 0000:0f:00.0");
  // The healthy original is silent.
  EXPECT_TRUE(nic_far(nccl::load_topo_xml(kTopo + "/nccl/oci-BM.GPU.H100.8-8xH100-16xCX7.xml")).empty());
}

TEST(NicFarDesign, DesignOrFaultIsDecidedByCardsAndSockets) {
  // One NIC on socket 1: design (info) for GPU0.
  auto one = nic_far(parse(two_socket_xml("", "1"), "one.xml"));
  ASSERT_EQ(one.size(), 1u) << dump(one);
  EXPECT_EQ(one[0].severity, Severity::kInfo);
  EXPECT_EQ(one[0].subject, "GPU0 0000:1b:00.0");
  // Two NIC cards, both on socket 1: enough for both sockets, yet none on GPU0's: a fault.
  auto two = nic_far(parse(two_socket_xml("", "12"), "two.xml"));
  ASSERT_EQ(two.size(), 1u) << dump(two);
  EXPECT_EQ(two[0].severity, Severity::kWarn);
  EXPECT_NE(two[0].message.find("the node has 2 RDMA NIC cards for GPUs on 2 CPU nodes, yet none on GPU0's CPU node 0"),
            std::string::npos)
      << two[0].message;
  // Both functions of one dual-port card count as one card: still design.
  std::string dual = two_socket_xml("", "1");
  dual.replace(dual.find("</cpu></system>"), 0,
               "<pci busid=\"0000:a1:00.1\" class=\"0x020700\" vendor=\"0x15b3\" device=\"0x1021\" link_speed=\"32.0 GT/s "
               "PCIe\" link_width=\"16\"><nic><net name=\"mlx5_11\" dev=\"11\" speed=\"400000\" port=\"1\" "
               "guid=\"0x1111000000000999\" maxconn=\"131072\" gdr=\"1\"/></nic></pci>");
  auto d = nic_far(parse(dual, "dual.xml"));
  ASSERT_EQ(d.size(), 1u) << dump(d);
  EXPECT_EQ(d[0].severity, Severity::kInfo) << d[0].message;
  // A NIC on each socket: nothing to say.
  EXPECT_TRUE(nic_far(parse(two_socket_xml("1", "1"), "both.xml")).empty());
}

TEST(NicFarDesign, OneNicOnAnNpsSocketIsDesignWhateverTheInputSays) {
  // The Perlmutter node (one EPYC in NPS4, a GPU per NUMA node) left with only cxi3, on NUMA 3.
  std::string xml = read_file(kTopo + "/nccl/nersc-perlmutter-4xA100-4xslingshot-cxi.xml");
  for (const char* bus : {"0000:c2:00.0", "0000:81:00.0", "0000:42:00.0"}) {
    auto at = xml.find(std::string("<pci busid=\"") + bus + "\" class=\"0x020000\"");
    ASSERT_NE(at, std::string::npos) << bus;
    auto end = xml.find("</pci>", at);
    xml.erase(at, end + 6 - at);
  }
  topo::System s = parse(xml, "perlmutter-1nic.xml");
  ASSERT_EQ(s.nics.size(), 1u);
  auto f = nic_far(s);
  ASSERT_EQ(f.size(), 3u) << dump(f);  // GPUs 1-3 reach cxi3 across CPU nodes; GPU0 is next to it
  for (const auto& x : f) {
    EXPECT_EQ(x.severity, Severity::kInfo) << x.message;
    EXPECT_NE(x.message.find("for GPUs on 4 CPU nodes"), std::string::npos) << x.message;
  }
  // The same node as hwloc would describe it (one package): NUMA nodes still count, and the
  // message names the socket.
  for (auto& c : s.cpus) c.package = 0;
  topo::compute_paths(s);
  f = nic_far(s);
  ASSERT_EQ(f.size(), 3u) << dump(f);
  for (const auto& x : f) {
    EXPECT_EQ(x.severity, Severity::kInfo) << x.message;
    EXPECT_NE(x.message.find("(socket 0) has no RDMA NIC"), std::string::npos) << x.message;
    EXPECT_NE(x.message.find("across NUMA nodes"), std::string::npos) << x.message;
  }
}

TEST(SysfsFabrics, SlingshotCassiniFromClassCxi) {
  topo::System s = probe::sysfs_system(kTopo + "/sysfs/slingshot-cxi");
  topo::compute_paths(s);
  ASSERT_EQ(s.gpus.size(), 2u);
  ASSERT_EQ(s.nics.size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    const auto& n = s.nics[i];
    SCOPED_TRACE(n.bus_id);
    EXPECT_EQ(n.kind, topo::NicKind::kRdma);
    EXPECT_EQ(n.name, "cxi" + std::to_string(i));  // libfabric's domain name, as NCCL's OFI plugin shows it
    EXPECT_NE(n.kind_why.find("sysfs class/cxi/cxi" + std::to_string(i)), std::string::npos) << n.kind_why;
    EXPECT_NE(n.kind_why.find("HPE Cassini"), std::string::npos) << n.kind_why;
    ASSERT_EQ(n.ports.size(), 1u);
    EXPECT_EQ(n.ports[0].netdev, "hsn" + std::to_string(i));
    EXPECT_DOUBLE_EQ(n.ports[0].rate_gbps, 200.0);
  }
  // Each GPU's nearest NIC is its own socket's Cassini, behind the same switch.
  EXPECT_EQ(s.nics[static_cast<std::size_t>(s.paths.nearest_nic[0])].name, "cxi0");
  EXPECT_LE(static_cast<int>(s.nic_path(0, 0).pci_type), static_cast<int>(topo::PathType::kPXB));
}

TEST(SysfsFabrics, EfaIsRdmaAndEnaIsASocketNic) {
  topo::System s = probe::sysfs_system(kTopo + "/sysfs/efa-ena");
  ASSERT_EQ(s.nics.size(), 3u);
  int efa = 0, ena = 0;
  for (const auto& n : s.nics) {
    const auto* d = s.find_pci(n.bus_id);
    ASSERT_NE(d, nullptr);
    if (d->device == 0xec20) {
      ++ena;
      EXPECT_EQ(n.kind, topo::NicKind::kSocket) << n.kind_why;
      EXPECT_EQ(n.name, "ens5");
    } else {
      ++efa;
      EXPECT_EQ(n.kind, topo::NicKind::kRdma) << n.kind_why;
      EXPECT_EQ(n.name.rfind("rdmap", 0), 0u) << n.name;  // the verbs device, named by udev
      ASSERT_EQ(n.ports.size(), 1u);
      EXPECT_EQ(n.ports[0].state, "ACTIVE");
      EXPECT_EQ(n.ports[0].link_layer, "Unknown");
      EXPECT_DOUBLE_EQ(n.ports[0].rate_gbps, 100.0);
    }
  }
  EXPECT_EQ(efa, 2);
  EXPECT_EQ(ena, 1);
}

TEST(SysfsIbByName, CaptureWithoutDeviceLinksMatchesHwlocNames) {
  probe::LoadOptions o;
  o.hwloc_xml = kTopo + "/hwloc/aws-p4d-hwloc2.10.xml";
  topo::System alone = probe::load_system_from_files(o);
  o.sysfs_root = kTopo + "/sysfs/p4d-ib-by-name";
  topo::System s = probe::load_system_from_files(o);
  EXPECT_EQ(s.nics.size(), alone.nics.size());  // mlx5_9 names nothing in the model: not added
  const topo::NicPort* down = nullptr;
  for (const auto& n : s.nics)
    for (const auto& p : n.ports)
      if (p.name == "rdmap16s27") down = &p;
  ASSERT_NE(down, nullptr);
  EXPECT_EQ(down->state, "DOWN");  // sysfs, not the snapshot's Port1State=4
  EXPECT_EQ(down->phys_state, "Disabled");
  bool noted = std::any_of(s.notes.begin(), s.notes.end(), [](const std::string& n) {
    return n.find("sysfs RDMA device rdmap16s27 matched to") != std::string::npos && n.find("by name (no device link)") != std::string::npos;
  });
  EXPECT_TRUE(noted);
  std::vector<std::string> got;
  for (const auto& f : checks::check_topology({s}))
    if (f.severity != Severity::kInfo) got.push_back(f.id + " | " + f.subject);
  EXPECT_EQ(got, (std::vector<std::string>{"nic.port_down | rdmap16s27/1"}));
  // Without the sysfs capture the snapshot says ACTIVE: nothing to report.
  for (const auto& f : checks::check_topology({alone})) EXPECT_NE(f.id, "nic.port_down") << f.message;
}

// The real graph NCCL 2.29.7 searched on the Perlmutter node (12 NVL ring and 12 tree channels at
// speed 20 over NV4 pairs) fits that node's own topology: rings has nothing to say.
TEST(SlingshotNode, OwnGraphFitsItsTopology) {
  const std::string dir = kTopo + "/rings/";
  topo::System s = nccl::load_topo_xml(dir + "nersc-perlmutter-4xA100-4xslingshot-cxi.xml");
  ASSERT_EQ(s.gpus.size(), 4u);
  ASSERT_EQ(s.nics.size(), 4u);
  for (const auto& n : s.nics) EXPECT_EQ(n.kind, topo::NicKind::kRdma) << n.name << ": " << n.kind_why;
  auto a = checks::analyze_rings(s, nccl::load_graph_xml(dir + "nersc-perlmutter-4xA100-4xslingshot-cxi-graph.xml"), nullptr, {});
  for (const auto& f : a.findings) EXPECT_EQ(f.severity, Severity::kInfo) << f.id << ": " << f.message;
}

// The vast.ai container's H200 graph (12 NVL ring and tree channels at 30, 8 NVLS channels) fits
// the topology dumped in the same container: socket-only networking, nothing for rings to say.
TEST(ContainerNode, OwnGraphFitsItsTopology) {
  const std::string dir = kTopo + "/rings/";
  topo::System s = nccl::load_topo_xml(dir + "vastai-container-8xH200-nvswitch-socket-eth0.xml");
  ASSERT_EQ(s.gpus.size(), 8u);
  for (const auto& n : s.nics) EXPECT_EQ(n.kind, topo::NicKind::kSocket) << n.name << ": " << n.kind_why;
  auto a = checks::analyze_rings(s, nccl::load_graph_xml(dir + "vastai-container-8xH200-nvswitch-socket-eth0-graph.xml"),
                                 nullptr, {});
  for (const auto& f : a.findings) EXPECT_EQ(f.severity, Severity::kInfo) << f.id << ": " << f.message;
}

}  // namespace
}  // namespace ncd
