// SPDX-License-Identifier: Apache-2.0
// The NCCL log rules: the structural reading: error chains, phases, init failures and hangs. Pure over the run model.
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

namespace {

/// The HCA reported port errors.
void rule_port_error(const RunLog& log, Builder& b) {
  if (auto evs = events_of(log, kSigPortError); !evs.empty()) {
    auto& f = b.add("ib.port_error", kTierExplicit, hosts_text(hosts_of(evs)), "IB port",
                    fmt::format("The HCA reported port errors (async event){}: an IB/RoCE link went down or flapped, "
                                "and transfers over it fail or time out.",
                                count_note(log, kSigPortError, evs.size())),
                    first_at(evs));
    add_evidence(f, b, evs);
  }
}

/// CollNet (SHARP) set-up failed and NCCL fell back.
void rule_collnet_fallback(const RunLog& log, Builder& b) {
  if (auto evs = events_of(log, kSigCollNet); !evs.empty()) {
    auto& f = b.add("collnet.fallback", kTierRisk, hosts_text(hosts_of(evs)), "CollNet/SHARP",
                    "CollNet (SHARP in-network reduction) could not be set up and NCCL fell back to the point-to-point "
                    "network: the job runs, without SHARP offload (lower all-reduce bandwidth at scale).",
                    first_at(evs));
    f.severity = Severity::kWarn;
    add_evidence(f, b, evs);
  }
}

/// NCCL's topology XML (detected or NCCL_TOPO_FILE) is not valid.
void rule_topology_xml(const RunLog& log, Builder& b) {
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
}

/// An injected NCCL_GRAPH_FILE does not fit the run.
void rule_graph_file(const RunLog& log, Builder& b) {
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
}

/// The libfabric (OFI) net plugin failed.
void rule_ofi_error(const RunLog& log, Builder& b) {
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
}

/// SHM over cuMem host memory failed.
void rule_shm_cumem(const RunLog& log, Builder& b) {
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
}

/// PyTorch's collective fingerprint check found a desync.
void rule_collective_fingerprint(const RunLog& log, Builder& b) {
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
}

/// A connection of another transport type arrived.
void rule_socket_type(const RunLog& log, Builder& b) {
  if (auto evs = events_of(log, kSigSocketType); !evs.empty()) {
    auto& f = b.add("net.plugin_mismatch", kTierExplicit, hosts_text(hosts_of(evs)), "NET transport",
                    "A connection arrived of a different type than expected (socketFinalizeAccept: wrong type): the "
                    "two ends use different network transports, e.g. IB working on one node and not on the other.",
                    first_at(evs));
    add_evidence(f, b, evs, 2);
    f.hint = "Make the same network usable on every node (IB on all, or NCCL_IB_DISABLE=1 everywhere) and use one "
             "NCCL version and net plugin across nodes.";
  }
}

/// The two ends of a connection disagree on a transfer size.
void rule_size_disagreement(const RunLog& log, Builder& b) {
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
}

/// Failures no rule names: a finding built from the structure of the line.
void rule_unnamed_failures(const RunLog& log, Builder& b) {
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

}  // namespace

void rule_structural(const RunLog& log, Builder& b) {
  rule_port_error(log, b);
  rule_collnet_fallback(log, b);
  rule_topology_xml(log, b);
  rule_graph_file(log, b);
  rule_ofi_error(log, b);
  rule_shm_cumem(log, b);
  rule_collective_fingerprint(log, b);
  rule_socket_type(log, b);
  rule_size_disagreement(log, b);
  rule_unnamed_failures(log, b);
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
}  // namespace ncd::checks::log_rules
