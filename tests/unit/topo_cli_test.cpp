// SPDX-License-Identifier: Apache-2.0
// `nccl-doctor topo` offline, in process: output, exit codes, --save/--load, errors.
#include <gtest/gtest.h>

#include <cstdio>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli/cli.hpp"
#include "core/fs.hpp"

namespace ncd {
namespace {

const std::string kTopo = NCD_TOPOLOGY_DIR;

struct Run {
  int rc;
  std::string out, err;
};

Run run(std::vector<std::string> args) {
  std::ostringstream out, err;
  int rc = cli::run_cli(args, out, err);
  return {rc, out.str(), err.str()};
}

TEST(TopoCli, HealthyFileIsSilentWithMatrix) {
  auto r = run({"topo", "--nccl-topo", kTopo + "/nccl/oci-BM.GPU.H100.8-8xH100-16xCX7.xml"});
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("NVL 371"), std::string::npos);
  EXPECT_NE(r.out.find("GPU0 0000:0f:00.0 sm90 NUMA 0"), std::string::npos);
  EXPECT_NE(r.out.find("NVLink 18/18 nearest NIC0 mlx5_18 PIX"), std::string::npos);
  EXPECT_NE(r.out.find("NIC0 mlx5_18/1 0000:0c:00.0"), std::string::npos);
  EXPECT_EQ(r.out.find("Findings"), std::string::npos);
}

TEST(TopoCli, PlantedFaultExitsOneWithTheFinding) {
  auto r = run({"topo", "--nccl-topo", kTopo + "/planted/oci-h100-port-half-rate.xml"});
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.out.find("nic.rate_low  [oci-h100-port-half-rate mlx5_30/1]"), std::string::npos) << r.out;
}

TEST(TopoCli, MissingOrBadFileExitsThreeWithOneLine) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"topo", "--hwloc-xml", "/nonexistent.xml"},
           {"topo", "--nccl-topo", "/nonexistent.xml"},
           {"topo", "--load", "/nonexistent.json"},
           {"topo", "--sysfs-root", "/nonexistent-dir"},
           {"topo", "--nccl-topo", kTopo + "/README.md"},
           {"topo", "--hwloc-xml", kTopo + "/nccl/azure-ndv5-h100.xml"},
           {"topo", "--load", kTopo + "/nccl/azure-ndv5-h100.xml"},
           {"topo", "--load", "x.json", "--nccl-topo", "y.xml"}}) {
    auto r = run(args);
    EXPECT_EQ(r.rc, 3) << args.back();
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
  auto r = run({"topo", "--hwloc-xml", "/nonexistent.xml"});
  EXPECT_EQ(r.err, "nccl-doctor: /nonexistent.xml: No such file or directory\n");
}

TEST(TopoCli, SaveThenLoadGivesTheSameReport) {
  std::string saved = ::testing::TempDir() + "/topo_saved.json";
  auto a = run({"topo", "--sysfs-root", kTopo + "/sysfs/port-down", "--save", saved, "--format", "json"});
  auto b = run({"topo", "--load", saved, "--format", "json"});
  ASSERT_EQ(a.rc, 1) << a.err;
  ASSERT_EQ(b.rc, 1) << b.err;
  auto ja = nlohmann::json::parse(a.out), jb = nlohmann::json::parse(b.out);
  EXPECT_EQ(ja["hosts"], jb["hosts"]);
  EXPECT_EQ(ja["findings"], jb["findings"]);
  EXPECT_EQ(ja["sections"]["topology"], jb["sections"]["topology"]);
  ASSERT_EQ(ja["hosts"].size(), 1u);
  EXPECT_EQ(ja["hosts"][0]["topology"]["gpus"].size(), 2u);
  EXPECT_EQ(ja["findings"][0]["id"], "nic.port_down");
  EXPECT_EQ(ja["findings"][0]["subject"], "mlx5_1/1");
  std::remove(saved.c_str());
}

TEST(TopoCli, SeveralHostsInOneReport) {
  auto r = run({"topo", "--format", "json", "--nccl-topo", kTopo + "/multi/nccl2397/host11.xml", "--nccl-topo",
                kTopo + "/multi/nccl2397/host13.xml"});
  EXPECT_EQ(r.rc, 1);
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["hosts"].size(), 2u);
  EXPECT_EQ(j["hosts"][0]["name"], "host11");
  EXPECT_EQ(j["sections"]["topology"]["hosts"].size(), 2u);
  int degraded = 0;
  for (const auto& f : j["findings"])
    if (f["id"] == "pcie.link_degraded") {
      ++degraded;
      EXPECT_EQ(f["host"], "host11");
      EXPECT_EQ(f["subject"], "mlx5_0 0000:16:00.0");
    }
  EXPECT_EQ(degraded, 1);
}

}  // namespace
}  // namespace ncd
