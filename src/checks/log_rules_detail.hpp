// SPDX-License-Identifier: Apache-2.0
#pragma once
/// Inside the log rules (src/checks/log_rules_*.cpp): the candidate findings with their causal
/// tier, the builder the rules add to, and the helpers they share. Not for other modules: they
/// call checks::analyze (log_rules.hpp).
#include <algorithm>
#include <initializer_list>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "checks/log_rules.hpp"
#include "core/finding.hpp"
#include "nccl/log_model.hpp"

namespace ncd::checks::log_rules {

using namespace ncd::nccl;  // the run model and its signatures (nccl/log_ingest.hpp)

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

inline bool before(const SourceRef& a, const SourceRef& b) {
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

// Shared helpers (log_rules_common.cpp) and the rules, one family per file.
std::vector<const LogEvent*> events_of(const RunLog& log, int sig);
bool any_event(const RunLog& log, std::initializer_list<int> sigs);
std::string hosts_text(const std::set<std::string>& hosts);
std::set<std::string> hosts_of(const std::vector<const LogEvent*>& evs);
void add_evidence(Finding& f, const Builder& b, const std::vector<const LogEvent*>& evs, std::size_t max = 4);
SourceRef first_at(const std::vector<const LogEvent*>& evs);
long count_sig(const RunLog& log, int sig);
std::string count_note(const RunLog& log, int sig, std::size_t shown);
const NetInterface* bootstrap_if(const HostInfo& h);
const Quote& bootstrap_quote(const HostInfo& h);
bool is_rdma_net(const std::string& net);
bool container_like(const std::string& host);
bool consumer_pcie_gpu(const std::vector<std::string>& names);
std::string env_value(const RunLog& log, const std::string& name);
void rule_explicit_warns(const RunLog& log, Builder& b);
void rule_explicit_gpu(const RunLog& log, Builder& b);
void rule_explicit_paths(const RunLog& log, Builder& b);
void rule_explicit_ib_setup(const RunLog& log, Builder& b);
void rule_explicit_ib_completion(const RunLog& log, Builder& b);
void rule_explicit_versions(const RunLog& log, Builder& b);
void rule_network_providers(const RunLog& log, Builder& b);
bool bootstrap_failure(const RunLog& log);
void rule_interfaces(const RunLog& log, Builder& b);
void rule_sockets(const RunLog& log, Builder& b);
void rule_topology_hosts(const RunLog& log, Builder& b);
void rule_hosts_by_address(const RunLog& log, Builder& b);
void rule_launch(const RunLog& log, Builder& b);
void rule_gdr(const RunLog& log, Builder& b);
void rule_watchdog(const RunLog& log, Builder& b);
std::vector<const LogEvent*> chain_after(const RunLog& log, const LogEvent& e);
bool src_has(const LogEvent& e, std::string_view p);
std::string phase_of(const RunLog& log, const LogEvent& e, const std::vector<const LogEvent*>& chain);
std::string chain_text(const std::vector<const LogEvent*>& chain);
bool wrapper_message(std::string_view m);
std::string peer_of(std::string_view m);
bool size_disagreement(const std::string& m);
void rule_connect_destinations(const RunLog& log, Builder& b);
void rule_structural(const RunLog& log, Builder& b);
bool any_failure(const RunLog& log);
bool setup_failure_sig(int sig);
void rule_init_failed(const RunLog& log, Builder& b);
void rule_hang(const RunLog& log, Builder& b);
void rule_perf(const RunLog& log, Builder& b);
void rule_versions_and_env(const RunLog& log, Builder& b);
void rule_fallbacks(const RunLog& log, Builder& b);
void rule_healthy(const RunLog& log, Builder& b);
std::string verdict_text(const RunLog& log, const std::vector<Finding>& out, const std::string& root);

}  // namespace ncd::checks::log_rules
