// SPDX-License-Identifier: Apache-2.0
// The NVML probe against a stand-in library (tests/unit/fake_nvml.c), merged into a sysfs model.
#include <gtest/gtest.h>

#include "checks/topo_checks.hpp"
#include "probe/local.hpp"
#include "probe/nvml.hpp"
#include "topo/paths.hpp"

namespace ncd {
namespace {

TEST(TopoNvml, MissingLibraryIsAReasonNotAnError) {
  auto r = probe::probe_nvml("/nonexistent/libnvidia-ml.so.1");
  EXPECT_FALSE(r.available);
  EXPECT_NE(r.why.find("not found"), std::string::npos);
}

TEST(TopoNvml, LinksStateAndMergeIntoTheModel) {
  auto r = probe::probe_nvml(NCD_FAKE_NVML);
  ASSERT_TRUE(r.available) << r.why;
  EXPECT_EQ(r.driver_version, "570.124.06");
  ASSERT_EQ(r.gpus.size(), 2u);
  EXPECT_EQ(r.gpus[0].bus_id, "0000:03:00.0");
  EXPECT_EQ(r.gpus[0].sm, 90);
  ASSERT_EQ(r.gpus[0].nvlinks.size(), 18u);
  EXPECT_EQ(r.gpus[0].nvlinks[5].active, topo::Tri::kNo);
  EXPECT_EQ(r.gpus[0].nvlinks[0].remote, topo::LinkRemote::kNvSwitch);
  EXPECT_EQ(r.gpus[0].nvlinks[0].remote_bus_id, "0000:c1:00.0");

  probe::LoadOptions o;
  o.sysfs_root = std::string(NCD_TOPOLOGY_DIR) + "/sysfs/healthy";
  topo::System s = probe::load_system_from_files(o);
  probe::merge_nvml(s, r);
  topo::compute_paths(s);
  ASSERT_EQ(s.gpus.size(), 2u);
  EXPECT_EQ(s.gpus[0].name, "NVIDIA H100 80GB HBM3");
  EXPECT_EQ(s.gpus[0].nvlinks_up(), 17);
  EXPECT_EQ(s.gpus[1].nvlinks_up(), 18);
  EXPECT_EQ(s.nvswitches.size(), 4u);
  // Over the NVSwitches: NVL at 17 x 20.6 GB/s (the GPU0 side is the bottleneck).
  EXPECT_EQ(s.gpu_path(0, 1).type, topo::PathType::kNVL);
  EXPECT_NEAR(s.gpu_path(0, 1).bw_gbps, 17 * 20.6, 1e-6);
  std::vector<Finding> bad;
  for (auto& f : checks::check_topology({s}))
    if (f.severity != Severity::kInfo) bad.push_back(f);
  ASSERT_EQ(bad.size(), 1u);
  EXPECT_EQ(bad[0].id, "nvlink.down");
  EXPECT_EQ(bad[0].subject, "GPU0 0000:03:00.0");
  EXPECT_EQ(bad[0].evidence.at(0), "inactive links: 5");
}

}  // namespace
}  // namespace ncd
