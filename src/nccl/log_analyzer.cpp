// SPDX-License-Identifier: Apache-2.0
// From the RunLog to findings: rules by meaning, then root-cause ordering. Pure.
#include "nccl/log_analyzer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "core/catalogue.hpp"
#include "core/error.hpp"
#include "core/text.hpp"
#include "nccl/log_line.hpp"
#include "nccl/log_structure.hpp"

namespace ncd::nccl {

namespace {

// Lower tiers are more causal: the root cause is the lowest tier, then the earliest line.
constexpr int kTierExplicit = 10;   // a WARN that names the fault
constexpr int kTierConfig = 15;     // a configuration that explains observed failures
constexpr int kTierRisk = 20;       // a configuration problem without a visible failure
constexpr int kTierGeneric = 30;    // failures whose cause is not in the log
constexpr int kTierFallback = 38;   // unclassified
constexpr int kTierConsequence = 40;
constexpr int kTierInfo = 50;

struct Cand {
  Finding f;
  int tier = kTierInfo;
  SourceRef first;
  bool consequence = false;  // always reported as a consequence of the root
};

bool before(const SourceRef& a, const SourceRef& b) {
  if (b.line == 0) return a.line != 0;
  if (a.line == 0) return false;
  return a.file != b.file ? a.file < b.file : a.line < b.line;
}

class Builder {
 public:
  explicit Builder(const RunLog& log) : log_(log) {}

  Finding& add(std::string_view id, int tier, std::string host, std::string subject, std::string message,
               SourceRef first = {}) {
    Cand c;
    c.f = make_finding(id, std::move(host), std::move(subject), std::move(message));
    c.tier = tier;
    c.first = first;
    cands_.push_back(std::move(c));
    return cands_.back().f;
  }
  Cand& last() { return cands_.back(); }
  [[nodiscard]] const RunLog& log() const { return log_; }
  [[nodiscard]] bool has(std::string_view id) const {
    return std::any_of(cands_.begin(), cands_.end(), [&](const Cand& c) { return c.f.id == id; });
  }
  Cand* find(std::string_view id) {
    for (auto& c : cands_)
      if (c.f.id == id) return &c;
    return nullptr;
  }
  std::vector<Cand>& all() { return cands_; }

  [[nodiscard]] std::string ev(const SourceRef& at, const std::string& text) const {
    return fmt::format("{}: {}", log_.where(at), text);
  }
  [[nodiscard]] std::string ev(const Quote& q) const { return ev(q.at, q.text); }
  [[nodiscard]] std::string ev(const LogEvent& e) const { return ev(e.at, e.text); }

 private:
  const RunLog& log_;
  std::vector<Cand> cands_;
};

std::vector<const LogEvent*> events_of(const RunLog& log, int sig) {
  std::vector<const LogEvent*> out;
  for (const auto& e : log.events)
    if (e.sig == sig) out.push_back(&e);
  return out;
}

bool any_event(const RunLog& log, std::initializer_list<int> sigs) {
  for (const auto& e : log.events)
    for (int s : sigs)
      if (e.sig == s) return true;
  return false;
}

std::string hosts_text(const std::set<std::string>& hosts) {
  std::vector<std::string> v;
  for (const auto& h : hosts)
    if (!h.empty()) v.push_back(h);
  if (v.size() > 4) return fmt::format("{}, {} and {} more host(s)", v[0], v[1], v.size() - 2);
  return join(v, ", ");
}

std::set<std::string> hosts_of(const std::vector<const LogEvent*>& evs) {
  std::set<std::string> s;
  for (const auto* e : evs) s.insert(e->host);
  return s;
}

void add_evidence(Finding& f, const Builder& b, const std::vector<const LogEvent*>& evs, std::size_t max = 4) {
  for (std::size_t i = 0; i < evs.size() && i < max; ++i) f.evidence.push_back(b.ev(*evs[i]));
  // Name the ranks of the processes that printed the evidence (NCCL ranks when the log says,
  // else the launcher's rank tag).
  if (f.subject.find("rank") != std::string::npos) return;
  std::set<int> ranks, launcher, devs;
  for (const auto* e : evs) {
    if (e->dev >= 0) devs.insert(e->dev);
    auto it = b.log().processes.find({e->host, e->pid});
    if (it != b.log().processes.end()) ranks.insert(it->second.ranks.begin(), it->second.ranks.end());
    if (e->rank >= 0) launcher.insert(e->rank);
  }
  if (!ranks.empty()) f.subject += " (ranks " + format_ranges({ranks.begin(), ranks.end()}) + ")";
  else if (!launcher.empty()) f.subject += " (launcher ranks " + format_ranges({launcher.begin(), launcher.end()}) + ")";
  else if (!devs.empty()) f.subject += " (CUDA devices " + format_ranges({devs.begin(), devs.end()}) + ")";
}

SourceRef first_at(const std::vector<const LogEvent*>& evs) {
  SourceRef r;
  for (const auto* e : evs)
    if (before(e->at, r)) r = e->at;
  return r;
}

long count_sig(const RunLog& log, int sig) {
  auto it = log.sig_counts.find(sig);
  return it == log.sig_counts.end() ? 0 : it->second;
}

std::string count_note(const RunLog& log, int sig, std::size_t shown) {
  long n = count_sig(log, sig);
  if (n > static_cast<long>(shown)) return fmt::format(" ({} occurrences)", n);
  return "";
}

// The interface a host bootstraps on: the Bootstrap line, else the first socket interface
// (NCCL 2.3 lists them one per line and uses the first).
const NetInterface* bootstrap_if(const HostInfo& h) {
  if (!h.bootstrap_ifs.empty()) return &h.bootstrap_ifs.front();
  if (!h.socket_ifs.empty()) return &h.socket_ifs.front();
  return nullptr;
}
const Quote& bootstrap_quote(const HostInfo& h) {
  return !h.bootstrap_quote.empty() ? h.bootstrap_quote : h.socket_quote;
}

bool is_rdma_net(const std::string& net) { return net != "Socket" && !net.empty(); }

bool container_like(const std::string& host) {
  // Docker's default hostname: the 12 hex digits of the container id.
  if (host.size() != 12) return false;
  return std::all_of(host.begin(), host.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool consumer_pcie_gpu(const std::vector<std::string>& names) {
  if (names.empty()) return false;
  for (const auto& n : names) {
    bool pcie = n.find("GeForce") != std::string::npos || n.find("RTX") != std::string::npos ||
                n.find("Quadro") != std::string::npos || n.find("TITAN") != std::string::npos ||
                n.find("Titan") != std::string::npos || n.find("L40") != std::string::npos ||
                n.find("L4") != std::string::npos || n.find("T4") != std::string::npos ||
                n.find("A10") != std::string::npos || n.find("PCIe") != std::string::npos;
    if (!pcie) return false;
  }
  return true;
}

std::string env_value(const RunLog& log, const std::string& name) {
  auto it = log.env.find(name);
  return it == log.env.end() ? std::string() : it->second.value;
}

// ---------------------------------------------------------------------------------------------
// Rules. Each adds candidates; ordering happens at the end.

void rule_explicit_warns(const RunLog& log, Builder& b) {
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
  if (auto evs = events_of(log, kSigVersionMismatch); !evs.empty()) {
    auto& f = b.add("version.mismatch", kTierExplicit, hosts_text(hosts_of(evs)), "NCCL",
                    "NCCL detected ranks running different NCCL versions.", first_at(evs));
    add_evidence(f, b, evs);
  }
}

void rule_network_providers(const RunLog& log, Builder& b) {
  // aws-ofi-nccl on a non-EFA provider.
  std::set<std::string> tcp_hosts;
  SourceRef first;
  std::vector<std::string> ev;
  for (const auto& [n, h] : log.hosts)
    if (!h.ofi_provider.empty() && h.ofi_provider != "efa") {
      tcp_hosts.insert(n);
      if (before(h.ofi_quote.at, first)) first = h.ofi_quote.at;
      if (ev.size() < 3) ev.push_back(b.ev(h.ofi_quote));
    }
  bool ofi_shm = any_event(log, {kSigOfiShm});
  if (!tcp_hosts.empty() || ofi_shm) {
    auto& f = b.add("net.efa_provider_fallback", kTierExplicit, hosts_text(tcp_hosts), "libfabric provider",
                    "aws-ofi-nccl is loaded but libfabric selected a non-EFA provider: EFA is not usable here, so "
                    "the plugin fails or runs over TCP.",
                    first);
    f.evidence = ev;
    for (const auto* e : events_of(log, kSigOfiShm)) f.evidence.push_back(b.ev(*e));
  }
  // RDMA devices that cannot be opened.
  auto open_fail = events_of(log, kSigIbvOpen);
  if (!open_fail.empty()) {
    auto& f = b.add("net.ib_device_open_failed", kTierExplicit, hosts_text(hosts_of(open_fail)), "RDMA device",
                    "An RDMA device is present but cannot be opened (ibv_open_device failed): permissions, or the "
                    "device is not exposed to the container.",
                    first_at(open_fail));
    add_evidence(f, b, open_fail);
    for (const auto* e : events_of(log, kSigIbNoDevice)) {
      f.evidence.push_back(b.ev(*e));
      break;
    }
  }
  bool container_host = false;
  for (const auto& n : log.host_names()) container_host = container_host || container_like(n);
  if (!open_fail.empty() || (!tcp_hosts.empty() && container_host) ||
      (container_host && any_event(log, {kSigIbNoDevice}) && log.multi_node())) {
    auto& g = b.add("container.rdma_devices_missing", kTierExplicit + 2,
                    hosts_text(open_fail.empty() ? tcp_hosts : hosts_of(open_fail)), "container",
                    "The RDMA/EFA devices or verbs libraries are not usable inside the container.",
                    open_fail.empty() ? first : first_at(open_fail));
    if (!open_fail.empty()) add_evidence(g, b, open_fail, 1);
    for (const auto& s : ev)
      if (g.evidence.size() < 3) g.evidence.push_back(s);
  }
  // Sockets although RDMA hardware is there.
  bool rdma_hw = !open_fail.empty() || env_value(log, "NCCL_IB_HCA").size() > 0;
  for (const auto& [n, h] : log.hosts) {
    rdma_hw = rdma_hw || !h.rdma_devs.empty();
    // An IPoIB interface means an InfiniBand HCA is on the machine, whatever NET/IB found.
    for (const auto* list : {&h.bootstrap_ifs, &h.socket_ifs})
      for (const auto& i : *list) rdma_hw = rdma_hw || i.ipoib;
  }
  std::vector<std::string> sock_ev;
  SourceRef sock_first;
  std::set<std::string> sock_hosts;
  for (const auto& [n, h] : log.hosts)
    if (h.networks.count("Socket")) {
      sock_hosts.insert(n);
      if (sock_ev.size() < 2) sock_ev.push_back(b.ev(h.network_quote));
      if (before(h.network_quote.at, sock_first)) sock_first = h.network_quote.at;
    }
  for (const auto& c : log.connections)
    if (c.kind == TransportKind::kNet && c.net == "Socket") {
      sock_hosts.insert(c.host);
      if (sock_ev.size() < 3) sock_ev.push_back(b.ev(c.at, c.text));
      if (before(c.at, sock_first)) sock_first = c.at;
      break;
    }
  if (!sock_hosts.empty() && rdma_hw && !log.single_node()) {
    auto& f = b.add("net.socket_fallback", kTierRisk, hosts_text(sock_hosts), "NET transport",
                    "Inter-node traffic goes over TCP sockets although RDMA hardware is present: expect a fraction "
                    "of the fabric's bandwidth.",
                    sock_first);
    for (const auto* e : events_of(log, kSigIbNoDevice)) {
      f.evidence.push_back(b.ev(*e));
      break;
    }
    for (const auto& s : sock_ev) f.evidence.push_back(s);
  }
  // Plugin / network backends per host.
  std::map<PluginState, std::vector<const HostInfo*>> by_plugin;
  for (const auto& [n, h] : log.hosts)
    if (h.plugin != PluginState::kUnknown && !n.empty()) by_plugin[h.plugin].push_back(&h);
  std::map<std::string, std::vector<const HostInfo*>> by_net;
  for (const auto& [n, h] : log.hosts)
    if (!h.networks.empty() && !n.empty()) by_net[join({h.networks.begin(), h.networks.end()}, "+")].push_back(&h);
  if (by_plugin.size() > 1 || by_net.size() > 1) {
    std::vector<std::string> evl;
    std::vector<std::string> parts;
    SourceRef first_p;
    for (const auto& [st, hs] : by_plugin) {
      parts.push_back(fmt::format("{} on {}", st == PluginState::kExternal ? "external plugin " + hs.front()->plugin_text
                                                                           : std::string("internal transport"),
                                  hs.size() == 1 ? hs.front()->name : fmt::format("{} hosts", hs.size())));
      for (const auto* h : hs) {
        if (evl.size() < 4) evl.push_back(b.ev(h->plugin_quote));
        if (before(h->plugin_quote.at, first_p)) first_p = h->plugin_quote.at;
      }
    }
    if (by_plugin.size() <= 1)
      for (const auto& [net, hs] : by_net) {
        parts.push_back(fmt::format("network {} on {}", net, hs.front()->name));
        for (const auto* h : hs)
          if (evl.size() < 4) evl.push_back(b.ev(h->network_quote));
      }
    auto& f = b.add("config.inconsistent_across_nodes", kTierExplicit, "", "net plugin",
                    "Hosts of one job use different network backends: " + join(parts, "; ") + ".", first_p);
    f.evidence = evl;
    auto& g = b.add("net.plugin_mismatch", kTierExplicit + 1, "", "net plugin",
                    "Peers with different NET implementations (external plugin vs internal) cannot talk to each "
                    "other: connections hang or fail.",
                    first_p);
    g.evidence = evl;
  } else if (any_event(log, {kSigPluginLoad})) {
    // A plugin that exists but does not load is not "no plugin": say what the loader said.
    auto evs = events_of(log, kSigPluginLoad);
    std::string err;
    for (const auto& [n, h] : log.hosts)
      if (!h.plugin_error.empty()) {
        err = h.plugin_error;
        break;
      }
    auto& f = b.add("net.plugin_load_failed", log.multi_node() ? kTierExplicit : kTierRisk, hosts_text(hosts_of(evs)),
                    "net plugin",
                    fmt::format("A net plugin is installed but the dynamic loader rejected it ({}); NCCL fell back to "
                                "its internal transport{}.",
                                err, log.multi_node() ? ", so the fabric the plugin drives (EFA, SHARP, ...) is not used"
                                                      : ""),
                    first_at(evs));
    if (!log.multi_node()) f.severity = Severity::kWarn;
    add_evidence(f, b, evs, 2);
  } else if (!by_plugin.empty() && by_plugin.begin()->first == PluginState::kInternal && tcp_hosts.empty()) {
    bool ofi = false;
    for (const auto& [n, h] : log.hosts) ofi = ofi || !h.ofi_provider.empty();
    if (!ofi) {
      const HostInfo* h = by_plugin.begin()->second.front();
      auto& f = b.add("net.plugin_absent_benign", kTierInfo, "", "libnccl-net.so",
                      "No external net plugin was found; NCCL uses its internal IB/Socket transport, which is what "
                      "this cluster needs unless it is AWS EFA or GCP TCPX.",
                      h->plugin_quote.at);
      f.evidence.push_back(b.ev(h->plugin_quote));
      for (const auto& [n, hh] : log.hosts)
        if (!hh.network_quote.empty()) {
          f.evidence.push_back(b.ev(hh.network_quote));
          break;
        }
    }
  }
  // libibverbs missing.
  if (auto evs = events_of(log, kSigIbverbsMissing); !evs.empty()) {
    auto& f = b.add("net.ibverbs_missing_benign", kTierInfo, hosts_text(hosts_of(evs)), "libibverbs",
                    log.multi_node() ? "libibverbs is not installed: this multi-node job cannot use RDMA and runs "
                                       "over sockets."
                                     : "libibverbs is not installed; harmless for a single-node job.",
                    first_at(evs));
    add_evidence(f, b, evs, 2);
  }
}

bool bootstrap_failure(const RunLog& log) {
  if (any_event(log, {kSigConnRefused, kSigNoRoute, kSigConnTimeout, kSigNetUnreachable, kSigBadFamily,
                      kSigNoSocketIf}))
    return true;
  for (const auto& e : log.events)
    if (e.kind == EventKind::kTrace && e.src.find("bootstrap") != std::string::npos) return true;
  return false;
}

void rule_interfaces(const RunLog& log, Builder& b) {
  bool failed = bootstrap_failure(log);
  bool multi = log.multi_node();
  bool single = log.single_node();
  // Loopback.
  {
    std::set<std::string> hs;
    std::vector<std::string> evl;
    SourceRef first;
    for (const auto& [n, h] : log.hosts) {
      const NetInterface* i = bootstrap_if(h);
      if (!i || !i->loopback) continue;
      hs.insert(n);
      const Quote& q = bootstrap_quote(h);
      if (evl.size() < 3) evl.push_back(b.ev(q));
      if (before(q.at, first)) first = q.at;
    }
    if (!hs.empty() && !single) {
      std::string ifname = env_value(log, "NCCL_SOCKET_IFNAME");
      auto& f = b.add("net.wrong_interface_lo", failed ? kTierConfig : kTierRisk, hosts_text(hs), "lo",
                      fmt::format("NCCL bootstraps over the loopback interface{}{}: peers on other hosts cannot "
                                  "reach 127.0.0.1.",
                                  ifname.empty() ? "" : fmt::format(" (NCCL_SOCKET_IFNAME={} does not exclude lo)", ifname),
                                  failed ? " and connections fail" : multi ? "" : " in what looks like a multi-node job"),
                      first);
      if (!failed && !multi) f.severity = Severity::kWarn;
      f.evidence = evl;
      if (!ifname.empty()) f.evidence.push_back(b.ev(log.env.at("NCCL_SOCKET_IFNAME").at, log.env.at("NCCL_SOCKET_IFNAME").text));
      for (const auto* e : events_of(log, kSigConnRefused))
        if (f.evidence.size() < 5) f.evidence.push_back(b.ev(*e));
    }
  }
  // IPoIB for bootstrap (or as NET/IB's OOB interface) with bootstrap failures.
  if (failed) {
    std::set<std::string> hs;
    std::vector<std::string> evl;
    SourceRef first;
    for (const auto& [n, h] : log.hosts) {
      const NetInterface* i = bootstrap_if(h);
      const Quote* q = &bootstrap_quote(h);
      if ((!i || !i->ipoib) && !h.oob_ifs.empty() && h.oob_ifs.front().ipoib) {
        i = &h.oob_ifs.front();
        q = &h.ib_quote;
      }
      if (!i || !i->ipoib) continue;
      hs.insert(n);
      if (evl.size() < 2) evl.push_back(b.ev(*q));
      if (before(q->at, first)) first = q->at;
    }
    if (!hs.empty()) {
      auto& f = b.add("net.wrong_interface_ipoib", kTierConfig, hosts_text(hs), "IPoIB interface",
                      "NCCL's default interface order picked an IP-over-InfiniBand interface for its bootstrap/OOB "
                      "sockets, and bootstrap connections fail over it.",
                      first);
      f.evidence = evl;
      for (const auto& e : log.events)
        if (e.kind == EventKind::kTrace && e.src.find("bootstrap") != std::string::npos && f.evidence.size() < 4)
          f.evidence.push_back(b.ev(e));
    }
  }
  // Virtual and link-local interfaces in use.
  auto scan = [&](auto pred, std::set<std::string>& hs, std::vector<std::string>& evl, SourceRef& first,
                  std::vector<std::string>& names) {
    for (const auto& [n, h] : log.hosts) {
      for (const auto* list : {&h.bootstrap_ifs, &h.socket_ifs}) {
        for (const auto& i : *list) {
          if (!pred(i)) continue;
          hs.insert(n);
          if (std::find(names.begin(), names.end(), i.name) == names.end()) names.push_back(i.name);
          const Quote& q = list == &h.bootstrap_ifs ? h.bootstrap_quote : h.socket_quote;
          std::string e = b.ev(q);
          if (evl.size() < 4 && std::find(evl.begin(), evl.end(), e) == evl.end()) evl.push_back(e);
          if (before(q.at, first)) first = q.at;
        }
      }
    }
  };
  {
    std::set<std::string> hs;
    std::vector<std::string> evl, names;
    SourceRef first;
    scan([](const NetInterface& i) { return i.virtual_if; }, hs, evl, first, names);
    if (!hs.empty()) {
      auto& f = b.add("net.virtual_interface_in_use", single ? kTierInfo : failed ? kTierConfig : kTierRisk,
                      hosts_text(hs), join(names, ","),
                      fmt::format("Virtual interface(s) {} are in NCCL's socket interface list; they do not route "
                                  "between hosts{}.",
                                  join(names, ", "), single ? " (harmless on a single node)" : ""),
                      first);
      if (single) f.severity = Severity::kInfo;
      f.evidence = evl;
    }
  }
  {
    std::set<std::string> hs;
    std::vector<std::string> evl, names;
    SourceRef first;
    scan([](const NetInterface& i) { return i.link_local && !i.loopback; }, hs, evl, first, names);
    if (!hs.empty()) {
      bool chosen = false;
      for (const auto& [n, h] : log.hosts)
        if (const NetInterface* i = bootstrap_if(h); i && i->link_local) chosen = true;
      auto& f = b.add("net.ipv6_link_local", single ? kTierInfo : (failed && chosen) ? kTierConfig : kTierRisk,
                      hosts_text(hs), join(names, ","),
                      fmt::format("Interface(s) {} carry only an IPv6 link-local address (fe80::), which does not "
                                  "route between hosts{}.",
                                  join(names, ", "),
                                  single ? " (harmless on a single node)" : chosen ? "; one is used for bootstrap" : ""),
                      first);
      if (single) f.severity = Severity::kInfo;
      f.evidence = evl;
    }
  }
  // Bootstrap interfaces differ across nodes.
  {
    std::map<std::string, std::vector<const HostInfo*>> by;
    for (const auto& [n, h] : log.hosts) {
      if (n.empty()) continue;
      const NetInterface* i = bootstrap_if(h);
      if (!i) continue;
      std::string fam = i->link_local ? "IPv6 link-local" : i->ipv6 ? "IPv6" : "IPv4";
      by[i->name + " (" + fam + ")"].push_back(&h);
    }
    if (by.size() > 1) {
      std::set<std::string> fams;
      for (const auto& [k, hs] : by) fams.insert(k.substr(k.find('(')));
      bool family_differs = fams.size() > 1;
      std::vector<std::string> parts, evl;
      SourceRef first;
      for (const auto& [k, hs] : by) {
        parts.push_back(fmt::format("{} on {}", k, hs.size() == 1 ? hs.front()->name : fmt::format("{} hosts", hs.size())));
        for (const auto* h : hs) {
          const Quote& q = bootstrap_quote(*h);
          if (evl.size() < 4) evl.push_back(b.ev(q));
          if (before(q.at, first)) first = q.at;
        }
      }
      auto& f = b.add("net.bootstrap_iface_mismatch_across_nodes", family_differs ? kTierConfig : kTierRisk, "",
                      "bootstrap interface",
                      fmt::format("Hosts bootstrap on different interfaces: {}{}.", join(parts, "; "),
                                  family_differs ? "; the address families differ, so they cannot reach each other"
                                                 : ""),
                      first);
      if (!family_differs) f.severity = Severity::kWarn;
      f.evidence = evl;
    }
  }
  // NCCL_SOCKET_IFNAME that matches nothing.
  auto bad = events_of(log, kSigBadFamily);
  auto noif = events_of(log, kSigNoSocketIf);
  std::string ifname = env_value(log, "NCCL_SOCKET_IFNAME");
  bool any_bootstrap = false;
  for (const auto& [n, h] : log.hosts) any_bootstrap = any_bootstrap || bootstrap_if(h) != nullptr;
  if (!ifname.empty() && (!bad.empty() || !noif.empty()) && !any_bootstrap) {
    const EnvSetting& e = log.env.at("NCCL_SOCKET_IFNAME");
    auto& f = b.add("net.ifname_no_match", kTierExplicit, hosts_text(e.hosts), "NCCL_SOCKET_IFNAME=" + ifname,
                    fmt::format("NCCL_SOCKET_IFNAME={} matches no interface on the host: NCCL found no socket "
                                "interface and then used an uninitialised address.",
                                ifname),
                    e.at);
    f.evidence.push_back(b.ev(e.at, e.text));
    add_evidence(f, b, bad, 2);
    add_evidence(f, b, noif, 2);
  }
  if (!bad.empty()) {
    auto& f = b.add("bootstrap.bad_address_family", kTierGeneric, hosts_text(hosts_of(bad)), "socket address",
                    "NCCL tried to connect to an address with an invalid family (uninitialised interface, mixed NCCL "
                    "versions or a corrupt unique id).",
                    first_at(bad));
    add_evidence(f, b, bad);
  }
}

void rule_sockets(const RunLog& log, Builder& b) {
  auto trace_bootstrap = [&](Finding& f) {
    for (const auto& e : log.events)
      if (e.kind == EventKind::kTrace && e.src.find("bootstrap") != std::string::npos && f.evidence.size() < 5) {
        f.evidence.push_back(b.ev(e));
        break;
      }
  };
  if (auto evs = events_of(log, kSigConnRefused); !evs.empty()) {
    auto& f = b.add("bootstrap.connect_refused", kTierGeneric, hosts_text(hosts_of(evs)), "bootstrap",
                    fmt::format("Connections to a peer were refused: nothing listened at the address NCCL used{}.",
                                count_note(log, kSigConnRefused, evs.size())),
                    first_at(evs));
    add_evidence(f, b, evs, 3);
    trace_bootstrap(f);
  }
  auto noroute = events_of(log, kSigNoRoute);
  auto unreach = events_of(log, kSigNetUnreachable);
  if (!noroute.empty() || !unreach.empty()) {
    std::vector<const LogEvent*> all = noroute;
    all.insert(all.end(), unreach.begin(), unreach.end());
    auto& f = b.add("bootstrap.connect_failed", kTierGeneric, hosts_text(hosts_of(all)), "bootstrap",
                    noroute.empty() ? fmt::format("Socket connections to a peer fail ({}).",
                                                  all.front()->message.substr(0, 160))
                                    : "Socket connections to a peer fail with 'No route to host' (EHOSTUNREACH).",
                    first_at(all));
    add_evidence(f, b, all, 3);
    trace_bootstrap(f);
    if (!noroute.empty()) {
      auto& g = b.add("net.firewall_or_routing", kTierGeneric + 1, hosts_text(hosts_of(noroute)), "TCP between hosts",
                      "EHOSTUNREACH towards a host that is up is the signature of a host firewall REJECT rule "
                      "(icmp-host-prohibited) or a missing route.",
                      first_at(noroute));
      add_evidence(g, b, noroute, 2);
    }
  }
  if (auto evs = events_of(log, kSigConnTimeout); !evs.empty()) {
    bool retrying = std::any_of(evs.begin(), evs.end(), [](const LogEvent* e) {
      return e->message.find("retrying") != std::string::npos;
    });
    auto& f = b.add(retrying ? "net.connect_timeout" : "bootstrap.connect_timeout", kTierGeneric,
                    hosts_text(hosts_of(evs)), "socket connect",
                    "Socket connections to a peer time out (no answer: DROP firewall rule, routing, or the peer is "
                    "not listening on that interface).",
                    first_at(evs));
    add_evidence(f, b, evs, 3);
    trace_bootstrap(f);
    auto& g = b.add("net.firewall_or_routing", kTierGeneric + 1, hosts_text(hosts_of(evs)), "TCP between hosts",
                    "Connects that time out usually meet a firewall DROP rule or a route to nowhere.", first_at(evs));
    add_evidence(g, b, evs, 1);
  }
  // Bootstrap failures visible only as error traces (NCCL_DEBUG=INFO without the WARN).
  if (!b.has("bootstrap.connect_failed") && !b.has("bootstrap.connect_refused") &&
      !b.has("bootstrap.connect_timeout") && !b.has("net.connect_timeout") && !b.has("bootstrap.bad_address_family")) {
    std::vector<const LogEvent*> bt;
    for (const auto& e : log.events)
      if (e.kind == EventKind::kTrace && e.src.find("bootstrap") != std::string::npos) bt.push_back(&e);
    if (!bt.empty()) {
      std::vector<const LogEvent*> sock;
      for (const auto& e : log.events)
        if (e.kind == EventKind::kTrace && e.src.find("socket") != std::string::npos) sock.push_back(&e);
      auto& f = b.add("bootstrap.connect_failed", kTierGeneric, hosts_text(hosts_of(bt)), "bootstrap",
                      fmt::format("The bootstrap failed on {} host(s): error traces run through bootstrap.cc with "
                                  "result {} (system error: a socket call failed).",
                                  hosts_of(bt).size(), bt.front()->result),
                      first_at(bt));
      add_evidence(f, b, bt, 2);
      add_evidence(f, b, sock, 2);
    }
  }
}

void rule_topology_hosts(const RunLog& log, Builder& b) {
  // Two processes on one host name using the same GPU id for different ranks of one
  // communicator, without a Duplicate GPU error: the "host" is several machines. Only edges of
  // the logged ring order count (a log can hold several communicators whose ranks reuse the
  // same numbers), and only claims by different processes.
  if (any_event(log, {kSigDuplicateGpu}) || log.rings.empty()) return;
  auto adjacent = [&](const Connection& c) {
    auto it = log.rings.find(c.channel);
    if (it == log.rings.end() || it->second.size() < 2) return false;
    const auto& o = it->second;
    for (std::size_t i = 0; i < o.size(); ++i)
      if (o[i] == c.from_rank && o[(i + 1) % o.size()] == c.to_rank) return true;
    return false;
  };
  // The sender prints P2P/SHM lines, so the from-side (rank, dev) is the printing process's own
  // GPU; the to-side is what the sender believes of its peer.
  struct DevClaims {
    std::map<long, std::set<int>> owners;  // pid -> ranks it holds on this device
    std::set<int> peer_ranks;              // ranks others place on this device
  };
  std::map<std::string, std::map<std::string, DevClaims>> devs;  // host -> dev -> claims
  std::vector<const Connection*> edges;
  for (const auto& c : log.connections) {
    if (c.kind != TransportKind::kP2P && c.kind != TransportKind::kShm) continue;
    if (c.from_dev.empty() || c.to_dev.empty() || !adjacent(c)) continue;
    edges.push_back(&c);
    devs[c.host][c.from_dev].owners[c.pid].insert(c.from_rank);
    devs[c.host][c.to_dev].peer_ranks.insert(c.to_rank);
  }
  for (const auto& [host, m] : devs) {
    if (m.size() < 2) continue;  // one device id everywhere (per-process CUDA_VISIBLE_DEVICES)
    std::set<int> colliding;
    std::string dev;
    std::map<int, std::string> rank_dev;
    for (const auto& [d, cl] : m) {
      std::set<int> owned;
      for (const auto& [pid, rs] : cl.owners) owned.insert(rs.begin(), rs.end());
      for (int r : owned) rank_dev[r] = d;
      std::set<int> bad;
      if (cl.owners.size() > 1) bad = owned;  // two processes own one GPU id
      if (!cl.owners.empty())
        for (int r : cl.peer_ranks)
          if (!owned.count(r)) {
            bad.insert(r);
            bad.insert(owned.begin(), owned.end());
            rank_dev[r] = d;
          }
      if (!bad.empty()) {
        colliding.insert(bad.begin(), bad.end());
        if (dev.empty()) dev = d;
      }
    }
    if (colliding.empty()) continue;
    for (const auto& [d, cl] : m)
      for (int r : cl.peer_ranks) rank_dev.emplace(r, d);
    // Group ranks into machines: ascending rank order, a new machine when a device repeats.
    std::map<int, int> machine;
    std::set<std::string> used;
    int mach = 0;
    for (const auto& [r, d] : rank_dev) {
      if (used.count(d)) {
        ++mach;
        used.clear();
      }
      used.insert(d);
      machine[r] = mach;
    }
    std::vector<const Connection*> cross;
    for (const auto* c : edges)
      if (c->host == host && machine.count(c->from_rank) && machine.count(c->to_rank) &&
          machine[c->from_rank] != machine[c->to_rank])
        cross.push_back(c);
    std::vector<int> cr(colliding.begin(), colliding.end());
    SourceRef first;
    std::vector<std::string> evl;
    for (const auto* c : edges) {
      if (c->host != host || evl.size() >= 3) continue;
      if ((colliding.count(c->from_rank) && c->from_dev == dev) || (colliding.count(c->to_rank) && c->to_dev == dev)) {
        evl.push_back(b.ev(c->at, c->text));
        if (before(c->at, first)) first = c->at;
      }
    }
    for (const auto& q : log.ring_quotes)
      if (evl.size() < 4) evl.push_back(b.ev(q));
    auto& f = b.add("host.duplicate_hostname", kTierExplicit, host, fmt::format("ranks {}", format_ranges(cr)),
                    fmt::format("Ranks {} all report host '{}' and the same GPU id {} without a Duplicate GPU error: "
                                "they run on different machines that share one host name, so NCCL treats them as one "
                                "node.",
                                format_ranges(cr), host, dev),
                    first);
    f.evidence = evl;
    if (!cross.empty()) {
      auto& g = b.add("p2p.cross_node_ipc", kTierExplicit + 1, host, fmt::format("{} edge(s)", cross.size()),
                      fmt::format("{} P2P/SHM connection(s) join ranks that are on different machines (e.g. {} -> {} "
                                  "via {}); they cannot work.",
                                  cross.size(), cross.front()->from_rank, cross.front()->to_rank,
                                  cross.front()->transport),
                      cross.front()->at);
      for (std::size_t i = 0; i < cross.size() && i < 4; ++i) g.evidence.push_back(b.ev(cross[i]->at, cross[i]->text));
    }
  }
}

// Machines that share a host name: told apart by the bootstrap address of each process (NCCL
// itself tells them apart by host hash only when the names differ).
void rule_hosts_by_address(const RunLog& log, Builder& b) {
  if (b.has("host.duplicate_hostname")) return;
  std::map<std::string, std::map<std::string, const ProcessInfo*>> by_host;
  for (const auto& [k, p] : log.processes)
    if (!p.address.empty() && !p.host.empty() && p.address != "127.0.0.1" && p.address != "::1" &&
        p.address.find('X') == std::string::npos)
      by_host[p.host].emplace(p.address, &p);
  for (const auto& [host, addrs] : by_host) {
    if (addrs.size() < 2) continue;
    std::vector<std::string> a, evl;
    SourceRef first;
    for (const auto& [addr, p] : addrs) {
      a.push_back(addr);
      if (evl.size() < 4) evl.push_back(b.ev(p->address_quote));
      if (before(p->address_quote.at, first)) first = p->address_quote.at;
    }
    bool failed = false;
    for (const auto& e : log.events) failed = failed || e.kind == EventKind::kWarn;
    auto& f = b.add("host.duplicate_hostname", failed ? kTierExplicit + 2 : kTierRisk, host,
                    fmt::format("{} machines", addrs.size()),
                    fmt::format("Processes reporting host '{}' bootstrap from {} different addresses ({}): several "
                                "machines share one host name; NCCL may take them for one node (P2P/SHM between "
                                "them, duplicate GPUs).",
                                host, addrs.size(), join(a, ", ")),
                    first);
    if (!failed) f.severity = Severity::kWarn;
    f.evidence = evl;
  }
}

void rule_launch(const RunLog& log, Builder& b) {
  // The same (rank, nranks) claimed by several hosts, in an nccl-tests run that printed several
  // summaries: independent single-node jobs.
  std::vector<std::string> evl;
  std::set<std::string> hosts;
  SourceRef first;
  for (const auto& [key, claim] : log.rank_claims) {
    std::set<std::string> named;
    for (const auto& h : claim.hosts)
      if (!h.empty()) named.insert(h);
    if (named.size() < 2) continue;
    hosts.insert(named.begin(), named.end());
    for (const auto& q : claim.quotes) {
      if (evl.size() < 4) evl.push_back(b.ev(q));
      if (before(q.at, first)) first = q.at;
    }
  }
  std::set<std::string> header_rank0;
  if (auto it = log.tests.rank_hosts.find(0); it != log.tests.rank_hosts.end()) header_rank0 = it->second;
  bool several_runs = log.tests.avg_busbw.size() >= 2 || log.tests.headers >= 2;
  if ((several_runs && !hosts.empty()) || header_rank0.size() >= 2) {
    if (header_rank0.size() >= 2) hosts.insert(header_rank0.begin(), header_rank0.end());
    auto& f = b.add("launch.independent_jobs_no_mpi", kTierExplicit, hosts_text(hosts), "launcher",
                    fmt::format("{} hosts each report rank 0 of their own communicator{}: the launcher started "
                                "independent single-node jobs (nccl-tests built without MPI=1), so no traffic crossed "
                                "the network.",
                                hosts.size(),
                                log.tests.avg_busbw.size() >= 2
                                    ? fmt::format(" and {} separate '# Avg bus bandwidth' summaries",
                                                  log.tests.avg_busbw.size())
                                    : ""),
                    first);
    f.evidence = evl;
    for (std::size_t i = 0; i < log.tests.avg_text.size() && i < 2; ++i)
      f.evidence.push_back(b.ev(log.tests.avg_busbw[i].second, log.tests.avg_text[i]));
  }
}

void rule_gdr(const RunLog& log, Builder& b) {
  std::set<std::string> hs;
  std::vector<std::string> evl;
  SourceRef first;
  int no_gdr = 0, with_gdr = 0;
  std::set<int> no_gdr_ranks;
  for (const auto& c : log.connections) {
    if (c.kind != TransportKind::kNet || !is_rdma_net(c.net)) continue;
    if (c.gdr) {
      ++with_gdr;
      continue;
    }
    ++no_gdr;
    no_gdr_ranks.insert(c.dir == ConnDir::kRecv ? c.to_rank : c.from_rank);
    hs.insert(c.host);
    if (evl.size() < 3) evl.push_back(b.ev(c.at, c.text));
    if (before(c.at, first)) first = c.at;
  }
  auto hca = events_of(log, kSigGdrDisabledHca);
  if (no_gdr == 0 && hca.empty()) return;
  // "GPU Direct RDMA Disabled for GPU 0 / HCA 1 (distance 7 > 5)": the numbers are path types of
  // this NCCL version (reference §1.2), so name them with the banner's table.
  std::string distance;
  for (const auto* e : hca) {
    std::size_t p = e->message.find("(distance ");
    long a = -1, c = -1;
    std::size_t used = 0;
    if (p == std::string::npos || !parse_int(std::string_view(e->message).substr(p + 10), a, &used)) continue;
    std::size_t gt = e->message.find("> ", p);
    if (gt != std::string::npos) (void)parse_int(std::string_view(e->message).substr(gt + 2), c);
    distance = fmt::format(" The GPU-NIC path is {} while NCCL_NET_GDR_LEVEL allows up to {}{}.",
                           path_type_name(static_cast<int>(a), log.version),
                           c >= 0 ? path_type_name(static_cast<int>(c), log.version) : std::string("?"),
                           log.version.known() ? " (path types of NCCL " + log.version.text + ")"
                                               : " (path types of NCCL >= 2.27.5; no version banner)");
    break;
  }
  for (const auto* e : hca) {
    hs.insert(e->host);
    if (evl.size() < 4) evl.push_back(b.ev(*e));
    if (before(e->at, first)) first = e->at;
  }
  auto& f = b.add("gdr.disabled", kTierRisk, hosts_text(hs), "GPUDirect RDMA",
                  with_gdr > 0
                      ? fmt::format("{} of {} RDMA connections run without GPUDirect RDMA (no '/GDRDMA'): those "
                                    "transfers are staged through host memory.",
                                    no_gdr, no_gdr + with_gdr)
                  : no_gdr > 0
                      ? fmt::format("None of the {} RDMA connections uses GPUDirect RDMA (no '/GDRDMA' suffix): "
                                    "NIC<->GPU transfers are staged through host memory.",
                                    no_gdr)
                      : "NCCL disabled GPUDirect RDMA for the HCA(s).",
                  first);
  f.message += distance;
  if (!no_gdr_ranks.empty())
    f.subject += " (ranks " + format_ranges({no_gdr_ranks.begin(), no_gdr_ranks.end()}) + ")";
  f.evidence = evl;
}

void rule_watchdog(const RunLog& log, Builder& b) {
  if (log.watchdog.empty()) return;
  std::map<long, std::vector<const WatchdogEvent*>> by_seq;
  for (const auto& w : log.watchdog)
    if (w.seq >= 0) by_seq[w.seq].push_back(&w);
  bool mismatch = false;
  for (const auto& [seq, ws] : by_seq) {
    std::set<std::string> ops;
    std::set<long> numels;
    for (const auto* w : ws) {
      if (!w->op_type.empty()) ops.insert(w->op_type);
      if (w->numel_in >= 0) numels.insert(w->numel_in);
    }
    if (ops.size() > 1 || numels.size() > 1) {
      mismatch = true;
      std::vector<std::string> parts;
      for (const auto* w : ws)
        if (parts.size() < 6)
          parts.push_back(fmt::format("rank {} in {} ({} elements)", w->rank, w->op_type.empty() ? "?" : w->op_type,
                                      w->numel_in));
      auto& f = b.add("app.collective_mismatch", kTierExplicit, "", fmt::format("SeqNum {}", seq),
                      fmt::format("At collective #{} the ranks are in different operations: {}. The application "
                                  "issued different collectives on different ranks (desync); not a network fault.",
                                  seq, join(parts, ", ")),
                      ws.front()->at);
      for (std::size_t i = 0; i < ws.size() && i < 4; ++i) f.evidence.push_back(b.ev(ws[i]->at, ws[i]->text));
      break;
    }
  }
  std::set<int> ranks;
  for (const auto& w : log.watchdog) ranks.insert(w.rank);
  std::vector<int> rv(ranks.begin(), ranks.end());
  // The ranks that did not time out are the ones the others waited for: name them when the
  // size of the job is known.
  int n = log.nranks;
  if (n <= 0 && !ranks.empty() && *ranks.rbegin() >= 0) n = 0;
  std::vector<int> silent;
  if (n > 0 && static_cast<int>(ranks.size()) < n)
    for (int r = 0; r < n; ++r)
      if (!ranks.count(r)) silent.push_back(r);
  auto& f = b.add("hang.watchdog_timeout", mismatch ? kTierConsequence : kTierGeneric, "",
                  fmt::format("ranks {}", format_ranges(rv)),
                  fmt::format("PyTorch's NCCL watchdog timed out collective #{} on rank(s) {}{}.",
                              log.watchdog.front().seq, format_ranges(rv),
                              silent.empty() ? ""
                                             : fmt::format("; rank(s) {} of {} did not report a timeout: the others "
                                                           "were waiting for them (stopped, crashed, or in another "
                                                           "collective)",
                                                           format_ranges(silent), n)),
                  log.watchdog.front().at);
  for (std::size_t i = 0; i < log.watchdog.size() && i < 3; ++i)
    f.evidence.push_back(b.ev(log.watchdog[i].at, log.watchdog[i].text));
}


// ---------------------------------------------------------------------------------------------
// Structural reading: every failure line has a source (and so a subsystem), codes, a
// propagation chain and a phase of the run. These rules use that structure; they do not need to
// have seen the message before.

// The error-trace lines that follow a failure on the same process, up to its next WARN: how
// the error propagated (`transport/nvls.cc:409 -> 1`, `init.cc:1138 -> 1`, ...).
std::vector<const LogEvent*> chain_after(const RunLog& log, const LogEvent& e) {
  std::vector<const LogEvent*> out;
  bool seen = false;
  for (const auto& x : log.events) {
    if (&x == &e) {
      seen = true;
      continue;
    }
    if (!seen || x.host != e.host || x.pid != e.pid || before(x.at, e.at)) continue;
    if (x.kind == EventKind::kWarn) break;
    if (x.kind == EventKind::kTrace) out.push_back(&x);
    if (out.size() >= 16) break;
  }
  return out;
}

bool src_has(const LogEvent& e, std::string_view p) { return e.src.find(p) != std::string::npos; }

// Where in the run a failure happened, from its chain, its process's progress and the wrappers.
std::string phase_of(const RunLog& log, const LogEvent& e, const std::vector<const LogEvent*>& chain) {
  bool init = false, connect = false, run = false;
  for (const auto* t : chain) {
    if (src_has(*t, "init.c") || src_has(*t, "group.c") || src_has(*t, "bootstrap") ||
        t->message.find("[Async thread]") != std::string::npos)
      init = true;
    if (src_has(*t, "transport.c") || src_has(*t, "channel.c") || src_has(*t, "connect")) connect = true;
    if (t->message.find("Progress Thread") != std::string::npos || t->message.find("Proxy Thread") != std::string::npos)
      run = true;
  }
  if (run) return "while collectives were running (proxy progress)";
  if (!log.watchdog.empty())
    return fmt::format("at collective #{} (PyTorch SeqNum)", log.watchdog.front().seq);
  if (connect) return "while connecting the transports (communicator setup)";
  if (init) return "during communicator init";
  auto it = log.processes.find({e.host, e.pid});
  if (it != log.processes.end() && e.kind == EventKind::kWarn) {
    Stage st = it->second.stage;
    if (static_cast<int>(st) >= static_cast<int>(Stage::kRunning)) return "while collectives were running";
    if (static_cast<int>(st) >= static_cast<int>(Stage::kInitComplete)) return "after init completed";
    if (static_cast<int>(st) >= static_cast<int>(Stage::kConnecting)) return "during connection setup";
    if (static_cast<int>(st) >= static_cast<int>(Stage::kBootstrap)) return "during init";
  }
  if (log.tests.rows > 0) return "after nccl-tests had produced results";
  return "";
}

std::string chain_text(const std::vector<const LogEvent*>& chain) {
  if (chain.empty()) return "";
  std::vector<std::string> frames;
  for (std::size_t i = 0; i < chain.size() && i < 5; ++i) frames.push_back(chain[i]->src);
  int r = chain.back()->result;
  std::string_view name = nccl_result_name(r);
  return fmt::format("; it propagated through {}{} as ncclResult {}{}", join(frames, " -> "),
                     chain.size() > 5 ? " -> ..." : "", r, name.empty() ? "" : " (" + std::string(name) + ")");
}

// A framework's wrapper of an NCCL error ("unhandled cuda error", "internal error - please
// report ...", nccl-tests' "Test NCCL failure"): the consequence, never the root.
bool wrapper_message(std::string_view m) {
  for (std::string_view w : {"unhandled cuda error", "unhandled system error", "internal error", "invalid argument",
                             "invalid usage", "remote process exited", "remote error", "NCCL error"})
    if (starts_with(m, w)) return true;
  return false;
}

// The peer named by a socket failure: "Connection closed by remote peer host<port>",
// "Call to recv from 10.0.0.2<5> failed".
std::string peer_of(std::string_view m) {
  for (std::string_view key : {"remote peer ", " from ", "Connect to ", "connect to "}) {
    std::size_t p = m.find(key);
    if (p == std::string_view::npos) continue;
    std::string_view r = m.substr(p + key.size());
    std::size_t e = r.find_first_of(" <,");
    std::string_view peer = r.substr(0, e);
    if (!peer.empty() && peer.size() < 128) return std::string(peer);
  }
  return "";
}

// The two ends of one transfer disagree on its size ("local size N remote size M" on NET/IB,
// "receiving N bytes instead of M" on sockets): the peers computed it differently.
bool size_disagreement(const std::string& m) {
  return (m.find("local size") != std::string::npos && m.find("remote") != std::string::npos) ||
         m.find("bytes instead of") != std::string::npos;
}

// A failed connect names where it went. When that address is IPv6 link-local (fe80::), it
// cannot route between hosts whatever the interface lists say, so the address choice is the
// cause and the timeout its consequence (also when only one host name is visible).
void rule_connect_destinations(const RunLog& log, Builder& b) {
  std::vector<const LogEvent*> ll;
  for (int sig : {kSigConnTimeout, kSigNoRoute, kSigNetUnreachable})
    for (const auto* e : events_of(log, sig)) {
      std::string peer = peer_of(e->message);
      if (peer.size() > 5 && (peer.rfind("fe80:", 0) == 0 || peer.rfind("FE80:", 0) == 0)) ll.push_back(e);
    }
  if (ll.empty()) return;
  auto& f = b.add("net.ipv6_link_local", kTierConfig, hosts_text(hosts_of(ll)), peer_of(ll.front()->message),
                  fmt::format("Connections to an IPv6 link-local address ({}) fail: fe80:: addresses do not route "
                              "between hosts, so NCCL chose an interface that has no routable address.",
                              peer_of(ll.front()->message)),
                  first_at(ll));
  f.severity = Severity::kError;
  add_evidence(f, b, ll, 2);
  f.hint = "Set NCCL_SOCKET_IFNAME to the interface with a routable (global IPv4/IPv6) address on every node.";
}

void rule_structural(const RunLog& log, Builder& b) {
  if (auto evs = events_of(log, kSigPortError); !evs.empty()) {
    auto& f = b.add("ib.port_error", kTierExplicit, hosts_text(hosts_of(evs)), "IB port",
                    fmt::format("The HCA reported port errors (async event){}: an IB/RoCE link went down or flapped, "
                                "and transfers over it fail or time out.",
                                count_note(log, kSigPortError, evs.size())),
                    first_at(evs));
    add_evidence(f, b, evs);
  }
  if (auto evs = events_of(log, kSigCollNet); !evs.empty()) {
    auto& f = b.add("collnet.fallback", kTierRisk, hosts_text(hosts_of(evs)), "CollNet/SHARP",
                    "CollNet (SHARP in-network reduction) could not be set up and NCCL fell back to the point-to-point "
                    "network: the job runs, without SHARP offload (lower all-reduce bandwidth at scale).",
                    first_at(evs));
    f.severity = Severity::kWarn;
    add_evidence(f, b, evs);
  }
  if (auto evs = events_of(log, kSigTopoXml); !evs.empty()) {
    std::string file = env_value(log, "NCCL_TOPO_FILE");
    const EnvSetting* es = log.env.count("NCCL_TOPO_FILE") ? &log.env.at("NCCL_TOPO_FILE") : nullptr;
    bool by_plugin = es && es->text.find("NET/") != std::string::npos;
    auto& f = b.add("topo.xml_invalid", kTierExplicit, hosts_text(hosts_of(evs)), "topology XML",
                    file.empty() ? fmt::format("NCCL's topology XML is incomplete ({}): topology detection failed "
                                               "and the communicator cannot be built.",
                                               evs.front()->message)
                                 : fmt::format("The topology file {} ({}) is not valid for NCCL ({}).", file,
                                               by_plugin ? "set by the net plugin" : "NCCL_TOPO_FILE",
                                               evs.front()->message),
                    first_at(evs));
    add_evidence(f, b, evs, 2);
    if (es) f.evidence.push_back(b.ev(es->at, es->text));
    for (const auto& e : log.events)
      if (e.kind == EventKind::kTrace && e.src.find("graph/") != std::string::npos && f.evidence.size() < 5)
        f.evidence.push_back(b.ev(e));
    if (!file.empty())
      f.hint = by_plugin ? "The net plugin injected a static topology file that does not fit this machine or GPU subset: "
                           "upgrade the plugin (newer aws-ofi-nccl generates it) or override NCCL_TOPO_FILE."
                         : "Fix or unset NCCL_TOPO_FILE (environment, /etc/nccl.conf, ~/.nccl.conf).";
    else
      f.hint = "Topology detection tripped over a device it cannot place (e.g. a USB NIC): inject a topology with "
               "NCCL_TOPO_FILE as a workaround and upgrade NCCL.";
  }
  if (auto evs = events_of(log, kSigGraphImport); !evs.empty()) {
    std::string file = env_value(log, "NCCL_GRAPH_FILE");
    auto& f = b.add("topo.graph_file_mismatch", kTierExplicit, hosts_text(hosts_of(evs)),
                    file.empty() ? std::string("NCCL_GRAPH_FILE") : "NCCL_GRAPH_FILE=" + file,
                    fmt::format("An injected graph file{} describes devices this run does not have ({}): NCCL cannot "
                                "import its channels.",
                                file.empty() ? "" : " (" + file + ")", evs.front()->message),
                    first_at(evs));
    add_evidence(f, b, evs, 2);
    if (log.env.count("NCCL_GRAPH_FILE"))
      f.evidence.push_back(b.ev(log.env.at("NCCL_GRAPH_FILE").at, log.env.at("NCCL_GRAPH_FILE").text));
  }
  if (auto evs = events_of(log, kSigOfiError); !evs.empty()) {
    DecodedCodes c = decode_codes(evs.front()->message);
    auto& f = b.add("net.ofi_error", kTierExplicit, hosts_text(hosts_of(evs)), "aws-ofi-nccl / libfabric",
                    fmt::format("The libfabric (OFI) net plugin failed{}: {}", c.any() ? " (" + c.text() + ")" : "",
                                evs.front()->message),
                    first_at(evs));
    add_evidence(f, b, evs, 3);
    f.hint = c.ofi_text == "UNDELIVERABLE" || c.err_no == 113
                 ? "The peer's endpoint could not be reached over the fabric: check EFA/fabric health and security "
                   "groups between the nodes, and that every rank runs the same plugin version."
                 : hint_for(Subsystem::kNetPlugin, c);
  }
  if (auto evs = events_of(log, kSigShmCumem); !evs.empty()) {
    DecodedCodes c = decode_codes(evs.front()->message);
    auto& f = b.add("shm.cumem_host_failed", kTierExplicit, hosts_text(hosts_of(evs)), "SHM over cuMem host memory",
                    fmt::format("The SHM transport could not share host memory through cuMem{}: the peers' cuMem "
                                "host allocations are not usable between them (no peer access, or the ranks chose "
                                "different host-memory paths).",
                                c.any() ? " (" + c.text() + ")" : ""),
                    first_at(evs));
    add_evidence(f, b, evs, 3);
  }
  if (auto evs = events_of(log, kSigFingerprint); !evs.empty()) {
    // "Rank 1 is running collective: CollectiveFingerPrint(SequenceNumber=0, OpType=X, TensorShape=[..]"
    std::string_view m = evs.front()->message;
    std::vector<std::string> parts;
    std::size_t p = 0;
    while ((p = m.find("Rank ", p)) != std::string_view::npos && parts.size() < 2) {
      long r = -1;
      std::size_t used = 0;
      if (!parse_int(m.substr(p + 5), r, &used)) {
        p += 5;
        continue;
      }
      std::string_view rest = m.substr(p);
      auto field = [&](std::string_view key) {
        std::size_t k = rest.find(key);
        if (k == std::string_view::npos || k > 400) return std::string();
        std::string_view v = rest.substr(k + key.size());
        return std::string(v.substr(0, std::min(v.find_first_of(key == "TensorShape=" ? "]" : ",)"), v.size())));
      };
      std::string op = field("OpType="), shape = field("TensorShape=");
      parts.push_back(fmt::format("rank {} runs {}{}", r, op.empty() ? "?" : op, shape.empty() ? "" : " on shape " + shape + "]"));
      p += 5 + used;
    }
    auto& f = b.add("app.collective_mismatch", kTierExplicit, "", "collective fingerprint",
                    fmt::format("PyTorch's collective check (TORCH_DISTRIBUTED_DEBUG=DETAIL) found ranks in different "
                                "collectives{}: an application desync, not a network fault.",
                                parts.empty() ? "" : ": " + join(parts, ", ")),
                    first_at(evs));
    add_evidence(f, b, evs, 2);
  }
  if (auto evs = events_of(log, kSigSocketType); !evs.empty()) {
    auto& f = b.add("net.plugin_mismatch", kTierExplicit, hosts_text(hosts_of(evs)), "NET transport",
                    "A connection arrived of a different type than expected (socketFinalizeAccept: wrong type): the "
                    "two ends use different network transports, e.g. IB working on one node and not on the other.",
                    first_at(evs));
    add_evidence(f, b, evs, 2);
    f.hint = "Make the same network usable on every node (IB on all, or NCCL_IB_DISABLE=1 everywhere) and use one "
             "NCCL version and net plugin across nodes.";
  }
  std::vector<const LogEvent*> sizes;
  for (const auto& e : log.events)
    if (e.kind != EventKind::kTrace && size_disagreement(e.message)) sizes.push_back(&e);
  if (const auto& evs = sizes; !evs.empty()) {
    auto& f = b.add("config.inconsistent_across_nodes", kTierExplicit, hosts_text(hosts_of(evs)), "transfer sizes",
                    fmt::format("The two ends of a connection disagree on a transfer's size ({}): peers that compute "
                                "different buffer or chunk sizes run different NCCL versions or NCCL_* settings "
                                "(NCCL_BUFFSIZE, NCCL_PROTO, ...); with those identical, the application posts "
                                "different sizes on different ranks.",
                                evs.front()->message.substr(0, 160)),
                    first_at(evs));
    add_evidence(f, b, evs, 2);
    f.hint = "Compare the NCCL version and the NCCL_* settings of every node (NCCL_DEBUG_SUBSYS=INIT,ENV) and make "
             "them identical; if they are, check that all ranks call the same collectives with the same sizes.";
  }
  // Failures no rule names: a finding built from the structure of the line.
  std::map<std::string, std::vector<const LogEvent*>> groups;
  std::vector<std::string> order;
  for (const auto& e : log.events) {
    if (e.kind == EventKind::kTrace || e.kind == EventKind::kInfoSignal) continue;
    if (e.sig != kSigOther && e.sig != kSigCudaOther && e.sig != kSigNoTransport && e.sig != kSigAsyncOther) continue;
    if (e.kind == EventKind::kCarried && wrapper_message(e.message)) continue;
    if (size_disagreement(e.message)) continue;  // named above
    Subsystem sub = subsystem_of(e.src, e.message);
    std::string key = std::string(to_string(sub)) + "|" + e.message.substr(0, 40);
    if (!groups.count(key)) order.push_back(key);
    groups[key].push_back(&e);
  }
  int shown = 0;
  for (const auto& key : order) {
    if (++shown > 5) break;
    const auto& evs = groups[key];
    const LogEvent& e = *evs.front();
    Subsystem sub = subsystem_of(e.src, e.message);
    DecodedCodes c = decode_codes(e.message);
    auto chain = chain_after(log, e);
    std::string phase = phase_of(log, e, chain);
    bool failure = c.any() || !chain.empty() || e.kind == EventKind::kCarried || e.sig == kSigCudaOther;
    auto& f = b.add("log.subsystem_failure", failure ? kTierGeneric : kTierRisk + 3, hosts_text(hosts_of(evs)),
                    e.src.empty() ? std::string(to_string(sub)) : std::string(to_string(sub)) + " (" + e.src + ")",
                    fmt::format("NCCL's {} {}{}{}{}: \"{}\"", to_string(sub), failure ? "failed" : "warned",
                                c.any() ? " with " + c.text() : "", phase.empty() ? "" : " " + phase,
                                chain_text(chain), e.message),
                    first_at(evs));
    if (!failure) f.severity = Severity::kWarn;
    add_evidence(f, b, evs, 2);
    for (std::size_t i = 0; i < chain.size() && f.evidence.size() < 5; ++i) f.evidence.push_back(b.ev(*chain[i]));
    f.hint = hint_for(sub, c);
  }
}

bool any_failure(const RunLog& log) {
  for (const auto& e : log.events) {
    if (e.sig == kSigIbverbsMissing || e.sig == kSigGdrDisabledHca || e.sig == kSigIbNoDevice ||
        e.sig == kSigPathPattern)
      continue;
    if (e.kind == EventKind::kWarn || e.kind == EventKind::kTrace || e.kind == EventKind::kCarried) return true;
    if (e.sig == kSigMaxSharedMem || e.sig == kSigOfiProvider) return true;
  }
  return !log.watchdog.empty() || !log.tests.failures.empty();
}

// Failures that happen while communicators are being set up (as opposed to a running job).
bool setup_failure_sig(int sig) {
  switch (sig) {
    case kSigDuplicateGpu: case kSigShm: case kSigOom: case kSigNvls: case kSigCuda802: case kSigDriverTooOld:
    case kSigMaxSharedMem: case kSigReversePath: case kSigIpcOpen: case kSigIbvOpen: case kSigRegMr:
    case kSigModifyQp: case kSigConnRefused: case kSigNoRoute: case kSigConnTimeout: case kSigNetUnreachable:
    case kSigBadFamily: case kSigNoSocketIf: case kSigVersionMismatch: case kSigNoTransport: case kSigOfiShm:
    case kSigTopoXml: case kSigGraphImport: case kSigShmCumem: case kSigSocketType:
      return true;
    default:
      return false;
  }
}

void rule_init_failed(const RunLog& log, Builder& b) {
  // Error traces through init/group/bootstrap, or a failure before any rank completed init.
  std::vector<const LogEvent*> chain;
  std::set<std::string> hosts;
  for (const auto& e : log.events) {
    if (e.kind != EventKind::kTrace) continue;
    const std::string& s = e.src;
    if (s.find("init.c") != std::string::npos || s.find("group.c") != std::string::npos ||
        s.find("bootstrap.c") != std::string::npos || e.message.find("[Async thread]") != std::string::npos) {
      chain.push_back(&e);
      hosts.insert(e.host);
    }
  }
  // A fallback NCCL survives (CollNet/SHARP that could not be set up) prints error traces through
  // init.cc too; without a group/async abort or another failure they are not an aborted init.
  if (!chain.empty() && any_event(log, {kSigCollNet})) {
    bool abort = false, other = false;
    for (const auto* e : chain)
      abort = abort || e->src.find("group.c") != std::string::npos ||
              e->message.find("[Async thread]") != std::string::npos || e->src.find("bootstrap") != std::string::npos;
    for (const auto& e : log.events)
      other = other || (e.kind != EventKind::kTrace && e.sig != kSigCollNet && e.sig != kSigIbverbsMissing &&
                        e.sig != kSigGdrDisabledHca && e.sig != kSigIbNoDevice && e.sig != kSigPathPattern);
    if (!abort && !other) chain.clear();
  }
  std::vector<const LogEvent*> peer;
  for (const auto& e : log.events)
    if (e.sig == kSigPeerClosed || e.sig == kSigProxyFailed) peer.push_back(&e);
  // A setup-time cause with error traces and no rank past init: the init failed too, even when
  // the trace excerpt stops before init.cc.
  if (chain.empty()) {
    bool setup = false, completed = false;
    for (const auto& e : log.events) setup = setup || (e.kind == EventKind::kWarn && setup_failure_sig(e.sig));
    for (const auto& [k, p] : log.processes)
      completed = completed || static_cast<int>(p.stage) >= static_cast<int>(Stage::kInitComplete);
    if (setup && !completed)
      for (const auto& e : log.events)
        if (e.kind == EventKind::kTrace) {
          chain.push_back(&e);
          hosts.insert(e.host);
        }
  }
  if (chain.empty() && peer.empty()) return;
  std::set<int> ranks;
  for (const auto& [k, p] : log.processes)
    if (p.failed) ranks.insert(p.ranks.begin(), p.ranks.end());
  std::vector<int> rv(ranks.begin(), ranks.end());
  if (!chain.empty()) {
    auto& f = b.add("init.failed", kTierConsequence, hosts_text(hosts),
                    rv.empty() ? std::string("communicator init") : fmt::format("ranks {}", format_ranges(rv)),
                    fmt::format("Communicator initialisation aborted on {} host(s) (error {} propagated through "
                                "init).",
                                std::max<std::size_t>(1, hosts.size()), chain.front()->result),
                    first_at(chain));
    add_evidence(f, b, chain, 2);
    add_evidence(f, b, peer, 2);
    b.last().consequence = true;
  } else {
    std::set<std::string> peers;
    for (const auto* e : peer)
      if (std::string p = peer_of(e->message); !p.empty() && peers.size() < 4) peers.insert(p);
    DecodedCodes c = decode_codes(peer.front()->message);
    auto& f = b.add("log.peer_exited", kTierGeneric + 5, hosts_text(hosts_of(peer)),
                    peers.empty() ? std::string("peer connection") : "peer " + join({peers.begin(), peers.end()}, ", "),
                    fmt::format("The connection to {}{} broke{}: that process exited or its node failed first; its "
                                "own log holds the cause.",
                                peers.empty() ? std::string("a peer") : join({peers.begin(), peers.end()}, ", "),
                                "", c.err_no >= 0 ? " (" + c.text() + ")" : ""),
                    first_at(peer));
    add_evidence(f, b, peer, 3);
  }
}

void rule_hang(const RunLog& log, Builder& b) {
  if (!log.watchdog.empty()) return;
  bool failure = any_failure(log);
  if (failure) return;
  for (const auto& c : b.all())
    if (c.f.severity == Severity::kError && c.tier <= kTierConfig) failure = true;
  Stage max_stage = Stage::kNone, min_stage = Stage::kFinished;
  int procs = 0;
  for (const auto& [k, p] : log.processes) {
    if (p.stage == Stage::kNone) continue;
    ++procs;
    if (static_cast<int>(p.stage) > static_cast<int>(max_stage)) max_stage = p.stage;
    if (static_cast<int>(p.stage) < static_cast<int>(min_stage)) min_stage = p.stage;
  }
  if (procs == 0) return;
  bool tests_no_result = log.tests.headers > 0 && log.tests.rows == 0 && log.tests.avg_busbw.empty();
  bool diverged = static_cast<int>(max_stage) >= static_cast<int>(Stage::kInitComplete) &&
                  static_cast<int>(min_stage) < static_cast<int>(Stage::kConnecting) && procs > 1;
  // Without positive evidence of a stall (nccl-tests without a result, ranks at different
  // stages) a log that stops is an excerpt as often as a hang: no finding.
  if (!tests_no_result && !diverged) return;
  bool after = static_cast<int>(min_stage) >= static_cast<int>(Stage::kConnected) ||
               (!diverged && static_cast<int>(max_stage) >= static_cast<int>(Stage::kTopology) &&
                static_cast<int>(max_stage) >= static_cast<int>(Stage::kConnecting));
  // Where each host stopped.
  std::vector<std::string> evl;
  if (!log.version_quote.empty()) evl.push_back(b.ev(log.version_quote));
  for (const auto& q : log.init_quotes)
    if (evl.size() < 3) evl.push_back(b.ev(q));
  std::vector<std::string> stops;
  SourceRef last;
  for (const auto& [n, h] : log.hosts) {
    if (h.last_quote.empty()) continue;
    if (evl.size() < 6) evl.push_back(b.ev(h.last_quote));
    stops.push_back(fmt::format("{} at {}", n.empty() ? "(no host)" : n, to_string(h.min_stage)));
    if (before(last, h.last_quote.at) || last.line == 0) last = h.last_quote.at;
  }
  std::string what = tests_no_result ? "nccl-tests started but printed no result" : "ranks stopped at different stages";
  // A single node, PCIe GPUs, P2P allowed, and a silent hang: P2P blocked by the IOMMU/ACS.
  bool p2p_disabled = env_value(log, "NCCL_P2P_DISABLE") == "1";
  bool nvlink = false;
  for (const auto& [n, h] : log.hosts) nvlink = nvlink || h.nvlink_paths > 0;
  bool pcie_gpus = consumer_pcie_gpu(log.tests.gpu_names);
  bool single = log.single_node() || (log.host_names().size() <= 1 && !log.multi_node());
  // Only with positive evidence of a hang (nccl-tests started and never printed a result, or
  // init completed and nothing followed): a log that merely stops mid-init gets no fix.
  if ((after || tests_no_result) && single && !p2p_disabled && !nvlink &&
      (pcie_gpus || log.tests.gpu_names.empty())) {
    auto& f = b.add("p2p.hang_iommu_acs", kTierRisk, log.host_names().empty() ? "" : log.host_names().front(),
                    "GPU peer-to-peer",
                    fmt::format("The run hangs without any error ({}) on one node with PCIe GPUs{} and P2P enabled: "
                                "the signature of GPU peer-to-peer traffic blocked by the IOMMU or PCIe ACS.",
                                what, pcie_gpus ? " (" + log.tests.gpu_names.front() + ")" : ""),
                    last);
    f.evidence = evl;
  }
  if (after) {
    auto& f = b.add("hang.after_init", kTierGeneric + 2, "", "progress",
                    fmt::format("The log ends without a result or an error ({}): {}.", what, join(stops, ", ")), last);
    f.evidence = evl;
    return;
  }
  // Stopped during init: all the log can say is where; a hang and a cut log look the same.
  auto& f = b.add("hang.init", kTierGeneric + 2, "", "progress",
                  fmt::format("The log ends during init ({}): {}. Either the run hung there or the log is cut; "
                              "the log holds no error that says which.",
                              what, join(stops, ", ")),
                  last);
  f.severity = Severity::kWarn;
  f.hint = "Check whether the job was still running when the log was taken. If it hung: rerun with NCCL_DEBUG=INFO "
           "NCCL_DEBUG_SUBSYS=INIT,BOOTSTRAP,NET on every rank and compare where each rank stops.";
  f.evidence.clear();
  if (!last.line) return;
  for (const auto& [n, h] : log.hosts)
    if (!h.last_quote.empty() && f.evidence.size() < 4) f.evidence.push_back(b.ev(h.last_quote));
}

void rule_perf(const RunLog& log, Builder& b) {
  const TestsRun& t = log.tests;
  if (t.peak_rows.empty() && t.avg_busbw.empty()) return;
  double peak = 0;
  const TestsRow* best = nullptr;
  for (const auto& r : t.peak_rows) {
    double v = std::max(r.busbw, r.busbw_inplace);
    if (v > peak && r.bytes >= (std::uint64_t{1} << 20)) {
      peak = v;
      best = &r;
    }
  }
  if (!best)  // only small sizes in the log: the largest one is the best there is
    for (const auto& r : t.peak_rows)
      if (!best || r.bytes > best->bytes) best = &r;
  if (best) peak = std::max(best->busbw, best->busbw_inplace);
  if (!best && t.avg_busbw.empty()) return;
  const char* cause = nullptr;
  if (b.has("gdr.disabled")) cause = "gdr.disabled";
  else if (b.has("launch.independent_jobs_no_mpi")) cause = "launch.independent_jobs_no_mpi";
  else if (b.has("net.socket_fallback")) cause = "net.socket_fallback";
  bool rdma = false;
  for (const auto& [n, h] : log.hosts)
    for (const auto& net : h.networks) rdma = rdma || is_rdma_net(net);
  for (const auto& c : log.connections) rdma = rdma || (c.kind == TransportKind::kNet && is_rdma_net(c.net));
  // Without a cause, only a clearly low result: a multi-node RDMA run below 5 GB/s at large sizes.
  bool standalone = best && log.multi_node() && rdma && best->bytes >= (std::uint64_t{64} << 20) && peak < 5.0;
  if (!cause && !standalone) return;
  std::string measured;
  if (best) measured = fmt::format("peak busbw {:.1f} GB/s at {} bytes", peak, best->bytes);
  else measured = fmt::format("average busbw {:.1f} GB/s (no per-size rows in the log)", t.avg_busbw.front().first);
  auto& f = b.add("perf.low_busbw", cause ? kTierConsequence : kTierGeneric, "", "nccl-tests",
                  cause ? fmt::format("nccl-tests {}: low, as expected with {}.", measured, cause)
                        : fmt::format("nccl-tests {} on a multi-node RDMA run: far below any InfiniBand/RoCE/EFA "
                                      "fabric.",
                                      measured),
                  best ? best->at : t.avg_busbw.front().second);
  if (best) {
    f.measured = peak;
    f.unit = "GB/s";
    f.evidence.push_back(b.ev(best->at, best->text));
  }
  for (std::size_t i = 0; i < t.avg_text.size() && i < 2; ++i)
    f.evidence.push_back(b.ev(t.avg_busbw[i].second, t.avg_text[i]));
  if (cause) b.last().consequence = true;
}

void rule_versions_and_env(const RunLog& log, Builder& b) {
  // NCCL versions across hosts.
  std::map<std::string, std::vector<std::string>> by_version;
  for (const auto& [n, h] : log.hosts)
    if (!n.empty())
      for (const auto& v : h.versions) by_version[v].push_back(n);
  if (by_version.size() > 1) {
    std::vector<std::string> parts;
    for (const auto& [v, hs] : by_version) parts.push_back(fmt::format("{} on {}", v, join(hs, ",")));
    auto& f = b.add("version.mismatch", kTierExplicit, "", "NCCL",
                    "Hosts of one job run different NCCL versions: " + join(parts, "; ") + ".");
    if (!log.version_quote.empty()) f.evidence.push_back(b.ev(log.version_quote));
    if (!b.has("config.inconsistent_across_nodes")) {
      auto& g = b.add("config.inconsistent_across_nodes", kTierExplicit + 1, "", "software",
                      "The software stack differs between nodes: " + join(parts, "; ") + ".");
      g.evidence = f.evidence;
    }
  }
  // Driver older than the CUDA NCCL was built with (major versions: minor compat covers the rest).
  if (!b.has("cuda.driver_too_old")) {
    std::size_t cu = log.version.text.find("+cuda");
    long build_major = -1;
    if (cu != std::string::npos) (void)parse_int(std::string_view(log.version.text).substr(cu + 5), build_major);
    for (const auto& [n, h] : log.hosts) {
      long drv = -1;
      if (h.cuda_driver.empty() || !parse_int(h.cuda_driver, drv) || drv < 1000 || build_major < 0) continue;
      if (drv / 1000 < build_major) {
        auto& f = b.add("cuda.driver_too_old", kTierExplicit, n, "NVIDIA driver",
                        fmt::format("The driver supports CUDA {}.{} but NCCL was built with CUDA {}.", drv / 1000,
                                    (drv % 1000) / 10, build_major));
        f.evidence.push_back(b.ev(log.version_quote));
        break;
      }
    }
  }
  if (log.env.empty()) return;
  std::vector<std::string> parts, evl;
  SourceRef first;
  for (const auto& [name, e] : log.env) {
    parts.push_back(name + "=" + e.value);
    if (evl.size() < 6) evl.push_back(b.ev(e.at, e.text));
    if (before(e.at, first)) first = e.at;
  }
  auto& f = b.add("env.override_info", kTierInfo, "", fmt::format("{} variable(s)", log.env.size()),
                  "Set by the environment: " + join(parts, ", ") + ".", first);
  f.evidence = evl;
  // Settings known to cost bandwidth (same table spirit as the live env check).
  for (const auto& [name, value] : std::vector<std::pair<std::string, std::string>>{
           {"NCCL_P2P_DISABLE", "1"}, {"NCCL_SHM_DISABLE", "1"}, {"NCCL_IB_DISABLE", "1"}, {"NCCL_NET_GDR_LEVEL", "0"}}) {
    auto it = log.env.find(name);
    if (it == log.env.end() || it->second.value != value) continue;
    if (name == "NCCL_IB_DISABLE" && !log.multi_node()) continue;
    auto& g = b.add("env.risky", kTierRisk + 5, "", name + "=" + value,
                    fmt::format("{}={} forces a slower path ({}).", name, value,
                                name == "NCCL_P2P_DISABLE"   ? "GPU traffic through host memory"
                                : name == "NCCL_SHM_DISABLE" ? "intra-node traffic over the network"
                                : name == "NCCL_IB_DISABLE"  ? "inter-node traffic over TCP"
                                                             : "no GPUDirect RDMA"),
                    it->second.at);
    g.evidence.push_back(b.ev(it->second.at, it->second.text));
  }
}

void rule_fallbacks(const RunLog& log, Builder& b) {
  auto explained = [&]() {
    for (const auto& c : b.all())
      if (c.f.severity != Severity::kInfo && !c.consequence) return true;
    return false;
  };
  // Error traces with no WARN that explains them (NCCL_DEBUG=INFO logs where the WARN went to
  // another stream, or was cut): the deepest frame of the first chain names where it failed.
  if (!explained()) {
    const LogEvent* first = nullptr;
    for (const auto& e : log.events)
      if (e.kind == EventKind::kTrace && (!first || before(e.at, first->at))) first = &e;
    if (first) {
      Subsystem sub = subsystem_of(first->src, "");
      std::vector<const LogEvent*> chain = chain_after(log, *first);
      chain.insert(chain.begin(), first);
      std::string phase = phase_of(log, *first, chain);
      std::string_view rn = nccl_result_name(first->result);
      auto& f = b.add("log.subsystem_failure", kTierGeneric, first->host, std::string(to_string(sub)) + " (" + first->src + ")",
                      fmt::format("NCCL's {} returned ncclResult {}{} {}{}; the WARN that explains it is not in the "
                                  "log.",
                                  to_string(sub), first->result, rn.empty() ? "" : " (" + std::string(rn) + ")",
                                  phase.empty() ? "" : phase, chain_text(chain)),
                      first->at);
      for (std::size_t i = 0; i < chain.size() && i < 4; ++i) f.evidence.push_back(b.ev(*chain[i]));
      DecodedCodes none;
      f.hint = first->result == 1 ? hint_for(Subsystem::kCuMem, none) : hint_for(sub, none);
    }
  }
  // An NCCL error surfaced through a framework or nccl-tests, with no cause anywhere.
  if (!explained()) {
    std::vector<const LogEvent*> carried;
    for (const auto& e : log.events)
      if (e.kind == EventKind::kCarried) carried.push_back(&e);
    if (!carried.empty()) {
      auto& f = b.add("log.nccl_error", kTierFallback + 1, "", "NCCL",
                      fmt::format("NCCL failed ({}) but the log holds no NCCL warning that explains it.",
                                  carried.front()->message),
                      first_at(carried));
      add_evidence(f, b, carried, 3);
    }
  }
}

void rule_healthy(const RunLog& log, Builder& b) {
  for (const auto& c : b.all())
    if (c.f.severity != Severity::kInfo) return;
  std::vector<std::string> evl;
  std::vector<std::string> why;
  for (const auto& [n, h] : log.hosts)
    if (!h.network_quote.empty()) {
      evl.push_back(b.ev(h.network_quote));
      why.push_back("network " + join({h.networks.begin(), h.networks.end()}, "+"));
      break;
    }
  int gdr = 0, net = 0, p2p = 0;
  for (const auto& c : log.connections) {
    if (c.kind == TransportKind::kNet) ++net;
    if (c.gdr) ++gdr;
    if (c.kind == TransportKind::kP2P) ++p2p;
  }
  if (net + p2p > 0) why.push_back(fmt::format("{} connection(s){}", net + p2p, gdr > 0 ? " with GPUDirect RDMA" : ""));
  for (const auto& q : log.init_quotes)
    if (q.text.find("COMPLETE") != std::string::npos) {
      evl.push_back(b.ev(q));
      why.push_back("init complete");
      break;
    }
  const TestsRow* best = nullptr;
  for (const auto& r : log.tests.peak_rows)
    if (!best || std::max(r.busbw, r.busbw_inplace) > std::max(best->busbw, best->busbw_inplace)) best = &r;
  if (best) {
    evl.push_back(b.ev(best->at, best->text));
    why.push_back(fmt::format("nccl-tests peak busbw {:.1f} GB/s at {} bytes, {} wrong", std::max(best->busbw, best->busbw_inplace),
                              best->bytes, log.tests.wrong_total));
  }
  if (log.tests.wrong_total > 0) return;
  if (why.empty() && log.connections.empty() && log.rings.empty()) return;
  auto& f = b.add("log.healthy", kTierInfo + 5, "", "run",
                  why.empty() ? "Nothing wrong in the log: NCCL set up its channels without warnings."
                              : "Nothing wrong in the log: " + join(why, "; ") + ".");
  f.evidence = evl;
}

std::string verdict_text(const RunLog& log, const std::vector<Finding>& out, const std::string& root) {
  int nranks = log.nranks > 0 ? log.nranks : static_cast<int>(log.ranks.size());
  std::string scope = fmt::format("{} line(s) from {} file(s); {} host(s), {}{}{}", log.total_lines,
                                  log.files.size(), log.host_names().size(),
                                  nranks > 0 ? fmt::format("{} rank(s)", nranks) : std::string("ranks unknown"),
                                  log.version.known() ? ", NCCL " + log.version.text : "",
                                  !log.version.known() && !log.version_hint.empty() ? ", NCCL " + log.version_hint : "");
  if (root.empty()) {
    Stage s = Stage::kNone;
    for (const auto& [n, h] : log.hosts)
      if (static_cast<int>(h.stage) > static_cast<int>(s)) s = h.stage;
    return fmt::format("No problem found in {}. The furthest stage reached is '{}'.", scope, to_string(s));
  }
  const Finding& r = out.front();
  int errors = 0, warns = 0;
  for (const auto& f : out) {
    if (f.severity == Severity::kError) ++errors;
    if (f.severity == Severity::kWarn) ++warns;
  }
  std::string where = r.host.empty() ? "" : " on " + r.host;
  std::string others = out.size() > 1 ? fmt::format(" {} further finding(s) follow from it or add context.", out.size() - 1)
                                      : "";
  return fmt::format("{}: {}{} ({}). {}{} Read {}.",
                     r.severity == Severity::kError ? "The run failed" : "The run has a problem",
                     Catalogue::instance().find(r.id) ? Catalogue::instance().find(r.id)->title : r.id, where, r.id,
                     r.message, others, scope);
}

}  // namespace

Diagnosis analyze(const RunLog& log) {
  Builder b(log);
  rule_explicit_warns(log, b);
  rule_network_providers(log, b);
  rule_interfaces(log, b);
  rule_sockets(log, b);
  rule_topology_hosts(log, b);
  rule_hosts_by_address(log, b);
  rule_launch(log, b);
  rule_gdr(log, b);
  rule_watchdog(log, b);
  rule_connect_destinations(log, b);
  rule_structural(log, b);
  rule_init_failed(log, b);
  rule_hang(log, b);
  rule_perf(log, b);
  rule_versions_and_env(log, b);
  rule_fallbacks(log, b);
  rule_healthy(log, b);

  auto& cands = b.all();
  // Merge duplicates of one id (two rules can reach the same conclusion): keep the most causal.
  std::vector<Cand> merged;
  for (auto& c : cands) {
    auto it = std::find_if(merged.begin(), merged.end(), [&](const Cand& m) { return m.f.id == c.f.id; });
    if (it == merged.end()) {
      merged.push_back(std::move(c));
      continue;
    }
    if (c.tier < it->tier) std::swap(*it, c);
    for (auto& e : c.f.evidence)
      if (it->f.evidence.size() < 6 && std::find(it->f.evidence.begin(), it->f.evidence.end(), e) == it->f.evidence.end())
        it->f.evidence.push_back(std::move(e));
  }
  std::stable_sort(merged.begin(), merged.end(), [](const Cand& a, const Cand& c) {
    if (a.f.severity == Severity::kInfo || c.f.severity == Severity::kInfo)
      if ((a.f.severity == Severity::kInfo) != (c.f.severity == Severity::kInfo)) return c.f.severity == Severity::kInfo;
    if (a.consequence != c.consequence) return !a.consequence;
    if (a.tier != c.tier) return a.tier < c.tier;
    return before(a.first, c.first);
  });
  Diagnosis d;
  const Cand* root = nullptr;
  for (const auto& c : merged)
    if (c.f.severity != Severity::kInfo && !c.consequence) {
      root = &c;
      break;
    }
  Severity worst = Severity::kInfo;
  for (const auto& c : merged)
    if (static_cast<int>(c.f.severity) > static_cast<int>(worst)) worst = c.f.severity;
  for (auto& c : merged) {
    if (root && &c != root && c.f.severity != Severity::kInfo &&
        (c.consequence || c.tier >= kTierConsequence || (c.tier >= kTierGeneric && root->tier < kTierGeneric))) {
      c.f.message = fmt::format("Consequence of {}: {}", root->f.id, c.f.message);
      c.consequence = true;
    }
  }
  if (root) {
    d.root = root->f.id;
    Finding rf = root->f;
    if (static_cast<int>(worst) > static_cast<int>(rf.severity)) rf.severity = worst;
    d.findings.push_back(std::move(rf));
  }
  for (auto& c : merged) {
    if (root && &c == root) continue;
    if (root && static_cast<int>(c.f.severity) > static_cast<int>(d.findings.front().severity))
      c.f.severity = d.findings.front().severity;
    d.findings.push_back(std::move(c.f));
  }
  d.verdict = verdict_text(log, d.findings, d.root);
  return d;
}

Diagnosis analyze_files(const std::vector<std::string>& paths, RunLog* model) {
  LogIngest in;
  for (const auto& p : paths) in.add_file(p);
  if (in.relevant_lines() == 0) {
    const RunLog& l = in.log();
    std::string what = fmt::format("no NCCL log lines found ({} line(s){}); run the job with NCCL_DEBUG=INFO",
                                   l.total_lines,
                                   l.truncated_lines > 0 ? ", lines longer than 64 KiB were cut" : "");
    throw InputError(paths.size() == 1 ? paths.front() : join(paths, ", "), what);
  }
  RunLog log = in.take();
  Diagnosis d = analyze(log);
  if (model) *model = std::move(log);
  return d;
}

}  // namespace ncd::nccl
