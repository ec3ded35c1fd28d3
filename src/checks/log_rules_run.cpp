// SPDX-License-Identifier: Apache-2.0
// The NCCL log rules: performance, versions and environment, fallbacks, the healthy verdict. Pure over the run model.
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

}  // namespace ncd::checks::log_rules
