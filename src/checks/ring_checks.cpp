// SPDX-License-Identifier: Apache-2.0
#include "checks/ring_checks.hpp"
#include "checks/registry.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "core/catalogue.hpp"
#include "core/text.hpp"
#include "nccl/log_model.hpp"
#include "topo/bandwidth.hpp"

namespace ncd::checks {

NCD_REGISTER_CHECK({"ring.path_degraded", Severity::kWarn, "rings",
                    "NCCL's rings or trees use worse paths than the hardware offers",
                    "A graph's typeintra/typeinter (the worst path NCCL allowed itself), or a hop's "
                    "transport in the log, is worse than the best path the topology offers between "
                    "those GPUs or between a GPU and its NIC: NCCL saw the GPUs farther apart than "
                    "they are, typically SYS or PHB on an NVLink or PCIe-switch box. Bandwidth drops "
                    "to what the CPU or inter-socket link carries. A graph that is as good as the "
                    "hardware allows (GPUs that only reach each other through SYS) is not reported.",
                    "For each graph (ring, tree, CollNet) the worst topology path over its own hops "
                    "(and its NET ends) is compared with the graph's typeintra/typeinter; with --log "
                    "each intra-node connection's transport (SHM or NET where P2P is possible) is "
                    "compared with the topology path.",
                    "Look for NCCL_P2P_DISABLE, NCCL_P2P_LEVEL, NCCL_NET_GDR_LEVEL or NCCL_SHM_* in "
                    "the environment; check PCIe ACS (must be off for P2P on bare metal), the IOMMU "
                    "mode, and that nvidia-fabricmanager runs on NVSwitch systems."});
NCD_REGISTER_CHECK({"ring.crosses_socket", Severity::kWarn, "rings",
                    "A ring crosses between CPU sockets more often than needed",
                    "A channel goes back and forth between CPU domains (sockets or NUMA nodes) more "
                    "often than a GPU order that visits each domain once would. Each crossing runs "
                    "over the inter-socket link (UPI/xGMI), which is slower than PCIe switches.",
                    "Per channel, the number of changes of CPU domain along the GPU order (with the "
                    "NICs where data enters and leaves) is compared with the minimum any order of "
                    "the same GPUs and NICs needs.",
                    "Usually a hand-written NCCL_GRAPH_FILE or a wrong NCCL_TOPO_FILE (GPUs or NUMA "
                    "nodes swapped): fix or remove the file and let NCCL search."});
NCD_REGISTER_CHECK({"ring.nic_far", Severity::kWarn, "rings",
                    "A channel enters or leaves the node through a NIC far from its GPU",
                    "Data of a channel enters or leaves the node through a NIC that is not local to "
                    "the GPU at that end (through the CPU, the other socket, or another GPU), although "
                    "a closer NIC exists for that GPU, or another order of the same GPUs would put a "
                    "GPU local to that NIC at the end. Inter-node traffic then crosses PCIe root "
                    "complexes or the inter-socket link and GPUDirect RDMA may be off.",
                    "For each channel end, the path type from the GPU to the graph's NIC is compared "
                    "with the GPU's best NIC path and with the best pair of channel ends the same NICs "
                    "allow.",
                    "Check NCCL_IB_HCA / NCCL_NET_GDR_LEVEL / NCCL_CROSS_NIC, the topology file "
                    "(NIC NUMA placement), and that every GPU has an active NIC on its PCIe switch."});
NCD_REGISTER_CHECK({"ring.channels_low", Severity::kWarn, "rings",
                    "NCCL uses fewer channels than the topology supports",
                    "The ring graph's channels times their speed carry well below what the topology "
                    "offers (NVLink bandwidth inside the node, the local NICs across nodes), so a "
                    "collective cannot use the hardware fully.",
                    "nChannels × speed (capped by the NIC ports the channels use) is compared with "
                    "the topology's capacity for the same GPUs: the per-GPU NVLink/PCIe bandwidth, "
                    "the non-NVLink hops, and the sum of the NIC ports local to the GPUs. Reported "
                    "below half of it.",
                    "Look for NCCL_MAX_NCHANNELS, NCCL_MAX_CTAS, NCCL_MIN_NCHANNELS or a "
                    "NCCL_GRAPH_FILE that imposes few channels; check for down NVLinks or NIC ports."});
NCD_REGISTER_CHECK({"ring.net_socket", Severity::kError, "rings",
                    "Inter-node traffic uses TCP sockets although RDMA NICs exist",
                    "NCCL connects nodes with its Socket transport (TCP over an Ethernet or IPoIB "
                    "interface) while the node has InfiniBand/RoCE NICs: bandwidth is a fraction of "
                    "the fabric's and CPU load is high.",
                    "A log connection `via NET/Socket` (or the graph's NICs being plain network "
                    "interfaces) while the topology or the log lists RDMA devices.",
                    "Check NCCL_IB_DISABLE, NCCL_NET=Socket, NCCL_IB_HCA filters, that the "
                    "rdma-core/libibverbs libraries and the IB devices are visible in the container "
                    "(/dev/infiniband), and the net plugin (NCCL_NET_PLUGIN)."});
NCD_REGISTER_CHECK({"ring.inconsistent", Severity::kWarn, "rings",
                    "Ranks, nodes or files disagree about NCCL's rings",
                    "Nodes use different transports or channel counts for the same GPU pairs, or the "
                    "graph does not match the topology (GPUs or NICs it names do not exist, rings that "
                    "miss GPUs). NCCL takes the minimum over ranks, so one odd node slows everyone.",
                    "Graph GPUs and NICs are resolved in the topology; ring channels must hold every "
                    "GPU once; with logs or live inspection, nodes are compared pair by pair.",
                    "Compare the odd node's environment, topology and driver with the others "
                    "(nccl-doctor env, nccl-doctor topo); make sure the graph and topology files come "
                    "from the same run."});

NCD_REGISTER_CHECK({"ring.graph_foreign", Severity::kError, "rings",
                    "The graph cannot come from this topology",
                    "The graph file claims what this machine cannot do: an NVLS graph on GPUs or a "
                    "system without NVLS (sm90+ with NVSwitch), NVLink intra-node paths between GPUs "
                    "that have no NVLink, or channels that together carry more than the paths between "
                    "its GPUs offer. It was dumped on another machine (or edited): with NCCL_GRAPH_FILE "
                    "NCCL would plan transfers the hardware cannot run.",
                    "The graph's pattern, typeintra and nChannels x speed are checked against the "
                    "topology's GPUs (compute capability), NVSwitches and NCCL paths (ring graphs; "
                    "opposite ring directions allowed: up to twice the one-way capacity).",
                    "Dump the graph on this machine (NCCL_GRAPH_DUMP_FILE) with its own topology, "
                    "or drop NCCL_GRAPH_FILE and let NCCL search."});

namespace {

using topo::PathType;

constexpr double kEps = 1e-9;

std::string type_name(PathType t) { return std::string(topo::to_string(t)); }
int value(PathType t) { return static_cast<int>(t); }
PathType from_value(int v) { return static_cast<PathType>(std::clamp(v, 0, static_cast<int>(PathType::kDIS))); }

std::string gbps(double v) { return v > 0 ? fmt::format("{:.1f} GB/s", v) : "? GB/s"; }

std::string graph_name(const nccl::Graph& g) {
  return fmt::format("{} graph (id {})", nccl::to_string(g.kind), g.id);
}

/// Lookups from the graph's device ids into the topology.
class Index {
 public:
  explicit Index(const topo::System& s) : s_(s) {
    for (std::size_t i = 0; i < s.gpus.size(); ++i)
      if (s.gpus[i].index >= 0) gpu_by_dev_.emplace(s.gpus[i].index, i);
    for (std::size_t n = 0; n < s.nics.size(); ++n)
      for (std::size_t p = 0; p < s.nics[n].ports.size(); ++p)
        if (s.nics[n].ports[p].net_dev >= 0) port_by_net_.emplace(s.nics[n].ports[p].net_dev, std::make_pair(n, p));
    // Union-find over GPU pairs that do not cross the inter-socket link.
    cluster_.resize(s.gpus.size());
    for (std::size_t i = 0; i < s.gpus.size(); ++i) cluster_[i] = static_cast<int>(i);
    auto find = [this](int x) {
      while (cluster_[static_cast<std::size_t>(x)] != x) x = cluster_[static_cast<std::size_t>(x)];
      return x;
    };
    for (std::size_t a = 0; a < s.gpus.size(); ++a)
      for (std::size_t b = a + 1; b < s.gpus.size(); ++b)
        if (value(s.gpu_path(a, b).type) < value(PathType::kSYS) && value(s.gpu_path(b, a).type) < value(PathType::kSYS))
          cluster_[static_cast<std::size_t>(find(static_cast<int>(b)))] = find(static_cast<int>(a));
    for (std::size_t i = 0; i < s.gpus.size(); ++i) cluster_[i] = find(static_cast<int>(i));
  }
  [[nodiscard]] std::optional<std::size_t> gpu(std::int64_t dev) const {
    auto it = gpu_by_dev_.find(static_cast<int>(dev));
    if (it == gpu_by_dev_.end()) return std::nullopt;
    return it->second;
  }
  [[nodiscard]] std::optional<std::pair<std::size_t, std::size_t>> port(std::int64_t dev) const {
    auto it = port_by_net_.find(dev);
    if (it == port_by_net_.end()) return std::nullopt;
    return it->second;
  }
  [[nodiscard]] bool has_ports() const { return !port_by_net_.empty(); }
  /// Socket cluster of a GPU: GPUs joined by paths that do not cross the inter-socket link
  /// (type below SYS both ways) share one. A hop between clusters runs over UPI/xGMI.
  [[nodiscard]] int cluster(int dev) const {
    auto g = gpu(dev);
    return g ? cluster_[*g] : -1;
  }
  [[nodiscard]] std::string gpu_name(int dev) const {
    auto g = gpu(dev);
    return g ? s_.gpu_subject(*g) : fmt::format("GPU{} (not in topology)", dev);
  }
  [[nodiscard]] std::string port_name(std::int64_t dev) const {
    auto p = port(dev);
    return p ? s_.nics[p->first].ports[p->second].subject() : fmt::format("NET{}", dev);
  }
  [[nodiscard]] double port_bw(std::int64_t dev) const {
    auto p = port(dev);
    return p ? topo::net_bw(s_.nics[p->first].ports[p->second].rate_gbps) : 0;
  }
  /// A GPU end of a channel: NET->GPU (entry) or GPU->NET (exit). PXN (a proxy through an
  /// NVLink peer) applies to the GPU->NET direction only (paths.cc:720-741).
  [[nodiscard]] std::optional<RingNetEnd> end(bool entry, std::int64_t net, int gpu_dev) const {
    auto g = gpu(gpu_dev);
    auto p = port(net);
    RingNetEnd e;
    e.entry = entry;
    e.net_dev = net;
    e.gpu_dev = gpu_dev;
    e.net = p ? s_.nics[p->first].ports[p->second].subject() : "";
    if (!g || !p) return e;
    const topo::PathInfo& pi = s_.nic_path(*g, p->first);
    e.type = entry && pi.type == PathType::kPXN ? pi.pci_type : pi.type;
    if (!entry && pi.type == PathType::kPXN) {
      const topo::Gpu* via = s_.find_gpu_by_bus(pi.via);
      e.via = via ? fmt::format("GPU{}", via->index) : pi.via;
    }
    double port_bw = topo::net_bw(s_.nics[p->first].ports[p->second].rate_gbps);
    e.bw_gbps = pi.bw_gbps > 0 && port_bw > 0 ? std::min(pi.bw_gbps, port_bw) : std::max(pi.bw_gbps, port_bw);
    return e;
  }
  /// The best (lowest) type of `gpu_dev` to any NIC in the given direction.
  [[nodiscard]] std::optional<std::pair<PathType, std::size_t>> best_nic(bool entry, int gpu_dev) const {
    auto g = gpu(gpu_dev);
    if (!g || s_.nics.empty()) return std::nullopt;
    std::optional<std::pair<PathType, std::size_t>> best;
    for (std::size_t n = 0; n < s_.nics.size(); ++n) {
      if (s_.nics[n].ports.empty()) continue;
      const topo::PathInfo& pi = s_.nic_path(*g, n);
      PathType t = entry && pi.type == PathType::kPXN ? pi.pci_type : pi.type;
      if (!best || value(t) < value(best->first)) best = std::make_pair(t, n);
    }
    return best;
  }

 private:
  const topo::System& s_;
  std::map<int, std::size_t> gpu_by_dev_;
  std::map<std::int64_t, std::pair<std::size_t, std::size_t>> port_by_net_;
  std::vector<int> cluster_;
};

bool is_ring(const nccl::Graph& g) { return g.pattern == nccl::GraphPattern::kRing; }
bool has_hops(const nccl::Graph& g) {
  return g.kind == nccl::GraphKind::kRing || g.kind == nccl::GraphKind::kTree ||
         g.kind == nccl::GraphKind::kCollnetChain;
}

/// Transports per (host, from NVML dev, to NVML dev) for intra-node connections of a log.
using HopTransports = std::map<std::tuple<std::string, int, int>, std::map<std::string, std::vector<std::string>>>;

/// The NVML index a connection's bracketed id names: nvmlDev since 2.18.3, before that the
/// busId in NCCL's hex encoding (nccl-internals.md §2.4, §5.2).
std::optional<int> conn_gpu(const std::string& dev, const nccl::NcclVersion& v, const topo::System& s) {
  if (dev.empty()) return std::nullopt;
  std::string d = to_lower(dev);
  if (d.rfind("0x", 0) == 0) d = d.substr(2);
  bool digits = std::all_of(d.begin(), d.end(), [](char c) { return c >= '0' && c <= '9'; });
  bool hex = std::all_of(d.begin(), d.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
  if (!hex || d.empty() || d.size() > 16) return std::nullopt;
  bool nvml = v.known() ? v.at_least(2, 18, 3) : (digits && d.size() <= 3);
  if (nvml && digits) return std::stoi(d);
  // busId: ...dddd bb dd f -> "dddd:bb:dd.f"
  unsigned long long id = std::stoull(d, nullptr, 16);
  std::string bus = fmt::format("{:04x}:{:02x}:{:02x}.{:01x}", id >> 20, (id >> 12) & 0xff, (id >> 4) & 0xff, id & 0xf);
  const topo::Gpu* g = s.find_gpu_by_bus(bus);
  if (g) return g->index;
  return std::nullopt;
}

/// "file:line: <the line>" for a logged connection.
std::string conn_evidence(const nccl::RunLog& log, const nccl::Connection& c) {
  if (!c.text.empty()) return fmt::format("{}: {}", log.where(c.at), c.text);
  return fmt::format("{}: Channel {:02d}/{} : {}[{}] -> {}[{}] via {}", log.where(c.at), c.channel, c.conn_index,
                     c.from_rank, c.from_dev, c.to_rank, c.to_dev, c.transport);
}

HopTransports intra_node_transports(const nccl::RunLog& log, const topo::System& s) {
  HopTransports out;
  for (const auto& c : log.connections) {
    if (c.kind == nccl::TransportKind::kNet && c.dir == nccl::ConnDir::kRecv) continue;
    if (c.kind == nccl::TransportKind::kCollNet || c.kind == nccl::TransportKind::kUnknown) continue;
    auto fh = log.ranks.find(c.from_rank);
    auto th = log.ranks.find(c.to_rank);
    std::string host = c.host;
    if (fh != log.ranks.end() && th != log.ranks.end()) {
      if (fh->second.host != th->second.host) continue;  // inter-node
      host = fh->second.host;
    } else if (c.kind == nccl::TransportKind::kNet) {
      continue;  // cannot tell whether both ends share the host
    }
    auto a = conn_gpu(c.from_dev, log.version, s);
    auto b = conn_gpu(c.to_dev, log.version, s);
    if (!a || !b) continue;
    auto& lines = out[{host, *a, *b}][c.transport];
    if (lines.size() < 2) lines.push_back(conn_evidence(log, c));
  }
  return out;
}

struct Ctx {
  const topo::System& s;
  const Index& ix;
  RingsAnalysis& a;
  const HopTransports* transports;
  std::string log_host;
};

RingChannel build_channel(const Ctx& c, const nccl::Graph& g, std::size_t ci) {
  const nccl::GraphChannel& gc = g.channels[ci];
  RingChannel ch;
  ch.index = static_cast<int>(ci);
  for (const auto& r : gc.gpus) ch.gpus.push_back(static_cast<int>(r.local));
  const bool loop = is_ring(g) && !gc.net_in && !gc.net_out && ch.gpus.size() > 1;
  if (has_hops(g)) {
    std::size_t nhops = ch.gpus.size() < 2 ? 0 : (loop ? ch.gpus.size() : ch.gpus.size() - 1);
    for (std::size_t h = 0; h < nhops; ++h) {
      RingHop hop;
      hop.from_dev = ch.gpus[h];
      hop.to_dev = ch.gpus[(h + 1) % ch.gpus.size()];
      auto a = c.ix.gpu(hop.from_dev);
      auto b = c.ix.gpu(hop.to_dev);
      if (a && b) {
        const topo::PathInfo& p = c.s.gpu_path(*a, *b);
        hop.type = p.type;
        // Trees need the reverse path too (search.cc:79-163).
        if (!is_ring(g)) hop.type = from_value(std::max(value(p.type), value(c.s.gpu_path(*b, *a).type)));
        hop.bw_gbps = p.bw_gbps;
        hop.bottleneck = p.bottleneck;
        hop.crosses_socket = value(hop.type) >= value(PathType::kSYS);
      }
      if (c.transports) {
        for (const auto& [key, tr] : *c.transports) {
          if (std::get<1>(key) != hop.from_dev || std::get<2>(key) != hop.to_dev) continue;
          if (!c.log_host.empty() && std::get<0>(key) != c.log_host) continue;
          for (const auto& [name, lines] : tr) hop.transports.push_back(std::get<0>(key) + ": " + name);
        }
      }
      ch.hops.push_back(std::move(hop));
    }
  }
  if (gc.net_in && !ch.gpus.empty()) ch.in = c.ix.end(true, gc.net_in->local, ch.gpus.front());
  if (gc.net_out && !ch.gpus.empty()) ch.out = c.ix.end(false, gc.net_out->local, ch.gpus[g.exit_index(gc)]);

  // Hops between GPUs over the inter-socket link, and the fewest any order of the same GPUs
  // needs (each socket cluster visited once). NIC ends are ring.nic_far's business.
  if (has_hops(g) && !ch.gpus.empty()) {
    bool known = true;
    int socket_hops = 0;
    for (const auto& h : ch.hops) {
      if (h.type == PathType::kDIS) known = false;
      socket_hops += h.crosses_socket;
    }
    std::set<int> clusters;
    for (int d : ch.gpus) {
      int cl = c.ix.cluster(d);
      if (cl < 0) known = false;
      clusters.insert(cl);
    }
    if (known) {
      const int m = static_cast<int>(clusters.size());
      ch.socket_hops = socket_hops;
      ch.min_socket_hops = loop ? (m >= 2 ? m : 0) : m - 1;
    }
  }
  return ch;
}

/// Per-GPU egress: NVLink total or the best PCIe path to a peer.
double gpu_egress(const topo::System& s, std::size_t g) {
  const topo::Gpu& gpu = s.gpus[g];
  double nvl = 0;
  int links = 0;
  for (const auto& l : gpu.nvlinks)
    if (l.active != topo::Tri::kNo && l.remote_bus_id != gpu.bus_id) links += l.count;
  if (links > 0 && gpu.sm > 0) nvl = links * topo::nvlink_bw_per_link(gpu.sm);
  double pci = 0;
  for (std::size_t o = 0; o < s.gpus.size(); ++o)
    if (o != g) pci = std::max(pci, s.gpu_path(g, o).bw_gbps);
  return std::max(nvl, pci);
}

bool nvlink_class(PathType t) { return t == PathType::kNVL || t == PathType::kNVB || t == PathType::kLOC; }

void fill_capacity(const Ctx& c, RingGraph& rg) {
  const nccl::Graph& g = rg.graph;
  std::set<int> gpus;
  for (const auto& ch : rg.channels) gpus.insert(ch.gpus.begin(), ch.gpus.end());
  // Inside the node: the least egress of the graph's GPUs, and every hop that is not NVLink
  // (PCIe/CPU links are where channels share a bottleneck).
  double cap_intra = 0;
  bool known = false;
  for (int d : gpus) {
    auto gi = c.ix.gpu(d);
    if (!gi) continue;
    double e = gpu_egress(c.s, *gi);
    if (e <= 0) continue;
    cap_intra = known ? std::min(cap_intra, e) : e;
    known = true;
  }
  for (const auto& ch : rg.channels)
    for (const auto& h : ch.hops)
      if (!nvlink_class(h.type) && h.bw_gbps > 0) {
        cap_intra = known ? std::min(cap_intra, h.bw_gbps) : h.bw_gbps;
        known = true;
      }
  if (gpus.size() < 2) known = false;

  if (!g.inter_node()) {
    rg.aggregate_gbps = g.nchannels * g.speed_intra;
    rg.capacity_gbps = known ? cap_intra : 0;
    if (g.speed_intra > kEps && rg.capacity_gbps > 0)
      rg.channels_needed = static_cast<int>(std::ceil(rg.capacity_gbps / g.speed_intra - 1e-6));
    return;
  }
  // Across nodes: the NIC ports local to the graph's GPUs (≤ PXB, or the best there is).
  std::map<std::int64_t, double> port_bw;  // usable ports
  std::map<std::int64_t, PathType> port_best;
  for (const auto& n : c.s.nics)
    for (const auto& p : n.ports) {
      if (p.net_dev < 0) continue;
      PathType best = PathType::kDIS;
      for (int d : gpus) {
        auto e = c.ix.end(false, p.net_dev, d);
        if (e && value(e->type) < value(best)) best = e->type;
      }
      port_best[p.net_dev] = best;
    }
  PathType best_any = PathType::kDIS;
  for (const auto& [dev, t] : port_best) best_any = value(t) < value(best_any) ? t : best_any;
  PathType limit = value(best_any) <= value(PathType::kPXB) ? PathType::kPXB : best_any;
  for (const auto& [dev, t] : port_best)
    if (value(t) <= value(limit)) port_bw[dev] = c.ix.port_bw(dev);
  double cap_inter = 0;
  for (const auto& [dev, bw] : port_bw) cap_inter += bw;
  rg.nic_ports_usable = static_cast<int>(port_bw.size());

  std::map<std::int64_t, int> used;  // port -> channels
  for (const auto& ch : g.channels) {
    std::set<std::int64_t> mine;
    if (ch.net_in) mine.insert(ch.net_in->local);
    if (ch.net_out) mine.insert(ch.net_out->local);
    for (auto d : mine) ++used[d];
  }
  rg.nic_ports_used = static_cast<int>(used.size());
  double agg = 0;
  for (const auto& [dev, n] : used) {
    double bw = c.ix.port_bw(dev);
    agg += bw > 0 ? std::min(bw, n * g.speed_inter) : n * g.speed_inter;
  }
  rg.aggregate_gbps = std::min(agg, g.nchannels * g.speed_inter);
  double cap = cap_inter;
  if (known && cap_intra > 0) cap = cap > 0 ? std::min(cap, cap_intra) : cap_intra;
  rg.capacity_gbps = cap;
  if (g.speed_inter > kEps && cap > 0)
    rg.channels_needed = static_cast<int>(std::ceil(cap / g.speed_inter - 1e-6));
}

// ---------------------------------------------------------------- checks

/// What the graph claims against what the topology offers (a graph from another machine).
void check_fit(const Ctx& c, const RingGraph& rg) {
  const nccl::Graph& g = rg.graph;
  if (g.channels.empty() && g.nchannels <= 0) return;
  std::set<int> devs;
  for (const auto& ch : g.channels)
    for (const auto& r : ch.gpus) devs.insert(static_cast<int>(r.local));
  std::vector<std::size_t> gpus;
  for (int d : devs)
    if (auto gi = c.ix.gpu(d)) gpus.push_back(*gi);
  if (gpus.empty()) return;  // ids do not resolve: check_resolution says so
  std::vector<std::string> why;
  // 1. NVLS needs sm90+ GPUs behind NVSwitches (NVLink SHARP).
  if (g.kind == nccl::GraphKind::kNvls && !g.channels.empty()) {
    int sm_min = 0;
    for (auto gi : gpus)
      if (c.s.gpus[gi].sm > 0) sm_min = sm_min == 0 ? c.s.gpus[gi].sm : std::min(sm_min, c.s.gpus[gi].sm);
    bool nvs = !c.s.nvswitches.empty();
    for (auto gi : gpus)
      for (const auto& l : c.s.gpus[gi].nvlinks) nvs = nvs || l.remote == topo::LinkRemote::kNvSwitch;
    if (sm_min > 0 && sm_min < 90)
      why.push_back(fmt::format("an NVLS graph on sm{} GPUs: NVLS needs sm90 or newer", sm_min));
    else if (!nvs && !c.s.nvlink_unknown)
      why.push_back("an NVLS graph on a system without NVSwitch");
  }
  // 2. NVLink paths inside the node where the topology has none between these GPUs.
  PathType claimed = topo::parse_path_type(g.type_intra);
  if ((claimed == PathType::kNVL || claimed == PathType::kNVB) && gpus.size() >= 2 && !c.s.nvlink_unknown) {
    bool any_nvl = false;
    for (auto a : gpus)
      for (auto b : gpus)
        if (a != b && nvlink_class(c.s.gpu_path(a, b).type)) any_nvl = true;
    if (!any_nvl)
      why.push_back(fmt::format("typeintra {} while the topology has no NVLink between GPUs {}", g.type_intra,
                                format_ranges({devs.begin(), devs.end()})));
  }
  // 3. More than the paths carry: NCCL's search never books a link beyond its bandwidth, and
  // opposite rings use opposite directions, so twice the one-way capacity is the ceiling.
  // Rings only: tree channels are booked both ways and duplicated, so their sum is no bound.
  if (is_ring(g) && !g.inter_node() && rg.capacity_gbps > 0 && g.speed_intra > 0 && g.nchannels > 0) {
    double claimed_bw = g.nchannels * g.speed_intra;
    if (claimed_bw > 2.0 * rg.capacity_gbps * 1.05 + 1.0)
      why.push_back(fmt::format("{} channel(s) x {:g} GB/s = {:g} GB/s, more than twice what the topology's paths "
                                "between these GPUs carry ({})",
                                g.nchannels, g.speed_intra, claimed_bw, gbps(rg.capacity_gbps)));
  }
  if (why.empty()) return;
  Finding f = make_finding("ring.graph_foreign", c.a.host, graph_name(g),
                           fmt::format("the {} does not fit this topology: {}", graph_name(g), why.front()));
  f.evidence = why;
  c.a.findings.push_back(std::move(f));
}

void check_resolution(const Ctx& c, const RingGraph& rg) {
  const nccl::Graph& g = rg.graph;
  std::set<std::int64_t> missing_gpus, missing_nets;
  for (const auto& ch : g.channels) {
    for (const auto& r : ch.gpus)
      if (!c.ix.gpu(r.local)) missing_gpus.insert(r.local);
    for (const auto* n : {&ch.net_in, &ch.net_out})
      if (*n && !c.ix.port((*n)->local)) missing_nets.insert((*n)->local);
  }
  if (!missing_gpus.empty()) {
    std::vector<int> v(missing_gpus.begin(), missing_gpus.end());
    Finding f = make_finding("ring.inconsistent", c.a.host, graph_name(g),
                             fmt::format("the {} names GPU dev {} that the topology does not have: the graph and "
                                         "topology files do not come from the same host or run",
                                         graph_name(g), format_ranges(v)));
    f.severity = Severity::kError;
    f.evidence.push_back(fmt::format("topology GPUs (NVML index): {}", [&] {
      std::vector<int> have;
      for (const auto& gpu : c.s.gpus) have.push_back(gpu.index);
      return have.empty() ? std::string("none") : format_ranges(have);
    }()));
    c.a.findings.push_back(std::move(f));
  }
  if (!missing_nets.empty() && c.ix.has_ports()) {
    std::vector<int> v(missing_nets.begin(), missing_nets.end());
    Finding f = make_finding("ring.inconsistent", c.a.host, graph_name(g),
                             fmt::format("the {} names NET dev {} that the topology does not list", graph_name(g),
                                         format_ranges(v)));
    c.a.findings.push_back(std::move(f));
  } else if (!missing_nets.empty()) {
    c.a.notes.push_back(fmt::format("the {} uses NICs (NET dev {}) but the topology lists none: NIC checks skipped",
                                    graph_name(g), missing_nets.size() == 1 ? fmt::format("{}", *missing_nets.begin())
                                                                             : std::string("several")));
  }
  if (!is_ring(g) || g.channels.empty()) return;
  // Every ring channel holds each GPU of the node exactly once.
  std::set<int> first;
  for (const auto& r : g.channels.front().gpus) first.insert(static_cast<int>(r.local));
  for (std::size_t i = 0; i < g.channels.size(); ++i) {
    std::vector<int> v;
    for (const auto& r : g.channels[i].gpus) v.push_back(static_cast<int>(r.local));
    std::set<int> s(v.begin(), v.end());
    if (s.size() != v.size() || s != first) {
      Finding f = make_finding("ring.inconsistent", c.a.host, fmt::format("{} channel {}", graph_name(g), i),
                               fmt::format("ring channel {} {} (GPUs {}) while channel 0 holds GPUs {}: NCCL rings "
                                           "visit every GPU of the node once",
                                           i, s.size() != v.size() ? "visits a GPU twice" : "holds other GPUs",
                                           join([&] {
                                             std::vector<std::string> t;
                                             for (int d : v) t.push_back(std::to_string(d));
                                             return t;
                                           }(), ","),
                                           format_ranges({first.begin(), first.end()})));
      f.evidence.push_back(fmt::format("{}:{}: <channel>", c.a.host.empty() ? std::string("graph") : c.a.host,
                                       g.channels[i].line));
      c.a.findings.push_back(std::move(f));
      break;
    }
  }
  std::vector<int> topo_gpus;
  for (const auto& gpu : c.s.gpus)
    if (gpu.index >= 0 && !first.count(gpu.index)) topo_gpus.push_back(gpu.index);
  if (!topo_gpus.empty() && g.kind == nccl::GraphKind::kRing)
    c.a.notes.push_back(fmt::format("the ring visits {} GPU(s); the topology also has GPU {} (not in this communicator)",
                                    first.size(), format_ranges(topo_gpus)));
}

/// Coarse path classes: what a degradation costs is a change of class (NVLink -> PCIe
/// switch -> CPU -> inter-socket), not PIX vs PXB, which NCCL's search may pick for bandwidth
/// accounting on healthy systems.
int path_class(int type) {
  if (type <= value(PathType::kNVB)) return 0;  // LOC, NVL, NVB
  if (type <= value(PathType::kPXN)) return 1;  // C2C, PIX, PXB, P2C, PXN
  if (type == value(PathType::kPHB)) return 2;
  return 3;                                     // SYS, NET, DIS
}

void check_path_degraded(const Ctx& c, RingGraph& rg) {
  const nccl::Graph& g = rg.graph;
  if (!has_hops(g)) return;
  // Intra-node: typeintra versus the worst topology path over the graph's own hops.
  std::optional<PathType> worst;
  const RingHop* worst_hop = nullptr;
  for (const auto& ch : rg.channels)
    for (const auto& h : ch.hops)
      if (h.type != PathType::kDIS && (!worst || value(h.type) > value(*worst))) {
        worst = h.type;
        worst_hop = &h;
      }
  rg.worst_intra = worst;
  int declared = nccl::path_type_value(g.type_intra);
  if (worst && path_class(declared) > path_class(value(*worst))) {
    Finding f = make_finding(
        "ring.path_degraded", c.a.host, graph_name(g),
        fmt::format("the {} allowed itself {} paths between GPUs (typeintra) although the topology connects "
                    "every pair of its consecutive GPUs at {} or better: NCCL saw the GPUs farther apart than "
                    "the hardware is",
                    graph_name(g), g.type_intra, type_name(*worst)));
    f.severity = path_class(declared) >= 2 ? Severity::kError : Severity::kWarn;
    f.evidence.push_back(fmt::format("graph: pattern {}, nchannels {}, speedintra {}, typeintra {}, typeinter {}",
                                     g.pattern_raw, g.nchannels, g.speed_intra, g.type_intra, g.type_inter));
    if (worst_hop)
      f.evidence.push_back(fmt::format("topology: worst hop GPU{} -> GPU{} is {} at {}", worst_hop->from_dev,
                                       worst_hop->to_dev, type_name(worst_hop->type), gbps(worst_hop->bw_gbps)));
    f.expected = worst_hop ? worst_hop->bw_gbps : 0;
    if (*f.expected <= 0) f.expected.reset();
    f.measured = g.speed_intra * g.nchannels;
    f.unit = "GB/s";
    c.a.findings.push_back(std::move(f));
  }
  // Toward the NICs: typeinter versus the worst path at the graph's NET ends.
  std::optional<PathType> worst_net;
  for (const auto& ch : rg.channels)
    for (const auto* e : {&ch.in, &ch.out})
      if (*e && !(*e)->net.empty() && c.ix.gpu((*e)->gpu_dev) &&
          (!worst_net || value((*e)->type) > value(*worst_net)))
        worst_net = (*e)->type;
  rg.worst_inter = worst_net;
  int declared_inter = nccl::path_type_value(g.type_inter);
  if (worst_net && g.inter_node() && path_class(declared_inter) > path_class(value(*worst_net)) &&
      declared_inter >= value(PathType::kPHB)) {
    Finding f = make_finding(
        "ring.path_degraded", c.a.host, graph_name(g),
        fmt::format("the {} allowed itself {} paths to the NICs (typeinter) although every channel end reaches "
                    "its NIC at {} or better: GPUDirect RDMA or P2P toward the NIC was refused",
                    graph_name(g), g.type_inter, type_name(*worst_net)));
    f.evidence.push_back(fmt::format("graph: typeinter {}, speedinter {}", g.type_inter, g.speed_inter));
    f.hint = "Check NCCL_NET_GDR_LEVEL, NCCL_NET_GDR_READ, that nvidia_peermem or DMA-BUF is available, and "
             "PCIe ACS on the switches between GPUs and NICs.";
    c.a.findings.push_back(std::move(f));
  }
}

/// Flags intra-node connections whose transport is worse than the topology path; returns the
/// (host, from, to) pairs it flagged.
std::set<std::tuple<std::string, int, int>> check_hop_transports(const Ctx& c, const HopTransports& tr) {
  std::set<std::tuple<std::string, int, int>> flagged;
  // One finding per host: intra-node connections that went through the CPU or the NIC where
  // the topology offers P2P.
  std::map<std::string, std::vector<std::string>> bad;
  std::map<std::string, std::vector<std::string>> evidence;
  for (const auto& [key, by_transport] : tr) {
    const auto& [host, from, to] = key;
    if (!c.log_host.empty() && host != c.log_host) continue;
    auto a = c.ix.gpu(from);
    auto b = c.ix.gpu(to);
    if (!a || !b || from == to) continue;
    const topo::PathInfo& p = c.s.gpu_path(*a, *b);
    for (const auto& [transport, lines] : by_transport) {
      std::string t = to_lower(transport);
      bool shm = t.rfind("shm", 0) == 0;
      bool net = t.rfind("net", 0) == 0;
      // P2P is possible up to PXB by default (paths.cc:319); NET beats NVLink never
      // (ncclTopoCheckNet needs a NIC faster than the GPU-GPU path).
      bool degraded = (shm && value(p.type) <= value(PathType::kPXB)) ||
                      (net && value(p.type) <= value(PathType::kNVB));
      if (!degraded) continue;
      flagged.insert(key);
      bad[host].push_back(fmt::format("GPU{}->GPU{} via {} (topology {})", from, to, transport, type_name(p.type)));
      for (const auto& l : lines)
        if (evidence[host].size() < 6) evidence[host].push_back(l);
    }
  }
  for (auto& [host, pairs] : bad) {
    Finding f = make_finding(
        "ring.path_degraded", host, fmt::format("{} intra-node connections", host.empty() ? std::string("log") : host),
        fmt::format("{} GPU pair connection(s) went through {} although the topology offers a direct path: {}",
                    pairs.size(), "the CPU or the NIC", pairs.front()));
    f.severity = Severity::kError;
    for (std::size_t i = 1; i < pairs.size() && i < 8; ++i) f.evidence.push_back(pairs[i]);
    for (auto& l : evidence[host]) f.evidence.push_back(std::move(l));
    c.a.findings.push_back(std::move(f));
  }
  return flagged;
}

void check_crossings(const Ctx& c, const RingGraph& rg) {
  const nccl::Graph& g = rg.graph;
  std::vector<int> chans;
  std::vector<std::string> ev;
  int worst_extra = 0;
  for (const auto& ch : rg.channels) {
    if (ch.socket_hops < 0 || ch.min_socket_hops < 0 || ch.socket_hops <= ch.min_socket_hops) continue;
    chans.push_back(ch.index);
    worst_extra = std::max(worst_extra, ch.socket_hops - ch.min_socket_hops);
    if (ev.size() < 6) {
      std::vector<std::string> order;
      for (int d : ch.gpus) {
        auto gi = c.ix.gpu(d);
        order.push_back(fmt::format("GPU{}(cpu {})", d, gi ? c.s.gpus[*gi].numa : -1));
      }
      ev.push_back(fmt::format("channel {}: {}: {} inter-socket hop(s), {} needed", ch.index, join(order, " "),
                               ch.socket_hops, ch.min_socket_hops));
    }
  }
  if (chans.empty()) return;
  Finding f = make_finding("ring.crosses_socket", c.a.host, graph_name(g),
                           fmt::format("{} channel(s) of the {} ({}) run over the inter-socket link up to {} time(s) "
                                       "more than an order of the same GPUs needs",
                                       chans.size(), graph_name(g), format_ranges(chans), worst_extra));
  f.evidence = std::move(ev);
  c.a.findings.push_back(std::move(f));
}

/// A NIC end is "local" up to PXN: PXN reaches the NIC through an NVLink peer on the NIC's own
/// PCIe switch, which is how NCCL builds rail-aligned rings on NVSwitch systems (§4.8).
bool nic_local(PathType t) { return value(t) <= value(PathType::kPXN); }

void check_nic_far(const Ctx& c, const RingGraph& rg) {
  const nccl::Graph& g = rg.graph;
  if (!g.inter_node()) return;
  struct Hit {
    std::vector<int> channels;
    std::string detail;
  };
  std::map<std::tuple<int, std::int64_t, bool>, Hit> hits;
  for (const auto& ch : rg.channels) {
    bool flagged = false;
    // (a) The GPU at this end has a NIC of its own that is closer.
    for (const auto* ep : {&ch.in, &ch.out}) {
      if (!*ep || (*ep)->net.empty() || !c.ix.gpu((*ep)->gpu_dev)) continue;
      const RingNetEnd& e = **ep;
      auto best = c.ix.best_nic(e.entry, e.gpu_dev);
      if (!best || !nic_local(best->first) || nic_local(e.type) || value(e.type) <= value(best->first)) continue;
      auto& h = hits[{e.gpu_dev, e.net_dev, e.entry}];
      h.channels.push_back(ch.index);
      flagged = true;
      if (h.detail.empty()) {
        const topo::Nic& nic = c.s.nics[best->second];
        h.detail = fmt::format("GPU{} has {} at {}", e.gpu_dev,
                               nic.ports.empty() ? nic.name : nic.ports.front().subject(), type_name(best->first));
      }
    }
    // (b) Another order of the same GPUs would put GPUs local to these NICs at the ends:
    // rings enter at the first GPU and leave at the last, split trees leave at index 1, trees
    // enter and leave at index 0 (search.cc:770-782).
    if (flagged || !ch.in || !ch.out || ch.in->net.empty() || ch.out->net.empty() || ch.gpus.empty()) continue;
    if (!has_hops(g)) continue;
    const bool same_gpu = g.pattern == nccl::GraphPattern::kTree || g.pattern == nccl::GraphPattern::kBalancedTree;
    int actual = std::max(value(ch.in->type), value(ch.out->type));
    if (nic_local(from_value(actual))) continue;
    int best = value(PathType::kDIS) + 1;
    int ba = -1, bb = -1;
    for (int a : ch.gpus)
      for (int b : ch.gpus) {
        if ((a == b) != same_gpu) continue;
        auto ea = c.ix.end(true, ch.in->net_dev, a);
        auto eb = c.ix.end(false, ch.out->net_dev, b);
        if (!ea || !eb || ea->net.empty()) continue;
        int v = std::max(value(ea->type), value(eb->type));
        if (v < best) {
          best = v;
          ba = a;
          bb = b;
        }
      }
    if (ba < 0 || best >= actual) continue;
    const RingNetEnd& e = value(ch.in->type) >= value(ch.out->type) ? *ch.in : *ch.out;
    auto& h = hits[{e.gpu_dev, e.net_dev, e.entry}];
    h.channels.push_back(ch.index);
    if (h.detail.empty())
      h.detail = ba == bb ? fmt::format("attaching GPU{} to the network instead would reach it at {}", ba,
                                        type_name(from_value(best)))
                          : fmt::format("entering at GPU{} and leaving at GPU{} would reach the same NIC(s) at {}", ba,
                                        bb, type_name(from_value(best)));
  }
  if (hits.empty()) return;
  auto describe = [&](const std::tuple<int, std::int64_t, bool>& key, Hit& h) {
    const auto& [gpu_dev, net_dev, entry] = key;
    std::sort(h.channels.begin(), h.channels.end());
    h.channels.erase(std::unique(h.channels.begin(), h.channels.end()), h.channels.end());
    auto e = c.ix.end(entry, net_dev, gpu_dev);
    std::string how = e ? type_name(e->type) : "?";
    if (e && !e->via.empty()) how += " through " + e->via;
    if (e && e->bw_gbps > 0) how += fmt::format(" ({})", gbps(e->bw_gbps));
    return fmt::format("channel(s) {} {} through {} at GPU{}, which reaches it over {}; {}", format_ranges(h.channels),
                       entry ? "enter" : "leave", c.ix.port_name(net_dev), gpu_dev, how, h.detail);
  };
  if (hits.size() <= 2) {
    for (auto& [key, h] : hits) {
      const auto& [gpu_dev, net_dev, entry] = key;
      Finding f = make_finding("ring.nic_far", c.a.host,
                               fmt::format("{} {} {}", c.ix.gpu_name(gpu_dev), entry ? "<-" : "->", c.ix.port_name(net_dev)),
                               fmt::format("{}: {}", graph_name(g), describe(key, h)));
      c.a.findings.push_back(std::move(f));
    }
    return;
  }
  // Many GPU/NIC pairs: the graph is at fault, not one GPU.
  std::set<int> chans;
  std::vector<std::string> lines;
  for (auto& [key, h] : hits) {
    lines.push_back(describe(key, h));
    chans.insert(h.channels.begin(), h.channels.end());
  }
  Finding f = make_finding("ring.nic_far", c.a.host, graph_name(g),
                           fmt::format("{} channel(s) of the {} enter or leave the node through a NIC that is not local "
                                       "to the GPU at that end ({} GPU/NIC pairs), e.g. {}",
                                       chans.size(), graph_name(g), hits.size(), lines.front()));
  f.evidence = std::move(lines);
  c.a.findings.push_back(std::move(f));
}

void check_channels_low(const Ctx& c, const RingGraph& rg, bool paths_explain) {
  const nccl::Graph& g = rg.graph;
  if (g.kind != nccl::GraphKind::kRing || rg.capacity_gbps <= 0 || rg.aggregate_gbps <= 0) return;
  // Degraded paths lower NCCL's speeds and channel counts: that finding is the cause.
  if (paths_explain) return;
  if (g.nchannels >= kMaxRingSearchChannels) return;
  if (rg.aggregate_gbps >= kChannelsLowShare * rg.capacity_gbps) return;
  double speed = g.inter_node() ? g.speed_inter : g.speed_intra;
  std::string nics;
  if (g.inter_node() && rg.nic_ports_usable > 0)
    nics = fmt::format(" over {} of the {} NIC port(s) local to its GPUs", rg.nic_ports_used, rg.nic_ports_usable);
  Finding f = make_finding(
      "ring.channels_low", c.a.host, graph_name(g),
      fmt::format("the {} has {} channel(s) × {:g} GB/s{} = {}, while the topology supports about {} ({} channels at "
                  "that speed)",
                  graph_name(g), g.nchannels, speed, nics, gbps(rg.aggregate_gbps), gbps(rg.capacity_gbps),
                  std::min(rg.channels_needed, 2 * kMaxRingSearchChannels)));
  f.expected = rg.capacity_gbps;
  f.measured = rg.aggregate_gbps;
  f.unit = "GB/s";
  f.evidence.push_back(fmt::format("graph: nchannels {}, speedintra {}, speedinter {}", g.nchannels, g.speed_intra,
                                   g.speed_inter));
  c.a.findings.push_back(std::move(f));
}

bool rdma_name(std::string_view n) {
  for (std::string_view p : {"mlx", "ibp", "irdma", "bnxt_re", "rdmap", "efa", "hfi", "qedr", "erdma", "rocep", "roce"})
    if (n.rfind(p, 0) == 0) return true;
  return false;
}

void check_net_socket(const Ctx& c, const RingGraph& rg, const nccl::RunLog* log, std::set<std::string>& done) {
  std::vector<std::string> rdma;
  for (const auto& n : c.s.nics)
    if (n.rdma) rdma.push_back(n.ports.empty() ? n.name : n.ports.front().subject());
  if (log) {
    std::map<std::string, std::vector<std::string>> socket_lines;
    for (const auto& conn : log->connections)
      if (conn.kind == nccl::TransportKind::kNet && to_lower(conn.net) == "socket" && socket_lines[conn.host].size() < 3)
        socket_lines[conn.host].push_back(conn_evidence(*log, conn));
    for (auto& [host, lines] : socket_lines) {
      if (done.count(host) || (!c.log_host.empty() && host != c.log_host)) continue;
      std::vector<std::string> devs = rdma;
      auto hi = log->hosts.find(host);
      if (hi != log->hosts.end())
        for (const auto& d : hi->second.rdma_devs) devs.push_back(d.name + "/" + d.link_layer);
      if (devs.empty()) continue;
      done.insert(host);
      Finding f = make_finding("ring.net_socket", host, host.empty() ? std::string("NET/Socket") : host + " NET/Socket",
                               fmt::format("inter-node connections use NCCL's Socket transport (TCP) although RDMA "
                                           "devices exist: {}",
                                           join(devs, ", ")));
      f.evidence = std::move(lines);
      c.a.findings.push_back(std::move(f));
    }
    // No connection lines (the job died first, or NCCL < 2.22 lazily): "Using network Socket"
    // on a multi-node job says the same. On one node NCCL prints it without using the NET.
    if (log->multi_node()) {
      for (const auto& [host, info] : log->hosts) {
        if (done.count(host) || (!c.log_host.empty() && host != c.log_host)) continue;
        bool socket = std::any_of(info.networks.begin(), info.networks.end(),
                                  [](const std::string& n) { return to_lower(n) == "socket"; });
        std::vector<std::string> devs = rdma;
        for (const auto& d : info.rdma_devs) devs.push_back(d.name + "/" + d.link_layer);
        if (!socket || devs.empty()) continue;
        done.insert(host);
        Finding f = make_finding("ring.net_socket", host, host.empty() ? std::string("NET/Socket") : host + " NET/Socket",
                                 fmt::format("NCCL chose its Socket transport (TCP) between nodes although RDMA devices "
                                             "exist: {}",
                                             join(devs, ", ")));
        if (!info.network_quote.empty())
          f.evidence.push_back(fmt::format("{}: {}", log->where(info.network_quote.at), info.network_quote.text));
        if (!info.ib_quote.empty())
          f.evidence.push_back(fmt::format("{}: {}", log->where(info.ib_quote.at), info.ib_quote.text));
        c.a.findings.push_back(std::move(f));
      }
    }
  }
  // Without a log: the graph's NICs are plain network interfaces while RDMA NICs exist.
  if (rdma.empty() || done.count("graph:" + c.a.host)) return;
  std::set<std::string> plain;
  for (const auto& ch : rg.graph.channels)
    for (const auto* n : {&ch.net_in, &ch.net_out}) {
      if (!*n) continue;
      auto p = c.ix.port((*n)->local);
      if (!p) continue;
      const topo::Nic& nic = c.s.nics[p->first];
      const topo::NicPort& port = nic.ports[p->second];
      if (!nic.rdma && !rdma_name(port.name)) plain.insert(port.name);
    }
  if (plain.empty()) return;
  done.insert("graph:" + c.a.host);
  Finding f = make_finding("ring.net_socket", c.a.host, graph_name(rg.graph),
                           fmt::format("the {} crosses nodes through {} (not RDMA) although RDMA NICs exist: {}",
                                       graph_name(rg.graph), join({plain.begin(), plain.end()}, ", "), join(rdma, ", ")));
  c.a.findings.push_back(std::move(f));
}

void check_log_consistency(const Ctx& c, const nccl::RunLog& log, const HopTransports& tr,
                           const std::set<std::tuple<std::string, int, int>>& explained) {
  // Hosts that use another transport kind than the majority for the same GPU pair. Pairs
  // already reported as degraded on a host are explained there.
  std::map<std::pair<int, int>, std::map<std::string, std::set<std::string>>> kinds;  // pair -> kind -> hosts
  for (const auto& [key, by_transport] : tr) {
    const auto& [host, from, to] = key;
    for (const auto& [t, lines] : by_transport) kinds[{from, to}][std::string(t.substr(0, t.find('/')))].insert(host);
  }
  // Ties go to the better transport (P2P < SHM < NET): the worse one is the odd one.
  auto rank = [](const std::string& k) { return k == "P2P" ? 0 : k == "SHM" ? 1 : 2; };
  std::map<std::string, std::vector<std::string>> odd;  // host -> descriptions
  for (const auto& [pair, by_kind] : kinds) {
    if (by_kind.size() < 2) continue;
    std::size_t most = 0;
    std::string major;
    for (const auto& [k, hosts] : by_kind)
      if (hosts.size() > most || (hosts.size() == most && rank(k) < rank(major))) {
        most = hosts.size();
        major = k;
      }
    for (const auto& [k, hosts] : by_kind)
      if (k != major)
        for (const auto& h : hosts)
          if (!explained.count({h, pair.first, pair.second}))
            odd[h].push_back(fmt::format("GPU{}->GPU{} via {} where {} host(s) use {}", pair.first, pair.second, k, most, major));
  }
  for (auto& [host, what] : odd) {
    Finding f = make_finding("ring.inconsistent", host, host,
                             fmt::format("{} connects {} GPU pair(s) differently from the other nodes: {}", host,
                                         what.size(), what.front()));
    for (std::size_t i = 1; i < what.size() && i < 8; ++i) f.evidence.push_back(what[i]);
    c.a.findings.push_back(std::move(f));
  }
  // Channel counts per host.
  std::map<std::string, std::set<int>> channels;
  for (const auto& conn : log.connections)
    if (conn.channel >= 0) channels[conn.host].insert(conn.channel);
  if (channels.size() >= 2) {
    std::map<std::size_t, std::vector<std::string>> by_count;
    for (const auto& [h, s] : channels) by_count[s.size()].push_back(h);
    if (by_count.size() > 1) {
      auto major = std::max_element(by_count.begin(), by_count.end(),
                                    [](const auto& a, const auto& b) { return a.second.size() < b.second.size(); });
      for (const auto& [n, hosts] : by_count) {
        if (n == major->first) continue;
        Finding f = make_finding("ring.inconsistent", hosts.front(), join(hosts, ","),
                                 fmt::format("{} logged connections on {} channel(s) where {} host(s) logged {}",
                                             join(hosts, ", "), n, major->second.size(), major->first));
        c.a.findings.push_back(std::move(f));
      }
    }
  }
}

/// Ranks that disagree about a tree (a parent that does not list its child, a child that
/// names another parent), rings that miss or repeat ranks, and the trees between nodes.
void check_log_trees_and_rings(const Ctx& c, const nccl::RunLog& log) {
  auto host_of = [&](int r) {
    auto it = log.ranks.find(r);
    return it == log.ranks.end() ? std::string() : it->second.host;
  };
  std::map<int, std::map<int, const nccl::TreeLink*>> by_channel;
  for (const auto& t : log.trees) by_channel[t.channel][t.rank] = &t;
  std::vector<std::string> bad;
  for (const auto& [ch, links] : by_channel) {
    for (const auto& [r, t] : links) {
      if (t->up >= 0) {
        auto p = links.find(t->up);
        if (p != links.end() && std::find(p->second->down.begin(), p->second->down.end(), r) == p->second->down.end())
          bad.push_back(fmt::format("tree channel {}: rank {} names rank {} as its parent, which does not list it as a child",
                                    ch, r, t->up));
      }
      for (int d : t->down) {
        auto k = links.find(d);
        if (k != links.end() && k->second->up != r)
          bad.push_back(fmt::format("tree channel {}: rank {} lists rank {} as a child, whose parent is rank {}", ch, r, d,
                                    k->second->up));
      }
    }
  }
  if (!bad.empty()) {
    Finding f = make_finding("ring.inconsistent", c.a.host, "trees",
                             fmt::format("ranks disagree about the trees: {} (and {} more)", bad.front(), bad.size() - 1));
    if (bad.size() == 1) f.message = "ranks disagree about the trees: " + bad.front();
    for (std::size_t i = 1; i < bad.size() && i < 8; ++i) f.evidence.push_back(bad[i]);
    c.a.findings.push_back(std::move(f));
  }
  for (const auto& [ch, order] : log.rings) {
    if (log.nranks <= 0 || static_cast<int>(order.size()) != log.nranks) continue;  // cut at 128 chars
    std::vector<int> sorted = order;
    std::sort(sorted.begin(), sorted.end());
    bool perm = true;
    for (int i = 0; i < log.nranks; ++i) perm = perm && sorted[static_cast<std::size_t>(i)] == i;
    if (perm) continue;
    Finding f = make_finding("ring.inconsistent", c.a.host, fmt::format("ring channel {}", ch),
                             fmt::format("ring channel {} as logged does not visit each of the {} ranks once", ch, log.nranks));
    f.severity = Severity::kError;
    c.a.findings.push_back(std::move(f));
    break;
  }
  // Node-level trees: parent host -> child hosts, per channel; identical channels folded.
  std::map<std::string, std::vector<int>> lines;
  for (const auto& [ch, links] : by_channel) {
    std::map<std::string, std::set<std::string>> children;
    std::set<std::string> hosts, has_parent;
    for (const auto& [r, t] : links) {
      std::string h = host_of(r);
      if (h.empty()) continue;
      hosts.insert(h);
      std::string u = t->up >= 0 ? host_of(t->up) : "";
      if (!u.empty() && u != h) {
        children[u].insert(h);
        has_parent.insert(h);
      }
    }
    if (hosts.size() < 2) continue;
    std::vector<std::string> parts;
    for (const auto& h : hosts)
      if (!has_parent.count(h)) parts.push_back("root " + h);
    if (hosts.size() <= 16)
      for (const auto& [p, kids] : children) parts.push_back(p + " -> " + join({kids.begin(), kids.end()}, ","));
    else
      parts.push_back(fmt::format("{} nodes", hosts.size()));
    lines[join(parts, "; ")].push_back(ch);
  }
  for (auto& [text, chans] : lines) c.a.node_trees.push_back(fmt::format("ch {}: {}", format_ranges(chans), text));
}

int infer_nodes(const nccl::GraphFile& gf, const nccl::RunLog* log, const RingsOptions& opts, bool& assumed) {
  assumed = false;
  if (opts.nodes > 0) return opts.nodes;
  if (log) {
    auto hosts = log->host_names();
    if (hosts.size() >= 1 && (log->multi_node() || log->single_node())) return std::max<int>(1, static_cast<int>(hosts.size()));
  }
  assumed = true;
  for (const auto& g : gf.graphs)
    if (g.inter_node()) return 2;
  return 1;
}

}  // namespace

RingsAnalysis analyze_rings(const topo::System& system, const nccl::GraphFile& graphs, const nccl::RunLog* log,
                            const RingsOptions& opts) {
  RingsAnalysis a;
  a.host = system.host;
  a.nodes = infer_nodes(graphs, log, opts, a.nodes_assumed);
  Index ix(system);
  std::optional<HopTransports> tr;
  if (log) tr = intra_node_transports(*log, system);
  Ctx c{system, ix, a, tr ? &*tr : nullptr, opts.log_host};
  for (const auto& n : graphs.notes) a.notes.push_back(graphs.source + ": " + n);

  std::set<std::string> net_socket_done;
  for (const auto& g : graphs.graphs) {
    RingGraph rg;
    rg.graph = g;
    // Multi-node NVLink (GB200 NVL72 and the like): GPUs of other systems in one graph. Their
    // devices are not in this host's topology, and the local system id is not in the file.
    std::set<std::uint32_t> systems;
    for (const auto& ch : g.channels)
      for (const auto& r : ch.gpus) systems.insert(r.system);
    if (systems.size() > 1 || (systems.size() == 1 && *systems.begin() != 0)) {
      for (const auto& ch : g.channels) {
        RingChannel rc;
        rc.index = static_cast<int>(&ch - g.channels.data());
        for (const auto& r : ch.gpus) rc.gpus.push_back(static_cast<int>(r.local));
        rg.channels.push_back(std::move(rc));
      }
      a.notes.push_back(fmt::format("the {} spans {} NVLink-connected systems (MNNVL): its hops need every system's "
                                    "topology and are not checked",
                                    graph_name(g), systems.size()));
      a.graphs.push_back(std::move(rg));
      continue;
    }
    for (std::size_t i = 0; i < g.channels.size(); ++i) rg.channels.push_back(build_channel(c, g, i));
    fill_capacity(c, rg);
    check_resolution(c, rg);
    check_fit(c, rg);
    const std::size_t before = a.findings.size();
    check_path_degraded(c, rg);
    const bool degraded = a.findings.size() > before;
    check_crossings(c, rg);
    check_nic_far(c, rg);
    check_channels_low(c, rg, degraded);
    check_net_socket(c, rg, log, net_socket_done);
    a.graphs.push_back(std::move(rg));
  }
  if (tr) {
    auto explained = check_hop_transports(c, *tr);
    if (opts.compare_hosts) {
      check_log_consistency(c, *log, *tr, explained);
      check_log_trees_and_rings(c, *log);
    }
  }

  // NCCL's model for AllReduce with the ring graph's channels, next to the topology's capacity.
  const RingGraph* ring = nullptr;
  const RingGraph* tree = nullptr;
  for (const auto& rg : a.graphs) {
    if (!ring && rg.graph.kind == nccl::GraphKind::kRing && !rg.graph.channels.empty()) ring = &rg;
    if (!tree && rg.graph.kind == nccl::GraphKind::kTree && !rg.graph.channels.empty()) tree = &rg;
  }
  if (ring) {
    nccl::TuningInput in;
    in.sm_min = 0;
    std::set<int> gpus(ring->channels.front().gpus.begin(), ring->channels.front().gpus.end());
    for (int d : gpus) {
      auto gi = ix.gpu(d);
      if (!gi || system.gpus[*gi].sm <= 0) continue;
      int sm = system.gpus[*gi].sm;
      in.sm_min = in.sm_min == 0 ? sm : std::min(in.sm_min, sm);
      in.sm_max = std::max(in.sm_max, sm);
    }
    std::set<std::string> vendors;
    for (const auto& cpu : system.cpus)
      if (!cpu.vendor.empty()) vendors.insert(cpu.vendor);
    in.amd_or_mixed_cpu = vendors.size() > 1 || vendors.count("AuthenticAMD") > 0;
    in.nodes = a.nodes;
    in.ranks = a.nodes * static_cast<int>(gpus.size());
    a.ranks = in.ranks;
    // Graph fields are reduced across ranks with min (init.cc:1175-1192): nChannels = min(tree, ring).
    in.channels = ring->graph.nchannels;
    if (tree) in.channels = std::min(in.channels, tree->graph.nchannels);
    in.bw_intra = ring->graph.speed_intra;
    in.bw_inter = ring->graph.speed_inter;
    in.type_intra = std::max(0, nccl::path_type_value(ring->graph.type_intra));
    in.type_inter = std::max(0, nccl::path_type_value(ring->graph.type_inter));
    if (tree) {
      in.type_intra = std::max(in.type_intra, nccl::path_type_value(tree->graph.type_intra));
      in.type_inter = std::max(in.type_inter, nccl::path_type_value(tree->graph.type_inter));
      in.tree_pattern_tree = tree->graph.pattern == nccl::GraphPattern::kTree;
    }
    if (in.sm_min > 0) {
      a.predicted = nccl::model_allreduce(in);
      if (ring->capacity_gbps > 0) {
        nccl::TuningInput best = in;
        double speed = a.nodes <= 2 ? in.bw_intra : in.bw_inter;
        if (speed <= kEps) speed = 1;
        // The capacity estimate ignores that opposite rings use opposite link directions: a
        // graph that already carries more is its own lower bound.
        const double cap = std::max(ring->capacity_gbps, in.channels * speed);
        best.channels = std::max(in.channels, static_cast<int>(std::ceil(cap / speed - 1e-6)));
        // Same per-channel speed, as many channels as the capacity allows, and the best path
        // types the topology offers for these GPUs.
        best.bw_intra = best.bw_inter = cap / best.channels;
        if (ring->worst_intra) best.type_intra = std::min(best.type_intra, value(*ring->worst_intra));
        if (ring->worst_inter) best.type_inter = std::min(best.type_inter, value(*ring->worst_inter));
        a.possible = nccl::model_allreduce(best);
      }
    } else {
      a.notes.push_back("the topology gives no GPU compute capability (sm): NCCL's bandwidth model skipped");
    }
    if (a.nodes_assumed && a.nodes > 1)
      a.notes.push_back("the graph has NICs: the model assumes 2 nodes (pass --nodes N or --log for the real count)");
  }
  sort_findings(a.findings);
  return a;
}

std::vector<Finding> compare_node_graphs(const std::vector<std::pair<std::string, const nccl::GraphFile*>>& per_host) {
  std::vector<Finding> out;
  if (per_host.size() < 2) return out;
  auto signature = [](const nccl::Graph& g) {
    std::string s = fmt::format("{} channels x {:g}/{:g} GB/s, {}/{}", g.nchannels, g.speed_intra, g.speed_inter,
                                g.type_intra, g.type_inter);
    return s;
  };
  // Compare each graph id across hosts; the majority is the reference.
  std::map<int, std::map<std::string, std::vector<std::string>>> by_id;
  for (const auto& [host, gf] : per_host)
    for (const auto& g : gf->graphs) by_id[g.id][signature(g)].push_back(host);
  for (const auto& [id, sigs] : by_id) {
    if (sigs.size() < 2) continue;
    auto major = std::max_element(sigs.begin(), sigs.end(),
                                  [](const auto& a, const auto& b) { return a.second.size() < b.second.size(); });
    for (const auto& [sig, hosts] : sigs) {
      if (sig == major->first) continue;
      Finding f = make_finding("ring.inconsistent", hosts.front(), fmt::format("graph id {} on {}", id, join(hosts, ",")),
                               fmt::format("{} computed graph id {} as {} while {} node(s) computed {}; NCCL uses the "
                                           "minimum over all ranks",
                                           join(hosts, ", "), id, sig, major->second.size(), major->first));
      out.push_back(std::move(f));
    }
  }
  return out;
}

namespace {
nlohmann::json end_json(const RingNetEnd& e) {
  nlohmann::json j{{"net_dev", e.net_dev}, {"net", e.net}, {"gpu", e.gpu_dev}, {"type", type_name(e.type)},
                   {"bw_gbps", e.bw_gbps}};
  if (!e.via.empty()) j["via"] = e.via;
  return j;
}
}  // namespace

void to_json(nlohmann::json& j, const RingsAnalysis& a) {
  j = nlohmann::json::object();
  j["host"] = a.host;
  j["nodes"] = a.nodes;
  j["nodes_assumed"] = a.nodes_assumed;
  j["ranks"] = a.ranks;
  auto& gs = j["graphs"] = nlohmann::json::array();
  for (const auto& rg : a.graphs) {
    nlohmann::json g = rg.graph;
    g.erase("channels");
    g["aggregate_gbps"] = rg.aggregate_gbps;
    g["capacity_gbps"] = rg.capacity_gbps;
    g["channels_needed"] = rg.channels_needed;
    if (rg.worst_intra) g["topology_worst_intra"] = type_name(*rg.worst_intra);
    if (rg.worst_inter) g["topology_worst_inter"] = type_name(*rg.worst_inter);
    if (rg.graph.inter_node()) {
      g["nic_ports_used"] = rg.nic_ports_used;
      g["nic_ports_usable"] = rg.nic_ports_usable;
    }
    auto& chs = g["channels"] = nlohmann::json::array();
    for (const auto& ch : rg.channels) {
      nlohmann::json cj{{"index", ch.index}, {"gpus", ch.gpus}};
      auto& hops = cj["hops"] = nlohmann::json::array();
      for (const auto& h : ch.hops) {
        nlohmann::json hj{{"from", h.from_dev}, {"to", h.to_dev},         {"type", type_name(h.type)},
                          {"bw_gbps", h.bw_gbps}, {"crosses_socket", h.crosses_socket}};
        if (!h.transports.empty()) hj["transports"] = h.transports;
        hops.push_back(std::move(hj));
      }
      if (ch.in) cj["net_in"] = end_json(*ch.in);
      if (ch.out) cj["net_out"] = end_json(*ch.out);
      if (ch.socket_hops >= 0) {
        cj["socket_hops"] = ch.socket_hops;
        cj["min_socket_hops"] = ch.min_socket_hops;
      }
      chs.push_back(std::move(cj));
    }
    gs.push_back(std::move(g));
  }
  auto model = [](const nccl::TuningResult& t) {
    return nlohmann::json{{"ring_busbw_gbps", t.ring_busbw},
                          {"ring_protocol", t.ring.best_protocol()},
                          {"tree_busbw_gbps", t.tree_busbw},
                          {"tree_protocol", t.tree.best_protocol()},
                          {"ll128", t.ll128_enabled}};
  };
  if (a.predicted) j["model"] = model(*a.predicted);
  if (a.possible) j["topology_model"] = model(*a.possible);
  j["node_trees"] = a.node_trees;
  j["notes"] = a.notes;
}

// The family: each node's graphs against its topology, then the nodes' graphs compared.
NCD_REGISTER_FAMILY({"rings.graphs", "rings",
                     {"ring.channels_low", "ring.crosses_socket", "ring.graph_foreign", "ring.inconsistent",
                      "ring.net_socket", "ring.nic_far", "ring.path_degraded"},
                     "graph dump",
                     [](const Evidence& ev) { return ev.rings && !ev.rings->empty(); },
                     [](const Evidence& ev, CheckRun& run) {
                       std::vector<std::pair<std::string, const nccl::GraphFile*>> per_host;
                       for (const auto& in : *ev.rings) {
                         RingsAnalysis a = analyze_rings(*in.system, *in.graphs, in.log, in.opts);
                         run.findings.insert(run.findings.end(), a.findings.begin(), a.findings.end());
                         per_host.emplace_back(in.system->host, in.graphs);
                         run.rings.push_back(std::move(a));
                       }
                       auto cmp = compare_node_graphs(per_host);
                       run.findings.insert(run.findings.end(), cmp.begin(), cmp.end());
                       sort_findings(run.findings);
                     }});

}  // namespace ncd::checks
