// SPDX-License-Identifier: Apache-2.0
// The NCCL log rules: the WARN lines that name their fault, and the settings that explain them. Pure over the run model.
#include "checks/log_rules_detail.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "core/catalogue.hpp"
#include "core/error.hpp"
#include "core/text.hpp"
#include "nccl/log_line.hpp"
#include "nccl/log_structure.hpp"

namespace ncd::checks::log_rules {
// ---------------------------------------------------------------------------------------------
// Rules. Each adds candidates; ordering happens at the end.

/// WARN lines that name their fault: the GPU, CUDA and memory faults NCCL names.
void rule_explicit_gpu(const RunLog& log, Builder& b) {
  if (auto evs = events_of(log, kSigDuplicateGpu); !evs.empty()) {
    std::set<std::string> devs;
    std::set<int> ranks;
    for (const auto* e : evs) {
      // "Duplicate GPU detected : rank 2 and rank 0 both on CUDA device 1000"
      std::string_view m = e->message;
      std::size_t p = m.find("rank ");
      long r = -1;
      while (p != std::string_view::npos) {
        if (parse_int(m.substr(p + 5), r)) ranks.insert(static_cast<int>(r));
        p = m.find("rank ", p + 5);
      }
      std::size_t d = m.find("device ");
      if (d != std::string_view::npos) devs.insert(std::string(trim(m.substr(d + 7))));
    }
    std::vector<int> rv(ranks.begin(), ranks.end());
    auto& f = b.add("gpu.duplicate", kTierExplicit, hosts_text(hosts_of(evs)),
                    fmt::format("ranks {} on device {}", format_ranges(rv), join({devs.begin(), devs.end()}, ",")),
                    fmt::format("Ranks {} selected the same GPU (CUDA device/busId {}); NCCL refuses two ranks on one "
                                "device (ncclInvalidUsage){}.",
                                format_ranges(rv), join({devs.begin(), devs.end()}, ", "),
                                count_note(log, kSigDuplicateGpu, evs.size())),
                    first_at(evs));
    add_evidence(f, b, evs);
  }
  if (auto evs = events_of(log, kSigShm); !evs.empty()) {
    auto& f = b.add("shm.too_small", kTierExplicit, hosts_text(hosts_of(evs)), "/dev/shm",
                    fmt::format("NCCL could not create its shared-memory segments in /dev/shm (no space left){}: the "
                                "container's /dev/shm is too small or full.",
                                count_note(log, kSigShm, evs.size())),
                    first_at(evs));
    add_evidence(f, b, evs);
  }
  if (auto evs = events_of(log, kSigOom); !evs.empty()) {
    auto& f = b.add("mem.gpu_oom", kTierExplicit, hosts_text(hosts_of(evs)), "GPU memory",
                    fmt::format("GPU memory ran out while NCCL allocated its buffers{}.",
                                count_note(log, kSigOom, evs.size())),
                    first_at(evs));
    add_evidence(f, b, evs);
  }
  if (auto evs = events_of(log, kSigDriverTooOld); !evs.empty()) {
    std::string drv = log.driver_version.empty() ? "" : fmt::format(" (driver {})", log.driver_version);
    auto& f = b.add("cuda.driver_too_old", kTierExplicit, hosts_text(hosts_of(evs)), "NVIDIA driver",
                    fmt::format("The NVIDIA driver{} is older than the CUDA runtime the binaries were built with.", drv),
                    first_at(evs));
    add_evidence(f, b, evs);
    if (!log.driver_quote.empty()) f.evidence.push_back(b.ev(log.driver_quote));
  }
  if (auto evs = events_of(log, kSigArch); !evs.empty()) {
    std::string gpus = log.tests.gpu_names.empty() ? "" : " (" + join(log.tests.gpu_names, ", ") + ")";
    auto& f = b.add("cuda.arch_unsupported", kTierExplicit, hosts_text(hosts_of(evs)), "GPU architecture",
                    fmt::format("NCCL's kernels cannot run on this GPU{}: the NCCL build has no code for its "
                                "architecture{}.",
                                gpus, count_note(log, kSigArch, evs.size())),
                    first_at(evs));
    add_evidence(f, b, evs);
  }
  if (auto evs = events_of(log, kSigCuda802); !evs.empty()) {
    auto& f = b.add("cuda.system_not_initialized", kTierExplicit, hosts_text(hosts_of(evs)), "CUDA",
                    "CUDA reports 'system not yet initialized' (802): on NVSwitch systems the fabric manager is not "
                    "ready.",
                    first_at(evs));
    add_evidence(f, b, evs);
    auto& g = b.add("nvswitch.fabric_manager", kTierExplicit + 1, hosts_text(hosts_of(evs)), "nvidia-fabricmanager",
                    "Error 802 on an NVSwitch system points at nvidia-fabricmanager (stopped, failed, or version "
                    "mismatch with the driver).",
                    first_at(evs));
    add_evidence(g, b, evs, 1);
  }
  if (auto evs = events_of(log, kSigNvls); !evs.empty()) {
    auto& f = b.add("nvls.alloc_failed", kTierExplicit, hosts_text(hosts_of(evs)), "NVLS",
                    "NVLink SHARP (NVLS) multicast memory could not be allocated (CUDA error in transport/nvls.cc).",
                    first_at(evs));
    add_evidence(f, b, evs);
    for (const auto& e : log.events)
      if (e.kind == EventKind::kTrace && e.src.find("nvls") != std::string::npos && f.evidence.size() < 5)
        f.evidence.push_back(b.ev(e));
    auto& g = b.add("nvswitch.fabric_manager", kTierExplicit + 1, hosts_text(hosts_of(evs)), "nvidia-fabricmanager",
                    "NVLS allocation failures usually mean the NVSwitch fabric is not set up: fabric manager "
                    "restarted without a GPU reset, or not running.",
                    first_at(evs));
    add_evidence(g, b, evs, 1);
  }
  if (auto evs = events_of(log, kSigMaxSharedMem); !evs.empty()) {
    auto& f = b.add("version.nccl_too_old_for_gpu", kTierExplicit, hosts_text(hosts_of(evs)),
                    log.version.known() ? "NCCL " + log.version.text : "NCCL",
                    fmt::format("NCCL{} needs more shared memory per block than this GPU{} offers: the release "
                                "predates the GPU generation.",
                                log.version.known() ? " " + log.version.text : "",
                                log.tests.gpu_names.empty() ? "" : " (" + log.tests.gpu_names.front() + ")"),
                    first_at(evs));
    add_evidence(f, b, evs, 2);
    if (!log.version_quote.empty()) f.evidence.push_back(b.ev(log.version_quote));
  }
}

/// WARN lines that name their fault: topology paths and CUDA IPC.
void rule_explicit_paths(const RunLog& log, Builder& b) {
  if (auto evs = events_of(log, kSigReversePath); !evs.empty()) {
    bool old = log.version.known() && log.version.before(2, 15);
    if (old) {
      auto& f = b.add("version.nccl_too_old_for_gpu", kTierExplicit, hosts_text(hosts_of(evs)),
                      "NCCL " + log.version.text,
                      fmt::format("NCCL {} cannot build the topology of this platform ('Failed to find reverse "
                                  "path'); releases before 2.15 predate H100-generation systems.",
                                  log.version.text),
                      first_at(evs));
      add_evidence(f, b, evs, 2);
      if (!log.version_quote.empty()) f.evidence.push_back(b.ev(log.version_quote));
    }
    auto& g = b.add("topo.path_search_failed", old ? kTierConsequence : kTierExplicit, hosts_text(hosts_of(evs)),
                    "topology", "NCCL's topology search found no path between two nodes of the detected topology.",
                    first_at(evs));
    add_evidence(g, b, evs, 2);
  }
  if (auto evs = events_of(log, kSigPathPattern); !evs.empty()) {
    auto& f = b.add("topo.path_search_failed", kTierRisk, hosts_text(hosts_of(evs)), "topology",
                    "NCCL's graph search found no path for a pattern and fell back to a simple order (slower rings).",
                    first_at(evs));
    f.severity = Severity::kWarn;
    add_evidence(f, b, evs, 2);
  }
  if (auto evs = events_of(log, kSigIpcOpen); !evs.empty()) {
    auto& f = b.add("p2p.ipc_open_failed", kTierExplicit, hosts_text(hosts_of(evs)), "CUDA IPC",
                    "A process could not open a peer process's GPU buffer over CUDA IPC.", first_at(evs));
    add_evidence(f, b, evs);
    for (const auto& c : log.connections)
      if (c.kind == TransportKind::kP2P && f.evidence.size() < 6) {
        f.evidence.push_back(b.ev(c.at, c.text));
        break;
      }
    // Every process on the host sees only device 0, yet the peers' bus ids differ:
    // per-process CUDA_VISIBLE_DEVICES.
    bool all_dev0 = true;
    int procs = 0;
    for (const auto& [key, p] : log.processes) {
      if (!hosts_of(evs).count(p.host)) continue;
      ++procs;
      for (int d : p.cuda_devs)
        if (d != 0) all_dev0 = false;
    }
    bool distinct_bus = false;
    for (const auto& c : log.connections)
      if (c.kind == TransportKind::kP2P && c.from_dev != c.to_dev) distinct_bus = true;
    bool code217 = std::any_of(evs.begin(), evs.end(), [](const LogEvent* e) { return e->result == 217; });
    if (procs > 0 && all_dev0 && (distinct_bus || code217)) {
      auto& g = b.add("config.cuda_visible_devices_isolation", kTierExplicit + 1, hosts_text(hosts_of(evs)),
                      "CUDA_VISIBLE_DEVICES",
                      "Every process sees its GPU as device 0 while the peers' bus ids differ: each process is "
                      "restricted to one GPU, which prevents CUDA IPC between them.",
                      first_at(evs));
      add_evidence(g, b, evs, 1);
      for (const auto& c : log.connections)
        if (c.kind == TransportKind::kP2P) {
          g.evidence.push_back(b.ev(c.at, c.text));
          break;
        }
    }
  }
}

/// WARN lines that name their fault: InfiniBand / RoCE set-up: memory registration, QP state, GID changes, async events.
void rule_explicit_ib_setup(const RunLog& log, Builder& b) {
  if (auto evs = events_of(log, kSigRegMr); !evs.empty()) {
    auto& f = b.add("ib.reg_mr_failed", kTierExplicit, hosts_text(hosts_of(evs)), "HCA memory registration",
                    "Registering NCCL's buffers with the HCA failed.", first_at(evs));
    add_evidence(f, b, evs);
    if (std::any_of(evs.begin(), evs.end(), [](const LogEvent* e) { return e->result == 12; })) {
      auto& g = b.add("sys.memlock_limit", kTierExplicit + 1, hosts_text(hosts_of(evs)), "ulimit -l",
                      "Registration failed with ENOMEM (Cannot allocate memory): the locked-memory limit is too low.",
                      first_at(evs));
      add_evidence(g, b, evs, 1);
    }
  }
  if (auto evs = events_of(log, kSigModifyQp); !evs.empty()) {
    auto& f = b.add("ib.modify_qp_failed", kTierExplicit, hosts_text(hosts_of(evs)), "IB queue pair",
                    "A queue pair could not be moved to its next state: the remote NIC is unreachable from this one.",
                    first_at(evs));
    add_evidence(f, b, evs);
    bool rtr_timeout = std::any_of(evs.begin(), evs.end(), [](const LogEvent* e) {
      return (e->result == 110 || e->message.find("timed out") != std::string::npos) &&
             e->message.find("RTR") != std::string::npos;
    });
    if (rtr_timeout) {
      auto& g = b.add("net.rail_unreachable_cross_nic", kTierExplicit + 1, hosts_text(hosts_of(evs)),
                      "NIC rails", "The INIT->RTR transition timed out: on a rail-optimised fabric this means NCCL "
                                   "connected NICs of different rails (cross-NIC).",
                      first_at(evs));
      add_evidence(g, b, evs, 1);
    }
  }
  if (auto evs = events_of(log, kSigGidChange); !evs.empty()) {
    auto& f = b.add("ib.gid_table_change", kTierExplicit, hosts_text(hosts_of(evs)), "RoCE GID table",
                    "The RoCE GID table changed while the job ran: the QPs' GID became invalid.", first_at(evs));
    add_evidence(f, b, evs);
  }
  {
    // QP MTUs printed per host (NET subsystem) that differ between hosts.
    std::map<int, std::vector<const HostInfo*>> by_mtu;
    for (const auto& [n, h] : log.hosts)
      for (const auto& [mtu, q] : h.ib_mtus) by_mtu[mtu].push_back(&h);
    if (by_mtu.size() > 1) {
      std::vector<std::string> parts, evl;
      SourceRef first;
      for (const auto& [mtu, hs] : by_mtu) {
        // ibv_mtu enum: 1=256 .. 5=4096
        int bytes = mtu >= 1 && mtu <= 5 ? 128 << mtu : mtu;
        parts.push_back(fmt::format("{} on {}", bytes, hs.front()->name + (hs.size() > 1 ? fmt::format(" (+{})", hs.size() - 1) : "")));
        const Quote& q = hs.front()->ib_mtus.at(mtu);
        if (evl.size() < 4) evl.push_back(b.ev(q));
        if (before(q.at, first)) first = q.at;
      }
      auto& f = b.add("ib.mtu_mismatch", kTierExplicit, "", "IB MTU",
                      "Queue pairs use different MTUs on different hosts: " + join(parts, "; ") +
                          ". NCCL >= 2.20 no longer clamps the QP MTU to the smaller end.",
                      first);
      if (log.version.before(2, 20)) f.severity = Severity::kWarn;  // still clamped: only a risk
      f.evidence = evl;
    }
  }
  if (auto evs = events_of(log, kSigAsyncWq); !evs.empty()) {
    // The MTU signature is the WQ error followed by flushed completions (status 5); another
    // completion status points elsewhere.
    bool flushed = false;
    for (const auto* e : events_of(log, kSigIbCompletion)) flushed = flushed || e->result == 5;
    bool new_enough = (!log.version.known() || log.version.at_least(2, 20)) &&
                      (flushed || !any_event(log, {kSigIbCompletion}));
    auto& f = b.add("ib.async_event_wq_error", new_enough ? kTierExplicit + 2 : kTierExplicit,
                    hosts_text(hosts_of(evs)), "IB work queue",
                    "The HCA raised a work-queue error (local access violation) on a QP.", first_at(evs));
    add_evidence(f, b, evs);
    if (new_enough) {
      auto& g = b.add("ib.mtu_mismatch", kTierExplicit, hosts_text(hosts_of(evs)), "IB MTU",
                      "A work-queue access violation followed by flushed completions is the signature of different "
                      "port MTUs on the two ends (NCCL >= 2.20 no longer clamps the QP MTU); the MTUs themselves are "
                      "not in the log.",
                      first_at(evs));
      add_evidence(g, b, evs, 2);
      for (const auto* e : events_of(log, kSigIbCompletion))
        if (g.evidence.size() < 4) g.evidence.push_back(b.ev(*e));
    }
  }
}

/// WARN lines that name their fault: InfiniBand work completions with an error status.
void rule_explicit_ib_completion(const RunLog& log, Builder& b) {
  if (auto evs = events_of(log, kSigIbCompletion); !evs.empty()) {
    std::map<int, std::vector<const LogEvent*>> by_code;
    for (const auto* e : evs) by_code[e->result].push_back(e);
    bool roce = false, ib_ll = false;
    for (const auto& [n, h] : log.hosts)
      for (const auto& d : h.rdma_devs) {
        roce = roce || d.link_layer == "RoCE";
        ib_ll = ib_ll || d.link_layer == "IB";
      }
    // IPv4-mapped GIDs (::ffff:a.b.c.d) in 2.19+ completion errors are RoCEv2.
    for (const auto* e : evs) roce = roce || e->message.find("::ffff:") != std::string::npos;
    for (const auto& [code, list] : by_code) {
      if (code == 4) {
        auto& f = b.add("ib.completion_error_4_local_protection", kTierExplicit, hosts_text(hosts_of(list)),
                        "GPU<->NIC RDMA",
                        fmt::format("RDMA completions fail with a local protection error (error 4, vendor err 81) "
                                    "on {} host(s): the NIC cannot access GPU memory.",
                                    hosts_of(list).size()),
                        first_at(list));
        add_evidence(f, b, list);
        auto& g = b.add("gdr.acs_enabled", kTierExplicit + 1, hosts_text(hosts_of(list)), "PCIe ACS",
                        "IB error 4 with GPUDirect RDMA is usually PCIe ACS (or the IOMMU) redirecting NIC->GPU "
                        "peer transactions.",
                        first_at(list));
        add_evidence(g, b, list, 1);
      } else if (code == 12) {
        // When did it happen? At the first transfer after connection setup (the GID never
        // routed) or after the job had made progress (a link or the fabric failed later).
        SourceRef first12 = first_at(list);
        bool setup_before = false, progress_before = false, running = false;
        for (const auto& c : log.connections) setup_before = setup_before || before(c.at, first12);
        for (const auto& q : log.init_quotes) setup_before = setup_before || before(q.at, first12);
        for (const auto& r : log.tests.peak_rows) progress_before = progress_before || before(r.at, first12);
        for (const auto* e : list) {
          auto it = log.processes.find({e->host, e->pid});
          if (it != log.processes.end() && static_cast<int>(it->second.stage) >= static_cast<int>(Stage::kRunning))
            running = true;
        }
        bool late = progress_before || running || !log.watchdog.empty() || any_event(log, {kSigPortError});
        bool early = setup_before && !late;
        auto& f = b.add("ib.completion_error_12_timeout", kTierGeneric, hosts_text(hosts_of(list)), "IB transport",
                        fmt::format("RDMA transfers time out (retry count exceeded, error 12){}: the NICs stopped "
                                    "reaching each other.",
                                    early ? " at the first transfers after connection setup"
                                    : late ? " after the job had made progress" : ""),
                        first12);
        add_evidence(f, b, list);
        if (roce && early) {
          auto& g = b.add("ib.roce_gid_index", kTierExplicit + 3, hosts_text(hosts_of(list)), "RoCE GID index",
                          "Error 12 on RoCE at the very first transfers: the connections were set up (over TCP) but "
                          "no RDMA packet routes between the NICs, the signature of a GID index that does not route "
                          "(RoCEv1 or link-local GID) or a mismatched traffic class.",
                          first12);
          add_evidence(g, b, list, 1);
        } else if (!late && !ib_ll) {
          auto& g = b.add("ib.roce_gid_index", kTierGeneric + 1, hosts_text(hosts_of(list)), "RoCE GID index",
                          roce ? "Error 12 on RoCE: if it happened at the first transfer, the GID index in use "
                                 "probably does not route between the NICs (RoCEv1 or link-local GID); the log does not "
                                 "show when it happened."
                               : "If these NICs are RoCE and the error came at the first transfer, it usually means a "
                                 "GID index that does not route (RoCEv1 or link-local).",
                          first12);
          g.severity = Severity::kWarn;
          add_evidence(g, b, list, 1);
        }
      } else {
        auto& f = b.add("ib.completion_error", code == 5 ? kTierConsequence : kTierGeneric, hosts_text(hosts_of(list)),
                        "IB transport",
                        code == 5 ? "RDMA work requests were flushed (status 5): a consequence of an earlier QP error."
                                  : fmt::format("RDMA completions failed with status {}.", code),
                        first_at(list));
        add_evidence(f, b, list);
      }
    }
  }
}

/// WARN lines that name their fault: NCCL versions that differ between ranks.
void rule_explicit_versions(const RunLog& log, Builder& b) {
  if (auto evs = events_of(log, kSigVersionMismatch); !evs.empty()) {
    auto& f = b.add("version.mismatch", kTierExplicit, hosts_text(hosts_of(evs)), "NCCL",
                    "NCCL detected ranks running different NCCL versions.", first_at(evs));
    add_evidence(f, b, evs);
  }
}

void rule_explicit_warns(const RunLog& log, Builder& b) {
  rule_explicit_gpu(log, b);
  rule_explicit_paths(log, b);
  rule_explicit_ib_setup(log, b);
  rule_explicit_ib_completion(log, b);
  rule_explicit_versions(log, b);
}

}  // namespace ncd::checks::log_rules
