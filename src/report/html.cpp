// SPDX-License-Identifier: Apache-2.0
#include "report/html.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <map>
#include <set>
#include <vector>

#include "checks/baseline.hpp"
#include "core/catalogue.hpp"
#include "core/text.hpp"
#include "core/units.hpp"
#include "ncd/config.hpp"
#include "report/escape.hpp"
#include "report/text.hpp"
#include "topo/model.hpp"

namespace ncd::report {
namespace {


// Self-contained on purpose: system font stacks only, no @import, no url(): the file must
// render the same on an air-gapped laptop as in CI.
constexpr const char* kCss = R"css(
:root{--ok:#1a7f37;--warn:#b7791f;--err:#c62828;--info:#0969da;--muted:#57606a;--line:#d0d7de;--bg:#f6f8fa}
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:0;color:#1f2328;background:#fff;font-size:14px;line-height:1.45}
header{padding:18px 28px;border-bottom:1px solid var(--line);background:var(--bg)}
main{padding:8px 28px 40px;max-width:1400px}
h1{font-size:22px;margin:0 0 6px}
h2{font-size:18px;margin:28px 0 10px;padding-bottom:4px;border-bottom:1px solid var(--line)}
h3{font-size:15px;margin:18px 0 6px}
.verdict{display:inline-block;padding:4px 12px;border-radius:6px;color:#fff;font-weight:700;letter-spacing:.04em;margin-right:10px}
.v0{background:var(--ok)}.v1{background:var(--warn)}.v2{background:var(--err)}.v3{background:#6e40c9}
.meta{color:var(--muted);font-size:13px}
.tiles{display:flex;gap:12px;flex-wrap:wrap;margin-top:12px}
.tile{border:1px solid var(--line);border-radius:6px;padding:6px 12px;background:#fff;min-width:96px}
.tile b{display:block;font-size:18px}
.finding{border:1px solid var(--line);border-left:6px solid var(--info);border-radius:6px;padding:8px 12px;margin:10px 0;background:#fff}
.finding.error{border-left-color:var(--err)}.finding.warn{border-left-color:var(--warn)}
.sev{display:inline-block;min-width:44px;text-align:center;border-radius:4px;color:#fff;font-size:12px;font-weight:700;padding:1px 6px;margin-right:8px}
.sev.error{background:var(--err)}.sev.warn{background:var(--warn)}.sev.info{background:var(--info)}
.fid{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-weight:700}
.where{color:var(--muted);margin-left:8px}
.msg{margin:4px 0}
.nums{font-size:13px;color:var(--muted)}
pre{background:var(--bg);border:1px solid var(--line);border-radius:4px;padding:6px 8px;overflow-x:auto;font-size:12px;margin:6px 0;white-space:pre-wrap;word-break:break-all}
.hint{font-size:13px}.hint b{color:var(--ok)}
table{border-collapse:collapse;font-size:13px;margin:6px 0}
th,td{border:1px solid var(--line);padding:3px 8px;text-align:left}
th{background:var(--bg)}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.unmeasured{color:var(--muted);font-style:italic;background:repeating-linear-gradient(45deg,transparent,transparent 4px,var(--bg) 4px,var(--bg) 8px)}
.scroll{overflow-x:auto;border:1px solid var(--line);border-radius:6px;padding:6px;background:#fff}
svg text{font-family:system-ui,"DejaVu Sans",sans-serif}
.legend span{display:inline-block;margin-right:14px;font-size:12px}
.sw{display:inline-block;width:12px;height:12px;border-radius:2px;vertical-align:-2px;margin-right:4px;border:1px solid #0003}
.note{color:var(--muted)}
footer{color:var(--muted);font-size:12px;padding:16px 28px;border-top:1px solid var(--line)}
)css";

std::string esc(std::string_view s) { return html_escape(s); }
std::string f1(double v) { return fmt::format("{:.1f}", v); }

std::string_view sev_name(Severity s) { return to_string(s); }

const char* verdict_text(int code) {
  switch (code) {
    case 0: return "HEALTHY";
    case 1: return "WARNINGS";
    case 2: return "ERRORS";
    default: return "INCOMPLETE";
  }
}

/// A value as short text for SVG labels: 3 significant digits.
std::string g3(double v) { return fmt::format("{:.3g}", v); }

// ------------------------------------------------------------------------------------------
// Topology drawing, from each host's typed model (topo::System, read part by part from
// hosts[].topology: a report of another version may lack a part or hold it in another type).

std::string short_bus(const std::string& bus) {
  // "0000:1b:00.0" -> "1b:00.0" (the domain is almost always 0000 and only costs width)
  if (bus.size() == 12 && bus.rfind("0000:", 0) == 0) return bus.substr(5);
  return bus;
}

/// Tokens a finding's subject names parts with: "GPU3 0000:1b:00.0" -> gpu3, 0000:1b:00.0,
/// 1b:00.0; "mlx5_2/1" -> mlx5_2.
std::set<std::string> subject_tokens(const std::string& subject) {
  std::set<std::string> out;
  std::string cur;
  auto flush = [&] {
    if (!cur.empty()) {
      std::string t = to_lower(cur);
      out.insert(t);
      if (t.size() == 12 && t[4] == ':') out.insert(t.substr(5));
      if (t.size() > 9 && t.rfind("00000000:", 0) == 0) out.insert(t.substr(9));  // NVML form
    }
    cur.clear();
  };
  for (char c : subject) {
    if (c == ' ' || c == ',' || c == '/' || c == '[' || c == ']' || c == '(' || c == ')' ||
        c == '<' || c == '>' || c == '=' || c == ';')
      flush();
    else if (c == '-' && !cur.empty() && cur.back() == '<')
      flush();
    else
      cur += c;
  }
  flush();
  return out;
}

struct TNode {
  enum class Kind { kCpu, kBridge, kGpu, kNic, kNvSwitch, kOther };
  Kind kind = Kind::kOther;
  std::string key;    // bus id, or "cpu<numa>"
  std::string label;  // first line
  std::string sub;    // second line
  std::string title;  // tooltip
  std::string link;   // uplink label, "x16 G4"
  bool link_bad = false;
  int parent = -1;
  std::vector<int> kids;
  double x = 0;
  int depth = 0;
  int fault = -1;  // worst severity of findings naming it, -1 none
  std::vector<std::string> ids;  // matching part names
};

struct TopoPicture {
  std::vector<TNode> nodes;
  struct NvEdge {
    int a, b, count;
    bool down;
  };
  std::vector<NvEdge> nvlinks;
  std::vector<int> extra_switches;  // NVSwitches outside the PCI tree (bottom row)
};

std::string link_text(const topo::PciLink& link, bool& bad, std::string& title) {
  const int cw = link.cur_width, mw = link.max_width;
  const double cs = link.cur_gts, ms = link.max_gts;
  int w = cw > 0 ? cw : mw;
  double s = cs > 0 ? cs : ms;
  bad = cw > 0 && mw > 0 && cw < mw;  // width, not speed: GPUs lower their speed when idle
  title = fmt::format("PCIe current {} GT/s x{}, max {} GT/s x{}", g3(cs), cw, g3(ms), mw);
  if (w <= 0 && s <= 0) return "";
  std::string t = w > 0 ? fmt::format("x{}", w) : "x?";
  if (bad) t += fmt::format("/{}", mw);
  if (topo::pcie_gen(s) > 0) t += fmt::format(" G{}", topo::pcie_gen(s));
  return t;
}

void label_gpu(TNode& n, const topo::Gpu& g) {
  n.kind = TNode::Kind::kGpu;
  const int idx = g.index;
  n.label = idx >= 0 ? fmt::format("GPU{}", idx) : "GPU";
  std::string name = g.name;
  for (const char* p : {"NVIDIA ", "Tesla "})
    if (name.rfind(p, 0) == 0) name = name.substr(std::string(p).size());
  if (name.size() > 16) name = name.substr(0, 16);
  n.sub = name.empty() ? short_bus(n.key) : name;
  n.title = fmt::format("{} {} {}", n.label, g.bus_id, g.name);
  if (idx >= 0) n.ids.push_back(fmt::format("gpu{}", idx));
}

void label_nic(TNode& n, const topo::Nic& nic) {
  n.kind = TNode::Kind::kNic;
  n.label = nic.name.empty() ? "NIC" : nic.name;
  if (!nic.ports.empty()) {
    const topo::NicPort& p = nic.ports[0];
    std::string layer = p.link_layer == "InfiniBand" ? "IB" : p.link_layer == "Ethernet" ? "Eth" : "";
    n.sub = (p.rate_gbps > 0 ? g3(p.rate_gbps) + "G " : std::string()) + layer + (p.state.empty() ? "" : " " + p.state);
    if (nic.ports.size() > 1) n.sub += fmt::format(" +{}", nic.ports.size() - 1);
  }
  n.title = fmt::format("{} {} {}", n.label, n.key, n.sub);
  n.ids.push_back(to_lower(n.label));
  for (const auto& p : nic.ports)
    if (!p.name.empty()) n.ids.push_back(to_lower(p.name));
}

/// Builds the picture of one host's topology model: CPUs, the part of the PCI tree that leads
/// to a GPU, NIC or NVSwitch, the GPUs and NICs outside it, and the NVLinks.
class PictureBuilder {
 public:
  explicit PictureBuilder(const topo::System& topo) : topo_(topo) {}

  TopoPicture build() {
    add_cpus();
    index_parts();
    index_pci();
    mark_relevant();
    add_pci_tree();
    add_parts_outside_tree();
    add_nvlinks();
    return std::move(pic_);
  }

 private:
  int add(TNode n) {
    int id = static_cast<int>(pic_.nodes.size());
    by_key_[n.key] = id;
    pic_.nodes.push_back(std::move(n));
    return id;
  }
  void add_child(int id) {
    pic_.nodes[static_cast<std::size_t>(pic_.nodes[static_cast<std::size_t>(id)].parent)].kids.push_back(id);
  }

  void add_cpus() {
    for (const auto& c : topo_.cpus) {
      const int numa = c.numa;
      if (cpu_of_numa_.count(numa)) continue;
      TNode n;
      n.kind = TNode::Kind::kCpu;
      n.key = fmt::format("cpu{}", numa);
      n.label = numa >= 0 ? fmt::format("CPU NUMA {}", numa) : "CPU";
      const int pkg = c.package;
      const std::size_t cores = c.cpus.size();
      n.sub = (pkg >= 0 ? fmt::format("socket {}", pkg) : std::string("")) +
              (cores ? fmt::format("{}{} cpus", pkg >= 0 ? " · " : "", cores) : std::string(""));
      n.title = c.vendor + " " + c.arch;
      n.ids = {n.key, fmt::format("numa{}", numa)};
      cpu_of_numa_[numa] = add(std::move(n));
    }
  }

  int cpu_for(int numa) {
    auto it = cpu_of_numa_.find(numa);
    if (it != cpu_of_numa_.end()) return it->second;
    if (cpu_of_numa_.size() == 1) return cpu_of_numa_.begin()->second;
    TNode n;
    n.kind = TNode::Kind::kCpu;
    n.key = fmt::format("cpu{}", numa);
    n.label = numa >= 0 ? fmt::format("CPU NUMA {}", numa) : "CPU (NUMA ?)";
    int id = add(std::move(n));
    cpu_of_numa_[numa] = id;
    return id;
  }

  /// GPU and NIC facts by bus id, to label their PCI nodes.
  void index_parts() {
    for (const auto& g : topo_.gpus)
      if (!g.bus_id.empty()) gpu_by_bus_[to_lower(g.bus_id)] = &g;
    for (const auto& n : topo_.nics)
      if (!n.bus_id.empty()) nic_by_bus_[to_lower(n.bus_id)] = &n;
    for (const auto& s : topo_.nvswitches) nvswitch_ids_.insert(to_lower(s));
  }

  void index_pci() {
    for (const auto& d : topo_.pci) {
      std::string bus = to_lower(d.bus_id);
      if (!bus.empty()) pci_by_bus_[bus] = &d;
    }
    for (const auto& d : topo_.pci) {
      std::string bus = to_lower(d.bus_id);
      if (bus.empty()) continue;
      std::string parent = to_lower(d.parent);
      children_[pci_by_bus_.count(parent) ? parent : std::string("")].push_back(&d);
    }
  }

  /// PCI tree: keep only the parts that lead to a GPU, NIC or NVSwitch. Iterative post-order
  /// (input depth must not drive recursion).
  void mark_relevant() {
    std::vector<std::pair<std::string, bool>> stack;
    for (const auto* d : children_[""]) stack.push_back({to_lower(d->bus_id), false});
    std::set<std::string> visiting;
    while (!stack.empty()) {
      auto [bus, done] = stack.back();
      stack.pop_back();
      if (done) {
        const topo::PciKind kind = pci_by_bus_[bus]->kind;
        bool rel = kind == topo::PciKind::kGpu || kind == topo::PciKind::kNic || kind == topo::PciKind::kNvSwitch ||
                   gpu_by_bus_.count(bus) || nic_by_bus_.count(bus) || nvswitch_ids_.count(bus);
        for (const auto* c : children_[bus]) rel = rel || relevant_[to_lower(c->bus_id)];
        relevant_[bus] = rel;
        continue;
      }
      if (!visiting.insert(bus).second) continue;  // a cycle in a damaged file
      stack.push_back({bus, true});
      for (const auto* c : children_[bus]) stack.push_back({to_lower(c->bus_id), false});
    }
  }

  /// One PCI device's node: GPU, NIC, NVSwitch or bridge, with its link's width and speed.
  TNode pci_node(const topo::PciDevice& d, const std::string& bus, int parent) {
    TNode n;
    n.key = bus;
    n.parent = parent;
    n.ids = {bus, short_bus(bus)};
    if (gpu_by_bus_.count(bus)) label_gpu(n, *gpu_by_bus_[bus]);
    else if (nic_by_bus_.count(bus)) label_nic(n, *nic_by_bus_[bus]);
    else if (d.kind == topo::PciKind::kNvSwitch || nvswitch_ids_.count(bus)) {
      n.kind = TNode::Kind::kNvSwitch;
      n.label = "NVSwitch";
      n.sub = short_bus(bus);
    } else if (d.kind == topo::PciKind::kGpu) {
      n.kind = TNode::Kind::kGpu;
      n.label = "GPU";
      n.sub = short_bus(bus);
    } else if (d.kind == topo::PciKind::kNic) {
      n.kind = TNode::Kind::kNic;
      n.label = "NIC";
      n.sub = short_bus(bus);
    } else {
      n.kind = TNode::Kind::kBridge;
      n.label = "PCIe sw";
      n.sub = short_bus(bus);
    }
    std::string ltitle;
    n.link = link_text(d.link, n.link_bad, ltitle);
    if (!d.link_quirk.empty()) {
      n.link = n.link.empty() ? "?" : n.link + "?";
      n.link_bad = false;
      ltitle += " (" + d.link_quirk + ")";
    }
    n.title += (n.title.empty() ? "" : "\n") + bus + "\n" + ltitle;
    return n;
  }

  void add_pci_tree() {
    std::vector<std::pair<const topo::PciDevice*, int>> stack;  // (device, parent node)
    for (auto it = children_[""].rbegin(); it != children_[""].rend(); ++it)
      stack.push_back({*it, cpu_for((*it)->numa)});
    while (!stack.empty()) {
      auto [d, parent] = stack.back();
      stack.pop_back();
      std::string bus = to_lower(d->bus_id);
      if (!relevant_[bus] || by_key_.count(bus)) continue;
      int id = add(pci_node(*d, bus, parent));
      pic_.nodes[static_cast<std::size_t>(parent)].kids.push_back(id);
      const auto& kids = children_[bus];
      for (auto it = kids.rbegin(); it != kids.rend(); ++it) stack.push_back({*it, id});
    }
  }

  /// GPUs and NICs the PCI tree does not hold (NCCL dumps without switches, virtual NICs).
  void add_parts_outside_tree() {
    for (const auto& g : topo_.gpus) {
      std::string bus = to_lower(g.bus_id);
      if (!bus.empty() && by_key_.count(bus)) continue;
      TNode n;
      n.key = bus.empty() ? fmt::format("gpu#{}", pic_.nodes.size()) : bus;
      n.ids = {n.key, short_bus(n.key)};
      label_gpu(n, g);
      n.parent = cpu_for(g.numa);
      add_child(add(std::move(n)));
    }
    for (const auto& nic : topo_.nics) {
      std::string bus = to_lower(nic.bus_id);
      if (!bus.empty() && by_key_.count(bus)) continue;
      TNode n;
      n.key = bus.empty() ? "nic:" + nic.name + fmt::format("#{}", pic_.nodes.size()) : bus;
      n.ids = {n.key, short_bus(n.key)};
      label_nic(n, nic);
      n.parent = cpu_for(nic.numa);
      add_child(add(std::move(n)));
    }
  }

  /// An NVSwitch seen only as the remote end of GPU NVLinks (drawn in the bottom row).
  void add_extra_switch(const std::string& remote) {
    TNode n;
    n.kind = TNode::Kind::kNvSwitch;
    n.key = remote;
    n.label = "NVSwitch";
    n.sub = short_bus(remote);
    n.ids = {remote, short_bus(remote)};
    n.parent = -1;
    pic_.extra_switches.push_back(add(std::move(n)));
  }

  /// NVLinks: GPU to GPU (one edge per pair) and GPU to NVSwitch.
  void add_nvlinks() {
    std::map<std::pair<int, int>, TopoPicture::NvEdge> edges;
    for (const auto& g : topo_.gpus) {
      std::string bus = to_lower(g.bus_id);
      if (!by_key_.count(bus)) continue;
      int a = by_key_[bus];
      for (const auto& l : g.nvlinks) {
        std::string remote = to_lower(l.remote_bus_id);
        if (remote.empty()) continue;
        if (!by_key_.count(remote)) {
          if (l.remote != topo::LinkRemote::kNvSwitch && !nvswitch_ids_.count(remote)) continue;
          add_extra_switch(remote);
        }
        int b = by_key_[remote];
        if (a == b) continue;
        int count = std::max(1, l.count);
        bool down = l.active == topo::Tri::kNo;
        auto key = std::minmax(a, b);
        auto it = edges.find({key.first, key.second});
        const bool to_switch = pic_.nodes[static_cast<std::size_t>(b)].kind == TNode::Kind::kNvSwitch;
        if (it == edges.end()) {
          edges[{key.first, key.second}] = {a, b, count, down};
        } else if (to_switch || !it->second.down) {
          // Both GPUs list a GPU-GPU link: keep one. Links to a switch are listed once per GPU.
          if (to_switch) it->second.count += count;
          it->second.down = it->second.down || down;
        }
      }
    }
    for (const auto& [k, e] : edges) pic_.nvlinks.push_back(e);
  }

  const topo::System& topo_;
  TopoPicture pic_;
  std::map<std::string, int> by_key_;
  std::map<int, int> cpu_of_numa_;
  std::map<std::string, const topo::Gpu*> gpu_by_bus_;
  std::map<std::string, const topo::Nic*> nic_by_bus_;
  std::set<std::string> nvswitch_ids_;
  std::map<std::string, std::vector<const topo::PciDevice*>> children_;
  std::map<std::string, const topo::PciDevice*> pci_by_bus_;
  std::map<std::string, bool> relevant_;
};

TopoPicture build_picture(const topo::System& topo) { return PictureBuilder(topo).build(); }

void mark_faults(TopoPicture& pic, const std::string& host, const std::vector<Finding>& findings) {
  for (const auto& f : findings) {
    if (f.severity == Severity::kInfo) continue;
    bool here = f.host.empty() || f.host == host;
    if (!here)
      for (const auto& h : split(f.host, ','))
        if (trim(h) == host) here = true;
    if (!here) continue;
    auto toks = subject_tokens(f.subject);
    for (auto& n : pic.nodes) {
      for (const auto& id : n.ids) {
        if (!id.empty() && toks.count(id)) {
          n.fault = std::max(n.fault, static_cast<int>(f.severity));
          break;
        }
      }
    }
  }
}

std::string node_fill(const TNode& n) {
  switch (n.kind) {
    case TNode::Kind::kCpu: return "#dbe7f5";
    case TNode::Kind::kBridge: return "#eeeeee";
    case TNode::Kind::kGpu: return "#d8f0d2";
    case TNode::Kind::kNic: return "#e8dcf5";
    case TNode::Kind::kNvSwitch: return "#d2eeee";
    case TNode::Kind::kOther: return "#f4f4f4";
  }
  return "#fff";
}

std::string render_topology_svg(const topo::System& topo, const std::string& host,
                                 const std::vector<Finding>& findings) {
  TopoPicture pic = build_picture(topo);
  if (pic.nodes.empty()) return "<p class=\"note\">The topology of this host holds no CPUs, GPUs or NICs.</p>";
  mark_faults(pic, host, findings);
  auto& nodes = pic.nodes;
  constexpr double kSlot = 104, kBoxW = 94, kBoxH = 40, kSmallH = 24, kRow = 82, kTop = 16;
  // Leaves left to right in tree order, parents centred over their children (iterative).
  double next_slot = 0;
  int max_depth = 0;
  std::vector<int> roots;
  for (std::size_t i = 0; i < nodes.size(); ++i)
    if (nodes[i].kind == TNode::Kind::kCpu && nodes[i].parent < 0) roots.push_back(static_cast<int>(i));
  for (int r : roots) {
    std::vector<std::pair<int, bool>> stack{{r, false}};
    nodes[static_cast<std::size_t>(r)].depth = 0;
    while (!stack.empty()) {
      auto [id, done] = stack.back();
      stack.pop_back();
      TNode& n = nodes[static_cast<std::size_t>(id)];
      if (done) {
        if (n.kids.empty()) n.x = (next_slot++) * kSlot;
        else {
          double lo = nodes[static_cast<std::size_t>(n.kids.front())].x;
          double hi = nodes[static_cast<std::size_t>(n.kids.back())].x;
          n.x = (lo + hi) / 2;
        }
        continue;
      }
      max_depth = std::max(max_depth, n.depth);
      stack.push_back({id, true});
      for (auto it = n.kids.rbegin(); it != n.kids.rend(); ++it) {
        nodes[static_cast<std::size_t>(*it)].depth = n.depth + 1;
        stack.push_back({*it, false});
      }
    }
  }
  bool has_switch_row = !pic.extra_switches.empty();
  double switch_y = kTop + (max_depth + 1) * kRow + 20;
  if (has_switch_row) {
    double span = std::max(1.0, next_slot) * kSlot;
    double step = span / static_cast<double>(pic.extra_switches.size());
    for (std::size_t i = 0; i < pic.extra_switches.size(); ++i)
      nodes[static_cast<std::size_t>(pic.extra_switches[i])].x = step * (static_cast<double>(i) + 0.5) - kSlot / 2;
  }
  // GPU-to-GPU arcs dip below the lowest GPU; their depth grows with the pair's distance.
  double arc_room = 0;
  for (const auto& e : pic.nvlinks)
    if (nodes[static_cast<std::size_t>(e.b)].kind != TNode::Kind::kNvSwitch &&
        nodes[static_cast<std::size_t>(e.a)].kind != TNode::Kind::kNvSwitch)
      arc_room = 60;
  double width = std::max(1.0, next_slot) * kSlot + 24;
  double height = (has_switch_row ? switch_y + kBoxH + 16 : kTop + (max_depth + 1) * kRow) + arc_room;
  auto box_y = [&](const TNode& n) {
    if (n.parent < 0 && n.kind == TNode::Kind::kNvSwitch) return switch_y;
    return kTop + n.depth * kRow;
  };
  auto cx = [&](const TNode& n) { return n.x + 12 + kSlot / 2; };
  auto box_h = [&](const TNode& n) { return n.kind == TNode::Kind::kBridge ? kSmallH : kBoxH; };

  // Fit the page width unless that would make the labels unreadable (then scroll).
  std::string s = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"topo\" width=\"{:.0f}\" height=\"{:.0f}\" "
      "viewBox=\"0 0 {:.0f} {:.0f}\" role=\"img\" aria-label=\"topology of {}\"{}>\n",
      width, height, width, height, esc(host),
      width <= 2000 ? " style=\"max-width:100%;height:auto\"" : "");
  // PCIe links.
  for (const auto& n : nodes) {
    if (n.parent < 0) continue;
    const TNode& p = nodes[static_cast<std::size_t>(n.parent)];
    double x1 = cx(p), y1 = box_y(p) + box_h(p), x2 = cx(n), y2 = box_y(n);
    bool bad = n.link_bad || (n.fault >= 0 && n.kind != TNode::Kind::kCpu && n.link_bad);
    std::string colour = bad ? "#c62828" : "#8c959f";
    s += fmt::format("<path d=\"M{:.1f} {:.1f} C{:.1f} {:.1f} {:.1f} {:.1f} {:.1f} {:.1f}\" fill=\"none\" "
                     "stroke=\"{}\" stroke-width=\"{}\"/>\n",
                     x1, y1, x1, (y1 + y2) / 2, x2, (y1 + y2) / 2, x2, y2, colour, bad ? 3 : 1.6);
    if (!n.link.empty())
      s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"10\" text-anchor=\"middle\" fill=\"{}\" "
                       "font-weight=\"{}\">{}</text>\n",
                       x2, y2 - 5, bad ? "#c62828" : "#57606a", bad ? 700 : 400, esc(n.link));
  }
  // Inter-socket link between CPU nodes.
  for (std::size_t i = 1; i < roots.size(); ++i) {
    const TNode& a = nodes[static_cast<std::size_t>(roots[i - 1])];
    const TNode& b = nodes[static_cast<std::size_t>(roots[i])];
    s += fmt::format("<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#4a6fa5\" "
                     "stroke-width=\"3\" stroke-dasharray=\"6 3\"><title>CPU interconnect (SMP)</title></line>\n",
                     cx(a) + kBoxW / 2, box_y(a) + kBoxH / 2, cx(b) - kBoxW / 2, box_y(b) + kBoxH / 2);
  }
  // NVLinks.
  for (const auto& e : pic.nvlinks) {
    const TNode& a = nodes[static_cast<std::size_t>(e.a)];
    const TNode& b = nodes[static_cast<std::size_t>(e.b)];
    std::string colour = e.down ? "#c62828" : "#2e9e44";
    std::string dash = e.down ? " stroke-dasharray=\"5 4\"" : "";
    double w = std::min(6.0, 1.0 + 0.5 * e.count);
    std::string title = fmt::format("<title>NVLink {} - {}: {} link(s){}</title>", esc(a.label), esc(b.label),
                                    e.count, e.down ? ", some down" : "");
    if (b.kind == TNode::Kind::kNvSwitch || a.kind == TNode::Kind::kNvSwitch) {
      const TNode& g = a.kind == TNode::Kind::kNvSwitch ? b : a;
      const TNode& sw = a.kind == TNode::Kind::kNvSwitch ? a : b;
      s += fmt::format("<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"{}\" "
                       "stroke-opacity=\"0.55\" stroke-width=\"{:.1f}\"{}>{}</line>\n",
                       cx(g), box_y(g) + box_h(g), cx(sw), box_y(sw), colour, w, dash, title);
    } else {
      double y = std::max(box_y(a) + box_h(a), box_y(b) + box_h(b));
      double dip = std::min(55.0, 14.0 + std::fabs(a.x - b.x) / kSlot * 7.0);
      s += fmt::format("<path d=\"M{:.1f} {:.1f} Q{:.1f} {:.1f} {:.1f} {:.1f}\" fill=\"none\" stroke=\"{}\" "
                       "stroke-width=\"{:.1f}\" stroke-opacity=\"0.7\"{}>{}</path>\n",
                       cx(a), box_y(a) + box_h(a), (cx(a) + cx(b)) / 2, y + dip, cx(b),
                       box_y(b) + box_h(b), colour, w, dash, title);
    }
  }
  // Boxes on top.
  for (const auto& n : nodes) {
    double x = cx(n) - kBoxW / 2, y = box_y(n), h = box_h(n);
    std::string stroke = n.fault == 2 ? "#c62828" : n.fault == 1 ? "#d4a017" : "#6e7781";
    std::string fill = n.fault == 2 ? "#ffd7d5" : n.fault == 1 ? "#fff1c2" : node_fill(n);
    double sw = n.fault >= 0 ? 3 : 1;
    s += fmt::format("<g class=\"part\"><title>{}</title><rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.0f}\" "
                     "height=\"{:.0f}\" rx=\"5\" fill=\"{}\" stroke=\"{}\" stroke-width=\"{}\"/>",
                     esc(n.title.empty() ? n.label : n.title), x, y, kBoxW, h, fill, stroke, sw);
    if (n.kind == TNode::Kind::kBridge) {
      s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"10\" text-anchor=\"middle\">{}</text>",
                       cx(n), y + 15, esc(n.sub.empty() ? n.label : n.label + " " + n.sub));
    } else {
      s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"12\" font-weight=\"700\" "
                       "text-anchor=\"middle\">{}</text>",
                       cx(n), y + 16, esc(n.label.substr(0, 16)));
      s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"10\" text-anchor=\"middle\" "
                       "fill=\"#444c56\">{}</text>",
                       cx(n), y + 31, esc(n.sub.substr(0, 20)));
    }
    s += "</g>\n";
  }
  s += "</svg>\n";
  return s;
}

// ------------------------------------------------------------------------------------------
// Link heatmap.

std::string heat_colour(double ratio) {
  // red (0) -> amber (0.5) -> green (>= 0.9 of the typical link)
  ratio = std::clamp(ratio, 0.0, 1.0);
  double t = std::min(1.0, ratio / 0.9);
  int r, g, b;
  if (t < 0.5) {
    double u = t / 0.5;
    r = 198 + static_cast<int>((230 - 198) * u);
    g = 40 + static_cast<int>((160 - 40) * u);
    b = 40 + static_cast<int>((30 - 40) * u);
  } else {
    double u = (t - 0.5) / 0.5;
    r = 230 - static_cast<int>((230 - 46) * u);
    g = 160 + static_cast<int>((158 - 160) * u);
    b = 30 + static_cast<int>((68 - 30) * u);
  }
  return fmt::format("#{:02x}{:02x}{:02x}", r, g, b);
}


/// The heatmap. `classes` is sections.links.classes when the links stage ran its checks: then
/// colours follow the checks' own thresholds (median and slow threshold of each class), so the
/// picture and the findings agree; else the 90th percentile of each class is the reference.
std::string render_heatmap(const std::vector<LinkResult>& links,
                           const std::map<std::string, model::LinkClassRecord>& classes) {
  // Endpoints: hosts when every host shows up with one rank, else host:rank.
  std::map<std::string, std::set<int>> ranks_of;
  for (const auto& l : links) {
    ranks_of[l.src_host].insert(l.src_rank);
    ranks_of[l.dst_host].insert(l.dst_rank);
  }
  bool by_host = std::all_of(ranks_of.begin(), ranks_of.end(), [](auto& kv) { return kv.second.size() == 1; });
  auto name = [&](const std::string& h, int r) { return by_host ? h : fmt::format("{}:{}", h, r); };
  std::vector<std::pair<int, std::string>> eps;  // (rank, name) sorted by rank
  std::set<std::string> seen;
  for (const auto& l : links) {
    for (auto [h, r] : {std::pair{l.src_host, l.src_rank}, std::pair{l.dst_host, l.dst_rank}})
      if (seen.insert(name(h, r)).second) eps.push_back({r, name(h, r)});
  }
  std::sort(eps.begin(), eps.end());
  std::size_t n = eps.size();
  if (n == 0) return "";
  if (n > 256) return fmt::format("<p class=\"note\">{} endpoints: too many for a heatmap; the slowest links are listed below.</p>", n);
  std::map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < n; ++i) index[eps[i].second] = i;
  // Bandwidth per cell (both directions are separate cells); the typical link is the median of
  // the links that answered, per class, so a slow NVLink is not compared with the network.
  std::vector<std::vector<const LinkResult*>> cell(n, std::vector<const LinkResult*>(n, nullptr));
  std::map<std::string, std::vector<double>> by_class;
  for (const auto& l : links) {
    cell[index[name(l.src_host, l.src_rank)]][index[name(l.dst_host, l.dst_rank)]] = &l;
    if (l.ok && l.gbps > 0) by_class[l.cls].push_back(l.gbps);
  }
  // The reference is the 90th percentile, not the median: with one slow node of four, half of
  // the directed links are slow and the median would sit between the two groups.
  std::map<std::string, double> typical;
  for (auto& [c, v] : by_class) {
    std::sort(v.begin(), v.end());
    typical[c] = v[std::min(v.size() - 1, static_cast<std::size_t>(0.9 * static_cast<double>(v.size())))];
  }
  // From the checks: class -> (median, slow threshold).
  std::map<std::string, std::pair<double, double>> checked;
  for (const auto& [c, v] : classes) checked[c] = {v.median_gbps, v.slow_below_gbps};
  // 0 -> red, 0.5 -> amber, >= 0.9 -> green (heat_colour's scale).
  auto shade = [&](const LinkResult& l) {
    auto it = checked.find(l.cls);
    if (it != checked.end()) {
      auto [med, thr] = it->second;
      double t = l.gbps < thr ? 0.5 * l.gbps / thr
                              : 0.5 + 0.5 * std::min(1.0, med > thr ? (l.gbps - thr) / (med - thr) : 1.0);
      return heat_colour(0.9 * t);
    }
    double t = typical[l.cls];
    return heat_colour(t > 0 ? l.gbps / t : 1.0);
  };

  double cs = std::clamp(560.0 / static_cast<double>(n), 6.0, 46.0);
  std::size_t label_len = 0;
  for (const auto& e : eps) label_len = std::max(label_len, e.second.size());
  double left = std::min(200.0, 10.0 + 6.5 * static_cast<double>(label_len));
  double top = std::max(left, 56.0);
  bool show_labels = cs >= 9;
  bool show_values = cs >= 34;
  double w = left + cs * static_cast<double>(n) + 20, h = top + cs * static_cast<double>(n) + 20;
  std::string s = fmt::format("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"heatmap\" width=\"{:.0f}\" "
                              "height=\"{:.0f}\" viewBox=\"0 0 {:.0f} {:.0f}\" role=\"img\" "
                              "aria-label=\"link bandwidth heatmap\">\n",
                              w, h, w, h);
  if (show_labels) {
    for (std::size_t i = 0; i < n; ++i) {
      double c = static_cast<double>(i) * cs + cs / 2;
      s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"{:.0f}\" text-anchor=\"end\" "
                       "dominant-baseline=\"middle\">{}</text>\n",
                       left - 4, top + c, std::min(12.0, cs * 0.8), esc(eps[i].second));
      s += fmt::format("<text transform=\"translate({:.1f},{:.1f}) rotate(-60)\" font-size=\"{:.0f}\">{}</text>\n",
                       left + c, top - 4, std::min(12.0, cs * 0.8), esc(eps[i].second));
    }
  }
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < n; ++j) {
      double x = left + static_cast<double>(j) * cs, y = top + static_cast<double>(i) * cs;
      const LinkResult* l = cell[i][j];
      std::string fill, label, title;
      if (i == j) {
        fill = "#eaeef2";
      } else if (!l) {
        fill = "#ffffff";
        title = fmt::format("{} -> {}: not measured", eps[i].second, eps[j].second);
      } else if (!l->ok) {
        fill = "#24292f";
        label = "×";
        title = fmt::format("{} -> {}: no answer", eps[i].second, eps[j].second);
      } else {
        double t = typical[l->cls];
        fill = shade(*l);
        label = g3(l->gbps);
        title = fmt::format("{} -> {}: {:.3g} GB/s ({}{}), latency {:.3g} us", eps[i].second, eps[j].second,
                            l->gbps, l->cls.empty() ? "link" : l->cls,
                            t > 0 ? fmt::format(", {:.0f}% of the reference", 100 * l->gbps / t) : "", l->latency_us);
      }
      s += fmt::format("<rect class=\"cell\" x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"{}\" "
                       "stroke=\"#ffffff\" stroke-width=\"{}\">{}</rect>\n",
                       x, y, cs, cs, fill, cs > 10 ? 1 : 0,
                       title.empty() ? "" : "<title>" + esc(title) + "</title>");
      if (show_values && !label.empty())
        s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"10\" text-anchor=\"middle\" "
                         "dominant-baseline=\"middle\" fill=\"{}\">{}</text>\n",
                         x + cs / 2, y + cs / 2, l && !l->ok ? "#fff" : "#111", esc(label));
    }
  }
  s += "</svg>\n";
  std::string legend = "<div class=\"legend\"><span>rows: source, columns: destination.</span>";
  if (!checked.empty()) {
    for (auto [r, t] : {std::pair{1.0, "at or above the median of its class"},
                        std::pair{0.5, "at the link checks' slow threshold"}, std::pair{0.0, "far below it"}})
      legend += fmt::format("<span><i class=\"sw\" style=\"background:{}\"></i>{}</span>", heat_colour(r), t);
  } else {
    for (auto [r, t] : {std::pair{1.0, "≥ 90% of the reference of its class"}, std::pair{0.5, "about half"},
                        std::pair{0.0, "far below"}})
      legend += fmt::format("<span><i class=\"sw\" style=\"background:{}\"></i>{}</span>", heat_colour(r), t);
  }
  legend += "<span><i class=\"sw\" style=\"background:#24292f\"></i>no answer</span>";
  std::string ref;
  for (const auto& [c, t] : typical) {
    auto it = checked.find(c);
    ref += it != checked.end() ? fmt::format(" {}: median {:.3g} GB/s, slow below {:.3g};", c.empty() ? "links" : c,
                                             it->second.first, it->second.second)
                               : fmt::format(" {}: reference (90th percentile) {:.3g} GB/s;", c.empty() ? "links" : c, t);
  }
  legend += "<span>" + esc(ref) + "</span></div>";
  return "<div class=\"scroll\">" + s + "</div>" + legend;
}

// ------------------------------------------------------------------------------------------
// busbw against message size.

std::vector<double> nice_ticks(double max) {
  if (max <= 0) max = 1;
  double raw = max / 5;
  double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0})
    if (raw <= m * mag) {
      step = m * mag;
      break;
    }
  std::vector<double> t;
  for (double v = 0; v <= max * 1.0001 + step; v += step) {
    t.push_back(v);
    if (v >= max) break;
  }
  return t;
}

const char* kSeriesColours[] = {"#0969da", "#1a7f37", "#8250df", "#bf3989", "#953800", "#1b7c83", "#4d2d00", "#57606a"};

struct Series {
  std::string name;
  std::vector<std::pair<double, double>> pts;  // (bytes, busbw)
};

std::string render_chart(const std::string& op, const std::vector<Series>& series,
                         const std::vector<Series>& baseline, double expected,
                         const std::string& expected_label) {
  double xmin = 1e300, xmax = 0, ymax = expected;
  for (const auto* set : {&series, &baseline})
    for (const auto& s : *set)
      for (auto [x, y] : s.pts) {
        xmin = std::min(xmin, x);
        xmax = std::max(xmax, x);
        ymax = std::max(ymax, y);
      }
  if (xmax <= 0) return "";
  if (xmin <= 0) xmin = 1;
  double lx0 = std::log2(xmin), lx1 = std::log2(xmax);
  if (lx1 - lx0 < 1) {
    lx0 -= 1;
    lx1 += 1;
  }
  auto ticks = nice_ticks(ymax * 1.08);
  double ytop = ticks.back();
  constexpr double kW = 620, kH = 300, kL = 56, kR = 170, kT = 24, kB = 44;
  double pw = kW - kL - kR, ph = kH - kT - kB;
  auto px = [&](double b) { return kL + (std::log2(std::max(b, 1.0)) - lx0) / (lx1 - lx0) * pw; };
  auto py = [&](double v) { return kT + ph - v / ytop * ph; };
  std::string s = fmt::format("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" width=\"{:.0f}\" "
                              "height=\"{:.0f}\" viewBox=\"0 0 {:.0f} {:.0f}\" role=\"img\" "
                              "aria-label=\"{} busbw against message size\">\n",
                              kW, kH, kW, kH, esc(op));
  s += fmt::format("<text x=\"{:.0f}\" y=\"15\" font-size=\"13\" font-weight=\"700\">{} busbw (GB/s)</text>\n",
                   kL, esc(op));
  for (double t : ticks) {
    s += fmt::format("<line x1=\"{:.1f}\" x2=\"{:.1f}\" y1=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#eaeef2\"/>"
                     "<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"10\" text-anchor=\"end\" "
                     "dominant-baseline=\"middle\">{}</text>\n",
                     kL, kL + pw, py(t), py(t), kL - 5, py(t), g3(t));
  }
  int step = std::max(1, static_cast<int>(std::ceil((lx1 - lx0) / 8)));
  for (int e = static_cast<int>(std::ceil(lx0)); e <= static_cast<int>(std::floor(lx1)); e += step) {
    double b = std::ldexp(1.0, e);
    s += fmt::format("<line x1=\"{:.1f}\" x2=\"{:.1f}\" y1=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#eaeef2\"/>"
                     "<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"10\" text-anchor=\"middle\">{}</text>\n",
                     px(b), px(b), kT, kT + ph, px(b), kT + ph + 14, format_size(static_cast<std::uint64_t>(b)));
  }
  s += fmt::format("<rect x=\"{:.0f}\" y=\"{:.0f}\" width=\"{:.0f}\" height=\"{:.0f}\" fill=\"none\" stroke=\"#8c959f\"/>\n",
                   kL, kT, pw, ph);
  s += fmt::format("<text x=\"{:.1f}\" y=\"{:.0f}\" font-size=\"11\" text-anchor=\"middle\" fill=\"#57606a\">message size (bytes)</text>\n",
                   kL + pw / 2, kH - 8);
  double ly = kT + 6;
  auto legend = [&](const std::string& colour, const std::string& dash, const std::string& text) {
    s += fmt::format("<line x1=\"{:.0f}\" x2=\"{:.0f}\" y1=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"{}\" stroke-width=\"2.5\"{}/>"
                     "<text x=\"{:.0f}\" y=\"{:.1f}\" font-size=\"11\" dominant-baseline=\"middle\">{}</text>\n",
                     kL + pw + 10, kL + pw + 30, ly, ly, colour, dash, kL + pw + 35, ly, esc(text.substr(0, 24)));
    ly += 16;
  };
  if (expected > 0) {
    s += fmt::format("<line x1=\"{:.1f}\" x2=\"{:.1f}\" y1=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#c62828\" "
                     "stroke-width=\"2\" stroke-dasharray=\"8 4\"><title>{}: {:.3g} GB/s</title></line>\n",
                     kL, kL + pw, py(expected), py(expected), esc(expected_label), expected);
    legend("#c62828", " stroke-dasharray=\"8 4\"", expected_label);
  }
  std::size_t ci = 0;
  for (const auto& b : baseline) {
    std::string pts;
    for (auto [x, y] : b.pts) pts += fmt::format("{:.1f},{:.1f} ", px(x), py(y));
    s += fmt::format("<polyline points=\"{}\" fill=\"none\" stroke=\"#8c959f\" stroke-width=\"1.5\" "
                     "stroke-dasharray=\"3 3\"/>\n",
                     pts);
  }
  if (!baseline.empty()) legend("#8c959f", " stroke-dasharray=\"3 3\"", "baseline");
  for (const auto& sr : series) {
    std::string colour = kSeriesColours[ci++ % (sizeof kSeriesColours / sizeof *kSeriesColours)];
    std::string pts;
    for (auto [x, y] : sr.pts) pts += fmt::format("{:.1f},{:.1f} ", px(x), py(y));
    s += fmt::format("<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2.2\"/>\n", pts, colour);
    for (auto [x, y] : sr.pts)
      s += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"3\" fill=\"{}\"><title>{} {}: {:.3g} GB/s</title></circle>\n",
                       px(x), py(y), colour, esc(sr.name), format_size(static_cast<std::uint64_t>(x)), y);
    legend(colour, "", sr.name);
  }
  s += "</svg>\n";
  return s;
}

std::string series_name(const CollectiveResult& c) {
  std::string n = c.algo.empty() ? c.backend : c.algo + (c.backend.empty() ? "" : " (" + c.backend + ")");
  if (!c.host.empty()) n += " " + c.host;
  return n;
}

std::vector<Series> build_series(const std::vector<CollectiveResult>& rows, const std::string& op) {
  std::map<std::string, Series> m;
  std::vector<std::string> order;
  for (const auto& c : rows) {
    if (c.op != op || checks::is_copy_row(c) || c.bytes == 0) continue;
    std::string k = series_name(c) + (c.dtype.empty() ? "" : " " + c.dtype);
    if (!m.count(k)) order.push_back(k);
    auto& s = m[k];
    s.name = series_name(c);
    s.pts.push_back({static_cast<double>(c.bytes), c.busbw_gbps});
  }
  std::vector<Series> out;
  for (const auto& k : order) {
    auto s = m[k];
    std::sort(s.pts.begin(), s.pts.end());
    out.push_back(std::move(s));
  }
  return out;
}

// ------------------------------------------------------------------------------------------

std::string render_finding(const Finding& f) {
  std::string where = f.host.empty() ? f.subject : f.subject.empty() ? f.host : f.host + " · " + f.subject;
  const CheckInfo* info = Catalogue::instance().find(f.id);
  std::string s = fmt::format("<div class=\"finding {}\"><div><span class=\"sev {}\">{}</span>"
                              "<span class=\"fid\" title=\"{}\">{}</span><span class=\"where\">{}</span></div>\n",
                              sev_name(f.severity), sev_name(f.severity), sev_name(f.severity),
                              esc(info ? info->title : ""), esc(f.id), esc(where));
  s += "<div class=\"msg\">" + esc(f.message) + "</div>\n";
  if (f.measured && f.expected)
    s += fmt::format("<div class=\"nums\">measured <b>{:.4g} {}</b> vs expected {:.4g} {}</div>\n", *f.measured,
                     esc(f.unit), *f.expected, esc(f.unit));
  else if (f.measured)
    s += fmt::format("<div class=\"nums\">measured <b>{:.4g} {}</b></div>\n", *f.measured, esc(f.unit));
  if (!f.evidence.empty()) {
    std::string ev;
    for (const auto& e : f.evidence) ev += esc(e) + "\n";
    if (f.evidence.size() > 8)
      s += fmt::format("<details><summary>evidence ({} lines)</summary><pre>{}</pre></details>\n",
                       f.evidence.size(), ev);
    else
      s += "<pre>" + ev + "</pre>\n";
  }
  if (!f.hint.empty()) s += "<div class=\"hint\"><b>Fix:</b> " + esc(f.hint) + "</div>\n";
  s += "</div>\n";
  return s;
}

}  // namespace

namespace {

/// The page head: title, verdict, the run's tiles.
void html_header(std::string& h, const Report& r, int code) {
  int counts[3] = {0, 0, 0};
  for (const auto& f : r.findings) ++counts[static_cast<int>(f.severity)];
  std::size_t nranks = 0;
  for (const auto& h : r.hosts) nranks += h.ranks.size();
  h += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  h += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  // No network: nothing may be fetched, not even a favicon.
  h += "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n";
  h += "<link rel=\"icon\" href=\"data:,\">\n";
  h += fmt::format("<title>nccl-doctor {}: {}</title>\n", esc(r.command), verdict_text(code));
  h += "<style>" + std::string(kCss) + "</style>\n</head>\n<body>\n<header>\n";
  h += fmt::format("<h1><span class=\"verdict v{}\">{}</span>nccl-doctor {}</h1>\n", std::clamp(code, 0, 3),
                   verdict_text(code), esc(r.command));
  h += fmt::format("<div class=\"meta\">started {} · {:.1f} s · nccl-doctor {}{}</div>\n", format_utc(r.started_unix),
                   r.duration_s, NCD_VERSION, r.args.empty() ? "" : " · args: " + esc(join(r.args, " ")));
  if (r.incomplete)
    h += "<div class=\"meta\"><b>Incomplete:</b> " + esc(r.incomplete_reason) + "</div>\n";
  h += "<div class=\"tiles\">";
  h += fmt::format("<div class=\"tile\"><b>{}</b>host(s)</div><div class=\"tile\"><b>{}</b>rank(s)</div>", r.hosts.size(), nranks);
  h += fmt::format("<div class=\"tile\"><b style=\"color:var(--err)\">{}</b>error(s)</div>"
                   "<div class=\"tile\"><b style=\"color:var(--warn)\">{}</b>warning(s)</div>"
                   "<div class=\"tile\"><b style=\"color:var(--info)\">{}</b>info</div>",
                   counts[2], counts[1], counts[0]);
  h += fmt::format("<div class=\"tile\"><b>{}</b>exit code</div></div>\n</header>\n<main>\n", code);
}

/// Plan and stages (sweep), and the notes.
void html_stages_and_notes(std::string& h, const Report& r) {
  const auto stages = model::stages_of(r);
  if (stages && !stages->empty()) {
    h += "<h2>Stages</h2>\n<table><tr><th>stage</th><th>status</th><th>budget (s)</th><th>took (s)</th><th>note</th></tr>\n";
    for (const auto& st : *stages) {
      const double budget = st.budget_s.value_or(0), took = st.elapsed_s.value_or(0);
      h += fmt::format("<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td></tr>\n",
                       esc(st.name), esc(st.status), budget > 0 ? f1(budget) : "", took > 0 ? f1(took) : "",
                       esc(st.note));
    }
    h += "</table>\n";
  }
  if (!r.notes.empty()) {
    h += "<h2>Notes</h2>\n<ul>\n";
    for (const auto& n : r.notes) h += "<li>" + esc(n) + "</li>\n";
    h += "</ul>\n";
  }
}

/// Findings: errors first; info folded away.
void html_findings(std::string& h, const Report& r) {
  h += "<h2 id=\"findings\">Findings</h2>\n";
  std::vector<Finding> sorted = r.findings;
  sort_findings(sorted);
  if (sorted.empty()) h += "<p>No findings: nothing the checks look for was wrong.</p>\n";
  std::string info_html;
  std::size_t n_info = 0;
  for (const auto& f : sorted) {
    if (f.severity == Severity::kInfo) {
      info_html += render_finding(f);
      ++n_info;
    } else {
      h += render_finding(f);
    }
  }
  if (n_info)
    h += fmt::format("<details><summary>{} informational finding(s)</summary>\n{}</details>\n", n_info, info_html);
}

/// Changes (diff).
void html_diff(std::string& h, const Report& r) {
  const auto d = model::diff_of(r);
  if (!d) return;
  h += "<h2>Changes</h2>\n";
  h += fmt::format("<p class=\"meta\">old: {} · new: {}</p>\n", esc(d->old_file), esc(d->new_file));
  if (d->changes.empty()) {
    h += "<p>No changes.</p>\n";
    return;
  }
  h += "<table><tr><th></th><th>kind</th><th>what</th><th>change</th></tr>\n";
  for (const auto& c : d->changes)
    h += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                     c.worse ? "<span class=\"sev error\">worse</span>" : "", esc(c.kind), esc(c.subject), esc(c.text));
  h += "</table>\n";
}

/// Topology per node.
void html_topology(std::string& h, const Report& r) {
  bool any_topo = std::any_of(r.hosts.begin(), r.hosts.end(), [](const HostEntry& e) { return e.topology.is_object(); });
  if (any_topo) {
    h += "<h2 id=\"topology\">Topology</h2>\n<div class=\"legend\">";
    for (auto [c, t] : {std::pair{"#dbe7f5", "CPU / NUMA node"}, std::pair{"#eeeeee", "PCIe switch / bridge"},
                        std::pair{"#d8f0d2", "GPU"}, std::pair{"#e8dcf5", "NIC"}, std::pair{"#d2eeee", "NVSwitch"},
                        std::pair{"#fff1c2", "part with a warning"}, std::pair{"#ffd7d5", "part with an error"}})
      h += fmt::format("<span><i class=\"sw\" style=\"background:{}\"></i>{}</span>", c, t);
    h += "<span><i class=\"sw\" style=\"background:#2e9e44\"></i>NVLink</span>"
         "<span><i class=\"sw\" style=\"background:#c62828\"></i>degraded link (width below max) or NVLink down</span></div>\n";
    // Identical fingerprints draw once: 1,000 identical nodes are one picture.
    std::map<std::string, std::vector<std::string>> same;
    std::size_t drawn = 0;
    for (const auto& e : r.hosts) {
      if (!e.topology.is_object()) continue;
      bool has_fault = std::any_of(r.findings.begin(), r.findings.end(), [&](const Finding& f) {
        return f.severity != Severity::kInfo && f.host == e.name;
      });
      if (!e.fingerprint.empty() && !has_fault && same.count(e.fingerprint)) {
        same[e.fingerprint].push_back(e.name);
        continue;
      }
      if (!e.fingerprint.empty() && !has_fault) same[e.fingerprint].push_back(e.name);
      if (drawn == 64) {
        h += "<p class=\"note\">Only the first 64 distinct hosts are drawn.</p>\n";
        break;
      }
      ++drawn;
      // The typed model the report holds; a part of another type is named, not guessed at.
      std::vector<std::string> unread;
      const topo::System sys = topo::system_from_json_lenient(e.topology, unread);
      h += fmt::format("<h3>{}</h3>\n<p class=\"meta\">{} GPU(s), {} NIC(s){}{}</p>\n", esc(e.name), sys.gpus.size(),
                       sys.nics.size(), e.fingerprint.empty() ? "" : " · fingerprint " + esc(e.fingerprint.substr(0, 16)),
                       sys.source.empty() ? "" : " · source " + esc(sys.source));
      // The host's own findings next to its picture (node.slow, topo.differs name no part).
      std::string badges;
      for (const auto& f : r.findings) {
        if (f.severity == Severity::kInfo) continue;
        bool here = f.host == e.name;
        for (const auto& part : split(f.host, ','))
          if (trim(part) == e.name) here = true;
        if (here)
          badges += fmt::format("<div><span class=\"sev {}\">{}</span><span class=\"fid\">{}</span> "
                                "<span class=\"where\">{}</span></div>\n",
                                sev_name(f.severity), sev_name(f.severity), esc(f.id), esc(f.message));
      }
      h += badges;
      if (!unread.empty())
        h += "<p class=\"note\">Parts of the topology model of this host could not be read (" + esc(join(unread, ", ")) +
             "): they are not drawn.</p>\n";
      h += "<div class=\"scroll\">" + render_topology_svg(sys, e.name, r.findings) + "</div>\n";
    }
    for (const auto& [fp, names] : same)
      if (names.size() > 1)
        h += fmt::format("<p class=\"meta\">Same topology as {} (fingerprint {}): {}</p>\n", esc(names.front()),
                         esc(fp.substr(0, 16)), esc(join(std::vector<std::string>(names.begin() + 1, names.end()), ", ")));
  }
}

/// Links: the heatmap and the slowest links.
void html_links(std::string& h, const Report& r) {
  if (!r.links.empty()) {
    h += "<h2 id=\"links\">Link bandwidth</h2>\n" + render_heatmap(r.links, model::link_classes_of(r));
    std::vector<const LinkResult*> slow;
    for (const auto& l : r.links) slow.push_back(&l);
    std::sort(slow.begin(), slow.end(), [](auto* a, auto* b) {
      if (a->ok != b->ok) return !a->ok;
      return a->gbps < b->gbps;
    });
    h += "<h3>Slowest links</h3>\n<table><tr><th>source</th><th>destination</th><th>class</th><th>GB/s</th><th>latency (us)</th><th>size</th></tr>\n";
    for (std::size_t i = 0; i < std::min<std::size_t>(10, slow.size()); ++i) {
      const auto& l = *slow[i];
      h += fmt::format("<tr><td>{}:{}</td><td>{}:{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>\n",
                       esc(l.src_host), l.src_rank, esc(l.dst_host), l.dst_rank, esc(l.cls),
                       l.ok ? g3(l.gbps) : "no answer", l.ok ? g3(l.latency_us) : "", format_size(l.bytes));
    }
    h += "</table>\n";
  }
}

/// Collectives: one chart per op, and every row.
void html_collectives(std::string& h, const Report& r) {
  std::vector<std::string> ops;
  for (const auto& c : r.collectives)
    if (!checks::is_copy_row(c) && std::find(ops.begin(), ops.end(), c.op) == ops.end()) ops.push_back(c.op);
  const std::vector<CollectiveResult> base_rows = model::baseline_rows_of(r);
  if (!ops.empty()) {
    h += "<h2 id=\"collectives\">Collectives: busbw against message size</h2>\n<div>";
    for (const auto& op : ops) {
      // The expected line: the topology's expectation as the busbw_low check computed it.
      double expected = 0;
      std::string label = "expected";
      for (const auto& f : r.findings)
        if (f.expected && (f.id == "bench.busbw_low") &&
            (f.subject.rfind(op, 0) == 0 || f.message.find(op) != std::string::npos)) {
          expected = std::max(expected, *f.expected);
          label = "expected (topology)";
        }
      // The model's expectation the rows carry (ring, the largest size): what bench.busbw_low used.
      if (expected <= 0) {
        std::uint64_t biggest = 0;
        for (const auto& c : r.collectives)
          if (c.op == op && c.algo == "ring" && c.expected_busbw_gbps && c.bytes >= biggest) {
            biggest = c.bytes;
            expected = *c.expected_busbw_gbps;
            label = "expected (NCCL model)";
          }
      }
      h += render_chart(op, build_series(r.collectives, op), build_series(base_rows, op), expected, label);
    }
    h += "</div>\n";
    // The large-message rows a health verdict rests on.
    h += "<details><summary>all collective measurements</summary>\n<table><tr><th>op</th><th>algo</th><th>backend</th>"
         "<th>type</th><th>size</th><th>ranks</th><th>time (us)</th><th>algbw</th><th>busbw</th><th>expected</th>"
         "<th>spread</th><th>#wrong</th></tr>\n";
    for (const auto& c : r.collectives) {
      if (checks::is_copy_row(c)) continue;
      h += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>"
                       "<td class=\"n\">{:.1f}</td><td class=\"n\">{:.3g}</td><td class=\"n\">{:.3g}</td>"
                       "{}<td class=\"n\">{:.0f}%</td>{}</tr>\n",
                       esc(c.op), esc(c.algo), esc(c.backend), esc(c.dtype), format_size(c.bytes), c.nranks,
                       c.time_us, c.algbw_gbps, c.busbw_gbps,
                       c.expected_busbw_gbps ? fmt::format("<td class=\"n\">{:.3g}</td>", *c.expected_busbw_gbps)
                                             : std::string("<td class=\"unmeasured\">no model</td>"),
                       c.spread * 100,
                       c.wrong < 0 ? std::string("<td class=\"unmeasured\">not checked</td>")
                                   : fmt::format("<td class=\"n\">{}</td>", c.wrong));
    }
    h += "</table></details>\n";
  }
}

/// GPU copy bandwidth.
void html_copies(std::string& h, const Report& r) {
  auto copies = checks::copy_measurements(r);
  if (!copies.empty()) {
    h += "<h2 id=\"copies\">GPU copy bandwidth</h2>\n<table><tr><th>host</th><th>copy</th><th>GPU</th><th>size</th>"
         "<th>GB/s</th><th>expected</th><th>of</th></tr>\n";
    for (const auto& m : copies) {
      const auto& c = m.row;
      double got = c.busbw_gbps > 0 ? c.busbw_gbps : c.algbw_gbps;
      bool low = m.expected_gbps > 0 && got < 0.5 * m.expected_gbps;
      h += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\"{}>{:.3g}</td>"
                       "<td class=\"n\">{}</td><td>{}</td></tr>\n",
                       esc(c.host), esc(c.op), esc(c.algo), format_size(c.bytes),
                       low ? " style=\"color:var(--err);font-weight:700\"" : "", got,
                       m.expected_gbps > 0 ? g3(m.expected_gbps) : std::string("<span class=\"unmeasured\">unknown</span>"),
                       esc(m.expected_from));
    }
    h += "</table>\n";
  }
}

/// What was looked at: every check of the run.
void html_checks(std::string& h, const Report& r) {
  if (!r.checks.empty()) {
    // What was looked at: every check of the run, evaluated or not, with the reason.
    h += "<h2 id=\"checks\">Checks</h2>\n<p>" + esc(checks_line(r)) +
         "</p>\n<details><summary>every check</summary>\n<table><tr><th>check</th><th>status</th><th>subjects</th>"
         "<th>reason</th></tr>\n";
    for (const auto& c : r.checks)
      h += fmt::format("<tr><td>{}</td><td{}>{}</td><td class=\"n\">{}</td><td>{}</td></tr>\n", esc(c.id),
                       c.status == CheckStatus::kEvaluated ? "" : " class=\"unmeasured\"", to_string(c.status),
                       c.status == CheckStatus::kEvaluated ? std::to_string(c.subjects) : std::string("-"),
                       esc(c.reason));
    h += "</table></details>\n";
  }
}

/// The hosts and their ranks.
void html_hosts(std::string& h, const Report& r) {
  if (!r.hosts.empty()) {
    h += "<h2>Hosts</h2>\n<table><tr><th>host</th><th>ranks</th><th>fingerprint</th></tr>\n";
    std::size_t shown = 0;
    for (const auto& e : r.hosts) {
      if (++shown > 200) {
        h += fmt::format("<tr><td colspan=\"3\">... {} more</td></tr>\n", r.hosts.size() - 200);
        break;
      }
      h += fmt::format("<tr><td>{}</td><td>{}</td><td><code>{}</code></td></tr>\n", esc(e.name),
                       format_ranges(e.ranks), esc(e.fingerprint.substr(0, 24)));
    }
    h += "</table>\n";
  }
}

}  // namespace

std::string render_html(const Report& r, int code) {
  std::string h;
  h.reserve(64 * 1024);
  html_header(h, r, code);
  html_stages_and_notes(h, r);
  html_findings(h, r);
  html_diff(h, r);
  html_topology(h, r);
  html_links(h, r);
  html_collectives(h, r);
  html_copies(h, r);
  html_checks(h, r);
  html_hosts(h, r);
  h += "</main>\n<footer>Generated by nccl-doctor " NCD_VERSION
       ". Self-contained: no scripts, fonts or images are loaded from anywhere. "
       "`nccl-doctor explain ID` describes each finding.</footer>\n</body>\n</html>\n";
  return h;
}

}  // namespace ncd::report
