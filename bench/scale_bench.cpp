// SPDX-License-Identifier: Apache-2.0
// Rank 0's cost at scale: feeds the analysis synthetic per-rank blobs as a 4,096-rank,
// 512-node job would send them (serialised JSON, a few odd ranks/hosts planted), and reports
// the time and peak memory to decode, analyse and render the report:
//  - env: every rank's versions and NCCL variables -> check_env;
//  - topo: every rank's binding blob, each node leader's topology JSON (a real corpus fixture,
//    OCI BM.GPU.H100.8: 8 GPUs with 18 NVLinks each, 16 CX7 ports) -> model, paths, fingerprints, check_topology (topo.differs etc.).
// Peer: the same work for 1/8 of the job, to show the growth is linear (ratio of per-unit costs,
// 1.0 = linear; a quadratic step would show ~8).
// Issue 19 (scale): the topology stage as the tool now runs it (dist/topo_gather.hpp: compact
// binary node summaries with a digest of each node's model, one model per distinct digest,
// checks/topo_groups.hpp: one analysis per distinct topology), each scenario in a child process
// of its own so that its peak RSS is its own: 512 nodes x 8 identical but for three planted odd
// nodes; the same with 16 node types; the curve at 512/1,024/4,096 nodes. `--full` adds the
// former path (every node's model as JSON, one analysis per node) as the peer. Then the link
// sweep simulated at 512 and 4,096 nodes (checks/link_sim.hpp): rounds and localisation.
// Usage: scale_bench [--full] [--quick] [FIXTURE]
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "checks/env_checks.hpp"
#include "checks/link_sim.hpp"
#include "checks/topo_checks.hpp"
#include "checks/topo_groups.hpp"
#include "cli/topo_live.hpp"
#include "dist/topo_gather.hpp"
#include "probe/local.hpp"
#include "core/error.hpp"
#include "core/text.hpp"
#include "nccl/topo_xml.hpp"
#include "report/report.hpp"
#include "topo/fingerprint.hpp"
#include "topo/paths.hpp"

#ifndef NCD_BENCH_TOPO_FIXTURE
#define NCD_BENCH_TOPO_FIXTURE "topology/rings/oci-BM.GPU.H100.8-8xH100-16xCX7.xml"
#endif

namespace {

// Process CPU time (user + system): on a shared, overloaded machine wall time measures the
// neighbours; the wall time is printed alongside.
double now() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + 1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

double wall() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

long peak_rss_kb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

std::vector<std::string> make_env_blobs(int ranks, int per_node) {
  std::vector<std::string> blobs;
  blobs.reserve(static_cast<std::size_t>(ranks));
  for (int r = 0; r < ranks; ++r) {
    ncd::checks::RankEnv e;
    e.rank = r;
    e.host = "node" + std::to_string(r / per_node);
    e.versions = {"0.1.0", "2.28.9", "13.0", "13.0", "Open MPI v4.1.4", "2.9.0", 8, ""};
    if (r == 1234 % ranks) e.versions.nccl = "2.27.3";  // planted: one rank with another NCCL
    e.vars = {{"NCCL_DEBUG", "WARN"}, {"NCCL_IB_HCA", "mlx5"}, {"NCCL_SOCKET_IFNAME", "eth0"},
              {"CUDA_VISIBLE_DEVICES", std::to_string(r % per_node)}};
    if (r / per_node == 17) e.vars["NCCL_IB_DISABLE"] = "1";  // planted: one node
    blobs.push_back(nlohmann::json(e).dump());
  }
  return blobs;
}

struct Cost {
  double seconds;
  std::size_t findings;
  std::size_t report_bytes;
};

Cost analyse_env(const std::vector<std::string>& blobs) {
  double t0 = now();
  std::vector<ncd::checks::RankEnv> ranks;
  ranks.reserve(blobs.size());
  for (const auto& b : blobs) ranks.push_back(nlohmann::json::parse(b).get<ncd::checks::RankEnv>());
  ncd::report::Report r;
  r.command = "env";
  r.findings = ncd::checks::check_env(ranks);
  r.sections["env"] = ranks;
  std::string text = ncd::report::report_to_json(r, 2).dump();
  return {now() - t0, r.findings.size(), text.size()};
}

// --- topology ------------------------------------------------------------------------------

/// Planted odd hosts (node index -> what is wrong), scaled into the job's node count.
struct Plant {
  int node;
  const char* what;
};

std::vector<Plant> plants_for(int nodes) {
  return {{37 % nodes, "GPU 3 lost an NVLink"}, {(211 % nodes) | 1, "one GPU missing"}, {nodes - 7, "NIC port at half rate"}};
}

/// What each rank sends in `topo`: every rank its binding; the node's first rank also the host.
std::vector<std::string> make_topo_blobs(const ncd::topo::System& base, int ranks, int per_node) {
  const int nodes = ranks / per_node;
  std::vector<std::string> blobs(static_cast<std::size_t>(ranks));
  const auto plants = plants_for(nodes);
  const std::string healthy = ncd::topo::system_to_json(base).dump();
  for (int r = 0; r < ranks; ++r) {
    const int node = r / per_node, local = r % per_node;
    nlohmann::json j;
    j["cpus"] = std::vector<int>{local * 12, local * 12 + 1};
    j["total_cpus"] = 96;
    j["local_rank"] = local;
    j["cuda_visible_devices"] = "";
    std::string text = j.dump();
    if (local == 0) {
      std::string sys = healthy;
      for (const auto& p : plants) {
        if (p.node != node) continue;
        ncd::topo::System s = base;
        std::string what = p.what;
        if (what == "GPU 3 lost an NVLink" && s.gpus.size() > 3 && !s.gpus[3].nvlinks.empty()) s.gpus[3].nvlinks[0].count -= 1;
        if (what == "one GPU missing" && !s.gpus.empty()) s.gpus.pop_back();
        if (what == "NIC port at half rate")
          for (auto& n : s.nics)
            for (auto& port : n.ports) port.rate_gbps /= 2;
        sys = ncd::topo::system_to_json(s).dump();
      }
      text.pop_back();  // '}': splice the host in as "system", as the command does
      text += ",\"system\":" + sys + "}";
    }
    blobs[static_cast<std::size_t>(r)] = std::move(text);
  }
  return blobs;
}

struct TopoCost {
  Cost c;
  std::set<std::string> named_hosts;  ///< hosts named by non-info findings
};

TopoCost analyse_topo(const std::vector<std::string>& blobs, int per_node, const std::set<std::string>& healthy_ids) {
  double t0 = now();
  std::vector<nlohmann::json> got;
  got.reserve(blobs.size());
  for (const auto& b : blobs) got.push_back(nlohmann::json::parse(b));
  std::vector<ncd::topo::System> systems;
  ncd::report::Report r;
  r.command = "topo";
  const int nodes = static_cast<int>(blobs.size()) / per_node;
  for (int n = 0; n < nodes; ++n) {
    const auto& lj = got[static_cast<std::size_t>(n * per_node)];
    ncd::topo::System s = lj["system"].get<ncd::topo::System>();
    s.host = "node" + std::to_string(n);
    ncd::topo::compute_paths(s);
    std::vector<int> ranks;
    for (int k = 0; k < per_node; ++k) ranks.push_back(n * per_node + k);
    r.hosts.push_back({s.host, ranks, ncd::topo::fingerprint(s).digest, ncd::topo::system_to_json(s)});
    systems.push_back(std::move(s));
  }
  r.findings = ncd::checks::check_topology(systems);
  r.notes = ncd::checks::topology_notes(systems);
  std::string text = ncd::report::report_to_json(r, 2).dump();
  TopoCost out{{now() - t0, r.findings.size(), text.size()}, {}};
  for (const auto& f : r.findings)
    if (f.severity != ncd::Severity::kInfo && !healthy_ids.count(f.id)) {
      out.named_hosts.insert(f.host);
      for (const auto& part : ncd::split(f.subject, ','))
        if (ncd::trim(part).rfind("node", 0) == 0) out.named_hosts.insert(std::string(ncd::trim(part)));
      if (std::getenv("NCD_BENCH_VERBOSE")) std::printf("  %s %s: %s\n", f.id.c_str(), f.host.c_str(), f.subject.c_str());
    }
  return out;
}

// --- topology, as the tool now gathers it (issue 19) -----------------------------------------

/// The model node `node` sends: the fixture, the node type's versions (types > 1: a rolling
/// driver/kernel upgrade: a distinct digest, nothing wrong), and the planted faults.
ncd::topo::System variant(const ncd::topo::System& base, int node, int nodes, int types) {
  ncd::topo::System s = base;
  if (types > 1) {
    const int t = node % types;
    s.versions["driver"] = "570.86." + std::to_string(10 + t);
    s.versions["kernel"] = "6.8.0-" + std::to_string(40 + t) + "-generic";
  }
  for (const auto& p : plants_for(nodes)) {
    if (p.node != node) continue;
    std::string what = p.what;
    if (what == "GPU 3 lost an NVLink" && s.gpus.size() > 3 && !s.gpus[3].nvlinks.empty()) s.gpus[3].nvlinks[0].count -= 1;
    if (what == "one GPU missing" && !s.gpus.empty()) s.gpus.pop_back();
    if (what == "NIC port at half rate")
      for (auto& n : s.nics)
        for (auto& port : n.ports) port.rate_gbps /= 2;
  }
  return s;
}

/// Two cores on the NUMA node of local rank k's GPU, as a launcher binding by GPU would give.
std::vector<int> near_cores(const ncd::topo::System& base, int k) {
  if (base.gpus.empty()) return {k * 2, k * 2 + 1};
  const int numa = base.gpus[static_cast<std::size_t>(k) % base.gpus.size()].numa;
  for (const auto& c : base.cpus)
    if (c.numa == numa && c.cpus.size() >= static_cast<std::size_t>(2 * k + 2))
      return {c.cpus[static_cast<std::size_t>(2 * k)], c.cpus[static_cast<std::size_t>(2 * k + 1)]};
  return {k * 2, k * 2 + 1};
}

struct GroupedCost {
  double cpu_s = 0;
  long peak_kb = 0;
  std::size_t groups = 0, findings = 0, report_bytes = 0, summary_bytes = 0, model_bytes = 0;
  std::set<std::string> named_hosts;
};

/// "node37" -> true; "node[0-36" or "node37:" -> false.
bool plain_node(const std::string& w) {
  if (w.size() < 5 || w.rfind("node", 0) != 0) return false;
  return std::all_of(w.begin() + 4, w.end(), [](char c) { return c >= '0' && c <= '9'; });
}

GroupedCost run_grouped(const ncd::topo::System& base, int nodes, int per_node, int types,
                        const std::set<std::string>& healthy_ids) {
  // Node side (each node's own work, not rank 0's): its summary (digest + bindings, binary) and,
  // for the first node of each digest, its model as JSON.
  std::vector<std::string> summaries(static_cast<std::size_t>(nodes));
  std::map<std::string, std::pair<std::uint64_t, std::string>> by_variant;  // variant -> (digest, json)
  std::map<std::uint64_t, const std::string*> model_of_digest;
  std::vector<std::string> hosts;
  const auto plants = plants_for(nodes);
  for (int n = 0; n < nodes; ++n) {
    std::string key = std::to_string(types > 1 ? n % types : 0);
    for (const auto& p : plants)
      if (p.node == n) key += p.what;
    auto it = by_variant.find(key);
    if (it == by_variant.end()) {
      ncd::topo::System v = variant(base, n, nodes, types);
      it = by_variant.emplace(key, std::make_pair(ncd::topo::content_digest(v), nlohmann::json(v).dump())).first;
      model_of_digest[it->second.first] = &it->second.second;
    }
    ncd::dist::NodeSummary sum;
    sum.probed = true;
    sum.digest = it->second.first;
    for (int k = 0; k < per_node; ++k) {
      ncd::dist::RankInfo r;
      r.rank = n * per_node + k;
      r.local_rank = k;
      r.total_cpus = 96;
      r.cpus = near_cores(base, k);
      sum.ranks.push_back(r);
    }
    summaries[static_cast<std::size_t>(n)] = ncd::dist::encode_node(sum);
    for (int k = 0; k < per_node; ++k) hosts.push_back("node" + std::to_string(n));
  }
  const ncd::dist::NodeMap map = ncd::dist::NodeMap::from_hosts(std::move(hosts));

  // Rank 0: what gather_topology does with the messages, then the analysis and the report.
  GroupedCost out;
  const double t0 = now();
  ncd::dist::TopoGather g;
  g.nodes.resize(static_cast<std::size_t>(nodes));
  for (std::size_t n = 0; n < summaries.size(); ++n) {
    out.summary_bytes += summaries[n].size();
    g.nodes[n] = ncd::dist::decode_node(summaries[n]);
  }
  g.groups = ncd::dist::group_by_digest(g.nodes);
  for (const auto& d : g.groups.digest) {
    g.models.emplace_back(*model_of_digest.at(d));  // the one model asked for, as received
    out.model_bytes += g.models.back()->size();
  }
  ncd::cli::LiveTopology live = ncd::cli::assemble_live_topology(g, map, true);
  ncd::report::Report r;
  r.command = "topo";
  r.hosts = ncd::cli::grouped_host_entries(live, map);
  auto grouped = ncd::checks::check_topology_groups(live.groups);
  r.findings = std::move(grouped.findings);
  r.notes = std::move(grouped.notes);
  std::string text = ncd::report::report_to_json(r, 2).dump();
  out.cpu_s = now() - t0;
  out.peak_kb = peak_rss_kb();
  out.groups = live.groups.size();
  out.findings = r.findings.size();
  out.report_bytes = text.size();
  for (const auto& f : r.findings) {
    if (f.severity == ncd::Severity::kInfo || healthy_ids.count(f.id)) continue;
    if (plain_node(f.host)) out.named_hosts.insert(f.host);
    for (const auto& part : ncd::split(f.subject, ','))
      if (plain_node(std::string(ncd::trim(part)))) out.named_hosts.insert(std::string(ncd::trim(part)));
    if (std::getenv("NCD_BENCH_VERBOSE")) std::printf("  %s %s: %s | %s\n", f.id.c_str(), f.host.c_str(), f.subject.c_str(), f.message.c_str());
  }
  return out;
}

/// Runs `fn` in a child process (its own peak RSS); returns its exit status.
template <typename Fn>
int in_child(Fn fn) {
  std::fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    int rc = fn();
    std::fflush(stdout);
    _exit(rc);
  }
  int st = 0;
  waitpid(pid, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}

int topo_scenario(const ncd::topo::System& base, int nodes, int types, const std::set<std::string>& healthy_ids,
                  bool targets) {
  const int kPerNode = 8;
  GroupedCost c = run_grouped(base, nodes, kPerNode, types, healthy_ids);
  int status = 0;
  std::string missed;
  for (const auto& p : plants_for(nodes)) {
    std::string host = "node" + std::to_string(p.node);
    if (!c.named_hosts.count(host)) missed += " " + host, status = 1;
  }
  std::size_t named = c.named_hosts.size();
  const bool extra = named > plants_for(nodes).size() + 1;
  if (extra) status = 1;
  const bool fast = c.cpu_s < 1.0, small = c.peak_kb < 128 * 1024;
  std::printf("topo-grouped: nodes=%d ranks=%d types=%d distinct=%zu summaries=%.1f KB models=%.2f MB findings=%zu "
              "report=%.2f MB cpu=%.3f s peak_rss=%.1f MB planted=%s named=%zu%s%s\n",
              nodes, nodes * kPerNode, types, c.groups, static_cast<double>(c.summary_bytes) / 1e3,
              static_cast<double>(c.model_bytes) / 1e6, c.findings, static_cast<double>(c.report_bytes) / 1e6, c.cpu_s,
              static_cast<double>(c.peak_kb) / 1024.0, missed.empty() ? "all-found" : ("MISSED" + missed).c_str(), named,
              extra ? " TOO-MANY-NAMED" : "",
              targets ? (fast && small ? " target(<1 s CPU, <128 MB) met" : " target(<1 s CPU, <128 MB) NOT met") : "");
  return status;
}

int links_scenario(int nodes, bool pairwise_analysis) {
  ncd::checks::FabricSim f;
  f.nodes = nodes;
  f.slow_nodes = {nodes / 8 + 3, nodes / 2 + 5, nodes - 11};
  f.slow_links = {{nodes / 4 + 2, nodes / 4 + 3}, {3 * nodes / 4 + 8, 3 * nodes / 4 + 9}};
  int status = 0;
  auto show = [&](const ncd::checks::SweepSim& s, bool analysed) {
    std::string nodes_s, links_s;
    for (int n : s.found_nodes) nodes_s += " node" + std::to_string(n);
    for (auto [a, b] : s.found_links) links_s += " node" + std::to_string(a) + "<->node" + std::to_string(b);
    std::printf("links-sim: nodes=%d mode=%s rounds=%d recheck_rounds=%d measured=%zu%s", s.nodes, s.mode.c_str(), s.rounds,
                s.recheck_rounds, s.measured_pairs, s.mode == "bisect" ? " group-tests" : " pairs");
    if (!analysed) {
      std::printf(" (rounds only: not analysed)\n");
      return;
    }
    std::printf(" analysis_cpu=%.3f s slow_nodes=[%s ] slow_links=[%s ] missed=%zu false=%zu %s\n", s.analysis_cpu_s,
                nodes_s.c_str(), links_s.c_str(), s.missed_nodes.size() + s.missed_links.size(),
                s.false_nodes.size() + s.false_links.size() + s.other_findings.size(), s.exact() ? "EXACT" : "WRONG");
    for (const auto& o : s.other_findings) std::printf("  false: %s\n", o.c_str());
    if (!s.exact()) status = 1;
  };
  show(ncd::checks::simulate_ring(f), true);
  show(ncd::checks::simulate_bisect(f), true);
  show(ncd::checks::simulate_pairwise(f, pairwise_analysis), pairwise_analysis);
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  const int kRanks = 4096, kPerNode = 8, kSmall = kRanks / 8;
  bool full = false, quick = false;
  std::string fixture = NCD_BENCH_TOPO_FIXTURE;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--full") full = true;
    else if (a == "--quick") quick = true;
    else fixture = a;
  }
  const double wall0 = wall();
  int rc = 0;

  ncd::topo::System base;
  try {
    base = ncd::nccl::load_topo_xml(fixture);
  } catch (const ncd::Error& e) {
    std::fprintf(stderr, "scale_bench: %s\n", e.what());
    return 1;
  }
  // What the fixture raises on its own (a single healthy host) is not what the bench looks for.
  std::set<std::string> healthy_ids;
  {
    ncd::topo::System one = base;
    for (const auto& f : ncd::checks::check_topology({one})) healthy_ids.insert(f.id);
  }
  std::printf("# topology stage on rank 0, fingerprint first (each scenario in its own process: CPU seconds "
              "user+sys, peak RSS of that process)\n");
  rc |= in_child([&] { return topo_scenario(base, 512, 1, healthy_ids, true); });
  rc |= in_child([&] { return topo_scenario(base, 512, 16, healthy_ids, true); });
  if (!quick) {
    rc |= in_child([&] { return topo_scenario(base, 1024, 1, healthy_ids, false); });
    rc |= in_child([&] { return topo_scenario(base, 4096, 1, healthy_ids, false); });
    rc |= in_child([&] { return topo_scenario(base, 4096, 16, healthy_ids, false); });
  }
  std::printf("# link sweeps simulated (schedules + attribution on a synthetic fabric: 3 slow nodes, 2 slow links)\n");
  rc |= in_child([&] { return links_scenario(512, true); });
  if (!quick) rc |= in_child([&] { return links_scenario(4096, false); });
  if (!full) {
    std::printf("whole bench took %.1f s wall (--full adds the former full-JSON path and the env stage)\n", wall() - wall0);
    return rc;
  }
  rc |= in_child([&]() -> int {
  long rss0 = peak_rss_kb();
  int status = 0;

  auto small = make_env_blobs(kSmall, kPerNode);
  Cost c_small = analyse_env(small);
  small.clear();
  auto blobs = make_env_blobs(kRanks, kPerNode);
  std::size_t blob_bytes = 0;
  for (const auto& b : blobs) blob_bytes += b.size();
  Cost c = analyse_env(blobs);
  blobs.clear();
  blobs.shrink_to_fit();
  long rss1 = peak_rss_kb();
  std::printf("# rank-0 analysis at scale: env (gather + checks + JSON report)\n");
  std::printf("env: ranks=%d nodes=%d blobs=%.2f MB findings=%zu report=%.2f MB\n", kRanks,
              kRanks / kPerNode, static_cast<double>(blob_bytes) / 1e6, c.findings, static_cast<double>(c.report_bytes) / 1e6);
  std::printf("env: time %.3f s for %d ranks, %.3f s for %d ranks; per-rank cost ratio %.2f (1.0 = linear)\n",
              c.seconds, kRanks, c_small.seconds, kSmall, (c.seconds / kRanks) / (c_small.seconds / kSmall));
  std::printf("env: peak RSS %.1f MB (start %.1f MB)\n", static_cast<double>(rss1) / 1024.0, static_cast<double>(rss0) / 1024.0);
  if (c.findings < 2) status = 1;  // the two planted faults must be found

  auto tsmall = make_topo_blobs(base, kSmall, kPerNode);
  TopoCost t_small = analyse_topo(tsmall, kPerNode, healthy_ids);
  tsmall.clear();
  auto tblobs = make_topo_blobs(base, kRanks, kPerNode);
  std::size_t tbytes = 0;
  for (const auto& b : tblobs) tbytes += b.size();
  TopoCost t = analyse_topo(tblobs, kPerNode, healthy_ids);
  long rss2 = peak_rss_kb();
  const int nodes = kRanks / kPerNode;
  std::printf("# former path, rank-0 analysis at scale: topo (%s per node: %zu GPUs, %zu NICs, %zu PCI functions)\n",
              fixture.substr(fixture.find_last_of('/') + 1).c_str(), base.gpus.size(), base.nics.size(), base.pci.size());
  std::printf("topo: ranks=%d nodes=%d blobs=%.2f MB findings=%zu report=%.2f MB\n", kRanks, nodes,
              static_cast<double>(tbytes) / 1e6, t.c.findings, static_cast<double>(t.c.report_bytes) / 1e6);
  std::printf("topo: time %.3f s for %d nodes, %.3f s for %d nodes; per-node cost ratio %.2f (1.0 = linear)\n",
              t.c.seconds, nodes, t_small.c.seconds, kSmall / kPerNode,
              (t.c.seconds / nodes) / (t_small.c.seconds / (kSmall / kPerNode)));
  std::printf("topo: peak RSS %.1f MB\n", static_cast<double>(rss2) / 1024.0);
  std::printf("(former path) times are CPU seconds of rank 0's analysis; whole bench took %.1f s wall\n", wall() - wall0);
  for (const auto& p : plants_for(nodes)) {
    std::string host = "node" + std::to_string(p.node);
    bool found = t.named_hosts.count(host) > 0;
    std::printf("topo: planted %s on %s: %s\n", p.what, host.c_str(), found ? "found" : "MISSED");
    if (!found) status = 1;
  }
  // Healthy hosts must not be blamed: only the planted ones (and the reference host a
  // cross-host finding compares with) may be named.
  if (t.named_hosts.size() > plants_for(nodes).size() + 1) {
    std::printf("topo: %zu hosts named, expected at most %zu\n", t.named_hosts.size(), plants_for(nodes).size() + 1);
    status = 1;
  }
  return status;
  });
  return rc;
}
