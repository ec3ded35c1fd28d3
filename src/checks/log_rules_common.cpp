// SPDX-License-Identifier: Apache-2.0
// The NCCL log rules: the helpers the rule families share. Pure over the run model.
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

void add_evidence(Finding& f, const Builder& b, const std::vector<const LogEvent*>& evs, std::size_t max) {
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

}  // namespace ncd::checks::log_rules
