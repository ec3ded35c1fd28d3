// SPDX-License-Identifier: Apache-2.0
// `nccl-doctor rings` end to end in process: exit codes, text, JSON, bad input.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/cli.hpp"
#include "core/fs.hpp"

namespace ncd {
namespace {

const std::string kDir = std::string(NCD_TOPOLOGY_DIR) + "/rings/";
const std::string kOci = kDir + "oci-BM.GPU.H100.8-8xH100-16xCX7.xml";

struct CliRun {
  int rc;
  std::string out;
  std::string err;
};

CliRun run(std::vector<std::string> args) {
  std::ostringstream out, err;
  int rc = cli::run_cli(args, out, err);
  return {rc, out.str(), err.str()};
}

std::size_t lines(const std::string& s) { return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n')); }

std::string temp_file(const std::string& name, const std::string& content) {
  auto p = std::filesystem::temp_directory_path() / ("ncd-rings-test-" + std::to_string(::getpid()) + "-" + name);
  std::ofstream(p) << content;
  return p.string();
}

TEST(RingsCli, NvlinkRingIsSilentSysRingIsDegraded) {
  CliRun ok = run({"rings", "--topo-xml", kOci, "--graph-xml", kDir + "oci-h100-nvlink-ring-graph.xml"});
  EXPECT_EQ(ok.rc, 0) << ok.out << ok.err;
  EXPECT_EQ(ok.out.find("ring."), std::string::npos) << ok.out;
  EXPECT_NE(ok.out.find("GPU0 -NVL-> GPU1"), std::string::npos) << ok.out;
  EXPECT_NE(ok.out.find("ring 360.0 GB/s busbw"), std::string::npos) << ok.out;

  CliRun bad = run({"rings", "--topo-xml", kOci, "--graph-xml", kDir + "oci-h100-sys-ring-graph.xml"});
  EXPECT_EQ(bad.rc, 2) << bad.out << bad.err;
  EXPECT_NE(bad.out.find("ring.path_degraded"), std::string::npos) << bad.out;
}

TEST(RingsCli, CorpusPairs) {
  CliRun azure = run({"rings", "--topo-xml", kDir + "azure-ncv4-a100-pcie.xml", "--graph-xml",
                   kDir + "azure-ncv4-a100-pcie-graph.xml"});
  EXPECT_EQ(azure.rc, 0) << azure.out;
  EXPECT_EQ(azure.out.find("ring.path_degraded"), std::string::npos) << azure.out;

  CliRun rtx = run({"rings", "--topo-xml", kDir + "panlichen-8xRTX3090-plx-1xCX6-fdr.xml", "--graph-xml",
                 kDir + "panlichen-8xRTX3090-plx-1xCX6-fdr-graph.xml"});
  EXPECT_EQ(rtx.rc, 1) << rtx.out;
  EXPECT_NE(rtx.out.find("ring.nic_far"), std::string::npos) << rtx.out;
  EXPECT_NE(rtx.out.find("mlx5_0/1 =SYS=> GPU0"), std::string::npos) << rtx.out;
}

TEST(RingsCli, LogShowsTheNodeWhoseGpusTalkThroughTheCpu) {
  CliRun r = run({"rings", "--topo-xml", kOci, "--graph-xml", kDir + "oci-h100-nvlink-ring-graph.xml", "--log",
                  kDir + "oci-h100-2node-shm-on-one-node.log", "-v"});
  EXPECT_EQ(r.rc, 2) << r.out << r.err;
  EXPECT_NE(r.out.find("ring.path_degraded  [gpu-b"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("oci-h100-2node-shm-on-one-node.log:26: gpu-b:4101:4111 [0] NCCL INFO Channel 00/0 : 8[0] -> "
                       "9[1] via SHM/direct/direct"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("gpu-a: P2P/CUMEM; gpu-b: SHM/direct/direct"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(2 node(s), 16 ranks)"), std::string::npos) << r.out;  // nodes from the log
  EXPECT_EQ(r.out.find("gpu-a intra-node"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("ch 0: root gpu-a; gpu-a -> gpu-b"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("ch 1: root gpu-b; gpu-b -> gpu-a"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("ring.inconsistent"), std::string::npos) << r.out;
}

TEST(RingsCli, JsonReport) {
  CliRun r = run({"rings", "--format", "json", "--topo-xml", kOci, "--graph-xml",
               kDir + "oci-h100-2-channels-ring-graph.xml"});
  EXPECT_EQ(r.rc, 1) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["command"], "rings");
  EXPECT_EQ(j["findings"][0]["id"], "ring.channels_low");
  EXPECT_EQ(j["sections"]["rings"][0]["graphs"][0]["nchannels"], 2);
  EXPECT_EQ(j["summary"]["exit_code"], 1);
}

TEST(RingsCli, BadOrTruncatedXmlExitsThreeWithOneLine) {
  std::string graph = read_file(kDir + "oci-h100-nvlink-ring-graph.xml");
  std::string cut = temp_file("cut-graph.xml", graph.substr(0, graph.size() / 3));
  CliRun r = run({"rings", "--topo-xml", kOci, "--graph-xml", cut});
  EXPECT_EQ(r.rc, 3);
  EXPECT_EQ(lines(r.err), 1u) << r.err;
  EXPECT_NE(r.err.find(cut), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("truncated"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;

  std::string topo = read_file(kOci);
  std::string cut_topo = temp_file("cut-topo.xml", topo.substr(0, topo.size() / 2));
  r = run({"rings", "--topo-xml", cut_topo, "--graph-xml", kDir + "oci-h100-nvlink-ring-graph.xml"});
  EXPECT_EQ(r.rc, 3);
  EXPECT_EQ(lines(r.err), 1u) << r.err;
  EXPECT_NE(r.err.find(cut_topo), std::string::npos) << r.err;

  // Swapped files: the message says which flag to use.
  r = run({"rings", "--topo-xml", kOci, "--graph-xml", kOci});
  EXPECT_EQ(r.rc, 3);
  EXPECT_EQ(lines(r.err), 1u) << r.err;
  EXPECT_NE(r.err.find("--topo-xml"), std::string::npos) << r.err;

  r = run({"rings", "--topo-xml", kOci, "--graph-xml", "/nonexistent/graph.xml"});
  EXPECT_EQ(r.rc, 3);
  EXPECT_EQ(lines(r.err), 1u) << r.err;
  std::filesystem::remove(cut);
  std::filesystem::remove(cut_topo);
}

TEST(RingsCli, UsageErrors) {
  // A topology alone is a prediction (rings_predict_test.cpp); a graph alone is an error.
  CliRun r = run({"rings", "--graph-xml", kDir + "oci-h100-nvlink-ring-graph.xml"});
  EXPECT_EQ(r.rc, 3);
  EXPECT_NE(r.err.find("--topo-xml"), std::string::npos) << r.err;
  r = run({"rings", "--nodes", "0", "--topo-xml", kOci, "--graph-xml", kOci});
  EXPECT_EQ(r.rc, 3);
}

TEST(RingsCli, LiveWithoutGpuSaysSoInOneLine) {
  // This machine has no GPU (or the build has no NCCL): one line, exit 3.
  CliRun r = run({"rings"});
  if (r.rc != 3) GTEST_SKIP() << "a GPU is present: the live path is tested by tests/gpu";
  EXPECT_EQ(lines(r.err), 1u) << r.err;
  EXPECT_TRUE(r.err.find("no GPU") != std::string::npos || r.err.find("NCCL backend") != std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--topo-xml"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace ncd
