// SPDX-License-Identifier: Apache-2.0
// NCCL path rules re-implemented from nccl-internals.md §1.3 (NCCL 2.28.9 graph/paths.cc).
#include "topo/paths.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>

#include <fmt/format.h>

#include "topo/bandwidth.hpp"

namespace ncd::topo {

namespace {

enum class NodeType { kGpu, kPci, kNvs, kCpu, kNic, kNet };
// Link types equal the path types they produce (topo.h:47-58).
enum class LinkType { kLoc = 0, kNvl = 1, kC2c = 3, kPci = 4, kSys = 9, kNet = 10 };

struct Link {
  int to = 0;
  LinkType type = LinkType::kPci;
  double bw = 0;   // known bandwidth, 0 = unknown
  double sel = 0;  // the bandwidth NCCL itself assumes (route selection follows NCCL)
  std::string label;
};

struct Node {
  NodeType type;
  int ref = -1;  // gpu index, nic index, cpu numa, port index (net)
  int ref2 = -1; // net: nic index
  std::string bus;
  std::vector<Link> links;
};

struct Graph {
  std::vector<Node> nodes;
  std::map<std::string, int> by_bus;  // PCI-attached nodes
  std::map<int, int> cpu_by_numa;
  std::vector<int> gpu_node;                  // gpu index -> node
  std::vector<int> nic_node;                  // nic index -> node
  std::vector<std::vector<int>> net_nodes;    // nic index -> port -> node
  int nvs = -1;

  int add(NodeType t, int ref, std::string bus = {}) {
    nodes.push_back(Node{t, ref, -1, std::move(bus), {}});
    return static_cast<int>(nodes.size()) - 1;
  }
  void connect(int a, int b, LinkType t, double bw, const std::string& label, double sel) {
    for (auto& l : nodes[a].links)
      if (l.to == b && l.type == t) {  // ncclTopoConnectNodes adds bandwidth to an existing link
        if (bw > 0 && l.bw > 0) l.bw += bw;
        l.sel += sel;
        l.label = label;
        return;
      }
    nodes[a].links.push_back(Link{b, t, bw, sel, label});
  }
  int cpu(int numa) {
    auto it = cpu_by_numa.find(numa);
    if (it != cpu_by_numa.end()) return it->second;
    int n = add(NodeType::kCpu, numa);
    cpu_by_numa[numa] = n;
    return n;
  }
};

struct Path {
  bool set = false;
  PathType type = PathType::kLOC;
  int hops = 0;
  double sel_bw = 0;    // selection bandwidth: unknown links count as kLocBw (never "slow")
  double known_bw = 0;  // min of the known links, 0 when none known
  std::string bottleneck;
};

std::string pcie_label(const PciDevice& d, double gts, int width, double bw) {
  return fmt::format("PCIe {} Gen{} x{} ({:.0f} GB/s)", d.bus_id, pcie_gen(gts), width, bw);
}

/// Expected bandwidth of a device's upstream link from its max values (what it should give).
double device_link_bw(const PciDevice& d, std::string* label) {
  if (!d.link_quirk.empty()) return 0;
  double gts = d.link.max_gts > 0 ? d.link.max_gts : d.link.cur_gts;
  int width = d.link.max_width > 0 ? d.link.max_width : d.link.cur_width;
  double bw = pcie_bw(gts, width);
  if (bw > 0 && label) *label = pcie_label(d, gts, width, bw);
  if (bw <= 0 && d.link_gbps > 0) {  // hwloc XML: one number for the whole link
    bw = pcie_bw_from_raw(d.link_gbps);
    if (label) *label = fmt::format("PCIe {} {:.2f} GB/s raw ({:.0f} GB/s)", d.bus_id, d.link_gbps, bw);
  }
  return bw;
}

std::vector<Path> bfs(const Graph& g, int src) {
  std::vector<Path> paths(g.nodes.size());
  paths[src].set = true;
  paths[src].sel_bw = kLocBw;
  std::vector<int> level{src};
  while (!level.empty()) {
    std::vector<int> next;
    for (int n : level) {
      const Node& node = g.nodes[n];
      const Path& p = paths[n];
      for (const Link& l : node.links) {
        const Node& rem = g.nodes[l.to];
        // Through a GPU only as one NVLink hop GPU->GPU (paths.cc:69-71).
        if (n != src && node.type == NodeType::kGpu &&
            (l.type != LinkType::kNvl || rem.type != NodeType::kGpu || p.hops > 1))
          continue;
        // NETs and NICs are endpoints: nothing routes through them.
        if (n != src && (node.type == NodeType::kNet)) continue;
        if (n != src && node.type == NodeType::kNic && rem.type != NodeType::kNet) continue;
        double lsel = l.sel > 0 ? l.sel : kLocBw;
        double sel = std::min(p.sel_bw, lsel);
        Path& rp = paths[l.to];
        if (!(!rp.set || (rp.hops > p.hops && rp.sel_bw < sel))) continue;
        // Hop type (paths.cc:91-99).
        int t = static_cast<int>(l.type == LinkType::kNet ? LinkType::kLoc : l.type);
        if (node.type == NodeType::kPci && rem.type == NodeType::kPci) t = static_cast<int>(PathType::kPXB);
        if (l.type == LinkType::kPci && (node.type == NodeType::kCpu || rem.type == NodeType::kCpu))
          t = static_cast<int>(PathType::kPHB);
        if (node.type == NodeType::kGpu && n != src && p.type == PathType::kNVL && l.type == LinkType::kNvl)
          t = static_cast<int>(PathType::kNVB);
        bool was_set = rp.set;
        rp.set = true;
        rp.hops = p.hops + 1;
        rp.sel_bw = sel;
        rp.type = static_cast<PathType>(std::max(static_cast<int>(p.type), t));
        rp.known_bw = p.known_bw;
        rp.bottleneck = p.bottleneck;
        if (l.bw > 0 && (rp.known_bw <= 0 || l.bw < rp.known_bw)) {
          rp.known_bw = l.bw;
          rp.bottleneck = l.label;
        }
        if (!was_set || std::find(next.begin(), next.end(), l.to) == next.end()) next.push_back(l.to);
      }
    }
    level = std::move(next);
  }
  return paths;
}

PathInfo to_info(const Path& p) {
  PathInfo i;
  if (!p.set) return i;
  i.type = p.type;
  i.pci_type = p.type;
  i.hops = p.hops;
  i.bw_gbps = p.known_bw;
  i.bottleneck = p.bottleneck;
  return i;
}

bool is_bcm_switch(const PciDevice& d) { return d.vendor == 0x1000 && d.kind == PciKind::kBridge; }

}  // namespace

std::vector<std::string> pci_ancestry(const System& s, const std::string& bus_id) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  std::string cur = bus_id;
  while (!cur.empty() && !seen.count(cur)) {  // the set guards against cycles in bad input
    seen.insert(cur);
    out.push_back(cur);
    const PciDevice* d = s.find_pci(cur);
    if (!d) break;
    cur = d->parent;
  }
  return out;
}

namespace {

/// Broadcom PEX generation of a switch at a level of its internal hierarchy (0 = top), or 0
/// (NCCL getBcmGen, topo.cc:190-262; ids pack vendor:device:subvendor:subdevice).
int bcm_gen(const PciDevice& d, int level) {
  std::uint64_t id = (static_cast<std::uint64_t>(d.vendor) << 48) | (static_cast<std::uint64_t>(d.device) << 32) |
                     (static_cast<std::uint64_t>(d.subsystem_vendor) << 16) | d.subsystem_device;
  std::uint64_t masked = id & 0xfffffffffffff000ULL;
  if (masked == 0x1000c0101000a000ULL) return 4;
  if (masked == (0x1000c03010000000ULL | static_cast<std::uint64_t>(level) * 0x1000ULL)) return 5;
  return 0;
}

std::string raw_nccl_parent(const System& s, const PciDevice& d) {
  if (s.nccl_tree) return d.parent;
  // NCCL climbs the sysfs path two components at a time (xml.cc:648-724): the parent of a
  // device is its switch's upstream port; downstream ports and root ports are skipped.
  const PciDevice* a = s.find_pci(d.parent);
  if (!a) return "";
  const PciDevice* b = s.find_pci(a->parent);
  if (!b) return "";
  return b->bus_id;
}

}  // namespace

std::string nccl_parent(const System& s, const std::string& bus_id) {
  const PciDevice* d = s.find_pci(bus_id);
  if (!d) return "";
  std::string p = raw_nccl_parent(s, *d);
  // BCM Gen4/Gen5 PEX switches show as two levels but switch at full bandwidth: NCCL fuses the
  // second level into the first (ncclTopoFlattenBcmSwitches).
  if (const PciDevice* sub = s.find_pci(p); sub && sub->kind == PciKind::kBridge) {
    int gen = bcm_gen(*sub, 1);
    if (gen) {
      std::string q = raw_nccl_parent(s, *sub);
      if (const PciDevice* top = s.find_pci(q); top && bcm_gen(*top, 0) == gen) return q;
    }
  }
  return p;
}

void apply_link_quirks(System& s) {
  std::map<std::string, std::vector<const PciDevice*>> children;
  for (const auto& d : s.pci) children[d.parent].push_back(&d);
  for (auto& d : s.pci) {
    if (!d.link_quirk.empty()) continue;
    double gts = d.link.max_gts > 0 ? d.link.max_gts : d.link.cur_gts;
    const auto& kids = children[d.bus_id];
    double kid_max = 0;
    int kid_width = 0;
    for (const auto* k : kids) {
      kid_max = std::max(kid_max, k->link.max_gts > 0 ? k->link.max_gts : k->link.cur_gts);
      kid_width = std::max(kid_width, k->link.max_width > 0 ? k->link.max_width : k->link.cur_width);
    }
    // Broadcom/PLX PEX Gen4/Gen5 switches (vendor 0x1000) report their upstream port at
    // 5.0 GT/s in NCCL dumps while every port below runs at 32 GT/s (corpus:
    // oci-BM.GPU.H100.8 dump, INDEX.md). The reading says nothing about the real uplink.
    if (is_bcm_switch(d) && gts > 0 && gts <= 5.0 && kid_max >= 16.0) {
      d.link_quirk = "Broadcom PEX switch uplink reads <= 5 GT/s while its ports run faster (known reporting quirk)";
      continue;
    }
    // VM virtual bridges: a Gen1 x1 bridge above x16 devices (IBM Cloud VSI TI 0x104c:0x8232,
    // corpus ibm-cloud-gx3d), or a fake bus id (Azure/AWS "ffff:ff:..", vendor 0/0xffff).
    int width = d.link.max_width > 0 ? d.link.max_width : d.link.cur_width;
    if (d.kind == PciKind::kBridge && gts > 0 && gts <= 2.5 && width <= 1 && kid_max > 2.5 && !kids.empty()) {
      d.link_quirk = "virtual bridge (Gen1 x1 above faster devices: a VM's emulated bridge)";
      continue;
    }
    if (d.bus_id.rfind("ffff:ff:", 0) == 0 && (d.vendor == 0 || d.vendor == 0xffff)) {
      d.link_quirk = "fake bridge (bus id ffff:ff:*, a hand-written topology file)";
      continue;
    }
    (void)kid_width;
  }
  // A GPU attached to its CPU by C2C (Grace, GB10) exposes a PCIe function whose link is not
  // the data path (corpus: DGX Spark GB10 reads 2.5 GT/s x16).
  for (const auto& gpu : s.gpus) {
    if (gpu.c2c_gbps <= 0) continue;
    if (PciDevice* d = s.find_pci(gpu.bus_id); d && d->link_quirk.empty())
      d->link_quirk = "GPU attached by C2C: its PCIe link is not the data path";
  }
}

namespace {

/// PCI nodes: GPUs, NICs, NVSwitches and the NCCL ancestors of each, typed by role.
void add_pci_nodes(Graph& g, const System& s) {
  std::set<std::string> needed;
  auto want = [&](const std::string& bus) {
    std::string cur = bus;
    std::set<std::string> seen;
    while (!cur.empty() && !seen.count(cur)) {
      seen.insert(cur);
      needed.insert(cur);
      cur = nccl_parent(s, cur);
    }
  };
  for (const auto& gpu : s.gpus)
    if (!gpu.bus_id.empty() && s.find_pci(gpu.bus_id)) want(gpu.bus_id);
  for (const auto& nic : s.nics)
    if (!nic.bus_id.empty() && s.find_pci(nic.bus_id)) want(nic.bus_id);
  // Node per needed PCI device, typed by role.
  for (const auto& bus : needed) {
    const PciDevice* d = s.find_pci(bus);
    NodeType t = NodeType::kPci;
    int ref = -1;
    for (std::size_t i = 0; i < s.gpus.size(); ++i)
      if (s.gpus[i].bus_id == bus) t = NodeType::kGpu, ref = static_cast<int>(i);
    for (std::size_t i = 0; i < s.nics.size(); ++i)
      if (s.nics[i].bus_id == bus && t == NodeType::kPci) t = NodeType::kNic, ref = static_cast<int>(i);
    int n = g.add(t, ref, bus);
    g.by_bus[bus] = n;
    (void)d;
  }
}

/// PCI links to the NCCL parent (or the CPU).
void link_pci_nodes(Graph& g, const System& s) {
  for (const auto& [bus, n] : g.by_bus) {
    const PciDevice* d = s.find_pci(bus);
    std::string label;
    double bw = device_link_bw(*d, &label);
    std::string parent = nccl_parent(s, bus);
    int up = -1;
    if (!parent.empty() && g.by_bus.count(parent)) up = g.by_bus[parent];
    else up = g.cpu(d->numa);
    double sel = nccl_link_bw(*d);
    g.connect(n, up, LinkType::kPci, bw, label, sel);
    g.connect(up, n, LinkType::kPci, bw, label, sel);
  }
}

/// Each GPU's node; a GPU without a known PCI position hangs from its CPU with an unknown link.
void place_gpus(Graph& g, const System& s) {
  g.gpu_node.assign(s.gpus.size(), -1);
  for (std::size_t i = 0; i < s.gpus.size(); ++i) {
    auto it = g.by_bus.find(s.gpus[i].bus_id);
    if (it != g.by_bus.end() && g.nodes[it->second].type == NodeType::kGpu) {
      g.gpu_node[i] = it->second;
    } else {
      // A GPU without a known PCI position hangs from its CPU with an unknown link.
      int n = g.add(NodeType::kGpu, static_cast<int>(i), s.gpus[i].bus_id);
      int up = g.cpu(s.gpus[i].numa);
      g.connect(n, up, LinkType::kPci, 0, "", pcie_bw(8.0, 16));
      g.connect(up, n, LinkType::kPci, 0, "", pcie_bw(8.0, 16));
      g.gpu_node[i] = n;
    }
  }
}

/// Each NIC's node (a separate one when a GPU shares its function; under its CPU when it has no PCI position) and a NET node per port.
void add_nics(Graph& g, const System& s) {
  g.nic_node.assign(s.nics.size(), -1);
  g.net_nodes.assign(s.nics.size(), {});
  for (std::size_t i = 0; i < s.nics.size(); ++i) {
    const Nic& nic = s.nics[i];
    auto it = nic.bus_id.empty() ? g.by_bus.end() : g.by_bus.find(nic.bus_id);
    int n;
    if (it != g.by_bus.end()) {
      n = it->second;
      if (g.nodes[n].type != NodeType::kNic) {  // a GPU and NIC on one function: separate node
        int m = g.add(NodeType::kNic, static_cast<int>(i), nic.bus_id);
        g.connect(n, m, LinkType::kLoc, 0, "", kLocBw);
        g.connect(m, n, LinkType::kLoc, 0, "", kLocBw);
        n = m;
      }
    } else {
      // Virtual/non-PCI NIC under its CPU: NCCL links it with LOC_BW (an unknown, not slow).
      n = g.add(NodeType::kNic, static_cast<int>(i), nic.bus_id);
      int up = g.cpu(nic.numa);
      g.connect(n, up, LinkType::kPci, 0, "", kLocBw);
      g.connect(up, n, LinkType::kPci, 0, "", kLocBw);
    }
    g.nic_node[i] = n;
    for (std::size_t p = 0; p < nic.ports.size(); ++p) {
      int net = g.add(NodeType::kNet, static_cast<int>(p));
      g.nodes[net].ref2 = static_cast<int>(i);
      double bw = net_bw(nic.ports[p].rate_gbps);
      std::string label = bw > 0 ? fmt::format("NIC {} {:g} Gb/s ({:g} GB/s)", nic.ports[p].subject(),
                                               nic.ports[p].rate_gbps, bw)
                                 : "";
      double sel = bw > 0 ? bw : 10000 / 8000.0;  // NCCL: speed <= 0 is 10 Gb/s
      g.connect(n, net, LinkType::kNet, bw, label, sel);
      g.connect(net, n, LinkType::kNet, bw, label, sel);
      g.net_nodes[i].push_back(net);
    }
  }
}

/// NVLinks (and xGMI, C2C) of each GPU.
void add_nvlinks(Graph& g, const System& s) {
  for (std::size_t i = 0; i < s.gpus.size(); ++i) {
    const Gpu& gpu = s.gpus[i];
    int a = g.gpu_node[i];
    std::map<std::pair<int, LinkType>, int> counts;  // (remote node, type) -> links
    std::map<int, bool> xgmi;
    for (const auto& l : gpu.nvlinks) {
      if (l.active != Tri::kYes || l.count <= 0) continue;
      if (!l.remote_bus_id.empty() && l.remote_bus_id == gpu.bus_id) continue;  // self target
      int b = -1;
      if (l.remote == LinkRemote::kGpu) {
        for (std::size_t j = 0; j < s.gpus.size(); ++j)
          if (j != i && s.gpus[j].bus_id == l.remote_bus_id) b = g.gpu_node[j];
        if (b < 0) continue;
      } else if (l.remote == LinkRemote::kCpu) {
        b = g.cpu(gpu.numa);
      } else {  // NVSwitch, or unknown remote: NCCL's single NVS node
        if (g.nvs < 0) g.nvs = g.add(NodeType::kNvs, 0);
        b = g.nvs;
      }
      counts[{b, LinkType::kNvl}] += l.count;
      if (l.xgmi) xgmi[b] = true;
    }
    for (const auto& [key, count] : counts) {
      int b = key.first;
      bool is_x = xgmi.count(b) > 0;
      double bw = is_x ? 0 : count * nvlink_bw_per_link(gpu.sm);
      if (gpu.sm <= 0 && !is_x) bw = 0;
      std::string label = bw > 0 ? fmt::format("NVLink {} x{} ({:.1f} GB/s)", gpu.bus_id, count, bw) : "";
      double sel = count * nvlink_bw_per_link(gpu.sm);
      g.connect(a, b, LinkType::kNvl, bw, label, sel);
      // NVSwitch and CPU links exist both ways from one element; GPU-GPU links come from each
      // side's own element (topo.cc:565-618).
      if (g.nodes[b].type != NodeType::kGpu) g.connect(b, a, LinkType::kNvl, bw, label, sel);
    }
    if (gpu.c2c_gbps > 0) {
      int c = g.cpu(gpu.numa);
      std::string label = fmt::format("C2C {} ({:.1f} GB/s)", gpu.bus_id, gpu.c2c_gbps);
      g.connect(a, c, LinkType::kC2c, gpu.c2c_gbps, label, gpu.c2c_gbps);
      g.connect(c, a, LinkType::kC2c, gpu.c2c_gbps, label, gpu.c2c_gbps);
    }
  }
}

/// Every pair of CPU nodes of a host is joined by a SYS link (ncclTopoConnectCpus).
void connect_cpus(Graph& g, const System& s) {
  std::vector<std::pair<int, int>> cpus(g.cpu_by_numa.begin(), g.cpu_by_numa.end());
  for (const auto& [na, a] : cpus)
    for (const auto& [nb, b] : cpus) {
      if (a == b) continue;
      const CpuNode* c = s.find_cpu(na);
      CpuNode unknown;
      double bw = inter_cpu_bw(c ? *c : unknown);
      double sel = bw;
      std::string label;
      if (bw >= kLocBw) bw = 0;
      else {
        // Sub-NUMA clustering: two NUMA nodes of one socket. NCCL still calls the hop SYS and
        // gives it the inter-socket bandwidth; the label says what it really is.
        const CpuNode* d = s.find_cpu(nb);
        bool snc = c && d && c->package >= 0 && c->package == d->package;
        label = fmt::format("{} NUMA{}-NUMA{}{} ({:g} GB/s)", inter_cpu_class(c ? *c : unknown), na, nb,
                            snc ? " (same socket: sub-NUMA clustering)" : "", bw);
      }
      g.connect(a, b, LinkType::kSys, bw, label, sel);
    }
}

Graph build_graph(const System& s) {
  Graph g;
  for (const auto& c : s.cpus) g.cpu(c.numa);
  add_pci_nodes(g, s);
  link_pci_nodes(g, s);
  place_gpus(g, s);
  add_nics(g, s);
  add_nvlinks(g, s);
  connect_cpus(g, s);
  return g;
}

unsigned mirror_bits(unsigned v, unsigned n) {
  // NCCL mirrors the device index when the number of local NICs is a power of two (topo.cc).
  unsigned bits = 0;
  while ((1u << bits) < n) ++bits;
  unsigned r = 0;
  for (unsigned b = 0; b < bits; ++b)
    if (v & (1u << b)) r |= 1u << (bits - 1 - b);
  return r;
}

struct NetRef {
  int nic;
  int port;
};

/// NCCL's path computation over one host's graph (paths.cc): GPU-GPU, GPU-NET with its
/// step C (P2C, PXN, GDR), the best port per NIC and the nearest NIC of each GPU.
class PathComputer {
 public:
  PathComputer(const System& s, const Graph& g) : s_(s), g_(g), ng_(s.gpus.size()), nn_(s.nics.size()) {
    from_gpu_.resize(ng_);
    for (std::size_t i = 0; i < ng_; ++i) from_gpu_[i] = bfs(g_, g_.gpu_node[i]);
    for (const auto& [numa, node] : g_.cpu_by_numa) from_cpu_[numa] = bfs(g_, node);
    for (std::size_t n = 0; n < nn_; ++n)
      for (std::size_t p = 0; p < g_.net_nodes[n].size(); ++p) nets_.push_back({static_cast<int>(n), static_cast<int>(p)});
  }

  PathTable compute() {
    gpu_gpu();
    gpu_net();
    const std::vector<int> owner = nic_owners();
    for (std::size_t a = 0; a < ng_; ++a) step_c(a, owner);
    best_ports();
    nearest_nics();
    return std::move(t_);
  }

 private:
  void gpu_gpu() {
    t_.gpu_gpu.assign(ng_, std::vector<PathInfo>(ng_));
    for (std::size_t a = 0; a < ng_; ++a)
      for (std::size_t b = 0; b < ng_; ++b) {
        if (a == b) {
          t_.gpu_gpu[a][b].type = t_.gpu_gpu[a][b].pci_type = PathType::kLOC;
          continue;
        }
        t_.gpu_gpu[a][b] = to_info(from_gpu_[a][g_.gpu_node[b]]);
        // The input does not say which GPUs are NVLinked: a pair that could be is not SYS/PHB.
        if (s_.nvlink_unknown && t_.gpu_gpu[a][b].type > PathType::kNVB && gpu_could_nvlink(s_, s_.gpus[a]) &&
            gpu_could_nvlink(s_, s_.gpus[b]))
          t_.gpu_gpu[a][b].nvlink_unknown = true;
      }
  }

  /// GPU -> NET (per port), before step C (paths.cc:699-756).
  void gpu_net() {
    gn_.assign(ng_, std::vector<PathInfo>(nets_.size()));
    for (std::size_t a = 0; a < ng_; ++a)
      for (std::size_t k = 0; k < nets_.size(); ++k)
        gn_[a][k] = to_info(from_gpu_[a][g_.net_nodes[nets_[k].nic][nets_[k].port]]);
  }

  /// NIC ownership (ncclTopoGetLocalGpu via ncclTopoGetLocalNet, §4.9) on the wiring paths.
  std::vector<int> nic_owners() const {
    std::vector<std::vector<std::size_t>> lnets(ng_);
    for (std::size_t a = 0; a < ng_; ++a) lnets[a] = nccl_local_paths(gn_[a]);
    std::vector<int> owner(nets_.size(), -1);
    for (std::size_t a = 0; a < ng_; ++a) {
      const auto& L = lnets[a];
      if (L.empty()) continue;
      std::size_t sharing = 0;
      for (std::size_t b = 0; b < ng_; ++b)
        if (!lnets[b].empty() && lnets[b][0] == L[0]) ++sharing;
      std::size_t per_gpu = (L.size() + sharing - 1) / std::max<std::size_t>(sharing, 1);
      const unsigned dev = nccl_local_start(s_.gpus[a].index, L.size());
      for (std::size_t c = 0; c < std::max<std::size_t>(per_gpu, 1); ++c) {
        std::size_t k = L[(dev + c) % L.size()];
        if (owner[k] < 0) owner[k] = static_cast<int>(a);
      }
    }
    return owner;
  }

  /// Step C for GPU a's paths to every NET: P2C, PXN through the NIC's owner, GDR off.
  void step_c(std::size_t a, const std::vector<int>& owner) {
    const Gpu& gpu = s_.gpus[a];
    static const std::vector<Path> kNone;
    const auto cpu_it = from_cpu_.find(gpu.numa);
    const std::vector<Path>& cpu_paths = cpu_it != from_cpu_.end() ? cpu_it->second : kNone;
    PathInfo gpu_to_cpu = cpu_paths.empty() ? PathInfo{} : to_info(from_gpu_[a][g_.cpu_by_numa.at(gpu.numa)]);
    for (std::size_t k = 0; k < nets_.size(); ++k) {
      PathInfo& p = gn_[a][k];
      if (p.type == PathType::kDIS) continue;
      const NicPort& port = s_.nics[nets_[k].nic].ports[nets_[k].port];
      int net_node = g_.net_nodes[nets_[k].nic][nets_[k].port];
      PathInfo cpu_to_net = cpu_paths.empty() ? PathInfo{} : to_info(cpu_paths[net_node]);
      // 1. P2C: GPU-(C2C)-CPU-(PCIe)-NIC.
      if (gpu_to_cpu.type == PathType::kC2C && cpu_to_net.type == PathType::kPHB && p.type > PathType::kP2C) {
        p.type = PathType::kP2C;
        p.bw_gbps = gpu_to_cpu.bw_gbps > 0 && cpu_to_net.bw_gbps > 0 ? std::min(gpu_to_cpu.bw_gbps, cpu_to_net.bw_gbps)
                                                                      : std::max(gpu_to_cpu.bw_gbps, cpu_to_net.bw_gbps);
      }
      // 2. PXN through the GPU that owns the NIC.
      int peer = owner[k];
      if (peer >= 0 && static_cast<std::size_t>(peer) != a) {
        const PathInfo& pn = gn_[peer][k];
        const PathInfo& gp = t_.gpu_gpu[a][static_cast<std::size_t>(peer)];
        double mine = p.bw_gbps > 0 ? p.bw_gbps : kLocBw;
        double theirs = pn.bw_gbps > 0 ? pn.bw_gbps : kLocBw;
        if (pn.type <= PathType::kP2C && gp.type <= PathType::kNVL && (theirs > mine || p.type > PathType::kPXN)) {
          p.type = PathType::kPXN;
          double b1 = gp.bw_gbps, b2 = pn.bw_gbps;
          p.bw_gbps = (b1 > 0 && b2 > 0) ? std::min(b1, b2) : std::max(b1, b2);
          p.bottleneck = (b1 > 0 && (b2 <= 0 || b1 < b2)) ? gp.bottleneck : pn.bottleneck;
          p.via = s_.gpus[static_cast<std::size_t>(peer)].bus_id;
        }
      }
      // 3. GDR off: both GPU and NIC must support it and the distance must be <= PXB.
      bool gdr_refused = gpu.gdr == Tri::kNo || port.gdr == Tri::kNo;
      PathType dist = p.type == PathType::kPXN && peer >= 0 ? gn_[peer][k].pci_type : p.type;
      if (dist == PathType::kP2C) dist = PathType::kC2C;  // NCCL_NET_GDR_C2C=1 default
      if (dist > PathType::kPXB) gdr_refused = true;
      if (p.type < PathType::kPHB && gdr_refused && !cpu_paths.empty()) {
        p.type = std::max({PathType::kPHB, gpu_to_cpu.type, cpu_to_net.type});
        double b1 = gpu_to_cpu.bw_gbps, b2 = cpu_to_net.bw_gbps;
        p.bw_gbps = (b1 > 0 && b2 > 0) ? std::min(b1, b2) : std::max(b1, b2);
        p.bottleneck = (b1 > 0 && (b2 <= 0 || b1 < b2)) ? gpu_to_cpu.bottleneck : cpu_to_net.bottleneck;
        p.via.clear();
      }
    }
  }

  /// Per NIC: the best port (lowest type, then highest bandwidth); NICs without ports use the
  /// wiring path to the NIC function.
  void best_ports() {
    t_.gpu_nic.assign(ng_, std::vector<PathInfo>(nn_));
    for (std::size_t a = 0; a < ng_; ++a) {
      for (std::size_t n = 0; n < nn_; ++n) {
        PathInfo best = to_info(from_gpu_[a][g_.nic_node[n]]);
        bool have = false;
        for (std::size_t k = 0; k < nets_.size(); ++k) {
          if (static_cast<std::size_t>(nets_[k].nic) != n) continue;
          const PathInfo& p = gn_[a][k];
          if (!have || p.type < best.type || (p.type == best.type && p.bw_gbps > best.bw_gbps)) best = p;
          have = true;
        }
        t_.gpu_nic[a][n] = best;
      }
    }
  }

  /// Nearest NIC: fewest switches by wiring (pci_type), then the highest bandwidth; among the
  /// RDMA NICs when the host has any (a management Ethernet port is not where NCCL goes).
  void nearest_nics() {
    bool any_rdma = std::any_of(s_.nics.begin(), s_.nics.end(), [](const Nic& n) { return n.rdma; });
    t_.nearest_nic.assign(ng_, -1);
    for (std::size_t a = 0; a < ng_; ++a) {
      int best = -1;
      for (std::size_t n = 0; n < nn_; ++n) {
        if (any_rdma && !s_.nics[n].rdma) continue;
        const PathInfo& p = t_.gpu_nic[a][n];
        if (p.pci_type == PathType::kDIS) continue;
        if (best < 0) {
          best = static_cast<int>(n);
          continue;
        }
        const PathInfo& b = t_.gpu_nic[a][static_cast<std::size_t>(best)];
        if (p.pci_type < b.pci_type || (p.pci_type == b.pci_type && p.bw_gbps > b.bw_gbps)) best = static_cast<int>(n);
      }
      t_.nearest_nic[a] = best;
    }
  }

  const System& s_;
  const Graph& g_;
  const std::size_t ng_, nn_;
  std::vector<std::vector<Path>> from_gpu_;
  std::map<int, std::vector<Path>> from_cpu_;
  std::vector<NetRef> nets_;
  std::vector<std::vector<PathInfo>> gn_;  ///< GPU -> NET port, after step C
  PathTable t_;
};

}  // namespace

void compute_paths(System& s) {
  apply_link_quirks(s);
  const Graph g = build_graph(s);
  s.paths = PathComputer(s, g).compute();
}

bool gpu_could_nvlink(const System& s, const Gpu& g) {
  if (g.sm > 0 && g.sm < 60) return false;  // NVLink starts with Pascal (sm60)
  const PciDevice* d = s.find_pci(g.bus_id);
  if (!d || d->vendor == 0) return true;  // nothing says otherwise
  if (d->vendor == 0x1002) return true;   // AMD: xGMI / Infinity Fabric bridges
  if (d->vendor != 0x10de) return false;
  // NVIDIA boards without NVLink (PCI id database): T4, A2, A10, A10G, A16, L4, L40, L40S, P4,
  // P40, P100 PCIe, M40/M60, GeForce RTX 4080/4090/5080/5090; and everything before Pascal.
  static const std::set<std::uint32_t> kNoNvlink = {0x1eb8, 0x25b6, 0x2236, 0x2237, 0x25b6, 0x27b8, 0x26b5, 0x26b9,
                                                    0x1bb3, 0x1b38, 0x15f7, 0x15f8, 0x17fd, 0x13f2, 0x13f3, 0x17c2,
                                                    0x17f0, 0x2704, 0x2684, 0x2c02, 0x2b85};
  if (kNoNvlink.count(d->device)) return false;
  return d->device >= 0x15f0;
}

int nccl_local_nic(const System& s, std::size_t gpu) {
  if (gpu >= s.paths.gpu_nic.size()) return -1;
  // Channel 0 of ncclTopoGetLocalNet: among the NICs with the best path (bw, then type), the
  // one the (mirrored) NVML index selects.
  const std::vector<std::size_t> best = nccl_local_paths(s.paths.gpu_nic[gpu]);
  if (best.empty()) return -1;
  return static_cast<int>(best[nccl_local_start(s.gpus[gpu].index, best.size()) % best.size()]);
}

std::vector<std::size_t> nccl_local_paths(const std::vector<PathInfo>& paths) {
  std::vector<std::size_t> best;
  double bw = -1;
  PathType type = PathType::kDIS;
  for (std::size_t k = 0; k < paths.size(); ++k) {
    const PathInfo& p = paths[k];
    if (p.type == PathType::kDIS) continue;
    double b = p.bw_gbps > 0 ? p.bw_gbps : kLocBw;
    if (b > bw || (b == bw && p.type < type)) {
      best.clear();
      bw = b;
      type = p.type;
    }
    if (b == bw && p.type == type) best.push_back(k);
  }
  return best;
}

unsigned nccl_local_start(int gpu_index, std::size_t n) {
  unsigned dev = static_cast<unsigned>(std::max(gpu_index, 0));
  if (n > 0 && (n & (n - 1)) == 0) dev = mirror_bits(dev, static_cast<unsigned>(n));
  return dev;
}

}  // namespace ncd::topo
