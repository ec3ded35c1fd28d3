// SPDX-License-Identifier: Apache-2.0
// Rules on logs of the same kinds as the corpus but other versions, wrappers and shapes: the
// analyser must follow the meaning of the lines, and must not raise false alarms on healthy
// multi-communicator logs.
#include <gtest/gtest.h>

#include "log_test_util.hpp"
#include "checks/log_rules.hpp"

namespace ncd::nccl {
namespace {

using testing_util::find_id;
using testing_util::run;

TEST(LogRules, SeveralCommunicatorsOnOneHostAreNotADuplicateHostname) {
  // World communicator of 16 ranks over 2 hosts plus a tensor-parallel communicator of 8 on host
  // b whose ranks 0-7 reuse the GPUs of world ranks 8-15: normal Megatron-style output.
  std::string t = "a:100:1 [0] NCCL INFO NCCL version 2.21.5+cuda12.4\n"
                  "a:100:1 [0] NCCL INFO Channel 00/02 :    0   1   2   3   4   5   6   7   8   9  10  11  12  13  14  15\n";
  for (int r = 8; r < 15; ++r)
    t += "b:" + std::to_string(200 + r) + ":1 [" + std::to_string(r - 8) + "] NCCL INFO Channel 00/0 : " +
         std::to_string(r) + "[" + std::to_string(r - 8) + "] -> " + std::to_string(r + 1) + "[" +
         std::to_string(r - 7) + "] via P2P/CUMEM/read\n";
  for (int r = 0; r < 7; ++r)
    t += "b:" + std::to_string(208 + r) + ":1 [" + std::to_string(r) + "] NCCL INFO Channel 00/0 : " + std::to_string(r) +
         "[" + std::to_string(r) + "] -> " + std::to_string(r + 1) + "[" + std::to_string(r + 1) +
         "] via P2P/CUMEM/read\n";
  t += "b:215:1 [7] NCCL INFO Channel 00/0 : 7[7] -> 0[0] via P2P/CUMEM/read\n";
  Diagnosis d = run(t);
  EXPECT_FALSE(find_id(d, "host.duplicate_hostname")) << d.verdict;
  EXPECT_FALSE(find_id(d, "p2p.cross_node_ipc"));
}

TEST(LogRules, GdrDistanceIsNamedWithTheBannersPathTable) {
  std::string base =
      "n1:1:1 [0] NCCL INFO Using network IB\n"
      "n1:1:1 [0] NCCL INFO Channel 00/0 : 0[0] -> 8[0] [send] via NET/IB/0\n"
      "n1:1:1 [0] NCCL INFO GPU Direct RDMA Disabled for GPU 1b000 / HCA 0 (distance 4 > 2)\n";
  Diagnosis old = run("n1:1:1 [0] NCCL INFO NCCL version 2.7.8+cuda11.0\n" + base);
  const Finding* f = find_id(old, "gdr.disabled");
  ASSERT_TRUE(f);
  EXPECT_NE(f->message.find("PHB"), std::string::npos) << f->message;  // 2.7: 4 = PHB, 2 = PIX
  EXPECT_NE(f->message.find("allows up to PIX"), std::string::npos) << f->message;
  Diagnosis mid = run("n1:1:1 [0] NCCL INFO NCCL version 2.19.3+cuda12.2\n" + base);
  f = find_id(mid, "gdr.disabled");
  ASSERT_TRUE(f);
  EXPECT_NE(f->message.find("is PXB"), std::string::npos) << f->message;  // 2.12-2.20: 4 = PXB
}

TEST(LogRules, TorchCarriedErrorsOfNewerVersions) {
  Diagnosis d = run(
      "[rank1]: torch.distributed.DistBackendError: NCCL error in: ../torch/csrc/distributed/c10d/NCCLUtils.hpp:275, "
      "unhandled system error (run with NCCL_DEBUG=INFO for details), NCCL version 2.20.5\n"
      "[rank1]: ncclSystemError: System call (e.g. socket, malloc) or external library call failed or device error.\n"
      "[rank1]: Last error:\n"
      "[rank1]: socketStartConnect: Connect to 10.0.0.2<35437> failed : Software caused connection abort\n");
  EXPECT_EQ(d.root, "bootstrap.connect_failed");
  Diagnosis s = run(
      "RuntimeError: NCCL error in: ProcessGroupNCCL.cpp:1269, unhandled system error, NCCL version 2.18.1\n"
      "ncclSystemError: System call (e.g. socket, malloc) or external library call failed or device error.\n"
      "Last error:\n"
      "Error while creating shared memory segment /dev/shm/nccl-vzIpS6 (size 9637888)\n");
  EXPECT_EQ(s.root, "shm.too_small");
  Diagnosis n = run("RuntimeError: NCCL error in: ProcessGroupNCCL.cpp:825, unhandled cuda error, NCCL version 2.10.3\n");
  EXPECT_EQ(n.root, "log.nccl_error");
}

TEST(LogRules, AwsOfiProviderWordingOfNewerPlugins) {
  Diagnosis d = run("ip-10-1-2-3:7:7 [0] NCCL INFO NET/OFI Selected provider is tcp, fabric is 10.1.0.0/16 (found 1 nics)\n"
                    "ip-10-1-2-3:7:7 [0] NCCL INFO Using network AWS Libfabric\n");
  EXPECT_EQ(d.root, "net.efa_provider_fallback");
  Diagnosis ok = run("ip-10-1-2-3:7:7 [0] NCCL INFO NET/OFI Selected provider is efa, fabric is efa-direct (found 4 nics)\n"
                     "ip-10-1-2-3:7:7 [0] NCCL INFO Using network AWS Libfabric\n"
                     "ip-10-1-2-3:7:9 [0] NCCL INFO Channel 00/0 : 0[0] -> 8[0] [send] via NET/AWS Libfabric/0/GDRDMA\n");
  EXPECT_TRUE(ok.root.empty()) << ok.root;
}

TEST(LogRules, SingleNodeSocketWithoutRdmaIsNotAFallback) {
  Diagnosis d = run("h:1:1 [0] NCCL INFO NET/IB : No device found.\n"
                    "h:1:1 [0] NCCL INFO NET/Socket : Using [0]eth0:10.0.0.5<0>\n"
                    "h:1:1 [0] NCCL INFO Using network Socket\n"
                    "h:1:1 [0] NCCL INFO comm 0x1 rank 0 nRanks 2 nNodes 1 localRanks 2 localRank 0 MNNVL 0\n"
                    "h:1:1 [0] NCCL INFO Channel 00/0 : 0[0] -> 1[1] via P2P/CUMEM/read\n");
  EXPECT_FALSE(find_id(d, "net.socket_fallback"));
  EXPECT_TRUE(d.root.empty()) << d.root;
}

TEST(LogRules, IbWithGdrOnTwoNodesIsHealthyAndStagesAreTracked) {
  Diagnosis d = run(
      "a:1:1 [0] NCCL INFO Bootstrap: Using bond0:10.0.0.1<0>\n"
      "b:2:2 [0] NCCL INFO Bootstrap: Using bond0:10.0.0.2<0>\n"
      "a:1:1 [0] NCCL INFO NET/IB : Using [0]mlx5_0:1/RoCE [RO]; OOB bond0:10.0.0.1<0>\n"
      "a:1:1 [0] NCCL INFO Using network IB\n"
      "a:1:1 [0] NCCL INFO Channel 00/0 : 1[0] -> 0[0] [receive] via NET/IB/0/GDRDMA\n"
      "b:2:2 [0] NCCL INFO Channel 00/0 : 1[0] -> 0[0] [send] via NET/IB/0/GDRDMA\n"
      "a:1:1 [0] NCCL INFO comm 0x1 rank 0 nranks 2 cudaDev 0 busId 1b000 - Init COMPLETE\n"
      "b:2:2 [0] NCCL INFO comm 0x2 rank 1 nranks 2 cudaDev 0 busId 1b000 - Init COMPLETE\n");
  EXPECT_TRUE(d.root.empty()) << d.root;
  EXPECT_TRUE(find_id(d, "log.healthy"));
}

TEST(LogRules, RanksStoppingAtDifferentStagesAreAHang) {
  Diagnosis d = run(
      "a:1:1 [0] NCCL INFO Bootstrap: Using eth0:10.0.0.1<0>\n"
      "b:2:2 [0] NCCL INFO Bootstrap: Using eth0:10.0.0.2<0>\n"
      "a:1:1 [0] NCCL INFO comm 0x1 rank 0 nranks 2 cudaDev 0 busId 1b000 - Init COMPLETE\n");
  const Finding* f = find_id(d, "hang.init");
  ASSERT_TRUE(f) << d.verdict;
  EXPECT_NE(f->message.find("b at bootstrap"), std::string::npos) << f->message;
}

}  // namespace
}  // namespace ncd::nccl

namespace ncd::nccl {
namespace {

TEST(LogRules, TaxonomyTagsWithoutCorpusCases) {
  // Tags of TAXONOMY.md that no corpus case shows yet, from their definition and evidence.
  EXPECT_EQ(run("n1:5:6 [0] misc/socket.cc:484 NCCL WARN Call to connect returned Connection timed out, retrying\n").root,
            "net.connect_timeout");
  EXPECT_EQ(run("n1:5:6 [0] misc/socket.cc:564 NCCL WARN socketPollConnect poll() returned 1, no POLLOUT events\n"
                "n1:5:6 [0] NCCL INFO bootstrap.cc:120 -> 2\n")
                .root,
            "bootstrap.connect_timeout");
  Diagnosis c = run("dgx3:9:9 [1] misc/cudawrap.cc:188 NCCL WARN Cuda failure 802 'system not yet initialized'\n");
  EXPECT_EQ(c.root, "cuda.system_not_initialized");
  EXPECT_TRUE(find_id(c, "nvswitch.fabric_manager"));
  Diagnosis r = run("x:1:2 [0] transport/net_ib.cc:1696 NCCL WARN NET/IB : Got completion from peer 10.0.0.2<4> with "
                    "status=12 opcode=0 len=0 vendor err 129 (Send) localGid ::ffff:10.0.0.1 remoteGids::ffff:10.0.0.2\n");
  EXPECT_EQ(r.root, "ib.completion_error_12_timeout");
  const Finding* g = find_id(r, "ib.roce_gid_index");
  ASSERT_TRUE(g);
  EXPECT_NE(g->message.find("on RoCE"), std::string::npos);
}

TEST(LogRules, PluginWordingsAcrossVersions) {
  Diagnosis d = run("a1:1:1 [0] NCCL INFO NET/Plugin: Plugin load returned 2 : libnccl-net.so: cannot open shared object file\n"
                    "a1:1:1 [0] NCCL INFO NET/Plugin: Using internal network plugin.\n"
                    "b1:2:2 [0] NCCL INFO NET/Plugin: Loaded net plugin NCCL RDMA Plugin v8 (v8)\n");
  EXPECT_EQ(d.root, "config.inconsistent_across_nodes");
  EXPECT_TRUE(find_id(d, "net.plugin_mismatch"));
}

}  // namespace
}  // namespace ncd::nccl

namespace ncd::nccl {
namespace {

TEST(LogRules, QpMtuThatDiffersBetweenHosts) {
  Diagnosis d = run("s1:1:1 [0] NCCL INFO NET/IB: Dev 0 Port 1 qpn 1234 mtu 5 LID 7 subnet-prefix 0 FLID 0 fgid 0\n"
                    "s2:2:2 [0] NCCL INFO NET/IB: Dev 0 Port 1 qpn 4321 mtu 3 LID 9 subnet-prefix 0 FLID 0 fgid 0\n");
  EXPECT_EQ(d.root, "ib.mtu_mismatch");
  EXPECT_NE(d.findings.front().message.find("4096 on s1"), std::string::npos) << d.findings.front().message;
}

}  // namespace
}  // namespace ncd::nccl
