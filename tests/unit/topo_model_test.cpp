// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "checks/topo_checks.hpp"
#include "core/error.hpp"
#include "nccl/topo_xml.hpp"
#include "probe/local.hpp"
#include "probe/sysfs.hpp"
#include "topo/fingerprint.hpp"
#include "topo/paths.hpp"

namespace ncd {
namespace {

const std::string kTopo = NCD_TOPOLOGY_DIR;

TEST(TopoModel, BusIdsAndCpuMasks) {
  EXPECT_EQ(topo::normalize_bus_id("0000:1B:00.0"), "0000:1b:00.0");
  EXPECT_EQ(topo::normalize_bus_id("00000000:1B:00.0"), "0000:1b:00.0");  // NVML
  EXPECT_EQ(topo::normalize_bus_id("1b:00.0"), "0000:1b:00.0");
  EXPECT_EQ(topo::normalize_bus_id("ffff:ff:01.0"), "ffff:ff:01.0");
  EXPECT_EQ(topo::normalize_bus_id("10000:01:00.0"), "00010000:01:00.0");  // 32-bit domains
  EXPECT_EQ(topo::normalize_bus_id("fffffff:ffff:ff"), "fffffff:ffff:ff");  // not a bus id
  EXPECT_EQ(topo::parse_cpumap("0000ffff,0000ffff").size(), 32u);
  EXPECT_EQ(topo::parse_cpumap("ffff0000,ffff0000").front(), 16);
  EXPECT_EQ(topo::parse_cpumap("0000,000fffff,ff000000,0fffffff").size(), 56u);
  EXPECT_TRUE(topo::parse_cpumap("zz").empty());
  EXPECT_EQ(topo::parse_cpulist("0-3,8,10-11"), (std::vector<int>{0, 1, 2, 3, 8, 10, 11}));
  EXPECT_TRUE(topo::parse_cpulist("3-1").empty());
}

void expect_roundtrip(const topo::System& s) {
  nlohmann::json a = topo::system_to_json(s);
  topo::System back = topo::system_from_json(a.dump(), "mem");
  EXPECT_EQ(topo::system_to_json(back), a);
  EXPECT_EQ(topo::fingerprint(back).digest, topo::fingerprint(s).digest);
}

TEST(TopoModel, JsonRoundTripKeepsModelAndPaths) {
  expect_roundtrip(nccl::load_topo_xml(kTopo + "/nccl/oci-BM.GPU.H100.8-8xH100-16xCX7.xml"));
  expect_roundtrip(nccl::load_topo_xml(kTopo + "/nccl/issue-rccl1185-hygon-8xdcu-2xcx6-rccl-v2.xml"));
  probe::LoadOptions o;
  o.sysfs_root = kTopo + "/sysfs/acs-enabled";
  expect_roundtrip(probe::load_system_from_files(o));
  o = {};
  o.hwloc_xml = kTopo + "/hwloc/aws-p4d-hwloc2.10.xml";
  expect_roundtrip(probe::load_system_from_files(o));
}

TEST(TopoModel, LoadRejectsOtherJson) {
  EXPECT_THROW((void)topo::system_from_json("{\"a\":1}", "x.json"), InputError);
  EXPECT_THROW((void)topo::system_from_json("not json", "x.json"), InputError);
  EXPECT_THROW((void)topo::system_from_json("{\"gpus\":7,\"pci\":[]}", "x.json"), InputError);
}

TEST(TopoModel, FingerprintComparesHosts) {
  auto a = topo::fingerprint(nccl::load_topo_xml(kTopo + "/multi/nccl2397/host11.xml"));
  auto b = topo::fingerprint(nccl::load_topo_xml(kTopo + "/multi/nccl2397/host13.xml"));
  EXPECT_NE(a.digest, b.digest);
  auto d = topo::fingerprint_diff(a, b);
  ASSERT_EQ(d.size(), 2u);
  EXPECT_NE(d[0].find("x8"), std::string::npos);
  EXPECT_NE(d[1].find("x16"), std::string::npos);
}

TEST(TopoModel, HwlocXmlWithSysfsFacts) {
  // Structure from hwloc XML, link facts from a tree: devices present in both get the tree's
  // values; the rest keep hwloc's.
  probe::LoadOptions o;
  o.hwloc_xml = kTopo + "/hwloc/aws-p4d-hwloc2.10.xml";
  topo::System s = probe::load_system_from_files(o);
  ASSERT_EQ(s.gpus.size(), 8u);
  EXPECT_EQ(s.nvswitches.size(), 6u);
  int efa = 0;
  for (const auto& n : s.nics) efa += n.rdma;
  EXPECT_EQ(efa, 4);  // EFA yes, ENA no
  EXPECT_THROW((void)probe::load_systems({kTopo + "/nccl/azure-ndv5-h100.xml", {}, "", ""}), InputError);
  EXPECT_THROW((void)probe::load_systems({"", {}, "/nonexistent-sysfs", ""}), InputError);
}

TEST(TopoModel, HwlocStructureWithSysfsOverlay) {
  probe::LoadOptions o;
  o.hwloc_xml = kTopo + "/hwloc/aws-p4d-hwloc2.10.xml";
  o.sysfs_root = kTopo + "/sysfs/p4d-hwloc-overlay";
  topo::System s = probe::load_system_from_files(o);
  ASSERT_EQ(s.gpus.size(), 8u);
  EXPECT_EQ(s.find_pci("0000:10:1c.0")->link.cur_width, 8);
  EXPECT_TRUE(s.nics[static_cast<std::size_t>(s.paths.nearest_nic[0])].rdma);  // an EFA, not the ENA
  std::vector<std::string> got;
  for (const auto& f : checks::check_topology({s}))
    if (f.severity != Severity::kInfo) got.push_back(f.id + " | " + f.subject);
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<std::string>{"nic.port_down | rdmap16s27/1", "pcie.link_degraded | GPU0 0000:10:1c.0"}));
}

TEST(TopoModel, CorruptBytesStayOutOfTheReport) {
  std::string xml = "<system version=\"1\"><cpu numaid=\"0\" vendor=\"\xff\xfe\"><pci busid=\"0000:01:00.0\" "
                    "class=\"0x030200\" link_speed=\"16\x01 GT/s\" link_width=\"16\"/></cpu></system>";
  // A corrupt bus id is not a quirk: rejected (harden), and the error shows no raw bytes.
  std::string bad_bus = "<system version=\"1\"><cpu numaid=\"0\"><pci busid=\"00\x80:01:00.0\"/></cpu></system>";
  try {
    (void)nccl::parse_topo_xml(bad_bus, "bad.xml");
    ADD_FAILURE() << "corrupt busid accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("busid=\"00?:01:00.0\""), std::string::npos) << e.what();
  }
  topo::System s = nccl::parse_topo_xml(xml, "bad.xml");
  topo::compute_paths(s);
  EXPECT_NO_THROW((void)topo::system_to_json(s).dump());
  EXPECT_EQ(s.cpus.at(0).vendor, "??");
}

TEST(TopoSysfs, ValueParsers) {
  EXPECT_DOUBLE_EQ(probe::parse_ib_rate("400 Gb/sec (4X NDR)"), 400.0);
  EXPECT_DOUBLE_EQ(probe::parse_ib_rate("56 Gb/sec (4X FDR)"), 56.0);
  EXPECT_DOUBLE_EQ(probe::parse_ib_rate("junk"), 0.0);
  EXPECT_EQ(probe::ib_state_name("4: ACTIVE"), "ACTIVE");
  EXPECT_EQ(probe::ib_state_name("5: LinkUp"), "LinkUp");
  std::string detail;
  EXPECT_FALSE(probe::acs_redirect_from_config(std::string(64, '\0'), &detail).has_value());  // not root
  std::string cfg(4096, '\0');
  EXPECT_EQ(probe::acs_redirect_from_config(cfg, &detail), std::optional<bool>(false));
  // ACS capability at 0x100 with ReqRedir+CmpltRedir.
  cfg[0x100] = 0x0d;
  cfg[0x102] = 0x01;
  cfg[0x106] = 0x0c;
  EXPECT_EQ(probe::acs_redirect_from_config(cfg, &detail), std::optional<bool>(true));
  // A next pointer that loops back is corrupt, not an endless walk.
  std::string loop(4096, '\0');
  loop[0x100] = 0x01;
  loop[0x102] = 0x01;
  loop[0x103] = 0x10;  // next = 0x100
  EXPECT_EQ(probe::acs_redirect_from_config(loop, &detail), std::optional<bool>(false));
}

}  // namespace
}  // namespace ncd

namespace ncd::topo {
namespace {

TEST(TopoModel, LenientReadKeepsThePartsThatRead) {
  // A report from another version: one GPU of two has a numa of another type, "nvswitches" is
  // not an array. The good GPU and the NICs are read; the odd keys are named.
  const auto j = nlohmann::json::parse(R"({"host": "h", "gpus": [{"index": 0, "bus_id": "0000:1b:00.0"},
      {"index": 1, "numa": "?"}], "nvswitches": 7, "nics": [{"name": "mlx5_0", "ports": [{"state": "ACTIVE"}]}]})");
  std::vector<std::string> unread;
  System s = system_from_json_lenient(j, unread);
  EXPECT_EQ(s.host, "h");
  ASSERT_EQ(s.gpus.size(), 1u);
  EXPECT_EQ(s.gpus[0].bus_id, "0000:1b:00.0");
  ASSERT_EQ(s.nics.size(), 1u);
  EXPECT_EQ(s.nics[0].ports.at(0).state, "ACTIVE");
  EXPECT_TRUE(s.nvswitches.empty());
  EXPECT_EQ(unread, (std::vector<std::string>{"gpus", "nvswitches"}));
  // A whole model of the right types reads back whole, nothing named.
  unread.clear();
  const nlohmann::json good = system_to_json(s);
  System again = system_from_json_lenient(good, unread);
  EXPECT_TRUE(unread.empty()) << unread.front();
  EXPECT_EQ(system_to_json(again), good);
  // Not an object: nothing read, said once; null: nothing to say.
  EXPECT_TRUE(system_from_json_lenient(nlohmann::json::array(), unread).gpus.empty());
  EXPECT_EQ(unread, (std::vector<std::string>{"(not an object)"}));
  unread.clear();
  (void)system_from_json_lenient(nullptr, unread);
  EXPECT_TRUE(unread.empty());
}

}  // namespace
}  // namespace ncd::topo
