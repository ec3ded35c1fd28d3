// SPDX-License-Identifier: Apache-2.0
#include "checks/topo_groups.hpp"
#include "checks/registry.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <utility>

#include <fmt/format.h>

#include "checks/topo_checks.hpp"
#include "core/text.hpp"

namespace ncd::checks {

namespace {

/// What a node's bindings look like apart from its rank numbers: nodes bound alike share it.
std::string binding_layout(const std::vector<topo::RankBinding>& bs) {
  std::string key;
  for (const auto& b : bs)
    key += fmt::format("{}|{}|{}|{}|{};", format_ranges(b.cpus), b.total_cpus, format_ranges(b.numa_nodes),
                       b.gpu_index, b.gpu_bus_id);
  return key;
}

void mark_group(Finding& f, const std::string& first, const std::string& label, std::size_t n) {
  f.host = first;
  f.message += fmt::format(" (on {} nodes alike: {})", n, label);
  f.evidence.insert(f.evidence.begin(), fmt::format("nodes with this topology ({}): {}", n, label));
}

}  // namespace

std::string compact_hosts(const std::vector<std::string>& hosts, std::size_t max_chars) {
  std::vector<std::string> order;                 // prefixes (or whole names) by first appearance
  std::map<std::string, std::vector<int>> numbered;
  for (const auto& h : hosts) {
    std::size_t cut = h.size();
    while (cut > 0 && std::isdigit(static_cast<unsigned char>(h[cut - 1]))) --cut;
    const std::size_t digits = h.size() - cut;
    // Fold "node37" into node[...]; names without a number, with a padded one ("n007") or a
    // huge one stay whole.
    if (digits == 0 || digits > 9 || (digits > 1 && h[cut] == '0')) {
      if (!numbered.count("\x01" + h)) order.push_back("\x01" + h);
      numbered["\x01" + h];
      continue;
    }
    std::string prefix = h.substr(0, cut);
    if (!numbered.count(prefix)) order.push_back(prefix);
    numbered[prefix].push_back(std::stoi(h.substr(cut)));
  }
  std::string out;
  for (const auto& key : order) {
    const auto& nums = numbered[key];
    std::string part;
    if (key[0] == '\x01') part = key.substr(1);
    else if (nums.size() == 1) part = key + std::to_string(nums.front());
    else part = key + "[" + format_ranges(nums) + "]";
    if (!out.empty() && out.size() + part.size() > max_chars) {
      out += fmt::format(",... ({} hosts)", hosts.size());
      return out;
    }
    if (!out.empty()) out += ',';
    out += part;
  }
  if (out.size() > max_chars + 40) out = out.substr(0, max_chars) + fmt::format("... ({} hosts)", hosts.size());
  return out;
}

GroupedFindings check_topology_groups(std::vector<TopoGroup>& groups, std::size_t expand_up_to) {
  GroupedFindings out;
  std::size_t nodes = 0;
  for (const auto& g : groups) nodes += g.hosts.size();
  if (nodes <= expand_up_to) {
    // One model per node, in job order: the findings of a job gathered in full.
    std::vector<std::pair<std::size_t, std::size_t>> order;  // (group, member) by host order
    std::vector<topo::System> systems;
    for (std::size_t gi = 0; gi < groups.size(); ++gi)
      for (std::size_t m = 0; m < groups[gi].hosts.size(); ++m) order.emplace_back(gi, m);
    auto place = [&](const std::pair<std::size_t, std::size_t>& o) {
      const auto& idx = groups[o.first].node_index;
      return o.second < idx.size() ? idx[o.second] : o.first * 1000000 + o.second;
    };
    std::stable_sort(order.begin(), order.end(), [&](const auto& a, const auto& b) { return place(a) < place(b); });
    systems.reserve(order.size());
    for (const auto& [gi, m] : order) {
      topo::System s = groups[gi].system;
      s.host = groups[gi].hosts[m];
      s.bindings = m < groups[gi].bindings.size() ? groups[gi].bindings[m] : std::vector<topo::RankBinding>{};
      systems.push_back(std::move(s));
    }
    out.findings = check_topology(systems);
    out.notes = topology_notes(systems);
    return out;
  }
  // One model per group, named by its nodes, weighted by their number.
  std::vector<topo::System> systems;
  std::vector<std::size_t> weights;
  std::vector<std::string> labels;
  systems.reserve(groups.size());
  for (auto& g : groups) {
    labels.push_back(compact_hosts(g.hosts));
    systems.push_back(std::move(g.system));
    systems.back().host = labels.back();
    systems.back().bindings.clear();
    weights.push_back(g.hosts.size());
  }
  out.findings = check_topology(systems, weights);
  out.notes = topology_notes(systems);
  std::map<std::string, std::size_t> group_of_label;
  for (std::size_t gi = 0; gi < groups.size(); ++gi) group_of_label[labels[gi]] = gi;
  for (auto& f : out.findings) {
    auto it = group_of_label.find(f.host);
    if (it == group_of_label.end()) continue;
    const auto& g = groups[it->second];
    if (g.hosts.size() > 1) mark_group(f, g.hosts.front(), labels[it->second], g.hosts.size());
  }
  // Rank bindings: once per way of binding within a group.
  for (std::size_t gi = 0; gi < groups.size(); ++gi) {
    auto& g = groups[gi];
    topo::System& s = systems[gi];
    std::map<std::string, std::vector<std::size_t>> by_layout;
    std::vector<std::string> layout_order;
    for (std::size_t m = 0; m < g.bindings.size() && m < g.hosts.size(); ++m) {
      if (g.bindings[m].empty()) continue;
      std::string key = binding_layout(g.bindings[m]);
      if (!by_layout.count(key)) layout_order.push_back(key);
      by_layout[key].push_back(m);
    }
    for (const auto& key : layout_order) {
      const auto& members = by_layout[key];
      s.host = g.hosts[members.front()];
      s.bindings = g.bindings[members.front()];
      auto found = check_rank_bindings(s);
      if (members.size() > 1) {
        std::vector<std::string> names;
        for (std::size_t m : members) names.push_back(g.hosts[m]);
        std::string label = compact_hosts(names);
        for (auto& f : found) {
          f.message += fmt::format(" (the same local ranks on {} nodes bound alike: {})", members.size(), label);
          f.evidence.push_back(fmt::format("nodes bound alike ({}): {}", members.size(), label));
        }
      }
      out.findings.insert(out.findings.end(), found.begin(), found.end());
    }
    s.bindings.clear();
  }
  sort_findings(out.findings);
  // Give the models back to their groups (named after their first node).
  for (std::size_t gi = 0; gi < groups.size(); ++gi) {
    groups[gi].system = std::move(systems[gi]);
    groups[gi].system.host = groups[gi].hosts.empty() ? std::string() : groups[gi].hosts.front();
  }
  return out;
}

// The family: one model per distinct topology of a large job, findings per group of nodes.
NCD_REGISTER_FAMILY({"topo.groups", "topo", topology_check_ids(), "topology model",
                     [](const Evidence& ev) { return ev.groups && !ev.groups->empty(); },
                     [](const Evidence& ev, CheckRun& run) {
                       GroupedFindings g = check_topology_groups(*ev.groups);
                       run.findings.insert(run.findings.end(), g.findings.begin(), g.findings.end());
                       run.notes.insert(run.notes.end(), g.notes.begin(), g.notes.end());
                     }});

}  // namespace ncd::checks
