// SPDX-License-Identifier: Apache-2.0
// From the run model of NCCL logs to findings: every rule family, then root-cause ordering. Pure.
#include "checks/log_rules.hpp"
#include "checks/registry.hpp"

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

RunLog read_logs(const std::vector<std::string>& paths) {
  LogIngest in;
  for (const auto& p : paths) in.add_file(p);
  if (in.relevant_lines() == 0) {
    const RunLog& l = in.log();
    std::string what = fmt::format("no NCCL log lines found ({} line(s){}); run the job with NCCL_DEBUG=INFO",
                                   l.total_lines,
                                   l.truncated_lines > 0 ? ", lines longer than 64 KiB were cut" : "");
    throw InputError(paths.size() == 1 ? paths.front() : join(paths, ", "), what);
  }
  return in.take();
}

Diagnosis analyze_files(const std::vector<std::string>& paths, RunLog* model) {
  RunLog log = read_logs(paths);
  Diagnosis d = analyze(log);
  if (model) *model = std::move(log);
  return d;
}

NCD_REGISTER_CHECK({"log.input_damaged", Severity::kInfo, "log",
                    "A compressed log is truncated or corrupt: only its first part was analysed",
                    "The gzip stream ends before its trailer (a copy cut short, a log still being "
                    "written, a full disk) or fails its CRC/length check. The lines before the "
                    "damage were analysed; whatever came after is unknown, so a clean result is "
                    "not a healthy verdict: the run is INCOMPLETE (exit 3) unless the lines read "
                    "already show a problem.",
                    "zlib verifies every gzip member's trailer (CRC-32 and length) while the log "
                    "is decompressed; an early end or a failed check names the file and how much "
                    "was read.",
                    "Copy the log again from its source (gzip -t FILE tells whether a copy is "
                    "whole), or analyse the uncompressed original."});

namespace {

/// The rules over the run model, then one log.input_damaged per damaged input: what came
/// after the damage is unknown, so the run is incomplete.
void run_log_rules(const Evidence& ev, CheckRun& run) {
  Diagnosis d = analyze(*ev.log);
  run.findings.insert(run.findings.end(), d.findings.begin(), d.findings.end());
  run.root = std::move(d.root);
  run.verdict = std::move(d.verdict);
  for (const auto& damage : ev.log->damaged_inputs) {
    Finding f = make_finding("log.input_damaged", "", damage.substr(0, damage.find(": ")), damage);
    f.hint = "copy the log again (gzip -t FILE checks a copy) or analyse the uncompressed original";
    run.findings.push_back(std::move(f));
    run.incomplete = "a compressed log is truncated or corrupt";
  }
}

}  // namespace

// The family: every log rule (log_rules_*.cpp), root cause first.
NCD_REGISTER_FAMILY({"log.rules", "log", {"*"}, "NCCL log",
                     [](const Evidence& ev) { return ev.log != nullptr; }, run_log_rules});

}  // namespace ncd::checks

