// SPDX-License-Identifier: Apache-2.0
// Structural reading (issue 15): failures no rule has seen still get a specific root finding by
// subsystem, code, chain and phase; framework wrappers are sources; fallbacks are not aborts;
// the log's own truth (hosts, plugins, where it stops).
#include <gtest/gtest.h>

#include "log_test_util.hpp"
#include "checks/log_rules.hpp"
#include "nccl/log_line.hpp"
#include "nccl/log_structure.hpp"

namespace ncd::nccl {
namespace {

using testing_util::find_id;
using testing_util::run;

bool has(const std::string& s, const std::string& p) { return s.find(p) != std::string::npos; }

TEST(LogStructure, SubsystemsComeFromTheSourceFile) {
  EXPECT_EQ(subsystem_of("transport/nvls.cc:251"), Subsystem::kNvls);
  EXPECT_EQ(subsystem_of("misc/shmutils.cc:88"), Subsystem::kShm);
  EXPECT_EQ(subsystem_of("transport/p2p.cc:275"), Subsystem::kP2p);
  EXPECT_EQ(subsystem_of("transport/net_ib.cc:2244"), Subsystem::kNetIb);
  EXPECT_EQ(subsystem_of("misc/ibvwrap.cc:288"), Subsystem::kNetIb);
  EXPECT_EQ(subsystem_of("misc/socket.cc:49"), Subsystem::kSocket);
  EXPECT_EQ(subsystem_of("bootstrap.cc:270"), Subsystem::kBootstrap);
  EXPECT_EQ(subsystem_of("proxy.cc:1519"), Subsystem::kProxy);
  EXPECT_EQ(subsystem_of("graph/xml.h:101"), Subsystem::kGraph);
  EXPECT_EQ(subsystem_of("graph/tuning.cc:10"), Subsystem::kTuning);
  EXPECT_EQ(subsystem_of("misc/cudawrap.cc:179"), Subsystem::kCuMem);
  EXPECT_EQ(subsystem_of("enqueue.cc:1450"), Subsystem::kEnqueue);
  EXPECT_EQ(subsystem_of("init.cc:416"), Subsystem::kInit);
  EXPECT_EQ(subsystem_of("ras/client.cc:10"), Subsystem::kRas);
  EXPECT_EQ(subsystem_of("transport/coll_net.cc:10"), Subsystem::kCollNet);
  EXPECT_EQ(subsystem_of("nccl_net_ofi_domain_get_ep:969"), Subsystem::kNetPlugin);
  EXPECT_EQ(subsystem_of("", "NET/OFI Request completed with error"), Subsystem::kNetPlugin);
}

TEST(LogStructure, CodesAreDecodedFromTheirPrintedForms) {
  DecodedCodes c = decode_codes("Cuda failure 217 'peer access is not supported between these two devices'");
  EXPECT_EQ(c.cuda, 217);
  EXPECT_EQ(decode_codes("Cuda failure 'invalid argument'").cuda, 1);
  EXPECT_EQ(decode_codes("Failed to bind ... CUDA error 401 'the operation cannot be performed'").cuda, 401);
  DecodedCodes ib = decode_codes("NET/IB : Got completion from peer 1.2.3.4<5> with status=12 opcode=0 len=0");
  EXPECT_EQ(ib.ib_status, 12);
  EXPECT_EQ(ib.ib_status_name, "IBV_WC_RETRY_EXC_ERR");
  EXPECT_EQ(decode_codes("Got completion with error 4, opcode 1, len 0, vendor err 81").ib_status, 4);
  EXPECT_EQ(decode_codes("status=IBV_WC_RETRY_EXC_ERR(12) ... Got completion").ib_status, 12);
  DecodedCodes e = decode_codes("Error: failed to extend /dev/shm/nccl-x to 9 bytes, error: No space left on device (28)");
  EXPECT_EQ(e.err_no, 28);
  EXPECT_EQ(e.errno_name, "ENOSPC");
  DecodedCodes o = decode_codes("NET/OFI Request 0x7f completed with error. RC: 113. Error: 2 (UNDELIVERABLE).");
  EXPECT_EQ(o.ofi, 113);
  EXPECT_EQ(o.ofi_text, "UNDELIVERABLE");
  EXPECT_EQ(o.err_no, 113);
  EXPECT_EQ(decode_codes("NET/OFI Unable to register memory. RC: -22, Error: Invalid argument").err_no, 22);
  EXPECT_EQ(nccl_result_name(2), "unhandled system error");
  EXPECT_TRUE(has(hint_for(Subsystem::kShm, decode_codes("Cuda failure 217 'peer access is not supported'")),
                  "NCCL_CUMEM_HOST_ENABLE=0"));
}

TEST(LogStructure, AnUnknownFailureIsNamedBySubsystemCodeChainAndPhase) {
  // A CUDA failure from a file and wording no rule knows: still a specific root finding.
  Diagnosis d = run(
      "n1:7:8 [0] NCCL INFO comm 0x1 rank 0 nranks 2 cudaDev 0 busId 1b000 - Init START\n"
      "n1:7:8 [0] transport/frobnicate.cc:77 NCCL WARN Cuda failure 304 'OS call failed or operation not "
      "supported on this OS'\n"
      "n1:7:8 [0] NCCL INFO transport/frobnicate.cc:90 -> 1\n"
      "n1:7:8 [0] NCCL INFO transport.cc:165 -> 1\n"
      "n1:7:8 [0] NCCL INFO init.cc:1263 -> 1\n"
      "n1:7:8 [0] NCCL INFO group.cc:64 -> 1 [Async thread]\n");
  ASSERT_FALSE(d.findings.empty());
  const Finding& f = d.findings.front();
  EXPECT_EQ(f.id, "log.subsystem_failure");
  EXPECT_EQ(f.severity, Severity::kError);
  EXPECT_TRUE(has(f.message, "transport setup")) << f.message;
  EXPECT_TRUE(has(f.message, "CUDA error 304")) << f.message;
  EXPECT_TRUE(has(f.message, "ncclResult 1 (unhandled cuda error)")) << f.message;
  EXPECT_TRUE(has(f.message, "communicator setup") || has(f.message, "init")) << f.message;
  EXPECT_FALSE(has(f.message, "does not know"));
  EXPECT_FALSE(f.hint.empty());
  EXPECT_TRUE(has(f.evidence.front(), "frobnicate.cc:77")) << f.evidence.front();
  // The abort is a consequence that names its cause.
  const Finding* init = find_id(d, "init.failed");
  ASSERT_TRUE(init);
  EXPECT_TRUE(has(init->message, "Consequence of log.subsystem_failure")) << init->message;
  EXPECT_EQ(init->severity, Severity::kError);
  // A plain warning with no failure code or chain is a warning, still by subsystem.
  Diagnosis w = run("n1:7:8 [0] misc/strongstream.cc:12 NCCL WARN something new happened here\n");
  ASSERT_FALSE(w.findings.empty());
  EXPECT_EQ(w.findings.front().id, "log.subsystem_failure");
  EXPECT_EQ(w.findings.front().severity, Severity::kWarn);
}

TEST(LogStructure, ErrorTracesWithoutTheirWarnStillNameWhereItFailed) {
  Diagnosis d = run(
      "busybox:11537:11571 [3] NCCL INFO transport/net_ib.cc:282 -> 2\n"
      "busybox:11537:11571 [3] NCCL INFO transport/net_ib.cc:305 -> 2\n"
      "busybox:11537:11560 [3] NCCL INFO transport.cc:165 -> 2\n"
      "busybox:11537:11560 [3] NCCL INFO init.cc:1263 -> 2\n"
      "busybox:11537:11560 [3] NCCL INFO group.cc:64 -> 2 [Async thread]\n");
  ASSERT_FALSE(d.findings.empty());
  EXPECT_EQ(d.root, "log.subsystem_failure");
  EXPECT_TRUE(has(d.findings.front().message, "NET/IB transport")) << d.findings.front().message;
  EXPECT_TRUE(has(d.findings.front().message, "unhandled system error")) << d.findings.front().message;
}

TEST(LogStructure, PytorchOnlyLogsGetAReport) {
  // Only the framework's text: a DistBackendError block naming NVLS, no NCCL_DEBUG line.
  Diagnosis d = run(
      "torch.distributed.DistBackendError: NCCL error in: NCCLUtils.cpp:93, unhandled cuda error (run with "
      "NCCL_DEBUG=INFO for details), NCCL version 2.29.3\n"
      "ncclUnhandledCudaError: Call to CUDA function failed.\n"
      "Last error:\n"
      "Failed to bind NVLink SHARP (NVLS) Multicast memory of size 2097152 : CUDA error 401 'the operation cannot "
      "be performed in the present state'.\n");
  EXPECT_EQ(d.root, "nvls.alloc_failed");
  // The TORCH_DISTRIBUTED_DEBUG=DETAIL fingerprint check.
  Diagnosis m = run(
      "[rank0]: RuntimeError: Detected mismatch between collectives on ranks. Rank 0 is running collective: "
      "CollectiveFingerPrint(SequenceNumber=12, OpType=ALLREDUCE, TensorShape=[20, 10], TensorDtypes=Float), but "
      "Rank 1 is running collective: CollectiveFingerPrint(SequenceNumber=12, OpType=REDUCE, TensorShape=[20, 10], "
      "TensorDtypes=Float).\n");
  EXPECT_EQ(m.root, "app.collective_mismatch");
  EXPECT_TRUE(has(m.findings.front().message, "rank 0 runs ALLREDUCE")) << m.findings.front().message;
  EXPECT_TRUE(has(m.findings.front().message, "rank 1 runs REDUCE")) << m.findings.front().message;
  // A framework re-printing NCCL's message without its prefix.
  Diagnosis s = run("[rank1]: Error while attaching to shared memory segment /dev/shm/nccl-x (size 0), error: No "
                    "such file or directory (2)\n");
  EXPECT_EQ(s.root, "shm.cumem_host_failed");
}

TEST(LogStructure, FallbacksAreWarningsAndAbortsAreErrors) {
  Diagnosis d = run(
      "ib-vm-52:1:2 [7] sharp_plugin.c:320 NCCL WARN NET/IB : SHARP coll init error: Cannot create SHARP job(-11)\n"
      "ib-vm-41:3:4 [4] NCCL INFO init.cc:670 -> 2\n"
      "ib-vm-41:5:6 [0] transport.cc:323 NCCL WARN Cannot initialize CollNet, using point-to-point network instead\n"
      "ib-vm-41:5:6 [0] NCCL INFO comm 0x1 rank 0 nranks 16 cudaDev 0 busId 1b000 - Init COMPLETE\n");
  EXPECT_EQ(d.root, "collnet.fallback");
  EXPECT_EQ(d.findings.front().severity, Severity::kWarn);
  EXPECT_FALSE(find_id(d, "init.failed")) << d.verdict;
  // The same CollNet trouble inside an aborted init is an error with its cause.
  Diagnosis a = run(
      "h:1:2 [0] misc/shmutils.cc:88 NCCL WARN Error: failed to extend /dev/shm/nccl-a to 9637892 bytes, error: No "
      "space left on device (28)\n"
      "h:1:2 [0] NCCL INFO init.cc:1089 -> 2\n"
      "h:1:2 [0] NCCL INFO group.cc:65 -> 2 [Async thread]\n");
  EXPECT_EQ(a.root, "shm.too_small");
  const Finding* init = find_id(a, "init.failed");
  ASSERT_TRUE(init);
  EXPECT_EQ(init->severity, Severity::kError);
}

TEST(LogStructure, Error12IsBlamedOnTheGidIndexOnlyOnRoceAtTheFirstTransfers) {
  const std::string roce_setup =
      "a:1:2 [0] NCCL INFO NET/IB : Using [0]mlx5_0:1/RoCE ; OOB eth0:10.0.0.1<0>\n"
      "a:1:2 [0] NCCL INFO Channel 00/0 : 1[1] -> 0[0] [receive] via NET/IB/0/GDRDMA\n";
  const std::string err12 =
      "a:1:3 [0] transport/net_ib.cc:1696 NCCL WARN NET/IB : Got completion from peer 10.0.0.2<4> with error 12, "
      "opcode 0, len 0, vendor err 129\n";
  Diagnosis early = run(roce_setup + err12);
  EXPECT_EQ(early.root, "ib.roce_gid_index");
  // After the job made progress: a link or fabric problem, not the GID index.
  Diagnosis late = run(roce_setup +
                       "a:1:2 [0] NCCL INFO comm 0x1 rank 0 nranks 2 cudaDev 0 busId 1b000 - Init COMPLETE\n"
                       "a:1:2 [0] NCCL INFO AllReduce: opCount 5 sendbuff 0x1 recvbuff 0x2 count 4 datatype 7 op 0\n" +
                       err12);
  EXPECT_EQ(late.root, "ib.completion_error_12_timeout");
  EXPECT_FALSE(find_id(late, "ib.roce_gid_index"));
  // On InfiniBand the GID index is not a suspect at all.
  Diagnosis ib = run(
      "a:1:2 [0] NCCL INFO NET/IB : Using [0]mlx5_0:1/IB ; OOB eth0:10.0.0.1<0>\n"
      "a:1:2 [0] NCCL INFO Channel 00/0 : 1[1] -> 0[0] [receive] via NET/IB/0/GDRDMA\n" + err12);
  EXPECT_EQ(ib.root, "ib.completion_error_12_timeout");
  EXPECT_FALSE(find_id(ib, "ib.roce_gid_index"));
  // Port errors (a flapping link) explain the timeouts that follow.
  Diagnosis flap = run("a:1:4 [0] transport/net_ib.cc:101 NCCL WARN NET/IB : mlx5_0:1 Got async event : port error\n" +
                       err12);
  EXPECT_EQ(flap.root, "ib.port_error");
  EXPECT_FALSE(find_id(flap, "ib.roce_gid_index"));
}

TEST(LogStructure, APluginThatFailsToLoadIsNotAbsent) {
  Diagnosis absent = run(
      "a:1:1 [0] NCCL INFO NET/Plugin : Plugin load (libnccl-net.so) returned 2 : libnccl-net.so: cannot open shared "
      "object file: No such file or directory\n"
      "a:1:1 [0] NCCL INFO NET/Plugin : No plugin found, using internal implementation\n"
      "a:1:1 [0] NCCL INFO Using network IB\n");
  EXPECT_TRUE(find_id(absent, "net.plugin_absent_benign"));
  EXPECT_FALSE(find_id(absent, "net.plugin_load_failed"));
  Diagnosis broken = run(
      "a:1:1 [0] NCCL INFO NET/Plugin: Plugin load returned 2 : libfabric.so.1: cannot open shared object file: No "
      "such file or directory : when loading libnccl-net.so\n"
      "a:1:1 [0] NCCL INFO NET/Plugin: Using internal network plugin.\n"
      "a:1:1 [0] NCCL INFO Using network Socket\n");
  const Finding* f = find_id(broken, "net.plugin_load_failed");
  ASSERT_TRUE(f) << broken.verdict;
  EXPECT_TRUE(has(f->message, "libfabric.so.1")) << f->message;
  EXPECT_FALSE(find_id(broken, "net.plugin_absent_benign"));
  EXPECT_FALSE(find_id(broken, "log.healthy"));
}

TEST(LogStructure, HostsSharingANameAreToldApartByAddress) {
  Diagnosis d = run(
      "node:100:100 [0] NCCL INFO Bootstrap : Using eth0:10.0.0.1<0>\n"
      "node:200:200 [0] NCCL INFO Bootstrap : Using eth0:10.0.0.2<0>\n"
      "node:100:100 [0] NCCL INFO comm 0x1 rank 0 nranks 2 cudaDev 0 busId 1b000 - Init COMPLETE\n"
      "node:200:200 [0] NCCL INFO comm 0x2 rank 1 nranks 2 cudaDev 0 busId 1b000 - Init COMPLETE\n");
  const Finding* f = find_id(d, "host.duplicate_hostname");
  ASSERT_TRUE(f) << d.verdict;
  EXPECT_TRUE(has(f->message, "10.0.0.1") && has(f->message, "10.0.0.2")) << f->message;
  // One machine, several processes, one address: no finding.
  Diagnosis one = run(
      "node:100:100 [0] NCCL INFO Bootstrap : Using eth0:10.0.0.1<0>\n"
      "node:200:200 [1] NCCL INFO Bootstrap : Using eth0:10.0.0.1<0>\n");
  EXPECT_FALSE(find_id(one, "host.duplicate_hostname"));
}

TEST(LogStructure, APluginFunctionNameIsNeverAHost) {
  LogLine l = classify_line(
      "nccl_net_ofi_domain_get_ep:969 NCCL WARN NET/OFI Creating new endpoint for domain 0x7f failed: Invalid "
      "argument");
  EXPECT_EQ(l.kind, LineKind::kNcclWarn);
  EXPECT_TRUE(l.host.empty()) << l.host;
  EXPECT_EQ(l.src, "nccl_net_ofi_domain_get_ep:969");
  LogLine g = classify_line("[1,0]<stdout>:transport/nvls.cc:251 NCCL WARN Cuda failure 1 'invalid argument'");
  EXPECT_EQ(g.src, "transport/nvls.cc:251");
  Diagnosis d = run("ip-10-1:79:79 [0] nccl_net_ofi_domain_get_ep:969 NCCL WARN NET/OFI Creating new endpoint for "
                    "domain 0x7f failed: Invalid argument\n");
  EXPECT_EQ(d.root, "net.ofi_error");
  EXPECT_FALSE(has(d.findings.front().host, "nccl_net_ofi")) << d.findings.front().host;
}

TEST(LogStructure, ALogThatStopsDuringInitSaysSoWithoutAnUnrelatedFix) {
  Diagnosis d = run(
      "a:1:1 [0] NCCL INFO Bootstrap : Using eth0:10.0.0.1<0>\n"
      "b:2:2 [0] NCCL INFO Bootstrap : Using eth0:10.0.0.2<0>\n"
      "a:1:1 [0] NCCL INFO comm 0x1 rank 0 nranks 2 cudaDev 0 busId 1b000 - Init COMPLETE\n");
  ASSERT_FALSE(d.findings.empty());
  EXPECT_EQ(d.root, "hang.init");
  EXPECT_EQ(d.findings.front().severity, Severity::kWarn);
  EXPECT_TRUE(has(d.findings.front().message, "ends during init")) << d.findings.front().message;
  EXPECT_TRUE(has(d.findings.front().message, "the log is cut")) << d.findings.front().message;
  EXPECT_FALSE(find_id(d, "p2p.hang_iommu_acs"));
  EXPECT_FALSE(has(d.findings.front().hint, "IOMMU"));
}

TEST(LogStructure, AWatchdogTimeoutNamesTheRanksThatDidNotReport) {
  Diagnosis d = run(
      "a:1:1 [0] NCCL INFO comm 0x1 rank 0 nranks 4 cudaDev 0 busId 1b000 - Init COMPLETE\n"
      "[rank0]:[E321 02:07:08.408] ProcessGroupNCCL.cpp:607] [Rank 0] Watchdog caught collective operation timeout: "
      "WorkNCCL(SeqNum=1580, OpType=ALLREDUCE, NumelIn=4, NumelOut=4, Timeout(ms)=600000) ran for 600060 ms\n"
      "[rank1]:[E321 02:07:08.408] ProcessGroupNCCL.cpp:607] [Rank 1] Watchdog caught collective operation timeout: "
      "WorkNCCL(SeqNum=1580, OpType=ALLREDUCE, NumelIn=4, NumelOut=4, Timeout(ms)=600000) ran for 600060 ms\n"
      "[rank2]:[E321 02:07:08.408] ProcessGroupNCCL.cpp:607] [Rank 2] Watchdog caught collective operation timeout: "
      "WorkNCCL(SeqNum=1580, OpType=ALLREDUCE, NumelIn=4, NumelOut=4, Timeout(ms)=600000) ran for 600060 ms\n");
  const Finding* f = find_id(d, "hang.watchdog_timeout");
  ASSERT_TRUE(f) << d.verdict;
  EXPECT_TRUE(has(f->message, "rank(s) 3 of 4 did not report")) << f->message;
}

// A WARN from the OFI net plugin is the plugin's failure whatever it says; its INFO lines are not.
TEST(LogStructure, AnyWarnOfTheOfiPluginIsAPluginFailure) {
  Diagnosis d = run(
      "h1:10:11 [0] NCCL INFO NET/OFI Initializing aws-ofi-nccl 1.9.1\n"
      "h1:10:11 [0] nccl_net_ofi_init:1262 NCCL WARN NET/OFI Only 0 NICs visible to this process\n"
      "h1:10:11 [0] NCCL INFO init.cc:1500 -> 2\n");
  EXPECT_EQ(d.root, "net.ofi_error") << d.verdict;
  Diagnosis ok = run(
      "h1:10:11 [0] NCCL INFO NET/OFI Selected Provider is efa (found 4 nics)\n"
      "h1:10:11 [0] NCCL INFO Using network AWS Libfabric\n");
  EXPECT_FALSE(find_id(ok, "net.ofi_error")) << ok.verdict;
}

// A connect that fails towards an fe80:: address blames the link-local choice, even when only
// one host name is in the log; the same failure towards a routable address does not.
TEST(LogStructure, AFailedConnectToALinkLocalAddressBlamesTheAddress) {
  Diagnosis d = run(
      "n1:5:6 [0] NCCL INFO Bootstrap : Using eth1:fe80::a:b:c:d%eth1<0>\n"
      "n1:5:7 [0] misc/socket.cc:484 NCCL WARN socketStartConnect: Connect to fe80::1:2:3:4%eth1<41231> failed : "
      "Connection timed out\n"
      "n1:5:7 [0] NCCL INFO bootstrap.cc:120 -> 2\n");
  EXPECT_EQ(d.root, "net.ipv6_link_local") << d.verdict;
  const Finding* f = find_id(d, "net.ipv6_link_local");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->severity, Severity::kError);
  Diagnosis v4 = run(
      "n1:5:6 [0] NCCL INFO Bootstrap : Using eth0:10.0.0.1<0>\n"
      "n1:5:7 [0] misc/socket.cc:484 NCCL WARN socketStartConnect: Connect to 10.0.0.2<41231> failed : Connection "
      "timed out\n"
      "n1:5:7 [0] NCCL INFO bootstrap.cc:120 -> 2\n");
  EXPECT_FALSE(find_id(v4, "net.ipv6_link_local")) << v4.verdict;
  EXPECT_NE(v4.root, "");
}

// Two ends of one transfer that disagree on its size were configured (or called) differently,
// whichever transport says so.
TEST(LogStructure, TwoEndsThatDisagreeOnATransferSizeAreInconsistentPeers) {
  Diagnosis d = run(
      "gpu3:40:41 [1] include/socket.h:410 NCCL WARN Net : Message truncated : receiving 4096 bytes instead of 1024\n"
      "gpu3:40:41 [1] NCCL INFO transport/net_socket.cc:520 -> 3\n");
  EXPECT_EQ(d.root, "config.inconsistent_across_nodes") << d.verdict;
  EXPECT_FALSE(find_id(d, "log.subsystem_failure"));
}

}  // namespace
}  // namespace ncd::nccl
