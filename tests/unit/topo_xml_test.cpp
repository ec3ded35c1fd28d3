// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include <filesystem>

#include "core/error.hpp"
#include "nccl/topo_xml.hpp"
#include "topo/paths.hpp"

namespace ncd {
namespace {

const std::string kNccl = std::string(NCD_TOPOLOGY_DIR) + "/nccl/";
const std::string kRings = std::string(NCD_TOPOLOGY_DIR) + "/rings/";

TEST(TopoXml, EveryCorpusFileLoads) {
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(kNccl)) {
    if (e.path().extension() != ".xml") continue;
    SCOPED_TRACE(e.path().string());
    topo::System s = nccl::load_topo_xml(e.path().string());
    EXPECT_FALSE(s.pci.empty());
    ++n;
  }
  EXPECT_GE(n, 25);
}

TEST(TopoXml, OciH100Paths) {
  topo::System s = nccl::load_topo_xml(kRings + "oci-BM.GPU.H100.8-8xH100-16xCX7.xml");
  ASSERT_EQ(s.gpus.size(), 8u);
  ASSERT_EQ(s.nics.size(), 8u);
  EXPECT_EQ(s.gpus[0].bus_id, "0000:0f:00.0");
  EXPECT_EQ(s.gpus[0].nvlinks_up(), 18);
  const auto& p = s.gpu_path(0, 1);
  EXPECT_EQ(p.type, topo::PathType::kNVL);
  EXPECT_NEAR(p.bw_gbps, 18 * 20.6, 0.01);
  // GPU0 and its NIC share a Broadcom PEX Gen5 switch: two levels in the dump, which NCCL
  // flattens into one (ncclTopoFlattenBcmSwitches): PIX.
  int nic = s.paths.nearest_nic[0];
  ASSERT_GE(nic, 0);
  EXPECT_EQ(s.nics[static_cast<std::size_t>(nic)].bus_id, "0000:0c:00.0");
  EXPECT_EQ(s.nic_path(0, static_cast<std::size_t>(nic)).pci_type, topo::PathType::kPIX);
  // The 5.0 GT/s uplink reading is a quirk, not the bottleneck.
  EXPECT_FALSE(s.find_pci("0000:08:00.0")->link_quirk.empty());
}

TEST(TopoXml, BadInputIsInputError) {
  EXPECT_THROW((void)nccl::parse_topo_xml("<system version=\"1\"><cpu>", "x.xml"), InputError);
  EXPECT_THROW((void)nccl::parse_topo_xml("<graphs version=\"1\"/>", "x.xml"), InputError);
  EXPECT_THROW((void)nccl::parse_topo_xml("<system version=\"7\"/>", "x.xml"), InputError);
  EXPECT_THROW((void)nccl::load_topo_xml("/nonexistent.xml"), InputError);
}

}  // namespace
}  // namespace ncd
