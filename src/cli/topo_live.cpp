// SPDX-License-Identifier: Apache-2.0
#include "cli/topo_live.hpp"

#include <algorithm>
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "dist/topo_gather.hpp"
#include "probe/local.hpp"
#include "topo/fingerprint.hpp"
#include "topo/paths.hpp"

namespace ncd::cli {

LiveTopology gather_live_topology(dist::Comm& comm, bool bindings, const dist::Deadline& deadline) {
  const auto& nodes = comm.nodes();
  dist::RankInfo mine;
  mine.rank = comm.rank();
  mine.local_rank = nodes.rank_local.at(static_cast<std::size_t>(comm.rank()));
  if (bindings) {
    topo::RankBinding b = probe::probe_binding(comm.rank(), mine.local_rank, topo::System{});
    mine.cpus = b.cpus;
    mine.total_cpus = b.total_cpus;
    const char* cvd = std::getenv("CUDA_VISIBLE_DEVICES");
    mine.cuda_visible_devices = cvd ? cvd : "";
  }
  auto probe = [&]() -> std::optional<dist::ProbedModel> {
    topo::System local = probe::probe_local(probe::ProbeOptions{});
    local.host = comm.host();
    dist::ProbedModel m{nlohmann::json(local).dump(), topo::content_digest(local), {}};
    for (const auto& g : local.gpus)
      if (!g.uuid.empty()) m.gpu_uuids.emplace_back(g.uuid, g.index);
    return m;
  };
  dist::TopoGather g = dist::gather_topology(comm, mine, probe, deadline);
  if (comm.rank() != 0) return {};
  return assemble_live_topology(g, nodes, bindings);
}

LiveTopology assemble_live_topology(dist::TopoGather& g, const dist::NodeMap& nodes, bool bindings) {
  LiveTopology out;
  std::vector<int> missing = g.missing_ranks;
  for (std::size_t gi = 0; gi < g.groups.nodes.size(); ++gi) {
    const auto& members = g.groups.nodes[gi];
    if (!g.models[gi]) {  // its first node did not send its model: the group's nodes are unknown
      for (int n : members) {
        const auto& rs = nodes.node_ranks[static_cast<std::size_t>(n)];
        missing.insert(missing.end(), rs.begin(), rs.end());
      }
      continue;
    }
    checks::TopoGroup grp;
    grp.system = nlohmann::json::parse(*g.models[gi]).get<topo::System>();
    g.models[gi].reset();
    grp.system.host = nodes.node_names[static_cast<std::size_t>(members.front())];
    grp.system.bindings.clear();
    topo::compute_paths(grp.system);
    for (int n : members) {
      grp.hosts.push_back(nodes.node_names[static_cast<std::size_t>(n)]);
      grp.node_index.push_back(static_cast<std::size_t>(n));
      std::vector<topo::RankBinding> bs;
      if (bindings) {
        std::vector<nlohmann::json> rs;
        for (const auto& r : g.nodes[static_cast<std::size_t>(n)]->ranks)
          rs.push_back({{"rank", r.rank},
                        {"cpus", r.cpus},
                        {"total_cpus", r.total_cpus},
                        {"local_rank", r.local_rank},
                        {"cuda_visible_devices", r.cuda_visible_devices}});
        probe::resolve_bindings(grp.system, rs);
        bs = std::move(grp.system.bindings);
        grp.system.bindings.clear();
      }
      grp.bindings.push_back(std::move(bs));
    }
    out.nodes += members.size();
    out.groups.push_back(std::move(grp));
  }
  std::sort(missing.begin(), missing.end());
  missing.erase(std::unique(missing.begin(), missing.end()), missing.end());
  out.missing_ranks = std::move(missing);
  return out;
}

std::vector<topo::System> expand_nodes(const LiveTopology& t) {
  std::vector<std::pair<std::size_t, topo::System>> all;
  for (const auto& g : t.groups)
    for (std::size_t m = 0; m < g.hosts.size(); ++m) {
      topo::System s = g.system;
      s.host = g.hosts[m];
      if (m < g.bindings.size()) s.bindings = g.bindings[m];
      all.emplace_back(m < g.node_index.size() ? g.node_index[m] : all.size(), std::move(s));
    }
  std::stable_sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<topo::System> out;
  out.reserve(all.size());
  for (auto& [i, s] : all) out.push_back(std::move(s));
  return out;
}

std::vector<report::HostEntry> grouped_host_entries(const LiveTopology& t, const dist::NodeMap& nodes) {
  std::vector<std::pair<std::size_t, report::HostEntry>> all;
  for (const auto& g : t.groups) {
    const std::string digest = topo::fingerprint(g.system).digest;
    for (std::size_t m = 0; m < g.hosts.size(); ++m) {
      const std::size_t n = m < g.node_index.size() ? g.node_index[m] : 0;
      report::HostEntry h{g.hosts[m], nodes.node_ranks.at(n), digest, nlohmann::json()};
      if (m == 0) {
        topo::System s = g.system;
        s.host = g.hosts[m];
        if (!g.bindings.empty()) s.bindings = g.bindings[0];
        h.topology = topo::system_to_json(s);
      } else {
        h.topology = {{"same_as", g.hosts.front()}};
      }
      all.emplace_back(n, std::move(h));
    }
  }
  std::stable_sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<report::HostEntry> out;
  out.reserve(all.size());
  for (auto& [n, h] : all) out.push_back(std::move(h));
  return out;
}

}  // namespace ncd::cli
