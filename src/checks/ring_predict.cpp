// SPDX-License-Identifier: Apache-2.0
#include "checks/ring_predict.hpp"
#include "checks/registry.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "core/catalogue.hpp"
#include "nccl/search_system.hpp"
#include "nccl/tuning_model.hpp"
#include "topo/paths.hpp"

namespace ncd::checks {

NCD_REGISTER_CHECK({"ring.predicted_degraded", Severity::kWarn, "rings",
                    "NCCL will build slower rings or trees on this node because of one part",
                    "The graphs NCCL's search will build from this node's topology (channels x speed) "
                    "are worse than the graphs it would build if one part were like its siblings: a GPU "
                    "with fewer NVLinks than the other GPUs, a NIC that sits away from the GPUs while a "
                    "GPU has no NIC of its own, a NIC port at a lower rate or a device at a narrower "
                    "PCIe width than its identical siblings. The finding names that part.",
                    "NCCL's graph search is replayed on the topology (nccl-internals §4: speed arrays, "
                    "per-hop bandwidth accounting, PCI order first, NVSwitch neighbours, NIC choice, "
                    "fallbacks, channel duplication), once as found and once per suspect part restored "
                    "to its siblings' value; a restored part that raises nChannels x speed is reported.",
                    "Repair or reseat the part (NVLink/NVSwitch tray, NIC slot, cable or port speed, "
                    "PCIe link), then compare nccl-doctor rings --topo-xml before and after.",
                    need::kGpu});
namespace {

constexpr std::uint64_t kLargeBytes = std::uint64_t{1} << 30;

std::string num(double v) { return fmt::format("{:g}", v); }

std::string net_text(std::int64_t d) { return d >= 0 ? fmt::format("NET{}", d) : "-"; }

std::vector<int> dump_gpus(const nccl::GraphChannel& c) {
  std::vector<int> out;
  for (const auto& r : c.gpus) out.push_back(static_cast<int>(r.local));
  return out;
}

nccl::EstimatedGraph estimated(const topo::System& node, const nccl::PredictedGraph& g, int nodes, bool tree_pattern_tree) {
  nccl::EstimatedGraph e;
  nccl::TuningInput& in = e.input;
  for (const auto& gpu : node.gpus) {
    if (gpu.sm <= 0) continue;
    in.sm_min = in.sm_min == 0 ? gpu.sm : std::min(in.sm_min, gpu.sm);
    in.sm_max = std::max(in.sm_max, gpu.sm);
  }
  in.nodes = nodes;
  in.ranks = nodes * static_cast<int>(node.gpus.size());
  in.channels = g.nchannels;
  in.bw_intra = g.speed_intra;
  in.bw_inter = g.speed_inter;
  in.type_intra = std::max(0, nccl::path_type_value(g.type_intra));
  in.type_inter = std::max(0, nccl::path_type_value(g.type_inter));
  std::set<std::string> vendors;
  for (const auto& c : node.cpus)
    if (!c.vendor.empty()) vendors.insert(c.vendor);
  in.amd_or_mixed_cpu = vendors.size() > 1 || vendors.count("AuthenticAMD") > 0;
  in.tree_pattern_tree = tree_pattern_tree;
  e.path = g.type_intra;
  e.describe = summary(g);
  return e;
}

void add_busbw(const topo::System& node, ScopedPrediction& sp) {
  const auto* ring = sp.prediction.find(nccl::GraphKind::kRing);
  const auto* tree = sp.prediction.find(nccl::GraphKind::kTree);
  if (!ring || ring->fallback) {
    sp.busbw_notes.push_back("no ring graph: NCCL's model is not applied");
    return;
  }
  struct Want { const char* op; const char* algo; const nccl::PredictedGraph* g; };
  const Want wants[] = {{"allreduce", "ring", ring}, {"allreduce", "tree", tree}, {"allgather", "ring", ring},
                        {"reducescatter", "ring", ring}, {"broadcast", "ring", ring}, {"reduce", "ring", ring}};
  for (const auto& w : wants) {
    if (!w.g || w.g->nchannels == 0) continue;
    std::string why;
    auto e = estimated(node, *w.g, sp.nodes, w.g->pattern == 3);
    auto b = nccl::expected_busbw_for(e, sp.nodes, w.op, w.algo, kLargeBytes, &why);
    if (b) sp.busbw.push_back({w.op, w.algo, b->protocol, b->busbw_gbps});
    else sp.busbw_notes.push_back(fmt::format("{} {}: {}", w.op, w.algo, why));
  }
}

// ---- comparison with a dump ------------------------------------------------------------

bool same_shape(const nccl::PredictedGraph& p, const nccl::Graph& d) {
  return p.nchannels == d.nchannels && std::abs(p.speed_intra - d.speed_intra) < 1e-3 &&
         std::abs(p.speed_inter - d.speed_inter) < 1e-3;
}

/// Variants of the topology and of NCCL that may explain a difference: what NCCL would have seen.
struct Variant {
  std::string what;
  topo::System sys;
  int version = 228;
};

std::vector<Variant> variants(const topo::System& node) {
  std::vector<Variant> out;
  out.push_back({"NCCL 2.18's search", node, 218});
  bool blank = std::any_of(node.pci.begin(), node.pci.end(), [](const topo::PciDevice& d) { return d.speed_text.empty(); });
  for (const char* gen : {"16.0 GT/s PCIe", "32.0 GT/s PCIe"}) {
    if (!blank) break;
    topo::System v = node;
    for (auto& d : v.pci)
      if (d.speed_text.empty()) d.speed_text = gen;
    std::string what = fmt::format("the PCI elements with an empty link_speed read as {} (NCCL reads an empty one as Gen3)", gen);
    out.push_back({what, v, 228});
    out.push_back({what + " and NCCL 2.18's search", v, 218});
  }
  return out;
}

void explain(GraphComparison& c, const nccl::PredictedGraph& p, const nccl::Graph& d, const nccl::GraphFile& dump,
             const topo::System& node, const nccl::PredictOptions& o) {
  const nccl::Graph* ring = dump.find(nccl::GraphKind::kRing);
  if (d.kind == nccl::GraphKind::kTree && ring && d.nchannels != ring->nchannels)
    c.explanations.push_back(fmt::format(
        "the dump's tree has {} channels and its ring {}: NCCL searches the tree with exactly the ring's channel count "
        "(init.cc), so this file was not written by one NCCL search (edited, or older than NCCL 2.12)",
        d.nchannels, ring->nchannels));
  if (!same_shape(p, d)) {
    nccl::PredictOptions v = o;
    v.nvls = false;
    for (const auto& var : variants(node)) {
      nccl::PredictOptions vo = v;
      vo.version = var.version;
      auto alt = nccl::predict_graphs(var.sys, vo);
      const auto* ag = alt.find(d.kind);
      if (ag && same_shape(*ag, d)) c.explanations.push_back("reproduced with " + var.what);
    }
    bool geforce = std::any_of(node.pci.begin(), node.pci.end(), [](const topo::PciDevice& x) {
      return x.kind == topo::PciKind::kGpu && nccl::search::geforce_p2p_blocked(x.vendor, x.device);
    });
    if (geforce) {
      v.assume_p2p_ok = !o.assume_p2p_ok;
      auto alt = nccl::predict_graphs(node, v);
      const auto* ag = alt.find(d.kind);
      if (ag && same_shape(*ag, d))
        c.explanations.push_back(v.assume_p2p_ok ? "reproduced when NVML allows PCIe P2P on these GeForce boards"
                                                 : "reproduced when NVML refuses PCIe P2P on these GeForce boards");
    }
    if (p.nchannels != d.nchannels)
      c.explanations.push_back("NCCL_MIN_NCHANNELS / NCCL_MAX_NCHANNELS do not explain it: they act after the search and "
                               "are not in the dump");
  }
  if (c.explanations.empty() && !c.diffs.empty())
    c.explanations.push_back("not explained by the topology: a setting (NCCL_GRAPH_FILE, NCCL_P2P_LEVEL, NCCL_CROSS_NIC, "
                             "NCCL_NET_GDR_LEVEL), a topology that changed since the dump, or a search difference");
}

}  // namespace

std::string summary(const nccl::PredictedGraph& g) {
  if (g.nchannels == 0) return fmt::format("{}: none", nccl::to_string(g.kind));
  return fmt::format("{} {} x {}/{} GB/s {}/{}{}", nccl::to_string(g.kind), g.nchannels, num(g.speed_intra),
                     num(g.speed_inter), g.type_intra, g.type_inter, g.fallback ? " (fallback order)" : "");
}

double aggregate(const nccl::PredictedGraph& g, bool inter) {
  return g.nchannels * (inter ? g.speed_inter : g.speed_intra);
}

std::vector<GraphComparison> compare_prediction(const nccl::Prediction& p, const nccl::GraphFile& dump,
                                                const topo::System& node, const nccl::PredictOptions& o) {
  std::vector<GraphComparison> out;
  for (nccl::GraphKind k : {nccl::GraphKind::kRing, nccl::GraphKind::kTree, nccl::GraphKind::kNvls}) {
    const nccl::Graph* d = dump.find(k);
    const nccl::PredictedGraph* g = p.find(k);
    if (!d && (!g || g->nchannels == 0)) continue;
    GraphComparison c;
    c.kind = k;
    c.in_dump = d != nullptr;
    c.predicted = g != nullptr && g->nchannels > 0;
    if (!d || !g) {
      c.diffs.push_back({"graph", g ? summary(*g) : "none", d ? "present" : "none"});
      out.push_back(std::move(c));
      continue;
    }
    auto diff = [&](const char* f, std::string a, std::string b) {
      if (a != b) c.diffs.push_back({f, std::move(a), std::move(b)});
    };
    diff("nchannels", std::to_string(g->nchannels), std::to_string(d->nchannels));
    diff("speedintra", num(std::round(g->speed_intra * 1000) / 1000), num(std::round(d->speed_intra * 1000) / 1000));
    diff("speedinter", num(std::round(g->speed_inter * 1000) / 1000), num(std::round(d->speed_inter * 1000) / 1000));
    diff("typeintra", g->type_intra, d->type_intra);
    diff("typeinter", g->type_inter, d->type_inter);
    diff("pattern", std::to_string(g->pattern), std::to_string(d->pattern_raw));
    const std::size_t n = std::min(g->channels.size(), d->channels.size());
    std::vector<std::string> bad;
    for (std::size_t i = 0; i < n; ++i) {
      ++c.channels_compared;
      bool ok = nccl::same_order_up_to_rotation(g->channels[i].gpus, dump_gpus(d->channels[i]));
      const auto& dc = d->channels[i];
      std::int64_t din = dc.net_in ? dc.net_in->local : -1, dout = dc.net_out ? dc.net_out->local : -1;
      bool nets = k == nccl::GraphKind::kNvls || (g->channels[i].net_in == din && g->channels[i].net_out == dout);
      if (ok) ++c.orders_equal;
      if (!ok || !nets) bad.push_back(std::to_string(i));
    }
    if (!bad.empty()) {
      std::string pred, dumped;
      const std::size_t i = static_cast<std::size_t>(std::stoi(bad.front()));
      for (int x : g->channels[i].gpus) pred += fmt::format("{} ", x);
      for (int x : dump_gpus(d->channels[i])) dumped += fmt::format("{} ", x);
      pred += fmt::format("[{} {}]", net_text(g->channels[i].net_in), net_text(g->channels[i].net_out));
      dumped += fmt::format("[{} {}]", net_text(d->channels[i].net_in ? d->channels[i].net_in->local : -1),
                            net_text(d->channels[i].net_out ? d->channels[i].net_out->local : -1));
      c.diffs.push_back({fmt::format("order (channel {} of {} differing)", bad.front(), bad.size()), pred, dumped});
    }
    explain(c, *g, *d, dump, node, o);
    out.push_back(std::move(c));
  }
  return out;
}

// ---- what-if: the part that makes the prediction worse -----------------------------------

namespace {

struct Repair {
  std::string subject;
  std::string what;
  bool intra = true;  ///< matters inside the node (else only between nodes)
  topo::System fixed;
};

std::string dev_key(const topo::System& s, const std::string& bus) {
  const auto* d = s.find_pci(bus);
  return d ? fmt::format("{:04x}:{:04x}", d->vendor, d->device) : "";
}

void nvlink_repairs(const topo::System& s, std::vector<Repair>& out) {
  std::map<int, std::size_t> best;  // sm -> GPU with the most NVLinks
  for (std::size_t i = 0; i < s.gpus.size(); ++i) {
    auto it = best.find(s.gpus[i].sm);
    if (it == best.end() || s.gpus[i].nvlinks_up() > s.gpus[it->second].nvlinks_up()) best[s.gpus[i].sm] = i;
  }
  for (std::size_t i = 0; i < s.gpus.size(); ++i) {
    const auto& ref = s.gpus[best[s.gpus[i].sm]];
    bool all_nvs = std::all_of(ref.nvlinks.begin(), ref.nvlinks.end(),
                               [](const topo::NvLink& l) { return l.remote == topo::LinkRemote::kNvSwitch; });
    if (s.gpus[i].nvlinks_up() >= ref.nvlinks_up() || !all_nvs) continue;
    Repair r{s.gpu_subject(i),
             fmt::format("{} NVLinks where its siblings have {}", s.gpus[i].nvlinks_up(), ref.nvlinks_up()), true, s};
    r.fixed.gpus[i].nvlinks = ref.nvlinks;
    out.push_back(std::move(r));
  }
}

void nic_place_repairs(const topo::System& s, std::vector<Repair>& out) {
  if (s.paths.gpu_nic.size() != s.gpus.size() || s.nics.empty()) return;
  auto near = [&](std::size_t g, std::size_t n) { return s.paths.gpu_nic[g][n].pci_type <= topo::PathType::kPXB; };
  std::vector<std::size_t> lonely_gpus, far_nics;
  for (std::size_t g = 0; g < s.gpus.size(); ++g) {
    bool any = false;
    for (std::size_t n = 0; n < s.nics.size(); ++n) any = any || (s.nics[n].rdma && near(g, n));
    if (!any) lonely_gpus.push_back(g);
  }
  for (std::size_t n = 0; n < s.nics.size(); ++n) {
    bool any = false;
    for (std::size_t g = 0; g < s.gpus.size(); ++g) any = any || near(g, n);
    if (s.nics[n].rdma && !any && !s.nics[n].bus_id.empty()) far_nics.push_back(n);
  }
  if (lonely_gpus.size() * 2 > s.gpus.size()) return;  // most GPUs have no NIC: a design, not a fault
  for (std::size_t k = 0; k < std::min(lonely_gpus.size(), far_nics.size()); ++k) {
    const auto& gpu = s.gpus[lonely_gpus[k]];
    const auto& nic = s.nics[far_nics[k]];
    const auto* gd = s.find_pci(gpu.bus_id);
    if (!gd) continue;
    Repair r{fmt::format("NIC {} {}", nic.name, nic.bus_id),
             fmt::format("no GPU on its PCIe switch, while {} has no NIC of its own", s.gpu_subject(lonely_gpus[k])),
             false, s};
    auto* nd = r.fixed.find_pci(nic.bus_id);
    if (!nd) continue;
    nd->parent = gd->parent;
    nd->numa = gd->numa;
    r.fixed.nics[far_nics[k]].numa = gd->numa;
    out.push_back(std::move(r));
  }
}

void rate_width_repairs(const topo::System& s, std::vector<Repair>& out) {
  std::map<std::string, double> rate;  // NIC model -> best port rate
  std::map<std::string, int> width;    // device model -> widest link
  for (const auto& n : s.nics)
    for (const auto& p : n.ports) rate[dev_key(s, n.bus_id)] = std::max(rate[dev_key(s, n.bus_id)], p.rate_gbps);
  for (const auto& d : s.pci) width[dev_key(s, d.bus_id)] = std::max(width[dev_key(s, d.bus_id)], d.link.max_width);
  for (std::size_t n = 0; n < s.nics.size(); ++n)
    for (std::size_t p = 0; p < s.nics[n].ports.size(); ++p) {
      const auto& port = s.nics[n].ports[p];
      double best = rate[dev_key(s, s.nics[n].bus_id)];
      if (port.rate_gbps <= 0 || port.rate_gbps >= best || dev_key(s, s.nics[n].bus_id).empty()) continue;
      Repair r{"NIC port " + port.subject(), fmt::format("{:g} Gb/s where identical ports run {:g}", port.rate_gbps, best), false, s};
      r.fixed.nics[n].ports[p].rate_gbps = best;
      out.push_back(std::move(r));
    }
  for (const auto& d : s.pci) {
    bool gpu = d.kind == topo::PciKind::kGpu, nic = d.kind == topo::PciKind::kNic;
    int best = width[dev_key(s, d.bus_id)];
    if ((!gpu && !nic) || d.link.max_width <= 0 || d.link.max_width >= best) continue;
    Repair r{fmt::format("{} {}", gpu ? "GPU" : "NIC", d.bus_id), fmt::format("PCIe x{} where identical devices have x{}", d.link.max_width, best), gpu, s};
    r.fixed.find_pci(d.bus_id)->link.max_width = best;
    out.push_back(std::move(r));
  }
}

void what_if(const topo::System& node, const RingsPredictOptions& opts, RingsPrediction& out) {
  topo::System s = node;
  if (s.paths.gpu_nic.size() != s.gpus.size()) topo::compute_paths(s);
  std::vector<Repair> repairs;
  nvlink_repairs(s, repairs);
  nic_place_repairs(s, repairs);
  rate_width_repairs(s, repairs);
  for (auto& r : repairs) {
    for (const auto& sp : out.scopes) {
      const bool inter = sp.prediction.inter;
      if (!inter && !r.intra) continue;
      const auto* now = sp.prediction.find(nccl::GraphKind::kRing);
      if (!now) continue;
      nccl::PredictOptions o = opts.nccl;
      o.nodes = sp.nodes;
      o.nvls = false;
      auto alt = nccl::predict_graphs(r.fixed, o);
      const auto* fixed = alt.find(nccl::GraphKind::kRing);
      if (!fixed || aggregate(*fixed, inter) <= aggregate(*now, inter) + 1e-6) continue;
      std::string scope = inter ? fmt::format("between nodes ({} nodes)", sp.nodes) : "inside the node";
      Finding f = make_finding("ring.predicted_degraded", node.host, r.subject,
                               fmt::format("NCCL will build {} {} because {} has {}; like its siblings it would build {}",
                                           summary(*now), scope, r.subject, r.what, summary(*fixed)));
      f.expected = aggregate(*fixed, inter);
      f.measured = aggregate(*now, inter);
      f.unit = "GB/s";
      f.evidence.push_back(fmt::format("predicted {}: {}", scope, summary(*now)));
      f.evidence.push_back(fmt::format("with {} restored: {}", r.subject, summary(*fixed)));
      out.findings.push_back(std::move(f));
      break;  // one finding per part: the first scope it degrades
    }
  }
}

}  // namespace

RingsPrediction predict_rings(const topo::System& node, const nccl::GraphFile* dump, const RingsPredictOptions& opts) {
  RingsPrediction out;
  std::vector<int> scopes;
  const bool has_nets = std::any_of(node.nics.begin(), node.nics.end(), [](const topo::Nic& n) { return !n.ports.empty(); });
  int dump_nodes = 1;
  if (dump)
    for (const auto& g : dump->graphs)
      if (g.inter_node()) dump_nodes = 2;
  if (dump) scopes.push_back(opts.nodes > 0 ? opts.nodes : dump_nodes);
  else if (opts.nodes > 0) scopes.push_back(opts.nodes);
  else {
    scopes.push_back(1);
    if (has_nets) scopes.push_back(2);
  }
  for (int n : scopes) {
    ScopedPrediction sp;
    sp.nodes = n;
    nccl::PredictOptions o = opts.nccl;
    o.nodes = n;
    sp.prediction = nccl::predict_graphs(node, o);
    if (n > 1 && !sp.prediction.inter) sp.nodes = 1;
    add_busbw(node, sp);
    out.scopes.push_back(std::move(sp));
  }
  if (dump && !out.scopes.empty()) {
    nccl::PredictOptions o = opts.nccl;
    o.nodes = out.scopes.front().nodes;
    out.comparisons = compare_prediction(out.scopes.front().prediction, *dump, node, o);
    for (const auto& c : out.comparisons)
      if (!c.diffs.empty())
        out.notes.push_back(fmt::format("the dumped {} graph differs from the prediction ({} field(s)); see the "
                                        "comparison", nccl::to_string(c.kind), c.diffs.size()));
  }
  if (opts.what_if) what_if(node, opts, out);
  return out;
}

std::vector<Finding> predicted_node_findings(const std::vector<std::pair<std::string, const topo::System*>>& nodes,
                                             int job_nodes, std::vector<std::string>* notes) {
  struct Group {
    const topo::System* sys = nullptr;
    std::vector<std::string> hosts;
    nccl::PredictedGraph ring;
    bool have = false;
  };
  std::map<std::string, Group> groups;
  for (const auto& [digest, sys] : nodes) {
    Group& g = groups[digest];
    if (!g.sys) g.sys = sys;
    g.hosts.push_back(sys->host);
  }
  nccl::PredictOptions o;
  o.nodes = std::max(1, job_nodes);
  o.nvls = false;
  const bool inter = o.nodes > 1;
  double best = 0;
  std::string best_text;
  for (auto& [digest, g] : groups) {
    auto p = nccl::predict_graphs(*g.sys, o);
    if (const auto* r = p.find(nccl::GraphKind::kRing)) g.ring = *r, g.have = true;
    if (g.have && aggregate(g.ring, inter) > best) best = aggregate(g.ring, inter), best_text = summary(g.ring);
    if (notes && g.have)
      notes->push_back(fmt::format("predicted for {} node(s) like {} ({}): {}", g.hosts.size(), g.hosts.front(),
                                   digest.substr(0, 8), summary(g.ring)));
  }
  std::vector<Finding> out;
  for (auto& [digest, g] : groups) {
    if (!g.have || aggregate(g.ring, inter) >= best - 1e-6) continue;
    RingsPredictOptions ro;
    ro.nodes = o.nodes;
    auto parts = predict_rings(*g.sys, nullptr, ro).findings;
    for (const auto& h : g.hosts) {
      if (parts.empty()) {
        Finding f = make_finding("ring.predicted_degraded", h, h,
                                 fmt::format("NCCL will build {} on this node, {} on its best siblings; no single part "
                                             "explains it (compare the nodes' topologies: nccl-doctor topo)",
                                             summary(g.ring), best_text));
        f.expected = best;
        f.measured = aggregate(g.ring, inter);
        f.unit = "GB/s";
        out.push_back(std::move(f));
      }
      for (Finding f : parts) {
        f.host = h;
        f.evidence.push_back(fmt::format("best sibling topology: {}", best_text));
        out.push_back(std::move(f));
      }
    }
  }
  return out;
}

void to_json(nlohmann::json& j, const GraphComparison& c) {
  nlohmann::json diffs = nlohmann::json::array();
  for (const auto& d : c.diffs) diffs.push_back({{"field", d.field}, {"predicted", d.predicted}, {"dumped", d.dumped}});
  j = nlohmann::json{{"kind", std::string(nccl::to_string(c.kind))},
                     {"in_dump", c.in_dump},
                     {"predicted", c.predicted},
                     {"matches", c.matches()},
                     {"channels_compared", c.channels_compared},
                     {"orders_equal", c.orders_equal},
                     {"diffs", diffs},
                     {"explanations", c.explanations}};
}

void to_json(nlohmann::json& j, const ScopedPrediction& s) {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& r : s.busbw)
    rows.push_back({{"op", r.op}, {"algo", r.algo}, {"protocol", r.protocol}, {"busbw_gbps", r.busbw_gbps}});
  j = nlohmann::json{{"nodes", s.nodes},
                     {"max_bw", s.prediction.max_bw},
                     {"total_bw", s.prediction.total_bw},
                     {"comm_channels", s.prediction.comm_channels},
                     {"busbw", rows},
                     {"notes", s.prediction.notes}};
  for (const auto& n : s.busbw_notes) j["notes"].push_back(n);
}

// The family: NCCL's graphs predicted once per distinct topology, nodes worse than their
// siblings named.
NCD_REGISTER_FAMILY({"rings.predicted", "rings", {"ring.predicted_degraded"}, "topology model to predict from",
                     [](const Evidence& ev) { return ev.predicted && !ev.predicted->empty(); },
                     [](const Evidence& ev, CheckRun& run) {
                       auto found = predicted_node_findings(*ev.predicted, ev.job_nodes, &run.notes);
                       run.findings.insert(run.findings.end(), found.begin(), found.end());
                     }});

}  // namespace ncd::checks
