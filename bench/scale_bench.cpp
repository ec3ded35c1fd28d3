// SPDX-License-Identifier: Apache-2.0
// Rank 0's cost at scale: feeds the analysis synthetic per-rank blobs as a 4,096-rank,
// 512-node job would send them (serialised JSON, a few odd ranks/hosts planted), and reports
// the time and peak memory to decode, analyse and render the report:
//  - env: every rank's versions and NCCL variables -> check_env;
//  - topo: every rank's binding blob, each node leader's topology JSON (a real corpus fixture,
//    OCI BM.GPU.H100.8: 8 GPUs with 18 NVLinks each, 16 CX7 ports) -> model, paths, fingerprints, check_topology (topo.differs etc.).
// Peer: the same work for 1/8 of the job, to show the growth is linear (ratio of per-unit costs,
// 1.0 = linear; a quadratic step would show ~8).
#include <sys/resource.h>

#include <algorithm>
#include <cstdlib>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "checks/env_checks.hpp"
#include "checks/topo_checks.hpp"
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

}  // namespace

int main(int argc, char** argv) {
  const int kRanks = 4096, kPerNode = 8, kSmall = kRanks / 8;
  const std::string fixture = argc > 1 ? argv[1] : NCD_BENCH_TOPO_FIXTURE;
  const double wall0 = wall();
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
  auto tsmall = make_topo_blobs(base, kSmall, kPerNode);
  TopoCost t_small = analyse_topo(tsmall, kPerNode, healthy_ids);
  tsmall.clear();
  auto tblobs = make_topo_blobs(base, kRanks, kPerNode);
  std::size_t tbytes = 0;
  for (const auto& b : tblobs) tbytes += b.size();
  TopoCost t = analyse_topo(tblobs, kPerNode, healthy_ids);
  long rss2 = peak_rss_kb();
  const int nodes = kRanks / kPerNode;
  std::printf("# rank-0 analysis at scale: topo (%s per node: %zu GPUs, %zu NICs, %zu PCI functions)\n",
              fixture.substr(fixture.find_last_of('/') + 1).c_str(), base.gpus.size(), base.nics.size(), base.pci.size());
  std::printf("topo: ranks=%d nodes=%d blobs=%.2f MB findings=%zu report=%.2f MB\n", kRanks, nodes,
              static_cast<double>(tbytes) / 1e6, t.c.findings, static_cast<double>(t.c.report_bytes) / 1e6);
  std::printf("topo: time %.3f s for %d nodes, %.3f s for %d nodes; per-node cost ratio %.2f (1.0 = linear)\n",
              t.c.seconds, nodes, t_small.c.seconds, kSmall / kPerNode,
              (t.c.seconds / nodes) / (t_small.c.seconds / (kSmall / kPerNode)));
  std::printf("topo: peak RSS %.1f MB\n", static_cast<double>(rss2) / 1024.0);
  std::printf("times are CPU seconds of rank 0's analysis; whole bench took %.1f s wall\n", wall() - wall0);
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
}
