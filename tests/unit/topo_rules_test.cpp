// SPDX-License-Identifier: Apache-2.0
// The one home of each topology rule (issue 14 item 4): PCIe bandwidth from generation and
// width, NCCL's "NIC local to this GPU" query, the PCI-tree pruning the probes share.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "nccl/topo_xml.hpp"
#include "probe/local.hpp"
#include "topo/bandwidth.hpp"
#include "topo/model.hpp"
#include "topo/paths.hpp"

namespace ncd {
namespace {

const std::string kTopo = NCD_TOPOLOGY_DIR;

TEST(TopoRules, PcieRawRateAfterLineEncoding) {
  // The numbers the copy bench's own formula gave (gts x 128/130 x width / 8 from Gen3,
  // gts x 0.8 x width / 8 before), now topo::pcie_raw_gbps.
  EXPECT_NEAR(topo::pcie_raw_gbps(16.0, 16), 31.5076923, 1e-6);  // Gen4 x16
  EXPECT_NEAR(topo::pcie_raw_gbps(32.0, 16), 63.0153846, 1e-6);  // Gen5 x16
  EXPECT_NEAR(topo::pcie_raw_gbps(8.0, 8), 7.8769231, 1e-6);     // Gen3 x8
  EXPECT_NEAR(topo::pcie_raw_gbps(64.0, 16), 126.0307692, 1e-6); // Gen6 x16
  EXPECT_DOUBLE_EQ(topo::pcie_raw_gbps(2.5, 1), 0.25);           // Gen1 x1: 8b/10b
  EXPECT_DOUBLE_EQ(topo::pcie_raw_gbps(5.0, 4), 2.0);            // Gen2 x4: 8b/10b
  EXPECT_DOUBLE_EQ(topo::pcie_raw_gbps(0, 16), 0.0);             // unknown speed
  EXPECT_DOUBLE_EQ(topo::pcie_raw_gbps(16.0, 0), 0.0);           // unknown width
}

TEST(TopoRules, PcieNcclBandwidthFromOneTable) {
  EXPECT_DOUBLE_EQ(topo::pcie_bw(16.0, 16), 24.0);  // Gen4 x16
  EXPECT_DOUBLE_EQ(topo::pcie_bw(32.0, 16), 48.0);  // Gen5 x16
  EXPECT_DOUBLE_EQ(topo::pcie_bw(8.0, 8), 6.0);     // Gen3 x8
  EXPECT_DOUBLE_EQ(topo::pcie_bw(2.5, 1), 0.1875);  // Gen1 x1: 15 units / 80
  EXPECT_DOUBLE_EQ(topo::pcie_bw(5.0, 16), 6.0);    // Gen2 x16
  EXPECT_DOUBLE_EQ(topo::pcie_bw(12.0, 16), 0.0);   // not a PCIe speed: unknown, not slow
  // hwloc's raw number maps onto NCCL's table: the old constant was 24 / 31.507692.
  EXPECT_NEAR(topo::pcie_bw_from_raw(topo::pcie_raw_gbps(16.0, 16)), 24.0, 1e-9);
  EXPECT_NEAR(topo::pcie_bw_from_raw(topo::pcie_raw_gbps(32.0, 16)), 48.0, 1e-9);
  EXPECT_NEAR(topo::pcie_bw_from_raw(31.51), 31.51 * 24.0 / 31.507692, 1e-6);
  EXPECT_DOUBLE_EQ(topo::pcie_bw_from_raw(0), 0.0);
  // The generation table behind pcie_gen and parse_pcie_speed.
  const double gts[] = {2.5, 5.0, 8.0, 16.0, 32.0, 64.0};
  for (int g = 1; g <= 6; ++g) EXPECT_EQ(topo::pcie_gen(gts[g - 1]), g);
  EXPECT_EQ(topo::pcie_gen(16.004), 4);
  EXPECT_EQ(topo::pcie_gen(12.0), 0);
  EXPECT_EQ(topo::pcie_gen(0), 0);
  EXPECT_DOUBLE_EQ(topo::parse_pcie_speed("16.0 GT/s PCIe"), 16.0);
  EXPECT_DOUBLE_EQ(topo::parse_pcie_speed("64.0 GT/s PCIe"), 64.0);
  EXPECT_DOUBLE_EQ(topo::parse_pcie_speed("12 GT/s"), 0.0);
}

TEST(TopoRules, NcclLinkBandwidthOfAnElement) {
  topo::PciDevice d;
  d.speed_text = "16.0 GT/s PCIe";
  d.link.max_width = 16;
  EXPECT_DOUBLE_EQ(topo::nccl_link_bw(d), 24.0);
  d.speed_text = "32.0 GT/s";  // not NCCL's spelling: read as Gen3
  EXPECT_DOUBLE_EQ(topo::nccl_link_bw(d), 12.0);
  d.speed_text.clear();
  d.link.max_gts = 32.0;
  d.link.max_width = 0;  // width 0 is x16 to NCCL
  EXPECT_DOUBLE_EQ(topo::nccl_link_bw(d), 48.0);
  topo::PciDevice raw;  // hwloc XML: one number for the whole link
  raw.link_gbps = topo::pcie_raw_gbps(16.0, 8);
  EXPECT_NEAR(topo::nccl_link_bw(raw), 12.0, 1e-9);
  topo::PciDevice none;  // nothing known: NCCL's default Gen3 x16
  EXPECT_DOUBLE_EQ(topo::nccl_link_bw(none), 12.0);
}

topo::PathInfo path(topo::PathType t, double bw) {
  topo::PathInfo p;
  p.type = p.pci_type = t;
  p.bw_gbps = bw;
  return p;
}

TEST(TopoRules, LocalPathsBestBandwidthThenType) {
  using topo::PathType;
  // Highest bandwidth wins; among equals the lowest type; DIS skipped; unknown counts as LOC_BW.
  EXPECT_EQ(topo::nccl_local_paths({path(PathType::kPIX, 24), path(PathType::kPXB, 48), path(PathType::kPIX, 48),
                                    path(PathType::kPIX, 48), path(PathType::kDIS, 0)}),
            (std::vector<std::size_t>{2, 3}));
  EXPECT_EQ(topo::nccl_local_paths({path(PathType::kSYS, 12), path(PathType::kPHB, 0)}), (std::vector<std::size_t>{1}));
  EXPECT_TRUE(topo::nccl_local_paths({path(PathType::kDIS, 0)}).empty());
  EXPECT_TRUE(topo::nccl_local_paths({}).empty());
  // The start index: the NVML index, bit-mirrored when the count is a power of two.
  EXPECT_EQ(topo::nccl_local_start(1, 4), 2u);  // 01 -> 10
  EXPECT_EQ(topo::nccl_local_start(3, 8), 6u);  // 011 -> 110
  EXPECT_EQ(topo::nccl_local_start(1, 3), 1u);  // not a power of two: as is
  EXPECT_EQ(topo::nccl_local_start(5, 1), 0u);
  EXPECT_EQ(topo::nccl_local_start(-1, 4), 0u);
}

TEST(TopoRules, LocalNicOnRealFixtures) {
  // OCI BM.GPU.H100.8: each GPU has its own NIC behind its switch (values the pre-dedupe code gave).
  topo::System h = nccl::load_topo_xml(kTopo + "/nccl/oci-BM.GPU.H100.8-8xH100-16xCX7.xml");
  ASSERT_EQ(h.gpus.size(), 8u);
  std::vector<int> local;
  for (std::size_t g = 0; g < h.gpus.size(); ++g) local.push_back(topo::nccl_local_nic(h, g));
  EXPECT_EQ(local, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7}));
  for (std::size_t g = 0; g < h.gpus.size(); ++g) {
    const auto best = topo::nccl_local_paths(h.paths.gpu_nic[g]);
    ASSERT_FALSE(best.empty()) << g;
    EXPECT_NE(std::find(best.begin(), best.end(), static_cast<std::size_t>(local[g])), best.end()) << g;
  }
  // AWS p4d: 4 EFA for 8 GPUs, two GPUs per NIC.
  topo::System p = nccl::load_topo_xml(kTopo + "/nccl/aws-p4d.24xlarge-8xA100-4efa.xml");
  std::vector<int> p4d;
  for (std::size_t g = 0; g < p.gpus.size(); ++g) p4d.push_back(topo::nccl_local_nic(p, g));
  EXPECT_EQ(p4d, (std::vector<int>{0, 0, 1, 1, 2, 2, 3, 3}));
  EXPECT_EQ(topo::nccl_local_nic(p, 99), -1);
}

topo::PciDevice dev(std::string bus, std::string parent, topo::PciKind kind) {
  topo::PciDevice d;
  d.bus_id = std::move(bus);
  d.parent = std::move(parent);
  d.kind = kind;
  return d;
}

TEST(TopoRules, PciTreePruning) {
  using topo::PciKind;
  const std::vector<topo::PciDevice> all = {
      dev("0000:00:01.0", "", PciKind::kBridge),              // root port above the switch
      dev("0000:01:00.0", "0000:00:01.0", PciKind::kBridge),  // switch up
      dev("0000:02:00.0", "0000:01:00.0", PciKind::kBridge),  // switch down -> GPU
      dev("0000:02:01.0", "0000:01:00.0", PciKind::kBridge),  // switch down, empty
      dev("0000:03:00.0", "0000:02:00.0", PciKind::kGpu),
      dev("0000:00:02.0", "", PciKind::kBridge),              // root port with a SATA controller
      dev("0000:04:00.0", "0000:00:02.0", PciKind::kOther),
      dev("0000:05:00.0", "0000:ff:00.0", PciKind::kNic),     // parent not in the list
      dev("0000:06:00.0", "", PciKind::kNvSwitch),
  };
  std::vector<const topo::PciDevice*> ptrs;
  for (const auto& d : all) ptrs.push_back(&d);
  EXPECT_EQ(topo::pci_functions_to_keep(ptrs),
            (std::set<std::string>{"0000:00:01.0", "0000:01:00.0", "0000:02:00.0", "0000:03:00.0", "0000:05:00.0",
                                   "0000:06:00.0"}));
  EXPECT_TRUE(topo::pci_functions_to_keep({}).empty());
}

TEST(TopoRules, BothProbesPruneAlike) {
  // sysfs: root port -> switch -> GPU and NIC; the hwloc fixture of a p4d.
  probe::LoadOptions o;
  o.sysfs_root = kTopo + "/sysfs/healthy";
  const topo::System s = probe::load_system_from_files(o);
  for (const auto& d : s.pci)
    if (d.kind == topo::PciKind::kOther) ADD_FAILURE() << "sysfs kept " << d.bus_id;
  EXPECT_EQ(s.pci.size(), 12u);
  probe::LoadOptions h;
  h.hwloc_xml = kTopo + "/hwloc/aws-p4d-hwloc2.10.xml";
  const topo::System w = probe::load_system_from_files(h);
  for (const auto& d : w.pci)
    if (d.kind == topo::PciKind::kOther) ADD_FAILURE() << "hwloc kept " << d.bus_id;
  EXPECT_EQ(w.pci.size(), 22u);
}

}  // namespace
}  // namespace ncd
