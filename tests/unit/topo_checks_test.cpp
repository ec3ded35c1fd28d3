// SPDX-License-Identifier: Apache-2.0
// Topology checks on models built from real fixtures and then changed one fact at a time.
#include <gtest/gtest.h>

#include <algorithm>

#include "checks/topo_checks.hpp"
#include "core/catalogue.hpp"
#include "nccl/topo_xml.hpp"
#include "probe/local.hpp"
#include "topo/paths.hpp"

namespace ncd {
namespace {

const std::string kTopo = NCD_TOPOLOGY_DIR;

std::vector<Finding> problems(const std::vector<topo::System>& hosts) {
  std::vector<Finding> out;
  for (auto& f : checks::check_topology(hosts))
    if (f.severity != Severity::kInfo) out.push_back(f);
  return out;
}

topo::System sysfs(const std::string& tree) {
  probe::LoadOptions o;
  o.sysfs_root = kTopo + "/sysfs/" + tree;
  return probe::load_system_from_files(o);
}

topo::System oci() { return nccl::load_topo_xml(kTopo + "/nccl/oci-BM.GPU.H100.8-8xH100-16xCX7.xml"); }

TEST(TopoChecks, EveryIdIsInTheCatalogue) {
  for (const char* id : {"pcie.link_degraded", "pcie.acs_enabled", "iommu.translation_enabled", "gpu.nic_far",
                         "nic.port_down", "nic.rate_low", "nic.mtu_mismatch", "nvlink.down", "nvlink.count_mismatch",
                         "gdr.unavailable", "bind.rank_far_from_gpu", "bind.none", "gpu.count_mismatch",
                         "topo.differs", "numa.affinity_invalid", "nvlink.target_suspect", "pcie.speed_misread"})
    EXPECT_NE(Catalogue::instance().find(id), nullptr) << id;
}

TEST(TopoChecks, IdleGpuSpeedIsNotAFaultButWidthIs) {
  topo::System s = sysfs("healthy");
  ASSERT_LT(s.find_pci("0000:03:00.0")->link.cur_gts, s.find_pci("0000:03:00.0")->link.max_gts);
  EXPECT_TRUE(problems({s}).empty());
  // A NIC below its max speed is not power saving.
  s.find_pci("0000:04:00.0")->link.cur_gts = 16.0;
  auto f = problems({s});
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].id, "pcie.link_degraded");
  EXPECT_EQ(f[0].subject, "mlx5_0 0000:04:00.0");
  // The GPU at x8: one finding, even though its downstream port reports the same link.
  topo::System x8 = sysfs("gpu-link-x8");
  ASSERT_EQ(x8.find_pci("0000:02:00.0")->link.cur_width, 8);
  f = problems({x8});
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].subject, "GPU0 0000:03:00.0");
  EXPECT_DOUBLE_EQ(*f[0].expected, 48.0);
  EXPECT_DOUBLE_EQ(*f[0].measured, 24.0);
}

TEST(TopoChecks, X16CardInX8SlotIsNotDegraded) {
  topo::System s = sysfs("gpu-link-x8");
  s.find_pci("0000:02:00.0")->link.max_width = 8;  // the slot (downstream port) is x8
  EXPECT_TRUE(problems({s}).empty());
}

TEST(TopoChecks, VmWidthZeroAndMaxOnlyDumpsAreSilent) {
  topo::System s = sysfs("healthy");
  for (auto& d : s.pci) d.link.cur_width = 0;  // VMs report 0: unknown
  EXPECT_TRUE(problems({s}).empty());
  // NCCL dumps: max values only, one host alone says nothing about training.
  topo::System h11 = nccl::load_topo_xml(kTopo + "/multi/nccl2397/host11.xml");
  for (const auto& f : checks::check_topology({h11})) EXPECT_NE(f.id, "pcie.link_degraded");
}

TEST(TopoChecks, BroadcomUplinkReadingIsAQuirk) {
  topo::System s = oci();
  EXPECT_EQ(s.find_pci("0000:08:00.0")->link.max_gts, 5.0);
  EXPECT_FALSE(s.find_pci("0000:08:00.0")->link_quirk.empty());
  EXPECT_TRUE(problems({s}).empty());
  // Two hosts with the same 5.0 reading: not a cross-host difference either.
  topo::System t = oci();
  t.host = "other";
  EXPECT_TRUE(problems({s, t}).empty());
}

TEST(TopoChecks, BindingAcrossSocketsVersusSubNumaClustering) {
  topo::System s = sysfs("healthy");
  topo::RankBinding far;
  far.rank = 0;
  far.cpus = {16, 17};
  far.numa_nodes = {1};
  far.gpu_index = 0;
  far.gpu_bus_id = "0000:03:00.0";
  far.total_cpus = 32;
  s.bindings = {far};
  auto f = problems({s});
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].id, "bind.rank_far_from_gpu");
  EXPECT_EQ(f[0].subject, "rank 0 (GPU0 0000:03:00.0)");
  // Sub-NUMA clustering: both NUMA nodes on one package. Still named, as info.
  for (auto& c : s.cpus) c.package = 0;
  EXPECT_TRUE(problems({s}).empty());
  auto all = checks::check_topology({s});
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].severity, Severity::kInfo);
  EXPECT_NE(all[0].message.find("sub-NUMA"), std::string::npos);
}

TEST(TopoChecks, UnboundRanksOnMultiNumaHost) {
  topo::System s = sysfs("healthy");
  for (int r = 0; r < 2; ++r) {
    topo::RankBinding b;
    b.rank = r;
    for (int c = 0; c < 32; ++c) b.cpus.push_back(c);
    b.numa_nodes = {0, 1};
    b.total_cpus = 32;
    b.gpu_index = r;
    s.bindings.push_back(b);
  }
  auto f = problems({s});
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].id, "bind.none");
  EXPECT_EQ(f[0].subject, "ranks 0-1");
}

TEST(TopoChecks, NvlinkDownFromNvmlSuppressesCountMismatch) {
  topo::System s = oci();
  // Live-style per-link state for every GPU: 18 links, GPU5 with 2 down.
  for (auto& g : s.gpus) {
    g.nvlinks.clear();
    for (int l = 0; l < 18; ++l) {
      topo::NvLink link;
      link.link = l;
      link.remote = topo::LinkRemote::kNvSwitch;
      link.remote_bus_id = "0000:1a:00.0";
      link.active = (g.index == 5 && (l == 3 || l == 11)) ? topo::Tri::kNo : topo::Tri::kYes;
      g.nvlinks.push_back(link);
    }
  }
  topo::compute_paths(s);
  auto f = problems({s});
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].id, "nvlink.down");
  EXPECT_EQ(f[0].subject, "GPU5 0000:a8:00.0");
  EXPECT_EQ(f[0].severity, Severity::kError);
  // PCIe cards whose links all report inactive have no NVLink: nothing to say.
  for (auto& g : s.gpus)
    for (auto& l : g.nvlinks) l.active = topo::Tri::kNo;
  EXPECT_TRUE(problems({s}).empty());
}

TEST(TopoChecks, IommuAndGdrFromLiveFacts) {
  topo::System s = sysfs("healthy");
  s.find_pci("0000:03:00.0")->iommu_group_type = "DMA-FQ";
  s.peermem = topo::Tri::kNo;
  s.dmabuf = topo::Tri::kNo;
  auto f = problems({s});
  std::vector<std::string> ids;
  for (const auto& x : f) ids.push_back(x.id);
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, (std::vector<std::string>{"gdr.unavailable", "iommu.translation_enabled"}));
  // dma-buf unknown: peermem missing alone is only info.
  s.find_pci("0000:03:00.0")->iommu_group_type = "identity";
  s.dmabuf = topo::Tri::kUnknown;
  EXPECT_TRUE(problems({s}).empty());
}

TEST(TopoChecks, SpeedStringNcclMisreads) {
  std::string xml = R"(<system version="1"><cpu numaid="0" arch="x86_64" vendor="GenuineIntel" familyid="6" modelid="143">
    <pci busid="0000:01:00.0" class="0x030200" link_speed="32.0 GT/s" link_width="16"><gpu dev="0" sm="90" rank="0" gdr="1"/></pci>
    <pci busid="0000:02:00.0" class="0x030200" link_speed="32 GT/s PCIe/s" link_width="16"><gpu dev="1" sm="90" rank="1" gdr="1"/></pci>
  </cpu></system>)";
  topo::System s = nccl::parse_topo_xml(xml, "x.xml");
  topo::compute_paths(s);
  auto f = problems({s});
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].id, "pcie.speed_misread");
  EXPECT_EQ(f[0].subject, "link_speed \"32.0 GT/s\"");
}

TEST(TopoChecks, GpuCountGroupedAcrossHosts) {
  std::vector<topo::System> hosts;
  for (int i = 0; i < 5; ++i) {
    topo::System s = oci();
    s.host = "node" + std::to_string(i + 14);
    if (i == 3) {
      s.gpus.pop_back();
      topo::compute_paths(s);
    }
    hosts.push_back(s);
  }
  auto f = problems(hosts);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].id, "gpu.count_mismatch");
  EXPECT_EQ(f[0].message, "node17: 7 GPUs, others 8");
}

}  // namespace
}  // namespace ncd
