// SPDX-License-Identifier: Apache-2.0
// The line classifier and the message parsers, per line kind and per NCCL version's format.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "core/finding.hpp"
#include "checks/log_rules.hpp"
#include "nccl/log_line.hpp"

// The log rules moved to checks/ (issue 14); the log tests keep their names.
namespace ncd::nccl {
using checks::analyze;
using checks::analyze_files;
using checks::Diagnosis;
}  // namespace ncd::nccl

namespace ncd::nccl {
namespace {

TEST(LogLine, StandardInfoAndWarnPrefix) {
  auto l = classify_line("dgx01:2017630:2017699 [5] NCCL INFO Channel 03/0 : 5[5] -> 12[4] [send] via NET/IB/3");
  EXPECT_EQ(l.kind, LineKind::kNcclInfo);
  EXPECT_EQ(l.host, "dgx01");
  EXPECT_EQ(l.pid, 2017630);
  EXPECT_EQ(l.tid, 2017699);
  EXPECT_EQ(l.dev, 5);
  EXPECT_EQ(l.msg, "Channel 03/0 : 5[5] -> 12[4] [send] via NET/IB/3");
  auto w = classify_line("node23:12098:12141 [2] transport/nvls.cc:244 NCCL WARN Cuda failure 1 'invalid argument'");
  EXPECT_EQ(w.kind, LineKind::kNcclWarn);
  EXPECT_EQ(w.host, "node23");
  EXPECT_EQ(w.src, "transport/nvls.cc:244");
  EXPECT_EQ(w.msg, "Cuda failure 1 'invalid argument'");
  // Garbage device field when CUDA failed; hostnames starting with digits.
  auto g = classify_line("6f2d8a82d208:1287:1287 [32523] NCCL INFO Bootstrap : Using lo:127.0.0.1<0>");
  EXPECT_EQ(g.host, "6f2d8a82d208");
  EXPECT_EQ(g.dev, 32523);
}

TEST(LogLine, Pre23FormatWithoutNcclToken) {
  auto l = classify_line("learngpu060:3728589:3730445 [2] INFO Ring 00 : 2[2] -> 3[3] via P2P/IPC");
  EXPECT_EQ(l.kind, LineKind::kNcclInfo);
  EXPECT_TRUE(l.old_format);
  EXPECT_EQ(l.host, "learngpu060");
  EXPECT_EQ(l.msg, "Ring 00 : 2[2] -> 3[3] via P2P/IPC");
  auto w = classify_line("misc/ibvwrap.cu:60 WARN Failed to open libibverbs.so[.1]");
  EXPECT_EQ(w.kind, LineKind::kNcclWarn);
  EXPECT_EQ(w.src, "misc/ibvwrap.cu:60");
  EXPECT_TRUE(w.host.empty());
  // Application text with the word INFO is not an NCCL record.
  EXPECT_EQ(classify_line("2024-01-01 INFO starting epoch 3").kind, LineKind::kOther);
}

TEST(LogLine, LauncherPrefixes) {
  auto o = classify_line("[1,3]<stdout>:smc-gpu-03:29881:30401 [0] NCCL INFO init.cc:903 -> 5");
  EXPECT_EQ(o.host, "smc-gpu-03");
  EXPECT_EQ(o.launcher_rank, 3);
  EXPECT_EQ(o.pid, 29881);
  auto r = classify_line("(pid=909608) z-pc:909608:910337 [0] NCCL INFO Channel 00 : 0[2d000] -> 1[2e000] via P2P/IPC");
  EXPECT_EQ(r.host, "z-pc");
  auto p = classify_line("node01: VM-0-14-centos:106:196 [0] transport/net_ib.cc:73 NCCL WARN NET/IB : Got async event : GID table change");
  EXPECT_EQ(p.host, "VM-0-14-centos");
  EXPECT_EQ(p.src, "transport/net_ib.cc:73");
  auto t = classify_line("[trainer3]:twshared1016:1958:1958 [3] NCCL INFO NCCL_SOCKET_IFNAME set by environment to eth2");
  EXPECT_EQ(t.host, "twshared1016");
  auto ci = classify_line("[2026-04-22 21:34:20] mt-runner:202016:202235 [0] misc/shmutils.cc:88 NCCL WARN Error: failed");
  EXPECT_EQ(ci.host, "mt-runner");
  EXPECT_EQ(ci.kind, LineKind::kNcclWarn);
  auto cw = classify_line("  | 2024-11-28T07:42:14.532Z | ip-10-0-0-1:77:88 [1] NCCL INFO Using network AWS Libfabric");
  EXPECT_EQ(cw.host, "ip-10-0-0-1");
  EXPECT_EQ(cw.msg, "Using network AWS Libfabric");
  auto ansi = classify_line("[0m ip-172-31-0-137:14605:14673 [0] NCCL INFO Using network Socket");
  EXPECT_EQ(ansi.host, "ip-172-31-0-137");
  auto wrapper = classify_line("rank_604.host.job.log:[0604/1024][2024-05-01 10:00:00] [net.cc:12] [gpu604:pid=77] NCCL WARN NET/IB : Got completion from peer 10.0.0.1<1> with status=12 opcode=0 len=0 vendor err 129 (Recv)");
  EXPECT_EQ(wrapper.kind, LineKind::kNcclWarn);
  EXPECT_EQ(wrapper.host, "gpu604");
  EXPECT_EQ(wrapper.pid, 77);
  auto redacted = classify_line("[2026-03-13 22:26:02] host-01.example.com:XXXXXX [5] ibvwrap.c:262 NCCL WARN Call to ibv_modify_qp failed");
  EXPECT_EQ(redacted.host, "host-01.example.com");
  EXPECT_EQ(redacted.src, "ibvwrap.c:262");
  EXPECT_EQ(strip_launcher("[1,2]<stdout>:# Avg bus bandwidth : 3"), "# Avg bus bandwidth : 3");
  EXPECT_EQ(strip_launcher("[default1]:(pid=3) node7: text"), "text");
}

TEST(LogLine, StrippedPrefixes) {
  auto a = classify_line("NCCL INFO NET/IB : No device found.");
  EXPECT_EQ(a.kind, LineKind::kNcclInfo);
  EXPECT_TRUE(a.host.empty());
  auto b = classify_line("[3] NCCL INFO Channel 00/0 : 3[3] -> 0[0] via P2P/CUMEM/read");
  EXPECT_EQ(b.dev, 3);
  auto c = classify_line("include/shm.h:28 NCCL WARN Call to posix_fallocate failed: No space left on device");
  EXPECT_EQ(c.kind, LineKind::kNcclWarn);
  EXPECT_EQ(c.src, "include/shm.h:28");
  auto d = classify_line("[0] misc/ibvwrap.cc:63 NCCL WARN Failed to open libibverbs.so[.1]");
  EXPECT_EQ(d.dev, 0);
  EXPECT_EQ(d.src, "misc/ibvwrap.cc:63");
}

TEST(LogLine, CarriersOutsideNccl) {
  EXPECT_EQ(classify_line("NCCL version 2.7.8+cuda11.0").kind, LineKind::kVersionBanner);
  auto t = classify_line("RuntimeError: NCCL error in: /pytorch/torch/lib/c10d/ProcessGroupNCCL.cpp:31, unhandled cuda error, NCCL version 2.7.8");
  EXPECT_EQ(t.kind, LineKind::kTorchError);
  EXPECT_EQ(classify_line("[trainer0|0]:ncclInternalError: Internal check failed.").kind, LineKind::kTorchError);
  auto le = classify_line("opt-1_3b.0 [stderr] Last error:");
  EXPECT_EQ(le.kind, LineKind::kLastErrorHeader);
  EXPECT_EQ(le.prefix, "opt-1_3b.0 [stderr] ");
  auto w = classify_line("    [rank7]:[E816 01:45:40.183009389 ProcessGroupNCCL.cpp:607] [Rank 7] Watchdog caught collective operation timeout: WorkNCCL(SeqNum=80078, OpType=BROADCAST, NumelIn=5056, NumelOut=5056, Timeout(ms)=600000) ran for 600026 milliseconds before timing out.");
  EXPECT_EQ(w.kind, LineKind::kWatchdog);
  EXPECT_EQ(w.launcher_rank, 7);
  EXPECT_EQ(classify_line(" Test NCCL failure common.cu:1005 'unhandled system error'").kind, LineKind::kTestsFailure);
  EXPECT_EQ(classify_line("Cuda failure common.cu:891 'CUDA driver version is insufficient for CUDA runtime version'").kind,
            LineKind::kTestsFailure);
  EXPECT_EQ(classify_line("| NVIDIA-SMI 384.81                 Driver Version: 384.81                    |").kind,
            LineKind::kNvidiaSmi);
  EXPECT_EQ(classify_line("cpu-bind=NONE - gh1, task  0  0 [180172]: mask 0xffffffffffffffffff").kind, LineKind::kSlurm);
  EXPECT_EQ(classify_line("").kind, LineKind::kBlank);
  EXPECT_EQ(classify_line("Traceback (most recent call last):").kind, LineKind::kOther);
}

TEST(LogLine, NcclTestsOutput) {
  EXPECT_EQ(classify_line("# nThread 1 nGpus 8 minBytes 8 maxBytes 134217728 step: 2(factor) warmup iters: 5").kind,
            LineKind::kTestsHeader);
  EXPECT_EQ(classify_line("#  Rank  0 Group  0 Pid   6899 on ztan-mig-235z device  0 [0000:04:00] NVIDIA H100 80GB HBM3").kind,
            LineKind::kTestsDevice);
  EXPECT_EQ(classify_line("#   Rank  0 Pid  15833 on jupyter-vmarkovtsev device  0 [0x02] GeForce GTX 1080 Ti").kind,
            LineKind::kTestsDevice);
  EXPECT_EQ(classify_line("# Avg bus bandwidth    : 70.742 ").kind, LineKind::kTestsAvg);
  EXPECT_EQ(classify_line("  8589934592    2147483648     float     sum      -1    47535  180.71  338.82      0    47743  179.92  337.35      0").kind,
            LineKind::kTestsRow);
  // Old layout without the root column, and the per-size busbw it carries.
  LogIngest in;
  in.add_text("# nThread 1 nGpus 2 minBytes 8 maxBytes 8\n"
              "   134217728      33554432     float     sum    29770    4.51    4.51  0e+00    29873    4.49    4.49  0e+00\n"
              "  8589934592    2147483648     float     sum      -1    47535  180.71  338.82      0    47743  179.92  337.35      0\n"
              "# Avg bus bandwidth    : 70.742\n",
              "t.log");
  RunLog log = in.take();
  ASSERT_EQ(log.tests.peak_rows.size(), 2u);
  EXPECT_DOUBLE_EQ(log.tests.peak_rows[0].busbw, 4.51);
  EXPECT_DOUBLE_EQ(log.tests.peak_rows[1].busbw, 338.82);
  EXPECT_EQ(log.tests.peak_rows[1].wrong, 0);
  ASSERT_EQ(log.tests.avg_busbw.size(), 1u);
  EXPECT_DOUBLE_EQ(log.tests.avg_busbw[0].first, 70.742);
}

TEST(LogLine, TwoRecordsOnOnePhysicalLine) {
  std::string padded =
      "[1,0]<stdout>:chifflot-7:67917:67949 [0] init.cc:748 NCCL WARN Duplicate GPU detected : rank 0 and rank 1 both "
      "on CUDA device 3b000" + std::string(60, ' ') + "[1,0]<stdout>:chifflot-7:67917:67949 [0] NCCL INFO init.cc:1309 -> 5" +
      std::string(40, ' ') + "\n";
  LogIngest in;
  in.add_text(padded, "tty.log");
  RunLog log = in.take();
  EXPECT_EQ(log.split_records, 1);
  int warns = 0, traces = 0;
  for (const auto& e : log.events) {
    warns += e.kind == EventKind::kWarn;
    traces += e.kind == EventKind::kTrace;
  }
  EXPECT_EQ(warns, 1);
  EXPECT_EQ(traces, 1);
}

TEST(LogLine, ConnectionsAcrossVersions) {
  ConnLine c;
  // 2.0/2.1
  ASSERT_TRUE(parse_connection("0 -> 1 via P2P/IPC", c));
  EXPECT_EQ(c.from, 0);
  EXPECT_EQ(c.to, 1);
  EXPECT_EQ(c.via, "P2P/IPC");
  // 2.4 ring with NET and no device ids
  c = {};
  ASSERT_TRUE(parse_connection("Ring 00 : 0 -> 1 [send] via NET/IB/0", c));
  EXPECT_TRUE(c.ring_syntax);
  EXPECT_EQ(c.dir, 1);
  // 2.5-2.6: busIds, SHM wording
  c = {};
  ASSERT_TRUE(parse_connection("Ring 00 : 2[3d000] -> 3[3e000] via direct shared memory", c));
  EXPECT_EQ(c.from_dev, "3d000");
  EXPECT_EQ(c.via, "direct shared memory");
  // 2.7-2.13: Channel without conn index
  c = {};
  ASSERT_TRUE(parse_connection("Channel 00 : 1[1e0] -> 0[1e0] [receive] via NET/Socket/0", c));
  EXPECT_EQ(c.dir, 2);
  EXPECT_EQ(c.conn_index, 0);
  // 2.14+: conn index, GDR, PXN proxy, plugin names with spaces
  c = {};
  ASSERT_TRUE(parse_connection("Channel 07/1 : 13[5] -> 4[4] [receive] via NET/IBext_v8/4/GDRDMA", c));
  EXPECT_EQ(c.channel, 7);
  EXPECT_EQ(c.conn_index, 1);
  c = {};
  ASSERT_TRUE(parse_connection("Channel 02/0 : 8[0] -> 0[0] [receive] via NET/AWS Libfabric/0/GDRDMA", c));
  EXPECT_EQ(c.via, "NET/AWS Libfabric/0/GDRDMA");
  c = {};
  ASSERT_TRUE(parse_connection("Channel 00/0 : 7[7] -> 6[6] via P2P/direct pointer/read", c));
  EXPECT_EQ(c.via, "P2P/direct pointer/read");
  c = {};
  EXPECT_FALSE(parse_connection("Channel 00/04 :    0   1", c));
  int ch = -1, count = 0, ranks[8];
  ASSERT_TRUE(parse_ring_listing("Channel 01/04 :    0   1   3   2", ch, ranks, 8, count));
  EXPECT_EQ(ch, 1);
  EXPECT_EQ(count, 4);
  EXPECT_EQ(ranks[2], 3);
  ASSERT_TRUE(parse_ring_listing("Ring 00 :    0   1   2   3   7   4", ch, ranks, 8, count));
  EXPECT_EQ(count, 6);
}

TEST(LogLine, ConnectionModelKeepsNetDetails) {
  LogIngest in;
  in.add_text("n1:1:2 [0] NCCL INFO NCCL version 2.21.5+cuda12.4\n"
              "n1:1:2 [0] NCCL INFO Channel 00/0 : 0[0] -> 8[0] [send] via NET/IB/0(1)/GDRDMA\n"
              "n1:1:2 [0] NCCL INFO Channel 00/0 : 0[0] -> 8[0] [send] via NET/IB/0(1)/GDRDMA\n"
              "n1:1:2 [0] NCCL INFO Channel 00/0 : 0[0] -> 1[1] via P2P/CUMEM/read\n"
              "n1:1:2 [0] NCCL INFO Trees [0] 1/-1/-1->0->-1 [1] -1/-1/-1->0->1\n",
              "m.log");
  RunLog log = in.take();
  ASSERT_EQ(log.connections.size(), 2u);  // the repeated line is deduplicated
  const Connection& n = log.connections[0];
  EXPECT_EQ(n.kind, TransportKind::kNet);
  EXPECT_EQ(n.net, "IB");
  EXPECT_EQ(n.net_dev, 0);
  EXPECT_EQ(n.proxy_rank, 1);
  EXPECT_TRUE(n.gdr);
  EXPECT_EQ(n.dir, ConnDir::kSend);
  EXPECT_EQ(log.connections[1].kind, TransportKind::kP2P);
  ASSERT_EQ(log.trees.size(), 2u);
  EXPECT_EQ(log.trees[0].down, std::vector<int>{1});
  EXPECT_EQ(log.trees[1].up, 1);
  EXPECT_TRUE(log.multi_node());
  EXPECT_EQ(log.version.minor, 21);
}

TEST(LogLine, TracesAndMessages) {
  TraceLine t;
  ASSERT_TRUE(parse_trace("group.cc:75 -> 1 [Async thread]", t));
  EXPECT_EQ(t.file, "group.cc");
  EXPECT_EQ(t.result, 1);
  ASSERT_TRUE(parse_trace("misc/socket.cc:567 -> 2 (Connection refused)", t));
  EXPECT_FALSE(parse_trace("comm 0x1 rank 0 nranks 2 -> x", t));
  int code = 0;
  // IB completion wording per version: <=2.11, 2.12-2.18, 2.19-2.27, 2.28.
  EXPECT_EQ(classify_message("NET/IB : Got completion with error 12, opcode 1, len 0, vendor err 129", "", &code),
            kSigIbCompletion);
  EXPECT_EQ(code, 12);
  EXPECT_EQ(classify_message("NET/IB : Got completion from peer 10.1.1.1<5> with error 4, opcode 32564, len 32564, vendor err 81 (Send)", "", &code),
            kSigIbCompletion);
  EXPECT_EQ(code, 4);
  EXPECT_EQ(classify_message("NET/IB : Got completion from peer 192.168.1.2<57888> with status=5 opcode=1 len=0 vendor err 249 (Recv)", "", &code),
            kSigIbCompletion);
  EXPECT_EQ(code, 5);
  EXPECT_EQ(classify_message("NET/IB: Got completion from peer 10.0.0.2<4> with status=IBV_WC_RETRY_EXC_ERR(12) opcode=IBV_WC_SEND(0) reqSize=0", "", &code),
            kSigIbCompletion);
  EXPECT_EQ(code, 12);
  EXPECT_EQ(classify_message("Call to ibv_reg_mr_iova2 failed with error Cannot allocate memory", "", &code), kSigRegMr);
  EXPECT_EQ(code, 12);
  EXPECT_EQ(classify_message("Cuda failure 1 'invalid argument'", "transport/nvls.cc:244", &code), kSigNvls);
  EXPECT_EQ(classify_message("Cuda failure 'out of memory'", "include/alloc.h:178", &code), kSigOom);
  EXPECT_EQ(classify_message("socketPollConnect: Connect to 10.0.0.4<56849> returned 113(No route to host) errno 115(Operation now in progress)", "", &code),
            kSigNoRoute);
  EXPECT_EQ(classify_message("Call to ibv_modify_qp failed with 110 Connection timed out, on dev mlx_x:1, curr state INIT, next state RTR", "", &code),
            kSigModifyQp);
  EXPECT_EQ(code, 110);
  EXPECT_EQ(classify_message("NET/IB : mlx5_0:1 async fatal event: local work queue catastrophic error", "", &code),
            kSigAsyncWq);
}

TEST(LogLine, PathTypesFollowTheVersionBanner) {
  auto v27 = *NcclVersion::parse("2.7.8+cuda11.0");
  auto v212 = *NcclVersion::parse("2.12.12");
  auto v226 = *NcclVersion::parse("2.26.2");
  auto v2275 = *NcclVersion::parse("2.27.5");
  EXPECT_EQ(path_type_name(4, v27), "PHB");
  EXPECT_EQ(path_type_name(4, v212), "PXB");
  EXPECT_EQ(path_type_name(5, v212), "PXN");
  EXPECT_EQ(path_type_name(3, v226), "C2C");
  EXPECT_EQ(path_type_name(6, v2275), "P2C");
  EXPECT_EQ(path_type_name(7, v2275), "PXN");
  EXPECT_FALSE(NcclVersion::parse("version").has_value());
  auto v = NcclVersion::parse("2.20.3-1");
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->at_least(2, 20));
  EXPECT_TRUE(v->before(2, 21));
}

TEST(LogLine, HardWrappedVersionAndLastErrorBlock) {
  LogIngest in;
  in.add_text("opt.0 [stderr] DistBackendError: NCCL error in: ProcessGroupNCCL.cpp:1275, internal error, NCCL\n"
              "version 2.14.3\n"
              "opt.0 [stderr] ncclInternalError: Internal check failed.\n"
              "opt.0 [stderr] Last error:\n"
              "opt.0 [stderr] Failed to find reverse path from remNode 0/5f000 nlinks 4 to node 0/cb000\n",
              "w.log");
  RunLog log = in.take();
  EXPECT_EQ(log.version.text, "2.14.3");
  Diagnosis d = analyze(log);
  EXPECT_EQ(d.root, "version.nccl_too_old_for_gpu");
}

TEST(LogLine, HealthyNewFormatRunIsHealthy) {
  LogIngest in;
  in.add_text(
      "a:1:1 [0] NCCL INFO NCCL version 2.28.9+cuda13.0\n"
      "a:1:1 [0] NCCL INFO Bootstrap: Using eth0:10.0.0.1<0>\n"
      "b:2:2 [0] NCCL INFO Bootstrap: Using eth0:10.0.0.2<0>\n"
      "a:1:1 [0] NCCL INFO NET/IB : Using [0]mlx5_0:1/IB [RO]; OOB eth0:10.0.0.1<0>\n"
      "a:1:1 [0] NCCL INFO Using network IB\n"
      "b:2:2 [0] NCCL INFO Using network IB\n"
      "a:1:1 [0] NCCL INFO ncclCommInitRankConfig comm 0x1 rank 0 nranks 2 cudaDev 0 nvmlDev 0 busId 1b000 commId 0x5 - Init START\n"
      "b:2:2 [0] NCCL INFO ncclCommInitRankConfig comm 0x2 rank 1 nranks 2 cudaDev 0 nvmlDev 0 busId 1b000 commId 0x5 - Init START\n"
      "a:1:1 [0] NCCL INFO Channel 00/0 : 1[0] -> 0[0] [receive] via NET/IB/0/GDRDMA\n"
      "a:1:1 [0] NCCL INFO Channel 00/0 : 0[0] -> 1[0] [send] via NET/IB/0/GDRDMA\n"
      "b:2:2 [0] NCCL INFO Channel 00/0 : 0[0] -> 1[0] [receive] via NET/IB/0/GDRDMA\n"
      "a:1:1 [0] NCCL INFO Connected all rings, use ring PXN 0 GDR 1\n"
      "a:1:1 [0] NCCL INFO ncclCommInitRankConfig comm 0x1 rank 0 nranks 2 cudaDev 0 nvmlDev 0 busId 1b000 commId 0x5 - Init COMPLETE\n"
      "b:2:2 [0] NCCL INFO ncclCommInitRankConfig comm 0x2 rank 1 nranks 2 cudaDev 0 nvmlDev 0 busId 1b000 commId 0x5 - Init COMPLETE\n",
      "ok.log");
  RunLog log = in.take();
  EXPECT_EQ(log.nranks, 2);
  EXPECT_EQ(log.ranks.at(1).host, "b");
  EXPECT_EQ(log.hosts.at("a").stage, Stage::kInitComplete);
  EXPECT_EQ(log.hosts.at("a").gdr_connections, 2);
  Diagnosis d = analyze(log);
  EXPECT_TRUE(d.root.empty()) << d.root;
  for (const auto& f : d.findings) EXPECT_EQ(f.severity, Severity::kInfo) << f.id;
  ASSERT_FALSE(d.findings.empty());
  EXPECT_EQ(d.findings.back().id, "log.healthy");
}

// The prefix cache must give exactly what a fresh parse gives, on hits as on misses, and the
// views must point into the line given (not into the cached bytes).
TEST(LogLine, PrefixCacheGivesTheSameFieldsAsAFreshParse) {
  const char* lines[] = {
      "dgx01:2017630:2017699 [5] NCCL INFO Channel 03/0 : 5[5] -> 12[4] [send] via NET/IB/3",
      "dgx01:2017630:2017699 [5] NCCL INFO Connected all rings",
      "node23:12098:12141 [2] transport/nvls.cc:244 NCCL WARN Cuda failure 1 'invalid argument'",
      "node23:12098:12141 [2] transport/net.cc:12 NCCL WARN other",
      "[1,3]<stdout>:smc-gpu-03:29881:30401 [0] NCCL INFO init.cc:903 -> 5",
      "(pid=909608) z-pc:909608:910337 [0] NCCL INFO Channel 00 : 0[2d000] -> 1[2e000] via P2P/IPC",
      "learngpu060:3728589:3730445 [2] INFO Ring 00 : 2[2] -> 3[3] via P2P/IPC",
      "[2026-03-13 22:26:02] host-01.example.com:XXXXXX [5] ibvwrap.c:262 NCCL WARN Call to ibv_modify_qp failed",
      "rank_604.host.job.log:[0604/1024][2024-05-01 10:00:00] [net.cc:12] [gpu604:pid=77] NCCL WARN NET/IB : x",
      "NCCL INFO NET/IB : No device found.",
      "[3] NCCL INFO Channel 00/0 : 3[3] -> 0[0] via P2P/CUMEM/read",
      "node01: VM-0-14-centos:106:196 [0] transport/net_ib.cc:73 NCCL WARN NET/IB : Got async event : GID table change",
  };
  auto cache_owner = std::make_unique<PrefixCache>();  // large: not on the stack
  PrefixCache& cache = *cache_owner;
  for (int pass = 0; pass < 3; ++pass) {
    for (const char* c : lines) {
      std::string copy(c);  // a different buffer each time: views must follow the line
      LogLine a = classify_line(copy);
      LogLine b = classify_line(copy, cache);
      EXPECT_EQ(a.kind, b.kind) << c;
      EXPECT_EQ(a.host, b.host) << c;
      EXPECT_EQ(a.pid, b.pid) << c;
      EXPECT_EQ(a.tid, b.tid) << c;
      EXPECT_EQ(a.dev, b.dev) << c;
      EXPECT_EQ(a.launcher_rank, b.launcher_rank) << c;
      EXPECT_EQ(a.src, b.src) << c;
      EXPECT_EQ(a.msg, b.msg) << c;
      EXPECT_EQ(a.prefix, b.prefix) << c;
      EXPECT_EQ(a.old_format, b.old_format) << c;
      if (!b.host.empty()) {
        EXPECT_GE(b.host.data(), copy.data()) << c;
        EXPECT_LE(b.host.data() + b.host.size(), copy.data() + copy.size()) << c;
      }
      if (pass > 0 && b.kind != LineKind::kNcclOther) {
        EXPECT_GE(b.prefix_slot, 0) << c;
      }
    }
  }
}

}  // namespace
}  // namespace ncd::nccl
