// SPDX-License-Identifier: Apache-2.0
#include "cli/cmd_topo.hpp"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "checks/registry.hpp"
#include "checks/topo_checks.hpp"
#include "checks/topo_groups.hpp"
#include "cli/topo_live.hpp"
#include "core/error.hpp"
#include "core/fs.hpp"
#include "core/text.hpp"
#include "probe/local.hpp"
#include "topo/bandwidth.hpp"
#include "topo/fingerprint.hpp"
#include "topo/paths.hpp"

namespace ncd::cli {

namespace {

std::string cell(const topo::PathInfo& p) {
  if (p.type == topo::PathType::kDIS) return "-";
  if (p.type == topo::PathType::kLOC) return "X";
  if (p.nvlink_unknown) return "? ?";  // could be NVLinked: the input does not say
  if (p.bw_gbps > 0 && p.bw_gbps < 9.95) return fmt::format("{} {:.1f}", topo::to_string(p.type), p.bw_gbps);
  return p.bw_gbps > 0 ? fmt::format("{} {:.0f}", topo::to_string(p.type), p.bw_gbps)
                       : fmt::format("{} ?", topo::to_string(p.type));
}

std::string link_text(const topo::System& s, const std::string& bus) {
  const topo::PciDevice* d = s.find_pci(bus);
  if (!d) return "PCIe ?";
  if (!d->link_quirk.empty()) return "PCIe ? (quirk)";
  auto one = [](double gts, int w) {
    return fmt::format("{}x{}", gts > 0 ? fmt::format("Gen{} ", topo::pcie_gen(gts)) : "",
                       w > 0 ? std::to_string(w) : "?");
  };
  if (d->link.cur_gts > 0 || d->link.cur_width > 0) {
    std::string cur = one(d->link.cur_gts, d->link.cur_width);
    if (d->link.max_gts > 0 || d->link.max_width > 0)
      return fmt::format("PCIe {} (max {})", cur, one(d->link.max_gts, d->link.max_width));
    return "PCIe " + cur;
  }
  if (d->link.max_gts > 0 || d->link.max_width > 0) return fmt::format("PCIe max {}", one(d->link.max_gts, d->link.max_width));
  if (d->link_gbps > 0) return fmt::format("PCIe {:.1f} GB/s (hwloc)", d->link_gbps);
  return "PCIe ?";
}

std::string or_q(const std::string& s) { return s.empty() ? "?" : s; }

nlohmann::json section_for(const topo::System& s) {
  nlohmann::json j;
  j["host"] = s.host;
  j["source"] = s.source;
  j["gpus"] = s.gpus.size();
  j["nics"] = s.nics.size();
  auto fp = topo::fingerprint(s);
  j["fingerprint"] = fp.digest;
  j["fingerprint_items"] = fp.items;
  nlohmann::json m = nlohmann::json::array();
  for (std::size_t a = 0; a < s.gpus.size(); ++a) {
    nlohmann::json row = nlohmann::json::array();
    for (std::size_t b = 0; b < s.gpus.size(); ++b) row.push_back(cell(s.gpu_path(a, b)));
    for (std::size_t n = 0; n < s.nics.size(); ++n) row.push_back(cell(s.nic_path(a, n)));
    m.push_back(row);
  }
  j["matrix"] = m;
  return j;
}

}  // namespace

void render_topology_text(const topo::System& s, std::ostream& out) {
  std::size_t ports = 0;
  for (const auto& n : s.nics) ports += n.ports.size();
  std::set<int> numas;
  for (const auto& c : s.cpus) numas.insert(c.numa);
  out << fmt::format("# {} ({}): {} GPU(s), {} NIC(s) with {} port(s), {} NUMA node(s), {} NVSwitch(es)\n", s.host,
                     s.source, s.gpus.size(), s.nics.size(), ports, numas.size(), s.nvswitches.size());
  const std::size_t ng = s.gpus.size(), nn = s.nics.size();
  if (ng > 0) {
    const int w = 9;
    out << fmt::format("{:<6}", "");
    for (std::size_t b = 0; b < ng; ++b) out << fmt::format("{:>{}}", fmt::format("GPU{}", s.gpus[b].index), w);
    for (std::size_t n = 0; n < nn; ++n) out << fmt::format("{:>{}}", fmt::format("NIC{}", n), w);
    out << '\n';
    for (std::size_t a = 0; a < ng; ++a) {
      out << fmt::format("{:<6}", fmt::format("GPU{}", s.gpus[a].index));
      for (std::size_t b = 0; b < ng; ++b) out << fmt::format("{:>{}}", cell(s.gpu_path(a, b)), w);
      for (std::size_t n = 0; n < nn; ++n) out << fmt::format("{:>{}}", cell(s.nic_path(a, n)), w);
      out << '\n';
    }
    out << "  (NCCL path type and expected GB/s; ? = bandwidth unknown)\n";
  } else {
    out << "no GPU found on this host\n";
  }
  // GPUs.
  std::map<int, int> expected_links;  // sm -> most links seen
  for (const auto& g : s.gpus) expected_links[g.sm] = std::max(expected_links[g.sm], g.nvlinks_up() + g.nvlinks_down());
  for (std::size_t a = 0; a < ng; ++a) {
    const auto& g = s.gpus[a];
    std::string cores = g.local_cpus.empty() ? "?" : format_ranges(g.local_cpus);
    int exp = expected_links[g.sm];
    std::string nvl = exp > 0 ? fmt::format("NVLink {}/{}", g.nvlinks_up(), exp)
                      : s.nvlink_unknown && topo::gpu_could_nvlink(s, g) ? "NVLink ?" : "NVLink -";
    std::string nic = "no NIC";
    int ni = a < s.paths.nearest_nic.size() ? s.paths.nearest_nic[a] : -1;
    if (ni >= 0) {
      const auto& p = s.nic_path(a, static_cast<std::size_t>(ni));
      nic = fmt::format("nearest NIC{} {} {}{}", ni, s.nics[static_cast<std::size_t>(ni)].name, topo::to_string(p.pci_type),
                        p.type != p.pci_type ? fmt::format(" (NCCL {})", topo::to_string(p.type)) : "");
    }
    out << fmt::format("GPU{} {} {} NUMA {} cores {} {} {} {}\n", g.index, or_q(g.bus_id),
                       g.name.empty() ? (g.sm ? fmt::format("sm{}", g.sm) : "(model ?)") : g.name,
                       g.numa, cores, link_text(s, g.bus_id), nvl, nic);
  }
  // NIC ports.
  for (std::size_t n = 0; n < nn; ++n) {
    const auto& nic = s.nics[n];
    std::string where = nic.bus_id.empty() ? "virtual" : nic.bus_id + " " + link_text(s, nic.bus_id);
    if (nic.ports.empty()) {
      out << fmt::format("NIC{} {} {} NUMA {} {} (no port information)\n", n, nic.name, where, nic.numa,
                         topo::to_string(nic.kind));
      continue;
    }
    for (const auto& p : nic.ports) {
      out << fmt::format("NIC{} {} {} NUMA {} state {}{} rate {} {} MTU {}{}\n", n, p.subject(), where, nic.numa,
                         or_q(p.state.empty() ? p.operstate : p.state),
                         p.phys_state.empty() ? "" : "/" + p.phys_state,
                         p.rate_gbps > 0 ? fmt::format("{:g} Gb/s", p.rate_gbps) : "?",
                         p.link_layer.empty() ? std::string(topo::to_string(nic.kind)) : p.link_layer,
                         p.mtu > 0 ? std::to_string(p.mtu) : "?", p.netdev.empty() ? "" : " " + p.netdev);
    }
  }
  for (const auto& b : s.bindings)
    out << fmt::format("rank {} cores {} NUMA {} {}\n", b.rank, format_ranges(b.cpus),
                       b.numa_nodes.empty() ? std::string("?") : format_ranges(b.numa_nodes),
                       b.gpu_index >= 0 ? fmt::format("GPU{} {}", b.gpu_index, b.gpu_bus_id) : "no GPU");
}

namespace {

/// A job of many nodes: one analysis, one section and one picture per distinct topology.
int finish_grouped(const TopoOptions& o, Context& ctx, report::Report& r, LiveTopology& live,
                   const dist::NodeMap& nodes) {
  r.hosts = grouped_host_entries(live, nodes);
  checks::Evidence ev;
  ev.groups = &live.groups;
  checks::CheckRun grouped = checks::run_checks("topo", ev);
  r.findings.insert(r.findings.end(), grouped.findings.begin(), grouped.findings.end());
  r.notes = std::move(grouped.notes);
  r.notes.push_back(fmt::format("topology: {} node(s) in {} distinct topolog{}; each analysed once, hosts[] carry "
                                "the model of each group's first node", live.nodes, live.groups.size(),
                                live.groups.size() == 1 ? "y" : "ies"));
  nlohmann::json sec = nlohmann::json::array();
  for (const auto& g : live.groups) {
    nlohmann::json j = section_for(g.system);
    j["nodes"] = g.hosts.size();
    j["hosts"] = checks::compact_hosts(g.hosts, 1u << 20);
    sec.push_back(std::move(j));
  }
  r.sections["topology"] = {{"hosts", sec}, {"grouped", true}};
  if (!o.save.empty()) {
    nlohmann::json saved = nlohmann::json::array();
    for (const auto& g : live.groups) saved.push_back(topo::system_to_json(g.system));
    write_file_atomic(o.save, saved.dump(1) + "\n");
  }
  return ctx.finish(r, [&](std::ostream& out) {
    for (std::size_t i = 0; i < live.groups.size(); ++i) {
      if (i) out << '\n';
      out << fmt::format("# {} node(s) alike: {}\n", live.groups[i].hosts.size(), checks::compact_hosts(live.groups[i].hosts));
      render_topology_text(live.groups[i].system, out);
    }
    if (live.groups.empty()) out << "# no topology\n";
  });
}

}  // namespace

int run_topo(const TopoOptions& o, Context& ctx) {
  probe::LoadOptions lo{o.hwloc_xml, o.nccl_topo, o.sysfs_root, o.load};
  report::Report r;
  r.command = "topo";
  std::vector<topo::System> systems;
  bool offline = probe::has_offline_input(lo);
  if (offline) {
    systems = probe::load_systems(lo);
    for (const auto& s : systems) r.hosts.push_back({s.host, {}, topo::fingerprint(s).digest, topo::system_to_json(s)});
  } else {
    // Fingerprint first, models on demand (topo_live.hpp): rank 0 holds one model per distinct
    // topology. Up to checks::kExpandNodesUpTo nodes, one model per node as before.
    dist::Comm& comm = ctx.comm();
    const auto& nodes = comm.nodes();
    LiveTopology live = gather_live_topology(comm, comm.is_mpi(), ctx.deadline());
    if (!ctx.is_root()) return ctx.finish(r, nullptr);
    const std::vector<checks::Unanswered> unanswered = {{"probing the topology", live.missing_ranks, ""}};
    checks::Evidence ev;
    ev.unanswered = &unanswered;
    ev.nodes = &nodes;
    ev.timeout_s = ctx.opts.timeout_s;
    r.findings = checks::run_checks("dist", ev).findings;
    if (live.nodes > checks::kExpandNodesUpTo) return finish_grouped(o, ctx, r, live, nodes);
    systems = expand_nodes(live);
    for (const auto& s : systems) {
      auto at = std::find(nodes.node_names.begin(), nodes.node_names.end(), s.host) - nodes.node_names.begin();
      r.hosts.push_back({s.host, nodes.node_ranks[static_cast<std::size_t>(at)], topo::fingerprint(s).digest,
                         topo::system_to_json(s)});
    }
  }
  checks::Evidence ev;
  ev.systems = &systems;
  checks::CheckRun run = checks::run_checks("topo", ev);
  r.findings.insert(r.findings.end(), run.findings.begin(), run.findings.end());
  r.notes = std::move(run.notes);
  nlohmann::json sec = nlohmann::json::array();
  for (const auto& s : systems) sec.push_back(section_for(s));
  r.sections["topology"] = {{"hosts", sec}};
  if (!o.save.empty()) {
    nlohmann::json saved;
    if (systems.size() == 1) {
      saved = topo::system_to_json(systems.front());
    } else {
      saved = nlohmann::json::array();
      for (const auto& s : systems) saved.push_back(topo::system_to_json(s));
    }
    write_file_atomic(o.save, saved.dump(1) + "\n");
  }
  return ctx.finish(r, [&](std::ostream& out) {
    for (std::size_t i = 0; i < systems.size(); ++i) {
      if (i) out << '\n';
      render_topology_text(systems[i], out);
    }
    if (systems.empty()) out << "# no topology\n";
  });
}

}  // namespace ncd::cli
