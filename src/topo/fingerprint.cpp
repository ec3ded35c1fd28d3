// SPDX-License-Identifier: Apache-2.0
#include "topo/fingerprint.hpp"

#include <algorithm>
#include <cstdint>
#include <map>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace ncd::topo {

namespace {
std::string width_text(const PciDevice* d) {
  if (!d) return "pcie ?";
  int w = d->link.max_width > 0 ? d->link.max_width : d->link.cur_width;
  double gts = d->link.max_gts > 0 ? d->link.max_gts : d->link.cur_gts;
  return fmt::format("pcie {}x{}", gts > 0 && d->link_quirk.empty() ? fmt::format("Gen{} ", pcie_gen(gts)) : "",
                     w > 0 ? std::to_string(w) : "?");
}
}  // namespace

Fingerprint fingerprint(const System& s) {
  Fingerprint f;
  f.items.push_back(fmt::format("gpus {}", s.gpus.size()));
  f.items.push_back(fmt::format("nics {}", s.nics.size()));
  std::set<int> numas;
  for (const auto& c : s.cpus) numas.insert(c.numa);
  f.items.push_back(fmt::format("numa nodes {}", numas.size()));
  for (const auto& g : s.gpus) {
    std::string nvl;
    std::map<std::string, int> per_remote;
    for (const auto& l : g.nvlinks)
      if (l.active == Tri::kYes && l.remote_bus_id != g.bus_id) per_remote[l.remote_bus_id.empty() ? std::string(to_string(l.remote)) : l.remote_bus_id] += l.count;
    for (const auto& [r, c] : per_remote) nvl += fmt::format(" {}:{}", r, c);
    f.items.push_back(fmt::format("gpu {} sm{} numa{} {} nvlink {}{}", g.bus_id, g.sm, g.numa,
                                  width_text(s.find_pci(g.bus_id)), g.nvlinks_up(), nvl));
  }
  for (const auto& n : s.nics) {
    std::string ports;
    for (const auto& p : n.ports)
      ports += fmt::format(" {}:{}", p.port, p.rate_gbps > 0 ? fmt::format("{:g}Gb/s", p.rate_gbps) : "?");
    f.items.push_back(fmt::format("nic {} numa{} {} ports{}", n.bus_id.empty() ? n.name : n.bus_id, n.numa,
                                  width_text(n.bus_id.empty() ? nullptr : s.find_pci(n.bus_id)), ports));
  }
  std::sort(f.items.begin(), f.items.end());
  std::uint64_t h = 1469598103934665603ULL;  // FNV-1a
  for (const auto& i : f.items) {
    for (unsigned char c : i) h = (h ^ c) * 1099511628211ULL;
    h = (h ^ '\n') * 1099511628211ULL;
  }
  f.digest = fmt::format("{:016x}", h);
  return f;
}

std::uint64_t content_digest(const System& s) {
  nlohmann::json j = s;  // to_json: the input model (paths are not serialised)
  j.erase("host");
  j.erase("bindings");
  // Serial-like identifiers differ on every node of a cluster and no check compares them.
  if (j.contains("gpus") && j["gpus"].is_array())
    for (auto& g : j["gpus"])
      if (g.is_object()) g.erase("uuid");
  if (j.contains("nics") && j["nics"].is_array())
    for (auto& n : j["nics"])
      if (n.is_object() && n.contains("ports") && n["ports"].is_array())
        for (auto& p : n["ports"])
          if (p.is_object()) p.erase("guid");
  std::uint64_t h = 1469598103934665603ULL;  // FNV-1a
  for (unsigned char c : j.dump()) h = (h ^ c) * 1099511628211ULL;
  return h;
}

std::vector<std::string> fingerprint_diff(const Fingerprint& a, const Fingerprint& b) {
  std::vector<std::string> out;
  std::set<std::string> sa(a.items.begin(), a.items.end()), sb(b.items.begin(), b.items.end());
  for (const auto& i : a.items)
    if (!sb.count(i)) out.push_back("- " + i);
  for (const auto& i : b.items)
    if (!sa.count(i)) out.push_back("+ " + i);
  return out;
}

}  // namespace ncd::topo
