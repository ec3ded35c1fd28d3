// SPDX-License-Identifier: Apache-2.0
#include "checks/link_sim.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <set>

#include <fmt/format.h>

#include "checks/link_checks.hpp"
#include "collectives/link_schedule.hpp"
#include "core/text.hpp"

namespace ncd::checks {

namespace {

double cpu_now() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

std::pair<int, int> ordered(int a, int b) { return {std::min(a, b), std::max(a, b)}; }

class Fabric {
 public:
  explicit Fabric(const FabricSim& f) : f_(f), rng_(f.seed), slow_nodes_(f.slow_nodes.begin(), f.slow_nodes.end()) {
    for (auto [a, b] : f.slow_links) slow_links_.insert(ordered(a, b));
  }
  /// One direction of a link, GB/s.
  double link(int a, int b) {
    double g = f_.healthy_gbps * std::exp(f_.noise * normal_(rng_));
    if (slow_nodes_.count(a) || slow_nodes_.count(b)) g *= f_.slow_node_factor;
    if (slow_links_.count(ordered(a, b))) g *= f_.slow_link_factor;
    return g;
  }
  /// A ring among `members` runs at its slowest hop.
  double ring(const std::vector<int>& members) {
    double g = 1e30;
    for (std::size_t i = 0; i < members.size(); ++i)
      g = std::min(g, link(members[i], members[(i + 1) % members.size()]));
    return g;
  }

 private:
  FabricSim f_;
  std::mt19937 rng_;
  std::normal_distribution<double> normal_{0.0, 1.0};
  std::set<int> slow_nodes_;
  std::set<std::pair<int, int>> slow_links_;
};

std::vector<std::string> hosts_of(int n) {
  std::vector<std::string> h;
  h.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) h.push_back("node" + std::to_string(i));
  return h;
}

int node_of(const std::string& host) {
  if (host.rfind("node", 0) != 0) return -1;
  try {
    return std::stoi(host.substr(4));
  } catch (...) {
    return -1;
  }
}

/// Scores findings against the plant.
void score(const FabricSim& f, const std::vector<Finding>& findings, SweepSim& out) {
  std::set<int> nodes;
  std::set<std::pair<int, int>> links;
  for (const auto& x : findings) {
    if (x.severity == Severity::kInfo) continue;
    if (x.id == "node.slow" && node_of(x.host) >= 0) {
      nodes.insert(node_of(x.host));
      continue;
    }
    auto parts = split(x.host, ',');
    if (x.id == "link.slow" && parts.size() == 2 && node_of(std::string(parts[0])) >= 0 && node_of(std::string(parts[1])) >= 0) {
      links.insert(ordered(node_of(std::string(parts[0])), node_of(std::string(parts[1]))));
      continue;
    }
    out.other_findings.push_back(x.id + " " + x.host + ": " + x.subject);
  }
  out.found_nodes.assign(nodes.begin(), nodes.end());
  out.found_links.assign(links.begin(), links.end());
  std::set<int> want_nodes(f.slow_nodes.begin(), f.slow_nodes.end());
  std::set<std::pair<int, int>> want_links;
  for (auto [a, b] : f.slow_links) want_links.insert(ordered(a, b));
  for (int n : want_nodes)
    if (!nodes.count(n)) out.missed_nodes.push_back(n);
  for (int n : nodes)
    if (!want_nodes.count(n)) out.false_nodes.push_back(n);
  for (const auto& l : want_links)
    if (!links.count(l)) out.missed_links.push_back(l);
  for (const auto& l : links)
    if (!want_links.count(l)) out.false_links.push_back(l);
}

SweepSim sweep_rounds(const FabricSim& f, const std::vector<collectives::Round>& rounds, const char* mode) {
  SweepSim out;
  out.mode = mode;
  out.nodes = f.nodes;
  out.rounds = static_cast<int>(rounds.size());
  Fabric fabric(f);
  LinkSweepData data;
  data.rank_host = hosts_of(f.nodes);
  data.round_timeout_s = 5;
  for (const auto& round : rounds)
    for (const auto& p : round) {
      ++out.measured_pairs;
      for (auto [s, d] : {std::pair{p.a, p.b}, std::pair{p.b, p.a}}) {
        model::LinkResult l;
        l.src_host = data.rank_host[static_cast<std::size_t>(s)];
        l.dst_host = data.rank_host[static_cast<std::size_t>(d)];
        l.src_rank = s;
        l.dst_rank = d;
        l.bytes = 64u << 20;
        l.gbps = fabric.link(s, d);
        l.latency_us = 3.0;
        l.cls = "net";
        data.links.push_back(std::move(l));
      }
    }
  const double t0 = cpu_now();
  LinkAnalysis a = check_links(data);
  out.analysis_cpu_s = cpu_now() - t0;
  std::vector<collectives::Pair> suspects;
  for (auto [x, y] : a.suspect_rank_pairs) suspects.push_back({std::min(x, y), std::max(x, y)});
  out.recheck_rounds = static_cast<int>(collectives::pack_rounds(suspects).size());
  score(f, a.findings, out);
  return out;
}

}  // namespace

SweepSim simulate_ring(const FabricSim& f) { return sweep_rounds(f, collectives::ring_schedule(f.nodes), "ring"); }

SweepSim simulate_pairwise(const FabricSim& f, bool analyse) {
  auto rounds = collectives::tournament_schedule(f.nodes);
  if (analyse) return sweep_rounds(f, rounds, "pairwise");
  SweepSim out;
  out.mode = "pairwise";
  out.nodes = f.nodes;
  out.rounds = static_cast<int>(rounds.size());
  for (const auto& r : rounds) out.measured_pairs += r.size();
  score(f, {}, out);
  out.missed_nodes.clear();  // not analysed: nothing to score
  out.missed_links.clear();
  return out;
}

SweepSim simulate_bisect(const FabricSim& f) {
  SweepSim out;
  out.mode = "bisect";
  out.nodes = f.nodes;
  Fabric fabric(f);
  collectives::BisectPlanner planner(f.nodes);
  const double t0 = cpu_now();
  while (!planner.done() && planner.rounds() < 1000) {
    std::vector<double> r;
    for (const auto& t : planner.next_round()) {
      std::vector<int> ring = t.members;
      if (t.reference >= 0) ring.push_back(t.reference);
      r.push_back(fabric.ring(ring));
      ++out.measured_pairs;
    }
    planner.record(r);
  }
  out.rounds = planner.rounds();
  BisectFindingsInput in;
  in.slow = planner.slow();
  for (std::size_t i = 0; i < in.slow.size(); ++i) in.slow_gbps.push_back(f.healthy_gbps * f.slow_node_factor);
  in.inconclusive = planner.inconclusive();
  in.reference_gbps = planner.reference_gbps();
  in.rank_host = hosts_of(f.nodes);
  auto findings = check_bisect(in);
  out.analysis_cpu_s = cpu_now() - t0;
  score(f, findings, out);
  return out;
}

}  // namespace ncd::checks
