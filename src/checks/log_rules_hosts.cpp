// SPDX-License-Identifier: Apache-2.0
// The NCCL log rules: hosts, launch shape, GPUDirect RDMA and the PyTorch watchdog. Pure over the run model.
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


}  // namespace ncd::checks::log_rules
