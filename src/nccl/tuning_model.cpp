// SPDX-License-Identifier: Apache-2.0
#include "nccl/tuning_model.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <set>
#include <vector>

#include "topo/bandwidth.hpp"
#include "topo/model.hpp"

namespace ncd::nccl {
namespace {

// ncclTunerConstantsDefaults (tuning.cc:142-199 @2.28.9), [compCapIdx or cpu row][index2].
constexpr double kLlMaxBws[4][3] = {{39.0, 39.0, 20.4}, {87.7, 22.5, 19.0}, {141.0, 45.0, 35.0}, {282.0, 90.0, 70.0}};
constexpr double kPerChMaxRingLL128Bws[4][3] = {{20.0, 20.0, 20.0}, {20.0, 20.0, 20.0}, {36.7, 36.7, 36.7}, {73.4, 34.6, 73.4}};
constexpr double kPerChMaxTreeLL128Bws[4][3] = {{20.0, 20.0, 20.0}, {20.0, 20.0, 20.0}, {36.7, 36.7, 29.0}, {55.6, 31.67, 20.0}};
constexpr double kPerChMaxTreeBws[4][3] = {{26.5, 18.5, 10.0}, {24.0, 23.6, 17.8}, {38.7, 41.4, 36.0}, {70.0, 42.8, 24.0}};

constexpr int kPathNvb = 2;
constexpr int kPathPxb = 5;
constexpr int kPathPxn = 7;

}  // namespace

int comp_cap_index(int sm) {
  if (sm >= 100) return 3;
  if (sm >= 90) return 2;
  if (sm >= 80) return 1;
  return 0;
}

double ProtoBw::best() const { return std::max({ll, ll128, simple}); }

std::string ProtoBw::best_protocol() const {
  if (simple >= ll128 && simple >= ll) return "Simple";
  return ll128 >= ll ? "LL128" : "LL";
}

TuningResult model_allreduce(const TuningInput& in) {
  TuningResult r;
  if (in.channels <= 0) return r;
  const int cc = comp_cap_index(in.sm_min);
  const int nodes = std::max(1, in.nodes);
  const int index2 = std::min(nodes - 1, 2);
  const int index1 = nodes == 1 ? cc : (in.amd_or_mixed_cpu ? 1 : 0);
  const double ll_max = kLlMaxBws[index1][index2];
  const double nch = in.channels;
  const double bw = nodes <= 2 ? in.bw_intra : in.bw_inter;
  const double bus = nch * bw;

  // LL128 on by default (tuning.cc:406-497): typeInter ≤ PXN on sm90+ (NCCL_LL128_C2C=1), else
  // ≤ PXB; typeIntra ≤ NVB; one GPU generation; sm70+.
  const int inter_limit = in.sm_min >= 90 ? kPathPxn : kPathPxb;
  r.ll128_enabled = in.type_inter <= inter_limit && in.type_intra <= kPathNvb &&
                    in.sm_min == in.sm_max && in.sm_min >= 70;

  r.ring.simple = bus;
  r.ring.ll = std::min(ll_max, bus * 0.5);
  r.ring.ll128 = r.ll128_enabled ? std::min(bus * 0.92, nch * kPerChMaxRingLL128Bws[cc][index2]) : 0;

  const double tree_bus = std::min(bus * 0.92, nch * kPerChMaxTreeBws[cc][index2]);
  r.tree.simple = tree_bus;
  r.tree.ll = std::min(tree_bus / 3.8, ll_max);
  r.tree.ll128 = r.ll128_enabled
                     ? std::min(tree_bus * (nodes == 1 ? 7.0 / 9.0 : 120.0 / 128.0),
                                nch * kPerChMaxTreeLL128Bws[cc][index2])
                     : 0;
  if (in.tree_pattern_tree) {
    r.tree.simple *= 0.85;
    r.tree.ll *= 0.85;
    r.tree.ll128 *= 0.85;
  }
  const int n = std::max(1, in.ranks);
  r.ring_busbw = r.ring.best();
  r.tree_busbw = n > 1 ? r.tree.best() * (n - 1) / n : 0;
  return r;
}

namespace {

// Search speeds (search.cc:976-989 @2.28.9), GB/s per channel.
const std::vector<double>& speed_array(int sm, bool inter) {
  static const std::vector<double> k80i = {40, 30, 20, 18, 15, 12, 10, 9, 7, 6, 5, 4, 3};
  static const std::vector<double> k80n = {48, 30, 28, 24, 20, 18, 15, 12, 10, 9, 7, 6, 5, 4, 3, 2.4, 1.2, 0.24, 0.12};
  static const std::vector<double> k90i = {60, 50, 40, 30, 24, 20, 15, 12, 11, 6, 3};
  static const std::vector<double> k90n = {48, 45, 42, 40, 30, 24, 22, 20, 17.5, 15, 12, 6, 3, 2.4, 1.2, 0.24, 0.12};
  static const std::vector<double> k100i = {90, 80, 70, 60, 50, 40, 30, 24, 20, 19, 18};
  static const std::vector<double> k100n = {96, 48, 45.1, 42, 40, 30, 24, 22, 20, 17.5, 15, 12, 6, 3, 2.4, 1.2, 0.24, 0.12};
  if (sm >= 100) return inter ? k100n : k100i;
  if (sm >= 90) return inter ? k90n : k90i;
  return inter ? k80n : k80i;
}

constexpr int kMaxRingChannels = 32;  // MAXCHANNELS/2 (search.cc, init.cc:1015)

/// Channels of `speed` that links of `caps` GB/s carry: each channel takes `speed` from every
/// link (intra: the tightest GPU link; inter: one NET port each, summed).
int channels_at(double speed, double intra_cap, const std::vector<double>& nets) {
  int intra = static_cast<int>(std::floor(intra_cap / speed + 1e-9));
  if (nets.empty()) return std::min(intra, kMaxRingChannels);
  int inter = 0;
  for (double n : nets) inter += static_cast<int>(std::floor(n / speed + 1e-9));
  return std::min({intra, inter, kMaxRingChannels});
}

}  // namespace

std::optional<EstimatedGraph> estimate_graph(const topo::System& node, int nodes, std::string* why) {
  auto fail = [why](std::string w) -> std::optional<EstimatedGraph> {
    if (why) *why = std::move(w);
    return std::nullopt;
  };
  const auto& g = node.gpus;
  if (g.empty()) return fail("no GPU in the topology");
  nodes = std::max(1, nodes);
  if (g.size() < 2 && nodes < 2) return fail("one GPU on one node: nothing crosses a bus");
  EstimatedGraph e;
  TuningInput& in = e.input;
  for (const auto& gpu : g) {
    if (gpu.sm < 60) return fail(fmt::format("GPU {} has an unknown compute capability (sm {}): NCCL's model has no "
                                             "row for it", gpu.bus_id, gpu.sm));
    in.sm_min = in.sm_min == 0 ? gpu.sm : std::min(in.sm_min, gpu.sm);
    in.sm_max = std::max(in.sm_max, gpu.sm);
  }
  // Intra-node capacity per GPU: the GPU's NVLinks (to an NVSwitch: all of them; direct: the
  // links to its ring neighbour), else the PCI/SYS path to the next GPU.
  double intra_cap = 0;
  std::string path = "NVL";
  bool all_nvl = true;
  for (std::size_t a = 0; a < g.size() && g.size() > 1; ++a) {
    const std::size_t b = (a + 1) % g.size();
    double nvl = 0;
    for (const auto& l : g[a].nvlinks) {
      if (l.active == topo::Tri::kNo || l.xgmi) continue;
      if (l.remote == topo::LinkRemote::kNvSwitch || (l.remote == topo::LinkRemote::kGpu && l.remote_bus_id == g[b].bus_id))
        nvl += l.count * topo::nvlink_bw_per_link(g[a].sm);
    }
    double cap = nvl;
    if (nvl <= 0) {
      all_nvl = false;
      if (node.paths.gpu_gpu.size() != g.size()) return fail("the topology's paths were not computed");
      const auto& p = node.gpu_path(a, b);
      cap = p.bw_gbps;
      path = std::string(topo::to_string(p.type));
    }
    if (cap <= 0) return fail(fmt::format("the link from {} to {} has no known bandwidth", g[a].bus_id, g[b].bus_id));
    intra_cap = intra_cap == 0 ? cap : std::min(intra_cap, cap);
  }
  if (g.size() == 1) intra_cap = topo::kLocBw;
  if (all_nvl) path = "NVL";
  // Inter-node: every NET port (NIC rate), each limited by its path from the GPUs.
  std::vector<double> nets;
  if (nodes > 1) {
    for (const auto& nic : node.nics)
      for (const auto& port : nic.ports)
        if (port.rate_gbps > 0 && port.state != "DOWN") nets.push_back(topo::net_bw(port.rate_gbps));
    if (nets.empty()) return fail("no NIC port of known rate for the inter-node channels");
  }
  const double max_bw = nets.empty() ? intra_cap : std::min(intra_cap, *std::max_element(nets.begin(), nets.end()));
  double total_bw = intra_cap;
  if (!nets.empty()) {
    double sum = 0;
    for (double n : nets) sum += n;
    total_bw = std::min(intra_cap, sum);
  }
  const auto& speeds = speed_array(in.sm_min, nodes > 1);
  std::size_t first = 0;
  while (first < speeds.size() && (speeds[first] > max_bw + 1e-9 || speeds[first] > total_bw + 1e-9)) ++first;
  if (first == speeds.size()) return fail(fmt::format("links of {:.3g} GB/s are below NCCL's slowest search speed", max_bw));
  double best_speed = 0;
  int best_ch = 0;
  for (std::size_t k = first; k < speeds.size() && speeds[k] / speeds[first] > 0.49; ++k) {
    const int ch = channels_at(speeds[k], intra_cap, nets);
    if (ch < 1) continue;
    if (ch * speeds[k] > best_ch * best_speed + 1e-9) {
      best_ch = ch;
      best_speed = speeds[k];
    }
    if (ch * speeds[k] >= total_bw - 1e-9 || ch >= kMaxRingChannels) break;
  }
  if (best_ch < 1) return fail("no channel fits the links");
  // Pass 2: ncclTopoDupChannels (search.cc:961-974).
  if (best_speed >= 25 && !(in.sm_min > 80 && best_speed < 50 && best_ch > 4)) {
    best_ch = std::min(2 * best_ch, 2 * kMaxRingChannels);
    best_speed /= 2;
  }
  in.nodes = nodes;
  in.ranks = nodes * static_cast<int>(g.size());
  in.channels = best_ch;
  in.bw_intra = in.bw_inter = best_speed;
  in.type_intra = static_cast<int>(topo::parse_path_type(path));
  in.type_inter = static_cast<int>(topo::PathType::kPIX);  // NCCL's starting point (search.cc:1000)
  std::set<std::string> vendors;
  for (const auto& cpu : node.cpus)
    if (!cpu.vendor.empty()) vendors.insert(cpu.vendor);
  in.amd_or_mixed_cpu = vendors.size() > 1 || vendors.count("AuthenticAMD") > 0;
  e.path = path;
  e.describe = fmt::format("{} ch x {:g} GB/s ({}), {} GPU(s) x {} node(s)", best_ch, best_speed, path, g.size(), nodes);
  return e;
}

std::optional<BusbwExpectation> expected_busbw(const topo::System& node, int nodes, std::string_view op,
                                               std::string_view algo, std::uint64_t bytes, std::string* why) {
  auto graph = estimate_graph(node, nodes, why);
  if (!graph) return std::nullopt;
  return expected_busbw_for(*graph, std::max(1, nodes), op, algo, bytes, why);
}

std::optional<BusbwExpectation> expected_busbw_for(const EstimatedGraph& g, int nodes, std::string_view op,
                                                   std::string_view algo, std::uint64_t bytes, std::string* why) {
  auto fail = [why](std::string w) -> std::optional<BusbwExpectation> {
    if (why) *why = std::move(w);
    return std::nullopt;
  };
  const EstimatedGraph* graph = &g;
  const TuningInput& in = graph->input;
  const TuningResult m = model_allreduce(in);
  const int n = in.ranks;
  const bool allreduce = op == "allreduce";
  const bool ring_op = allreduce || op == "allgather" || op == "reducescatter" || op == "broadcast" || op == "reduce";
  if (!ring_op) return fail(fmt::format("NCCL's model is not applied to {}", op));
  // nccl-tests busbw factor and NCCL's step count (tuning.cc:268-270).
  const double factor = allreduce ? 2.0 * (n - 1) / n : (op == "allgather" || op == "reducescatter") ? double(n - 1) / n : 1.0;
  const double nsteps = allreduce ? 2.0 * (n - 1) : (op == "allgather" || op == "reducescatter") ? n - 1.0 : double(n);
  // Latencies (µs, tuning.cc:142-199): base per algorithm and protocol, hardware per hop.
  const bool nvl = graph->path == "NVL";
  struct Candidate {
    const char* algo;
    const char* proto;
    double bus;  ///< nccl-tests busbw at large sizes
    double lat;  ///< µs
  };
  std::vector<Candidate> cands;
  const double ring_hw[3] = {nvl ? 0.6 : 1.0, nvl ? 1.9 : 2.5, nvl ? 3.4 : 5.7};
  const double ring_base[3] = {6.6, 14, 8.4};
  const double ProtoBw::*protos[3] = {&ProtoBw::ll, &ProtoBw::ll128, &ProtoBw::simple};
  const char* names[3] = {"LL", "LL128", "Simple"};
  const double net_hw[3] = {2.7, 4.0, 14.0};
  for (int p = 0; p < 3; ++p) {
    const double nInter = nodes > 1 ? (allreduce ? 2.0 * (nodes - 1) : nodes - 1.0) : 0;
    const double lat = ring_base[p] + (nsteps - nInter) * ring_hw[p] + nInter * net_hw[p];
    cands.push_back({"ring", names[p], m.ring.*protos[p], lat});
  }
  if (allreduce) {
    const double tree_hw[3] = {nvl ? 0.6 : 1.0, nvl ? 1.25 : 1.9, 4.0};
    const double tree_base[3] = {6.8, 14, 8.4};
    const double tree_net[3] = {5.0, 8.5, 14};
    const int ppn = std::max(1, n / std::max(1, nodes));
    for (int p = 0; p < 3; ++p) {
      const double lat = tree_base[p] + 2 * ((ppn - 1) * tree_hw[p] + std::log2(std::max(1, nodes)) * tree_net[p]);
      cands.push_back({"tree", names[p], (m.tree.*protos[p]) * (n - 1) / n, lat});
    }
  }
  const std::string want(algo);
  if (want != "ring" && want != "tree" && want != "native") return fail(fmt::format("NCCL's model has no {} here", algo));
  if (want == "tree" && !allreduce) return fail(fmt::format("NCCL's tree runs allreduce only, not {}", op));
  // The model's time for this size; NCCL picks the fastest (algorithm,) protocol.
  const double S = static_cast<double>(std::max<std::uint64_t>(bytes, 1));
  const Candidate* best = nullptr;
  double best_t = 0;
  for (const auto& c : cands) {
    if (c.bus <= 0 || (want != "native" && want != c.algo)) continue;
    const double algbw = c.bus / factor;  // GB/s
    const double t = c.lat + S / (1000.0 * algbw);
    if (!best || t < best_t) {
      best = &c;
      best_t = t;
    }
  }
  if (!best) return fail("NCCL's model gives no bandwidth for this graph");
  BusbwExpectation out;
  out.busbw_gbps = factor * S / (1000.0 * best_t);
  out.protocol = best->proto;
  out.basis = fmt::format("NCCL 2.28 model: {}, {} {}", graph->describe, best->algo, best->proto);
  return out;
}

}  // namespace ncd::nccl
