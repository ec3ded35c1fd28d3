// SPDX-License-Identifier: Apache-2.0
// NCCL's search topology re-implemented from nccl-internals.md §1 and §4 (NCCL 2.28 graph/
// topo.cc, paths.cc read as reference, not copied).
#include "nccl/search_system.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <map>
#include <set>

#include "topo/bandwidth.hpp"
#include "topo/paths.hpp"

namespace ncd::nccl::search {
namespace {

constexpr double kLoc = topo::kLocBw;

struct Builder {
  const topo::System& s;
  SearchSystem& sys;
  std::map<std::string, int> by_bus;
  std::map<int, int> cpu_by_numa;
  std::vector<int> up;  // node -> upstream node (-1 none)
  int version = 228;

  int add(NodeKind k, std::string name) {
    Node n;
    n.kind = k;
    n.index = static_cast<int>(sys.of[k].size());
    n.name = std::move(name);
    sys.nodes.push_back(std::move(n));
    int id = static_cast<int>(sys.nodes.size()) - 1;
    sys.of[k].push_back(id);
    up.push_back(-1);
    return id;
  }
  /// ncclTopoConnectNodes: bandwidth adds up on an existing link of the same type and peer.
  void connect(int a, int b, int type, double bw) {
    for (auto& l : sys.nodes[static_cast<std::size_t>(a)].links)
      if (l.to == b && l.type == type) {
        l.bw += bw;
        return;
      }
    sys.nodes[static_cast<std::size_t>(a)].links.push_back(Link{b, type, bw});
  }
  void both(int a, int b, int type, double bw) {
    connect(a, b, type, bw);
    connect(b, a, type, bw);
  }
  int cpu(int numa) {
    auto it = cpu_by_numa.find(numa);
    if (it != cpu_by_numa.end()) return it->second;
    if (!cpu_by_numa.empty() && numa < 0) return cpu_by_numa.begin()->second;
    int n = add(kCpu, fmt::format("CPU{}", numa));
    cpu_by_numa[numa] = n;
    return n;
  }
};

void add_cpus(Builder& b) {
  for (const auto& c : b.s.cpus) {
    int n = b.cpu(c.numa);
    Node& node = b.sys.nodes[static_cast<std::size_t>(n)];
    node.x86 = c.arch == "x86_64" || c.arch.empty();
    node.intel = node.x86 && c.vendor == "GenuineIntel";
    node.amd = node.x86 && (c.vendor == "AuthenticAMD" || c.vendor == "HygonGenuine" || c.vendor == "AMD");
    node.power = c.arch == "ppc64" || c.arch == "ppc64le";
  }
}

void add_pci(Builder& b) {
  const topo::System& s = b.s;
  std::set<std::string> needed;
  auto want = [&](const std::string& bus) {
    std::string cur = bus;
    while (!cur.empty() && s.find_pci(cur) && needed.insert(cur).second) cur = topo::nccl_parent(s, cur);
  };
  for (const auto& g : s.gpus) want(g.bus_id);
  for (const auto& n : s.nics) want(n.bus_id);
  // Nodes in the topology's own order (NCCL creates them walking the XML).
  for (std::size_t i = 0; i < s.gpus.size(); ++i) {
    const topo::Gpu& g = s.gpus[i];
    int n = b.add(kGpu, fmt::format("GPU{}", g.index));
    Node& node = b.sys.nodes[static_cast<std::size_t>(n)];
    node.dev = g.index;
    node.sm = g.sm;
    node.rank = g.rank >= 0 ? g.rank : static_cast<int>(i);
    node.gdr = g.gdr == topo::Tri::kYes;
    const topo::PciDevice* d = s.find_pci(g.bus_id);
    node.p2p_blocked = d && geforce_p2p_blocked(d->vendor, d->device);
    if (!g.bus_id.empty() && needed.count(g.bus_id)) b.by_bus[g.bus_id] = n;
  }
  for (const auto& d : s.pci)
    if (needed.count(d.bus_id) && !b.by_bus.count(d.bus_id)) {
      bool nic = std::any_of(s.nics.begin(), s.nics.end(), [&](const topo::Nic& x) { return x.bus_id == d.bus_id; });
      b.by_bus[d.bus_id] = b.add(nic ? kNic : kPci, d.bus_id);
    }
  for (const auto& [bus, n] : b.by_bus) {
    const topo::PciDevice* d = s.find_pci(bus);
    std::string parent = topo::nccl_parent(s, bus);
    int upn = (!parent.empty() && b.by_bus.count(parent)) ? b.by_bus[parent] : b.cpu(d->numa);
    b.both(n, upn, kLinkPci, topo::nccl_link_bw(*d));
    b.up[static_cast<std::size_t>(n)] = upn;
  }
  for (std::size_t i = 0; i < s.gpus.size(); ++i) {  // GPUs without a PCI position hang from their CPU
    int n = b.sys.of[kGpu][i];
    if (b.up[static_cast<std::size_t>(n)] >= 0) continue;
    int upn = b.cpu(s.gpus[i].numa);
    b.both(n, upn, kLinkPci, topo::pcie_bw(8.0, 16));
    b.up[static_cast<std::size_t>(n)] = upn;
  }
}

void add_nets(Builder& b) {
  const topo::System& s = b.s;
  for (const auto& nic : s.nics) {
    int n;
    auto it = nic.bus_id.empty() ? b.by_bus.end() : b.by_bus.find(nic.bus_id);
    if (it != b.by_bus.end() && b.sys.nodes[static_cast<std::size_t>(it->second)].kind == kNic) {
      n = it->second;
    } else if (it != b.by_bus.end()) {  // a NIC on a bridge or GPU function: its own node below
      n = b.add(kNic, nic.name);
      b.both(n, it->second, kLinkPci, kLoc);
    } else {  // a NIC without PCI function hangs from its CPU at LOC_BW
      n = b.add(kNic, nic.name);
      b.both(n, b.cpu(nic.numa), kLinkPci, kLoc);
      b.up[static_cast<std::size_t>(n)] = b.cpu(nic.numa);
    }
    for (const auto& p : nic.ports) {
      int net = b.add(kNet, p.subject());
      Node& node = b.sys.nodes[static_cast<std::size_t>(net)];
      node.net_dev = p.net_dev >= 0 ? p.net_dev : node.index;
      node.asic = p.guid.empty() ? nic.bus_id + "/" + nic.name : p.guid;
      node.port = p.port;
      node.net_bw = p.rate_gbps > 0 ? topo::net_bw(p.rate_gbps) : 10000 / 8000.0;
      node.gdr = p.gdr == topo::Tri::kYes;
      b.both(n, net, kLinkNet, node.net_bw);
    }
  }
}

void add_nvlinks(Builder& b) {
  const topo::System& s = b.s;
  int nvs = -1;
  for (std::size_t i = 0; i < s.gpus.size(); ++i) {
    const topo::Gpu& g = s.gpus[i];
    int a = b.sys.of[kGpu][i];
    double per = topo::nvlink_bw_per_link(g.sm);
    if (b.version < 219 && g.sm >= 90) per = 20.0;  // SM90_NVLINK_BW was 20.0 up to 2.19
    for (const auto& l : g.nvlinks) {
      if (l.active != topo::Tri::kYes || l.count <= 0) continue;
      double bw = l.count * per;
      if (l.remote == topo::LinkRemote::kGpu) {
        for (std::size_t j = 0; j < s.gpus.size(); ++j)
          if (!l.remote_bus_id.empty() && s.gpus[j].bus_id == l.remote_bus_id) b.connect(a, b.sys.of[kGpu][j], kLinkNvl, bw);
      } else if (l.remote == topo::LinkRemote::kCpu) {
        b.both(a, b.cpu(g.numa), kLinkNvl, bw);
      } else {
        if (nvs < 0) nvs = b.add(kNvs, "NVS");
        b.both(a, nvs, kLinkNvl, bw);
      }
    }
    if (g.c2c_gbps > 0) b.both(a, b.cpu(g.numa), kLinkC2c, g.c2c_gbps);
  }
  std::vector<int> cpus = b.sys.of[kCpu];
  for (int x : cpus)
    for (int y : cpus) {
      if (x == y) continue;
      const topo::CpuNode* c = nullptr;
      for (const auto& cn : s.cpus)
        if (b.cpu_by_numa.count(cn.numa) && b.cpu_by_numa.at(cn.numa) == x) c = &cn;
      double bw = c ? topo::inter_cpu_bw(*c) : kLoc;
      if (b.version < 226 && c && c->vendor == "GenuineIntel" && c->family == 6 && c->model >= 0x8F) bw = 10.0;  // no SRP/ERP
      b.connect(x, y, kLinkSys, bw);
    }
}

/// ncclTopoSortSystem: links by bandwidth, highest first; the link up the PCI tree last.
void sort_links(Builder& b) {
  for (std::size_t n = 0; n < b.sys.nodes.size(); ++n) {
    auto& links = b.sys.nodes[n].links;
    std::stable_sort(links.begin(), links.end(), [](const Link& x, const Link& y) { return x.bw > y.bw; });
    int u = b.up[n];
    auto it = std::find_if(links.begin(), links.end(), [&](const Link& l) { return l.to == u && l.type == kLinkPci; });
    if (u >= 0 && it != links.end()) std::rotate(it, it + 1, links.end());
  }
}

/// ncclTopoSetPaths: breadth-first from `base`, filling path(node -> base).
void set_paths(SearchSystem& sys, int base) {
  auto& P = sys.to_base[static_cast<std::size_t>(base)];
  P.assign(sys.nodes.size(), Path{});
  P[static_cast<std::size_t>(base)].type = kPathLoc;
  P[static_cast<std::size_t>(base)].bw = kLoc;
  std::vector<int> level{base};
  while (!level.empty()) {
    std::vector<int> next;
    for (int n : level) {
      const Node& node = sys.nodes[static_cast<std::size_t>(n)];
      const Path path = P[static_cast<std::size_t>(n)];
      for (const Link& l : node.links) {
        const Node& rem = sys.nodes[static_cast<std::size_t>(l.to)];
        Path& rp = P[static_cast<std::size_t>(l.to)];
        double bw = std::min(path.bw, l.bw);
        if (n != base && node.kind == kGpu && (l.type != kLinkNvl || rem.kind != kGpu || path.count() > 1)) continue;
        if (!((rp.bw == 0 || rp.count() > path.count()) && rp.bw < bw)) continue;
        const auto& rl = rem.links;
        auto rev = std::find_if(rl.begin(), rl.end(), [&](const Link& x) { return x.to == n && x.type == l.type; });
        if (rev == rl.end()) continue;  // one-way link (a GPU-GPU NVLink listed on one side only)
        rp.hops.clear();
        rp.hops.emplace_back(l.to, static_cast<int>(rev - rl.begin()));
        rp.hops.insert(rp.hops.end(), path.hops.begin(), path.hops.end());
        rp.bw = bw;
        int type = l.type == kLinkNet ? kLinkLoc : l.type;
        if (node.kind == kPci && rem.kind == kPci) type = kPathPxb;
        if (l.type == kLinkPci && (node.kind == kCpu || rem.kind == kCpu)) type = kPathPhb;
        if (node.kind == kGpu && path.type == kPathNvl && type == kPathNvl && rp.count() > 1) type = kPathNvb;
        rp.type = std::max(path.type, type);
        if (std::find(next.begin(), next.end(), l.to) == next.end()) next.push_back(l.to);
      }
    }
    level = std::move(next);
  }
}

int merge_type(int a, int b) {
  int hi = std::max(a, b), lo = std::min(a, b);
  return hi == kPathPhb && lo == kPathC2c ? kPathP2c : hi;
}

/// addInterStep: path src -> dst rerouted through `via`.
void inter_step(SearchSystem& sys, int via, int src, int dst, bool via_gpu) {
  const Path& a = sys.path(src, via);
  const Path& b = sys.path(via, dst);
  Path p;
  p.hops = a.hops;
  p.hops.insert(p.hops.end(), b.hops.begin(), b.hops.end());
  p.type = via_gpu ? static_cast<int>(kPathPxn) : merge_type(a.type, b.type);
  p.bw = std::min(a.bw, b.bw);
  sys.path(src, dst) = std::move(p);
}

int local_cpu(const SearchSystem& sys, int gpu) {
  int best = -1, hops = 0;
  for (int c : sys.of[kCpu]) {
    int h = sys.path(gpu, c).count();
    if (h > 0 && (hops == 0 || h < hops)) best = c, hops = h;
  }
  return best;
}

void adjust_gpu_paths(SearchSystem& sys, const SearchOptions& o) {
  int level = o.p2p_level >= 0 ? o.p2p_level : kPathPxb;
  if (o.p2p_level < 0 && sys.cpu_x86 && sys.cpu_amd && sys.count(kGpu) <= 2) level = kPathSys;
  for (int g : sys.of[kGpu])
    for (int p : sys.of[kGpu]) {
      if (g == p) continue;
      const Path& path = sys.path(p, g);
      bool p2p = path.type <= level;
      // NVML refuses P2P on GeForce boards unless the GPUs share an NVLink bridge.
      bool blocked = sys.nodes[static_cast<std::size_t>(g)].p2p_blocked || sys.nodes[static_cast<std::size_t>(p)].p2p_blocked;
      if (p2p && blocked && !o.assume_p2p_ok && path.type > kPathNvb) p2p = false;
      int cpu = local_cpu(sys, g);
      if (!p2p && cpu >= 0) inter_step(sys, cpu, p, g, false);
    }
}

bool gdr_ok(const SearchSystem& sys, const SearchOptions& o, int g, int n) {
  const Node& gpu = sys.nodes[static_cast<std::size_t>(g)];
  const Node& net = sys.nodes[static_cast<std::size_t>(n)];
  if (!net.gdr || !gpu.gdr) return false;
  int distance = sys.path(g, n).type;
  if (distance == kPathPxn) {
    const auto& hops = sys.path(g, n).hops;
    int via = hops.empty() ? g : hops.front().first;
    for (const auto& h : hops) {  // the first GPU on the path is the proxy
      int to = sys.nodes[static_cast<std::size_t>(h.first)].links[static_cast<std::size_t>(h.second)].to;
      if (sys.nodes[static_cast<std::size_t>(to)].kind == kGpu) { via = to; break; }
    }
    distance = sys.path(via, n).type;
  }
  if (distance == kPathP2c) distance = kPathC2c;
  return distance <= (o.gdr_level >= 0 ? o.gdr_level : kPathPxb);
}

void adjust_net_paths(SearchSystem& sys, const SearchOptions& o) {
  for (int g : sys.of[kGpu]) {  // C2C + PHB -> P2C
    int c = local_cpu(sys, g);
    if (c < 0) continue;
    for (int n : sys.of[kNet])
      if (merge_type(sys.path(g, c).type, sys.path(n, c).type) == kPathP2c) {
        sys.path(g, n).type = std::min<int>(kPathP2c, sys.path(g, n).type);
        sys.path(n, g).type = std::min<int>(kPathP2c, sys.path(n, g).type);
      }
  }
  for (int ni = 0; ni < sys.count(kNet); ++ni) {
    int n = sys.net(ni);
    for (int gi = 0; gi < sys.count(kGpu); ++gi) {
      int g = sys.gpu(gi);
      int peer_i = o.pxn_disable ? -1 : sys.local_gpu(ni);
      if (peer_i >= 0 && peer_i != gi) {
        int peer = sys.gpu(peer_i);
        if (sys.path(peer, n).type <= kPathP2c && sys.path(peer, g).type <= kPathNvl &&
            (sys.path(peer, n).bw > sys.path(g, n).bw || sys.path(g, n).type > kPathPxn))
          inter_step(sys, peer, g, n, true);
      }
      if (sys.path(g, n).type < kPathPhb && !gdr_ok(sys, o, g, n)) {
        int c = local_cpu(sys, g);
        if (c < 0) continue;
        inter_step(sys, c, n, g, false);
        inter_step(sys, c, g, n, false);
      }
    }
  }
  for (int ni = 0; ni < sys.count(kNet); ++ni) sys.nodes[static_cast<std::size_t>(sys.net(ni))].local_gpu = sys.local_gpu(ni);
}

void search_init(SearchSystem& sys) {
  if (!sys.inter && sys.count(kGpu) == 1) {
    sys.max_bw = sys.total_bw = kLoc;
    return;
  }
  for (int g : sys.of[kGpu]) {
    for (int t : sys.of[sys.inter ? kNet : kGpu])
      if (sys.path(g, t).count() > 0) sys.max_bw = std::max(sys.max_bw, sys.path(g, t).bw);
    double nvl = 0, pci = 0;
    for (const Link& l : sys.nodes[static_cast<std::size_t>(g)].links) {
      if (l.type == kLinkNvl) nvl += l.bw;
      if (l.type == kLinkPci) pci = l.bw;
    }
    sys.total_bw = std::max({sys.total_bw, pci, nvl});
  }
}

}  // namespace

bool geforce_p2p_blocked(std::uint32_t vendor, std::uint32_t device) {
  if (vendor != 0x10de) return false;
  // GA102/GA104 GeForce (RTX 3060-3090 Ti), AD102/AD103/AD104 GeForce (RTX 4070-4090),
  // GB202/GB203 GeForce (RTX 5080/5090): PCIe P2P is not supported by the GeForce driver.
  static const std::set<std::uint32_t> kIds = {0x2203, 0x2204, 0x2206, 0x2208, 0x2216, 0x2482, 0x2484, 0x2486,
                                               0x2487, 0x2488, 0x2489, 0x2503, 0x2504, 0x2684, 0x2685, 0x2702,
                                               0x2704, 0x2705, 0x2782, 0x2783, 0x2786, 0x2b85, 0x2b87, 0x2c02,
                                               0x2c05};
  return kIds.count(device) > 0;
}

std::vector<int> SearchSystem::local(int node, NodeKind result, int* type) const {
  std::vector<int> out;
  double best = 0;
  int tmin = kPathDis;
  for (int i = 0; i < count(result); ++i) {
    const Path& p = path(node, of[result][static_cast<std::size_t>(i)]);
    if (p.bw > best || (p.bw == best && p.type < tmin)) {
      best = p.bw;
      tmin = p.type;
      out.clear();
    }
    if (p.bw == best && p.type == tmin) out.push_back(i);
  }
  if (type) *type = tmin;
  return out;
}

int SearchSystem::local_net(int gpu_index, int channel) const {
  if (static_cast<std::size_t>(gpu_index) < net_of_channel.size())
    return net_of_channel[static_cast<std::size_t>(gpu_index)][static_cast<std::size_t>(channel % 64)];
  std::vector<int> nets = local(gpu(gpu_index), kNet);
  if (nets.empty()) return -1;
  std::size_t sharing = local(net(nets.front()), kGpu).size();
  int per = static_cast<int>((nets.size() + std::max<std::size_t>(sharing, 1) - 1) / std::max<std::size_t>(sharing, 1));
  unsigned dev = topo::nccl_local_start(nodes[static_cast<std::size_t>(gpu(gpu_index))].dev, nets.size());
  const unsigned cnt = static_cast<unsigned>(nets.size());
  dev += static_cast<unsigned>(channel % std::max(per, 1));
  return nets[dev % cnt];
}

int SearchSystem::local_gpu(int net_index) const {
  std::vector<int> gpus = local(net(net_index), kGpu);
  for (int c = 0; c < 64; ++c)
    for (int g : gpus)
      if (local_net(g, c) == net_index) return g;
  return -1;
}

int SearchSystem::gpu_min_path(NodeKind k) const {
  int m = kPathSys;
  for (int g : of[kGpu])
    for (int t : of[k])
      if (t != g) m = std::min(m, path(g, t).type);
  return m;
}

int SearchSystem::gpu_max_path(NodeKind k) const {
  int m = kPathLoc;
  for (int g : of[kGpu])
    for (int t : of[k])
      if (t != g) m = std::max(m, path(g, t).type);
  return m;
}

bool SearchSystem::split_nvlink() const {
  const int n = count(kGpu);
  std::vector<int> dom(static_cast<std::size_t>(n));
  for (int g = 0; g < n; ++g) dom[static_cast<std::size_t>(g)] = g;
  for (int g = 0; g < n; ++g)
    for (int p = g + 1; p < n; ++p)
      if (path(gpu(g), gpu(p)).type == kPathNvl) dom[static_cast<std::size_t>(p)] = dom[static_cast<std::size_t>(g)];
  std::map<int, int> sizes;
  for (int d : dom) sizes[d]++;
  return sizes.size() == 2 && sizes.begin()->second > 1 && sizes.rbegin()->second > 1;
}

int SearchSystem::cc_min() const {
  int m = 0;
  for (int g : of[kGpu]) {
    int sm = nodes[static_cast<std::size_t>(g)].sm;
    if (sm > 0 && (m == 0 || sm < m)) m = sm;
  }
  return m;
}

SearchSystem build_search_system(const topo::System& s, const SearchOptions& o) {
  SearchSystem sys;
  sys.inter = o.inter;
  Builder b{s, sys, {}, {}, {}, o.version};
  add_cpus(b);
  add_pci(b);
  add_nets(b);
  add_nvlinks(b);
  sort_links(b);
  if (!sys.of[kCpu].empty()) {
    const Node& c0 = sys.nodes[static_cast<std::size_t>(sys.of[kCpu].front())];
    sys.cpu_x86 = c0.x86;
    sys.cpu_intel = c0.intel;
    sys.cpu_amd = c0.amd;
  }
  sys.to_base.assign(sys.nodes.size(), {});
  for (NodeKind k : {kCpu, kGpu, kNet, kNvs})
    for (int n : sys.of[k]) set_paths(sys, n);
  adjust_gpu_paths(sys, o);
  adjust_net_paths(sys, o);
  search_init(sys);
  std::vector<std::vector<int>> cache(static_cast<std::size_t>(sys.count(kGpu)), std::vector<int>(64, -1));
  for (int g = 0; g < sys.count(kGpu); ++g)
    for (int c = 0; c < 64; ++c) cache[static_cast<std::size_t>(g)][static_cast<std::size_t>(c)] = sys.local_net(g, c);
  sys.net_of_channel = std::move(cache);
  return sys;
}

}  // namespace ncd::nccl::search
