// SPDX-License-Identifier: Apache-2.0
// topo and rings on machines the project had not seen (issue 16): NIC transport classification,
// sibling link widths on one host, unknown NVLink state, duplicate bus ids, graphs from another
// machine. Inputs are the real fixtures under topology/ or small inline files.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include <nlohmann/json.hpp>

#include "checks/ring_checks.hpp"
#include "checks/topo_checks.hpp"
#include "nccl/graph_xml.hpp"
#include "nccl/topo_xml.hpp"
#include "probe/hwloc_probe.hpp"
#include "probe/local.hpp"
#include "topo/nic_class.hpp"
#include "topo/paths.hpp"

namespace ncd {
namespace {

const std::string kTopo = NCD_TOPOLOGY_DIR;

std::vector<Finding> warnings(const topo::System& s) {
  std::vector<Finding> out;
  for (auto& f : checks::check_topology({s}))
    if (f.severity != Severity::kInfo) out.push_back(f);
  return out;
}

std::string dump(const std::vector<Finding>& fs) {
  std::string s;
  for (const auto& f : fs) s += f.id + " [" + f.subject + "] " + f.message + "\n";
  return s;
}

bool any_note(const std::vector<std::string>& notes, const std::string& part) {
  return std::any_of(notes.begin(), notes.end(), [&](const std::string& n) { return n.find(part) != std::string::npos; });
}

TEST(NicClass, SocketTransportIsNeverRdma) {
  // yccl: two 1 GbE ports and Docker bridges/veths, NCCL's socket transport numbering guids 0..9.
  topo::System s = nccl::load_topo_xml(kTopo + "/nccl/yccl-4xA6000-1gbe-docker-veths-socket.xml");
  ASSERT_GE(s.nics.size(), 3u);
  for (const auto& n : s.nics) {
    EXPECT_EQ(n.kind, topo::NicKind::kSocket) << n.name << ": " << n.kind_why;
    EXPECT_FALSE(n.rdma) << n.name;
  }
  EXPECT_TRUE(warnings(s).empty()) << dump(warnings(s));
}

TEST(NicClass, SignalsDecideAndDisagreementIsUnknown) {
  topo::NicSignals cxi;  // Slingshot via the libfabric plugin: small guid, name cxi0, gdr=1
  topo::nccl_net_signals("cxi0", 1, 2048, 1, 0, "0x0", cxi);
  EXPECT_EQ(topo::classify_nic(cxi), topo::NicKind::kRdma);
  topo::NicSignals cassini;  // hwloc/sysfs: HPE Cassini Ethernet-class function, netdev hsi0
  topo::pci_nic_signals(0x020000, 0x17db, 0x0501, cassini);
  cassini.add(false, false, "netdev hsi0 only");
  EXPECT_EQ(topo::classify_nic(cassini), topo::NicKind::kRdma);
  topo::NicSignals sock;
  topo::nccl_net_signals("eth0", 0, 65536, 0, 3, "0x3", sock);
  EXPECT_EQ(topo::classify_nic(sock), topo::NicKind::kSocket);
  topo::NicSignals odd;  // socket transport properties but gdr=1: cannot both be true
  topo::nccl_net_signals("mlx5_0", 0, 65536, 1, 0, "0x0", odd);
  std::string why;
  EXPECT_EQ(topo::classify_nic(odd, &why), topo::NicKind::kUnknown);
  EXPECT_NE(why.find("gdr=1"), std::string::npos);
  topo::NicSignals ipoib;  // an IB HCA's IPoIB netdev used by the socket transport
  topo::pci_nic_signals(0x020700, 0x15b3, 0x101b, ipoib);
  topo::nccl_net_signals("ib0", 0, 65536, 0, 0, "0x0", ipoib);
  EXPECT_EQ(topo::classify_nic(ipoib), topo::NicKind::kUnknown);
  EXPECT_TRUE(topo::netdev_name("ib0"));
  EXPECT_FALSE(topo::rdma_device_name("ib0"));
  EXPECT_TRUE(topo::rdma_device_name("rdmap16s27"));
}

TEST(NicClass, SlingshotNodeIsRdmaAndSilent) {
  topo::System s = probe::hwloc_xml_system(kTopo + "/hwloc/llnl-tioga-8xMI250X-4xslingshot-cassini.xml");
  topo::compute_paths(s);
  int cassini = 0;
  for (const auto& n : s.nics)
    if (n.kind == topo::NicKind::kRdma && n.kind_why.find("Cassini") != std::string::npos) ++cassini;
  EXPECT_EQ(cassini, 4);
  EXPECT_TRUE(warnings(s).empty()) << dump(warnings(s));
}

TEST(Siblings, OneNicAtX8AmongX16OnOneHost) {
  topo::System s = nccl::load_topo_xml(kTopo + "/planted/oci-h100-nic3-x8.xml");
  auto w = warnings(s);
  ASSERT_EQ(w.size(), 1u) << dump(w);
  EXPECT_EQ(w[0].id, "pcie.link_degraded");
  EXPECT_EQ(w[0].subject, "mlx5_30 0000:58:00.0");
  ASSERT_TRUE(w[0].expected && w[0].measured);
  EXPECT_DOUBLE_EQ(*w[0].expected, 2 * *w[0].measured);
  // The healthy original is silent.
  EXPECT_TRUE(warnings(nccl::load_topo_xml(kTopo + "/nccl/oci-BM.GPU.H100.8-8xH100-16xCX7.xml")).empty());
}

TEST(Siblings, NicModelIsItsOwnNotItsParentBridge) {
  // Every NIC hangs under one virtual host bridge (a virtualised view): a storage NIC at 25 Gb/s
  // is not a "slow" compute NIC.
  const char* xml = R"(<system version="1"><cpu numaid="0" affinity="ffff" arch="x86_64" vendor="GenuineIntel" familyid="6" modelid="143">
<pci busid="0000:00:01.0" class="0x060400" vendor="0x1234" device="0x0001" link_speed="32.0 GT/s PCIe" link_width="16">
<nic><net name="mlx5_0" dev="0" speed="400000" port="1" guid="0x1111000000000001" maxconn="131072" gdr="1"/></nic>
<nic><net name="mlx5_1" dev="1" speed="400000" port="1" guid="0x1111000000000002" maxconn="131072" gdr="1"/></nic>
<nic><net name="mlx5_2" dev="2" speed="400000" port="1" guid="0x1111000000000003" maxconn="131072" gdr="1"/></nic>
<nic><net name="eth0" dev="3" speed="25000" port="0" guid="0x3" maxconn="65536" gdr="0"/></nic>
</pci></cpu></system>)";
  topo::System s = nccl::parse_topo_xml(xml, "virt.xml");
  topo::compute_paths(s);
  EXPECT_TRUE(warnings(s).empty()) << dump(warnings(s));
  EXPECT_EQ(s.nics.back().kind, topo::NicKind::kSocket);
}

TEST(NvlinkUnknown, HwlocOfAnNvlinkMachineSaysUnknownWithANote) {
  topo::System s = probe::hwloc_xml_system(kTopo + "/hwloc/llnl-lassen-power9-4xV100-nvlink-4xcx5.xml");
  topo::compute_paths(s);
  ASSERT_EQ(s.gpus.size(), 4u);
  for (std::size_t a = 0; a < 4; ++a)
    for (std::size_t b = 0; b < 4; ++b)
      if (a != b) {
        EXPECT_TRUE(s.gpu_path(a, b).nvlink_unknown) << a << "," << b;
      }
  auto j = topo::system_to_json(s);
  EXPECT_EQ(j["paths"]["gpu_gpu"][0][1]["type"], "?");
  EXPECT_TRUE(any_note(checks::topology_notes({s}), "NVLink state unknown"));
  // A T4 box cannot have NVLink: its pairs are plain PCIe paths.
  topo::System t4 = probe::hwloc_xml_system(kTopo + "/hwloc/llnl-aws-g4dn.metal-8xT4-ena.xml");
  topo::compute_paths(t4);
  ASSERT_GE(t4.gpus.size(), 2u);
  EXPECT_FALSE(t4.gpu_path(0, 1).nvlink_unknown);
  // An NCCL dump knows: no "?".
  topo::System oci = nccl::load_topo_xml(kTopo + "/nccl/oci-BM.GPU.H100.8-8xH100-16xCX7.xml");
  EXPECT_FALSE(oci.gpu_path(0, 1).nvlink_unknown);
}

TEST(DuplicateBus, BothDevicesKeptWithANote) {
  const char* xml = R"(<system version="1"><cpu numaid="0" affinity="ffff" arch="x86_64" vendor="GenuineIntel" familyid="6" modelid="143">
<pci busid="0000:1b:00.0" class="0x030200" vendor="0x10de" device="0x2330" link_speed="32.0 GT/s PCIe" link_width="16"><gpu dev="0" sm="90" rank="0" gdr="1"/></pci>
<pci busid="0000:1b:00.0" class="0x020700" vendor="0x15b3" device="0x1021" link_speed="32.0 GT/s PCIe" link_width="16">
<nic><net name="mlx5_0" dev="0" speed="400000" port="1" guid="0x1111000000000001" maxconn="131072" gdr="1"/></nic></pci>
</cpu></system>)";
  topo::System s = nccl::parse_topo_xml(xml, "dup.xml");
  EXPECT_EQ(s.gpus.size(), 1u);
  ASSERT_EQ(s.nics.size(), 1u);
  EXPECT_EQ(s.nics[0].bus_id, "0000:1b:00.0#2");
  EXPECT_TRUE(any_note(s.notes, "share bus id 0000:1b:00.0"));
}

TEST(NicFarWording, SocketsFromTheTopology) {
  // An NCCL file does not name packages: the message says so.
  int n = 0;
  for (const auto& f : checks::check_topology({nccl::load_topo_xml(kTopo + "/nccl/panlichen-8xRTX3090-plx-1xCX6-fdr.xml")}))
    if (f.id == "gpu.nic_far") {
      ++n;
      EXPECT_NE(f.message.find("across CPU nodes 0 and 1 (the input does not say"), std::string::npos) << f.message;
    }
  EXPECT_EQ(n, 4);
  // hwloc names them: two sockets.
  topo::System h = probe::hwloc_xml_system(kTopo + "/hwloc/hp-sl390s-3xM2070-v3.xml");
  topo::compute_paths(h);
  n = 0;
  for (const auto& f : checks::check_topology({h}))
    if (f.id == "gpu.nic_far") {
      ++n;
      EXPECT_NE(f.message.find("across sockets"), std::string::npos) << f.message;
    }
  EXPECT_EQ(n, 2);
}

TEST(RingsFit, GraphFromAnotherMachine) {
  const std::string dir = kTopo + "/rings/";
  topo::System rtx = nccl::load_topo_xml(dir + "panlichen-8xRTX3090-plx-1xCX6-fdr.xml");
  // The OCI H100 NVLink ring graph over the RTX 3090 box (no NVLink).
  nccl::GraphFile h100 = nccl::load_graph_xml(dir + "oci-h100-nvlink-ring-graph.xml");
  auto a = checks::analyze_rings(rtx, h100, nullptr, {});
  bool foreign = std::any_of(a.findings.begin(), a.findings.end(), [](const Finding& f) { return f.id == "ring.graph_foreign"; });
  EXPECT_TRUE(foreign);
  // An NVLS graph on sm86 GPUs.
  const char* nvls = R"(<graphs version="1"><graph id="3" pattern="5" crossnic="0" nchannels="1" speedintra="20" speedinter="20" latencyinter="0" typeintra="NVL" typeinter="PIX" samechannels="0">
<channel><gpu dev="0"/></channel></graph></graphs>)";
  auto b = checks::analyze_rings(rtx, nccl::parse_graph_xml(nvls, "nvls.xml"), nullptr, {});
  const Finding* f = nullptr;
  for (const auto& x : b.findings)
    if (x.id == "ring.graph_foreign") f = &x;
  ASSERT_NE(f, nullptr);
  EXPECT_NE(f->message.find("sm86"), std::string::npos) << f->message;
  // The machine's own graph fits.
  auto c = checks::analyze_rings(rtx, nccl::load_graph_xml(dir + "panlichen-8xRTX3090-plx-1xCX6-fdr-graph.xml"), nullptr, {});
  for (const auto& x : c.findings) EXPECT_NE(x.id, "ring.graph_foreign") << x.message;
  topo::System oci = nccl::load_topo_xml(dir + "oci-BM.GPU.H100.8-8xH100-16xCX7.xml");
  auto d = checks::analyze_rings(oci, h100, nullptr, {});
  for (const auto& x : d.findings) EXPECT_NE(x.id, "ring.graph_foreign") << x.message;
}

}  // namespace
}  // namespace ncd
