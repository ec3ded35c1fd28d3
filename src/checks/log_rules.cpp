// SPDX-License-Identifier: Apache-2.0
// From the run model of NCCL logs to findings: every rule family, then root-cause ordering. Pure.
#include "checks/log_rules.hpp"

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

namespace ncd::checks {

using namespace log_rules;

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

}  // namespace ncd::checks

