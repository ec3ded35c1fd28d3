// SPDX-License-Identifier: Apache-2.0
// NCCL path classification and expected bandwidth (nccl-internals.md §1.3-1.5).
#include <gtest/gtest.h>

#include "nccl/topo_xml.hpp"
#include "probe/local.hpp"
#include "topo/bandwidth.hpp"
#include "topo/paths.hpp"

namespace ncd {
namespace {

using topo::PathType;
const std::string kTopo = NCD_TOPOLOGY_DIR;

topo::System parse(const std::string& xml) {
  topo::System s = nccl::parse_topo_xml(xml, "test.xml");
  topo::compute_paths(s);
  return s;
}

TEST(TopoBandwidth, ConstantsMatchNccl) {
  EXPECT_DOUBLE_EQ(topo::pcie_bw(8.0, 16), 12.0);
  EXPECT_DOUBLE_EQ(topo::pcie_bw(16.0, 16), 24.0);
  EXPECT_DOUBLE_EQ(topo::pcie_bw(32.0, 16), 48.0);
  EXPECT_DOUBLE_EQ(topo::pcie_bw(64.0, 16), 96.0);
  EXPECT_DOUBLE_EQ(topo::pcie_bw(16.0, 8), 12.0);
  EXPECT_DOUBLE_EQ(topo::pcie_bw(0, 16), 0.0);   // unknown speed: unknown, not Gen3
  EXPECT_DOUBLE_EQ(topo::pcie_bw(16.0, 0), 0.0); // VM width 0: unknown
  EXPECT_NEAR(18 * topo::nvlink_bw_per_link(90), 370.8, 1e-9);
  EXPECT_NEAR(12 * topo::nvlink_bw_per_link(80), 240.0, 1e-9);
  EXPECT_NEAR(18 * topo::nvlink_bw_per_link(100), 721.8, 1e-9);
  EXPECT_DOUBLE_EQ(topo::nvlink_bw_per_link(86), 12.0);
  topo::CpuNode spr{0, 0, "", {}, "x86_64", "GenuineIntel", 6, 143};
  EXPECT_DOUBLE_EQ(topo::inter_cpu_bw(spr), 22.0);
  topo::CpuNode rome{0, 0, "", {}, "x86_64", "AuthenticAMD", 23, 49};
  EXPECT_DOUBLE_EQ(topo::inter_cpu_bw(rome), 16.0);
  topo::CpuNode arm{0, 0, "", {}, "arm64", "", 0, 0};
  EXPECT_DOUBLE_EQ(topo::inter_cpu_bw(arm), 6.0);
}

TEST(TopoBandwidth, NcclReadsSpeedByPrefix) {
  EXPECT_DOUBLE_EQ(topo::nccl_reads_speed("16.0 GT/s PCIe"), 16.0);
  EXPECT_DOUBLE_EQ(topo::nccl_reads_speed("16 GT/s"), 16.0);
  EXPECT_DOUBLE_EQ(topo::nccl_reads_speed("32 GT/s PCIe/s"), 32.0);  // prefix "32 GT/s"
  EXPECT_DOUBLE_EQ(topo::nccl_reads_speed("32.0 GT/s"), 8.0);        // no key matches: Gen3
  EXPECT_DOUBLE_EQ(topo::nccl_reads_speed(""), 8.0);
  EXPECT_DOUBLE_EQ(topo::parse_pcie_speed("32 GT/s PCIe/s"), 32.0);
  EXPECT_DOUBLE_EQ(topo::parse_pcie_speed("Unknown"), 0.0);
  EXPECT_DOUBLE_EQ(topo::parse_pcie_speed("2.5 GT/s PCIe"), 2.5);
}

constexpr const char* kTree = R"(<system version="1">
  <cpu numaid="0" affinity="0000ffff" arch="x86_64" vendor="GenuineIntel" familyid="6" modelid="143">
    <pci busid="0000:10:00.0" class="0x060400" vendor="0x11f8" device="0x4000" link_speed="16.0 GT/s PCIe" link_width="16">
      <pci busid="0000:11:00.0" class="0x060400" vendor="0x11f8" device="0x4000" link_speed="16.0 GT/s PCIe" link_width="16">
        <pci busid="0000:12:00.0" class="0x030200" link_speed="16.0 GT/s PCIe" link_width="16"><gpu dev="0" sm="80" rank="0" gdr="1"/></pci>
        <pci busid="0000:13:00.0" class="0x030200" link_speed="16.0 GT/s PCIe" link_width="8"><gpu dev="1" sm="80" rank="1" gdr="1"/></pci>
      </pci>
      <pci busid="0000:14:00.0" class="0x060400" vendor="0x11f8" device="0x4000" link_speed="16.0 GT/s PCIe" link_width="16">
        <pci busid="0000:15:00.0" class="0x030200" link_speed="16.0 GT/s PCIe" link_width="16"><gpu dev="2" sm="80" rank="2" gdr="1"/></pci>
        <pci busid="0000:16:00.0" class="0x020700" link_speed="16.0 GT/s PCIe" link_width="16">
          <nic><net name="mlx5_0" dev="0" speed="200000" port="1" guid="0x1" gdr="1"/></nic>
        </pci>
      </pci>
    </pci>
    <pci busid="0000:20:00.0" class="0x030200" link_speed="16.0 GT/s PCIe" link_width="16"><gpu dev="3" sm="80" rank="3" gdr="1"/></pci>
  </cpu>
  <cpu numaid="1" affinity="ffff0000" arch="x86_64" vendor="GenuineIntel" familyid="6" modelid="143">
    <pci busid="0000:80:00.0" class="0x030200" link_speed="16.0 GT/s PCIe" link_width="16"><gpu dev="4" sm="80" rank="4" gdr="1"/></pci>
  </cpu>
</system>)";

TEST(TopoPaths, PixPxbPhbSysWithBottlenecks) {
  topo::System s = parse(kTree);
  ASSERT_EQ(s.gpus.size(), 5u);
  EXPECT_EQ(s.gpu_path(0, 1).type, PathType::kPIX);
  EXPECT_DOUBLE_EQ(s.gpu_path(0, 1).bw_gbps, 12.0);  // GPU1 is x8: the bottleneck
  EXPECT_NE(s.gpu_path(0, 1).bottleneck.find("0000:13:00.0"), std::string::npos);
  EXPECT_EQ(s.gpu_path(0, 2).type, PathType::kPXB);
  EXPECT_DOUBLE_EQ(s.gpu_path(0, 2).bw_gbps, 24.0);
  EXPECT_EQ(s.gpu_path(0, 3).type, PathType::kPHB);
  EXPECT_EQ(s.gpu_path(0, 4).type, PathType::kSYS);
  EXPECT_DOUBLE_EQ(s.gpu_path(0, 4).bw_gbps, 22.0);  // SPR UPI
  EXPECT_EQ(s.gpu_path(2, 4).type, PathType::kSYS);
  // GPU2 and the NIC share a switch; the NIC is 200 Gb/s = 25 GB/s but the PCIe link is 24.
  EXPECT_EQ(s.nic_path(2, 0).type, PathType::kPIX);
  EXPECT_DOUBLE_EQ(s.nic_path(2, 0).bw_gbps, 24.0);
  EXPECT_EQ(s.nic_path(0, 0).pci_type, PathType::kPXB);
  EXPECT_EQ(s.nic_path(3, 0).pci_type, PathType::kPHB);
  EXPECT_EQ(s.nic_path(4, 0).pci_type, PathType::kSYS);
  // GDR is refused beyond PXB: the NCCL path of GPU3 stays PHB (through its CPU).
  EXPECT_EQ(s.nic_path(3, 0).type, PathType::kPHB);
  EXPECT_EQ(s.paths.nearest_nic[2], 0);
}

TEST(TopoPaths, NvbThroughOneGpuAndNvlThroughNvswitch) {
  topo::System s = parse(R"(<system version="1"><cpu numaid="0" arch="x86_64" vendor="GenuineIntel" familyid="6" modelid="85">
    <pci busid="0000:01:00.0" class="0x030200" link_speed="8 GT/s" link_width="16"><gpu dev="0" sm="70" rank="0" gdr="1">
      <nvlink target="0000:02:00.0" count="2" tclass="0x030200"/></gpu></pci>
    <pci busid="0000:02:00.0" class="0x030200" link_speed="8 GT/s" link_width="16"><gpu dev="1" sm="70" rank="1" gdr="1">
      <nvlink target="0000:01:00.0" count="2" tclass="0x030200"/><nvlink target="0000:03:00.0" count="1" tclass="0x030200"/></gpu></pci>
    <pci busid="0000:03:00.0" class="0x030200" link_speed="8 GT/s" link_width="16"><gpu dev="2" sm="70" rank="2" gdr="1">
      <nvlink target="0000:02:00.0" count="1" tclass="0x030200"/></gpu></pci>
  </cpu></system>)");
  EXPECT_EQ(s.gpu_path(0, 1).type, PathType::kNVL);
  EXPECT_DOUBLE_EQ(s.gpu_path(0, 1).bw_gbps, 40.0);
  // GPU0 -> GPU2: PHB over PCIe has the same hop count (2) but 12 GB/s; NVB gives 20.
  EXPECT_EQ(s.gpu_path(0, 2).type, PathType::kNVB);
  EXPECT_DOUBLE_EQ(s.gpu_path(0, 2).bw_gbps, 20.0);

  topo::System h = nccl::load_topo_xml(kTopo + "/nccl/oci-BM.GPU.H100.8-8xH100-16xCX7.xml");
  EXPECT_EQ(h.gpu_path(0, 7).type, PathType::kNVL);
  EXPECT_NEAR(h.gpu_path(0, 7).bw_gbps, 370.8, 1e-6);
}

TEST(TopoPaths, PxnThroughTheNicOwner) {
  topo::System h = nccl::load_topo_xml(kTopo + "/nccl/oci-BM.GPU.H100.8-8xH100-16xCX7.xml");
  // GPU0 reaches GPU1's NIC (mlx5_26, 0000:2a:00.0) through GPU1 over NVLink.
  const auto& p = h.nic_path(0, 1);
  EXPECT_EQ(p.pci_type, PathType::kPHB);
  EXPECT_EQ(p.type, PathType::kPXN);
  EXPECT_EQ(p.via, "0000:2d:00.0");
  EXPECT_EQ(topo::nccl_local_nic(h, 0), 0);
}

TEST(TopoPaths, C2cGpuAndP2c) {
  topo::System s = nccl::load_topo_xml(kTopo + "/nccl/writeup-dgx-spark-gb10-abbreviated.xml");
  ASSERT_EQ(s.gpus.size(), 1u);
  EXPECT_NEAR(s.gpus[0].c2c_gbps, 43125 * 8 / 1000.0, 1e-9);
  // The GPU's PCIe function (2.5 GT/s) is not its data path: a quirk, not a bottleneck.
  EXPECT_FALSE(s.find_pci("000f:01:00.0")->link_quirk.empty());
  ASSERT_EQ(s.nics.size(), 2u);
  // GPU -(C2C)- CPU -(PCIe)- NIC: P2C (GPU gdr=0 keeps NCCL's type >= PHB).
  EXPECT_EQ(s.nic_path(0, 0).pci_type, PathType::kPHB);
  EXPECT_EQ(s.nic_path(0, 0).type, PathType::kPHB);
  // With GDR on both sides NCCL classifies GPU-(C2C)-CPU-(PCIe)-NIC as P2C.
  topo::System g = parse(R"(<system version="1"><cpu numaid="0" arch="arm64">
    <pci busid="0000:01:00.0" class="0x020700" link_speed="32.0 GT/s PCIe" link_width="16">
      <nic><net name="mlx5_0" dev="0" speed="400000" port="1" guid="0x1" gdr="1"/></nic></pci>
    <pci busid="0009:01:00.0" class="0x030200" link_speed="32.0 GT/s PCIe" link_width="16">
      <gpu dev="0" sm="90" rank="0" gdr="1"><c2c bw="40000" count="10"/></gpu></pci>
  </cpu></system>)");
  EXPECT_EQ(g.nic_path(0, 0).type, PathType::kP2C);
  EXPECT_DOUBLE_EQ(g.nic_path(0, 0).bw_gbps, 48.0);
}

TEST(TopoPaths, FullTreeCollapsesLikeNccl) {
  probe::LoadOptions o;
  o.sysfs_root = kTopo + "/sysfs/healthy";
  topo::System s = probe::load_system_from_files(o);
  ASSERT_EQ(s.gpus.size(), 2u);
  // root port -> switch up -> down -> GPU and -> down -> NIC: NCCL sees one switch: PIX.
  EXPECT_EQ(topo::nccl_parent(s, "0000:03:00.0"), "0000:01:00.0");
  EXPECT_EQ(topo::nccl_parent(s, "0000:01:00.0"), "");
  EXPECT_EQ(s.nic_path(0, 0).pci_type, PathType::kPIX);
  EXPECT_DOUBLE_EQ(s.nic_path(0, 0).bw_gbps, 48.0);  // max values: what the link should give
  EXPECT_EQ(s.gpu_path(0, 1).type, PathType::kSYS);
}

TEST(TopoPaths, VmWidthZeroIsUnknownNotSlow) {
  topo::System s = nccl::load_topo_xml(kTopo + "/nccl/ibm-cloud-gx3d-8xH100-vsi.xml");
  ASSERT_EQ(s.gpus.size(), 8u);
  for (std::size_t n = 0; n < s.nics.size(); ++n) {
    const auto& p = s.nic_path(0, n);
    // Width 0 and Gen1 x1 virtual bridges never become a PCIe bottleneck.
    EXPECT_EQ(p.bottleneck.find("PCIe"), std::string::npos) << p.bottleneck;
  }
}

}  // namespace
}  // namespace ncd
