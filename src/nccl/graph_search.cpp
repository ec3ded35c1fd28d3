// SPDX-License-Identifier: Apache-2.0
// NCCL's graph search replayed (nccl-internals.md §4.1-4.5), written from the reference and
// from reading NCCL 2.28 graph/search.cc; the structure follows NCCL's so that ties, budgets
// and fallbacks resolve the same way.
#include "nccl/graph_search.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <fmt/format.h>
#include <map>

#include "nccl/search_system.hpp"

namespace ncd::nccl {
namespace {

using namespace search;

enum Pattern : int { kBalancedTree = 1, kSplitTree = 2, kTree = 3, kRing = 4, kNvls = 5 };
constexpr std::int64_t kGlobalTimeout = std::int64_t{1} << 19;
constexpr std::int64_t kTimeout = 1 << 14;
constexpr std::int64_t kTimeoutSame = 1 << 8;
constexpr int kForcedPci = 1, kForcedReplay = 2;
constexpr int kMaxChannels = 64;
constexpr int kMaxGpus = 64;  ///< GPUs per node the replay handles (NCCL's used-flags are 64 bits too)

const std::vector<double> kIntra = {40, 30, 20, 18, 15, 12, 10, 9, 7, 6, 5, 4, 3};
const std::vector<double> kInter = {48, 30, 28, 24, 20, 18, 15, 12, 10, 9, 7, 6, 5, 4, 3, 2.4, 1.2, 0.24, 0.12};
const std::vector<double> kIntra90 = {60, 50, 40, 30, 24, 20, 15, 12, 11, 6, 3};
const std::vector<double> kInter90 = {48, 45, 42, 40, 30, 24, 22, 20, 17.5, 15, 12, 6, 3, 2.4, 1.2, 0.24, 0.12};
const std::vector<double> kIntra90v218 = {60, 40, 30, 24, 20, 15, 12, 6, 3};
const std::vector<double> kInter90v218 = {48, 45, 42, 40, 30, 24, 20, 17.5, 15, 12, 6, 3, 2.4, 1.2, 0.24, 0.12};
const std::vector<double> kIntra100 = {90, 80, 70, 60, 50, 40, 30, 24, 20, 19, 18};
const std::vector<double> kInter100 = {96, 48, 45.1, 42, 40, 30, 24, 22, 20, 17.5, 15, 12, 6, 3, 2.4, 1.2, 0.24, 0.12};

struct SGraph {
  int pattern = kRing;
  int crossnic = 0;
  int nchannels = 0;
  double bw_intra = 0, bw_inter = 0;
  int type_intra = 0, type_inter = 0;
  int same_channels = 0;
  int min_channels = 1, max_channels = 32;
  int nhops = 0;
  std::vector<int> intra;  ///< [channel * ngpus + step] GPU index
  std::vector<int> inter;  ///< [channel * 2 + 0/1] NET index
};

double sub_round(double a, double b) { return std::round((a - b) * 1000) / 1000; }

struct Search {
  SearchSystem& sys;
  int ngpus;
  std::vector<std::uint64_t> used;
  std::int64_t steps = 0;

  Node& node(int id) { return sys.nodes[static_cast<std::size_t>(id)]; }

  /// followPath: spend `bw` on the first `max_steps` links of the path; returns the steps done.
  int follow(const Path& p, int start, int max_steps, double bw) {
    double pci_bw = bw;
    for (const auto& h : p.hops) {
      const Node& to = node(node(h.first).links[static_cast<std::size_t>(h.second)].to);
      if (to.kind == kCpu && p.type == kPathPhb && node(start).kind == kGpu && to.x86 && to.intel) pci_bw = bw * 6 / 5;
    }
    int cur = start;
    for (int s = 0; s < max_steps; ++s) {
      Link& l = node(p.hops[static_cast<std::size_t>(s)].first).links[static_cast<std::size_t>(p.hops[static_cast<std::size_t>(s)].second)];
      Node& rem = node(l.to);
      double fw = l.type == kLinkPci ? pci_bw : bw, rev_bw = 0;
      if (rem.kind == kGpu && rem.sm < 80 && node(start).kind != kGpu) rev_bw += fw / 8;
      if (rem.kind == kCpu && rem.power && l.type == kLinkNvl) rev_bw += fw;
      Link* rev = nullptr;
      if (rev_bw != 0)
        for (auto& r : rem.links)
          if (r.to == cur && r.type == l.type) rev = &r;
      if (l.bw < fw || (rev && rev->bw < rev_bw)) return s;
      l.bw = sub_round(l.bw, fw);
      if (rev) rev->bw = sub_round(rev->bw, rev_bw);
      cur = l.to;
    }
    return max_steps;
  }

  /// ncclTopoFollowPath between node ids (from -1: no path). mult 1 spends, -1 gives back.
  bool follow_path(SGraph& g, int from, int to, double mult) {
    if (from < 0) return true;
    const Path& p = sys.path(from, to);
    const Path& rp = sys.path(to, from);
    bool intra = (node(from).kind == kGpu || node(from).kind == kNvs) && (node(to).kind == kGpu || node(to).kind == kNvs);
    double bw = (intra ? g.bw_intra : g.bw_inter) * mult;
    int type = intra ? g.type_intra : g.type_inter;
    if (p.type >= kPathDis) return false;
    if (mult == 1 && p.type > type) return false;
    if (mult == 1 && (g.pattern == kBalancedTree || g.pattern == kTree || g.pattern == kSplitTree) && rp.type > type)
      return false;
    int done = follow(p, from, p.count(), bw);
    if (done < p.count()) {
      follow(p, from, done, -bw);
      return false;
    }
    g.nhops += static_cast<int>(mult * p.count());
    return true;
  }

  int gpu_pci_bw(int g) {
    for (const Link& l : node(g).links) {
      if (l.type != kLinkPci) continue;
      for (const Link& r : node(l.to).links)
        if (r.to == g) return static_cast<int>(std::min(l.bw, r.bw));
    }
    return -1;
  }

  /// ncclTopoSearchNextGpuSort into `next` (a buffer owned by this channel and step).
  void next_gpus(const SGraph& g, int gi, int sort_net, std::vector<int>& next) {
    struct Score { int g, start, intra_hops, intra_bw, inter_hops, inter_pci, inter_bw; };
    std::array<Score, kMaxGpus> sc;
    std::size_t count = 0;
    const std::uint64_t flag = std::uint64_t{1} << g.nchannels;
    int net = sort_net ? sys.net(g.inter[static_cast<std::size_t>(g.nchannels * 2)]) : -1;
    for (int i = 1; i < ngpus; ++i) {
      int o = (gi + i) % ngpus;
      const Path& p = sys.path(sys.gpu(gi), sys.gpu(o));
      if (p.count() == 0 || (used[static_cast<std::size_t>(o)] & flag)) continue;
      Score s{o, i, p.count(), static_cast<int>(p.bw), 0, 0, 0};
      if (net >= 0) {
        const Path& np = sys.path(net, sys.gpu(o));
        s.inter_hops = np.count(), s.inter_pci = gpu_pci_bw(sys.gpu(o)), s.inter_bw = static_cast<int>(np.bw);
      }
      sc[count++] = s;
    }
    std::sort(sc.begin(), sc.begin() + static_cast<std::ptrdiff_t>(count), [](const Score& a, const Score& b) {
      if (a.inter_bw != b.inter_bw) return a.inter_bw > b.inter_bw;
      if (a.inter_pci != b.inter_pci) return a.inter_pci > b.inter_pci;
      if (a.inter_hops != b.inter_hops) return a.inter_hops < b.inter_hops;
      if (a.intra_bw != b.intra_bw) return a.intra_bw > b.intra_bw;
      if (a.intra_hops != b.intra_hops) return a.intra_hops < b.intra_hops;
      return a.start < b.start;
    });
    bool same = true;
    for (std::size_t i = 1; i < count; ++i)
      same = same && sc[i].intra_bw == sc[0].intra_bw && sc[i].intra_hops == sc[0].intra_hops;
    next.clear();
    for (std::size_t i = 0; i < count; ++i) next.push_back(sc[i].g);
    if (sort_net == -1 && same) std::reverse(next.begin(), next.end());
    if (sys.count(kNvs) == 0) return;
    // NVSwitch: only the neighbours; NCCL moves next then prev to the front, so prev comes
    // first for rings, next first for split/balanced trees; other patterns: next only.
    int prev = (gi - 1 + ngpus) % ngpus, nxt = (gi + 1) % ngpus;
    int first[2] = {nxt, prev};
    int nfirst = 1;
    if (g.pattern == kRing) nfirst = 2;
    else if (g.pattern == kSplitTree || g.pattern == kBalancedTree) first[0] = prev, first[1] = nxt, nfirst = 2;
    if (nfirst == 2 && first[0] == first[1]) nfirst = 1;
    int found[2];
    int nfound = 0;
    for (int f = 0; f < nfirst; ++f)
      if (std::find(next.begin(), next.end(), first[f]) != next.end()) found[nfound++] = first[f];
    next.assign(found, found + nfound);
    std::reverse(next.begin(), next.end());
  }

  std::map<std::pair<int, int>, std::vector<int>> nets_cache;
  std::vector<std::vector<int>> next_buf;  ///< per (channel, step): candidates being tried

  const std::vector<int>& select_nets(int type_inter, int gi) {
    auto key = std::make_pair(type_inter, gi);
    auto it = nets_cache.find(key);
    if (it != nets_cache.end()) return it->second;
    std::vector<int>& nets = nets_cache[key];
    auto add = [&](int n) {
      if (n >= 0 && std::find(nets.begin(), nets.end(), n) == nets.end()) nets.push_back(n);
    };
    for (int g = 0; g < ngpus; ++g) {  // preferred NETs, channel first
      if (gi != -1 && gi != g) continue;
      int first = sys.local_net(g, 0);
      add(first);
      for (int c = 1; c < kMaxChannels; ++c) {
        int n = sys.local_net(g, c);
        if (n == first) break;
        add(n);
      }
    }
    for (int t = 0; t <= type_inter; ++t)
      for (int g = 0; g < ngpus; ++g) {
        if (gi != -1 && gi != g) continue;
        for (int n = 0; n < sys.count(kNet) && n < kMaxChannels; ++n)
          if (sys.path(sys.gpu(g), sys.net(n)).type == t) add(n);
      }
    return nets;  // paths and NIC choice do not change during a search: cached
  }

  bool check_net(const SGraph& g, int start, int n, int step) {
    const Node& net = node(sys.net(n));
    const Node& sn = node(sys.net(start));
    if (g.pattern == kTree && n != start) return false;
    if (g.pattern == kRing && g.crossnic == 2) {
      if ((g.nchannels & 1) && n != g.inter[static_cast<std::size_t>((g.nchannels - 1) * 2)]) return false;
    } else if (g.crossnic == 0 && (net.asic != sn.asic || net.port != sn.port)) {
      return false;
    }
    if (g.pattern == kBalancedTree && step != 0 && n != g.inter[static_cast<std::size_t>(g.nchannels * 2 + 1)])
      return false;
    return true;
  }

  void compare(SGraph& g, SGraph& save, std::int64_t& time) {
    bool copy = false;
    if (g.nchannels < g.min_channels) return;
    if (g.pattern == kNvls) {
      copy = (g.nchannels > save.nchannels && g.nchannels <= ngpus) ||
             g.nchannels * g.bw_inter > save.nchannels * save.bw_inter;
    } else if (g.nchannels * g.bw_intra > save.nchannels * save.bw_intra) {
      copy = true;
    } else if (g.nchannels * g.bw_intra == save.nchannels * save.bw_intra) {
      copy = g.pattern == save.pattern && g.crossnic == save.crossnic && g.nhops < save.nhops;
    }
    if (!copy) return;
    save = g;
    if (g.nchannels == g.max_channels) time = -1;
  }

  void try_gpu(SGraph& g, SGraph& save, int step, int back_net, int back_first, int forced, std::int64_t& time,
               int from, int gi) {
    const std::uint64_t flag = std::uint64_t{1} << g.nchannels;
    if (!follow_path(g, from, sys.gpu(gi), 1)) return;
    used[static_cast<std::size_t>(gi)] ^= flag;
    rec_gpu(g, save, gi, step, back_net, back_first, forced, time);
    used[static_cast<std::size_t>(gi)] ^= flag;
    follow_path(g, from, sys.gpu(gi), -1);
  }

  void try_nvls(SGraph& g, SGraph& save, int gi, std::int64_t& time) {
    int nvs = sys.of[kNvs].front();
    int d0 = 0, d1 = 0;
    bool ok = true;
    for (; d0 < ngpus && ok; ++d0) ok = follow_path(g, nvs, sys.gpu(d0), d0 == gi ? 2 : 1);
    if (!ok) --d0;
    if (ok) {
      for (; d1 < ngpus && ok; ++d1) ok = follow_path(g, sys.gpu(d1), nvs, d1 == gi ? 2 : 1);
      if (!ok) --d1;
      if (ok) rec_gpu(g, save, -1, ngpus, -1, -1, 0, time);
      while (d1) --d1, follow_path(g, sys.gpu(d1), nvs, d1 == gi ? -2 : -1);
    }
    while (d0) --d0, follow_path(g, nvs, sys.gpu(d0), d0 == gi ? -2 : -1);
  }

  void back_to_net(SGraph& g, SGraph& save, int gi, int step, int back_first, int forced, std::int64_t& time) {
    int start = g.inter[static_cast<std::size_t>(g.nchannels * 2)];
    for (int n : select_nets(g.type_inter, gi)) {
      if (!check_net(g, start, n, step)) continue;
      int next_back = -1;
      double save_bw = g.bw_inter;
      if (g.pattern == kBalancedTree) {
        if (step == 0) next_back = 1;
        g.bw_inter /= 2;
      }
      bool ok = follow_path(g, sys.gpu(gi), sys.net(n), 1);
      g.bw_inter = save_bw;
      if (!ok) continue;
      g.inter[static_cast<std::size_t>(g.nchannels * 2 + 1)] = n;
      rec_gpu(g, save, gi, step, next_back, back_first, forced, time);
      if (g.pattern == kBalancedTree) g.bw_inter /= 2;
      follow_path(g, sys.gpu(gi), sys.net(n), -1);
      g.bw_inter = save_bw;
    }
  }

  void rec_gpu(SGraph& g, SGraph& save, int gi, int step, int back_net, int back_first, int forced,
               std::int64_t& time) {
    if (time <= 0) return;
    --time;
    ++steps;
    if (step == ngpus) {
      ++g.nchannels;
      compare(g, save, time);
      if (g.nchannels < g.max_channels) rec(g, save, time);
      --g.nchannels;
      return;
    }
    g.intra[static_cast<std::size_t>(g.nchannels * ngpus + step)] = gi;
    if (step == back_net) {
      if (sys.inter) back_to_net(g, save, gi, step, back_first, forced, time);
    } else if (g.pattern == kNvls) {
      try_nvls(g, save, gi, time);
    } else if (step < ngpus - 1) {
      std::vector<int>& next = next_buf[static_cast<std::size_t>(g.nchannels * ngpus + step)];
      next.clear();
      if (forced == kForcedPci) next.push_back(step + 1);
      else if (forced == kForcedReplay) next.push_back(g.intra[static_cast<std::size_t>((g.nchannels - 1) * ngpus + step + 1)]);
      else next_gpus(g, gi, back_net == -1 ? 0 : back_net == step + 1 ? 1 : -1, next);
      for (std::size_t i = 0; i < next.size(); ++i) try_gpu(g, save, step + 1, back_net, back_first, forced, time, sys.gpu(gi), next[i]);
    } else if (step == back_first) {
      int first = g.intra[static_cast<std::size_t>(g.nchannels * ngpus)];
      if (follow_path(g, sys.gpu(gi), sys.gpu(first), 1)) {
        rec_gpu(g, save, first, step + 1, back_net, -1, forced, time);
        follow_path(g, sys.gpu(gi), sys.gpu(first), -1);
      }
    } else {
      rec_gpu(g, save, gi, ngpus, -1, -1, forced, time);
    }
  }

  void spend_net(int n, double bw) {
    const Node& net = node(sys.net(n));
    for (int m : sys.of[kNet])
      if (node(m).asic == net.asic && node(m).port == net.port) node(m).net_bw -= bw;
  }

  void rec_net(SGraph& g, SGraph& save, int back_net, int back_first, std::int64_t& time) {
    const double bw = g.bw_inter;
    const std::vector<int>& nets = select_nets(g.type_inter, -1);
    bool found = false;
    for (std::size_t i = 0; i < nets.size(); ++i) {
      if (g.pattern == kNvls && found) break;
      int n = nets[(static_cast<std::size_t>(g.nchannels) + i) % nets.size()];
      Node& net = node(sys.net(n));
      if (net.net_bw < bw) continue;
      if (g.pattern == kRing && g.crossnic == 2 && (g.nchannels & 1) &&
          n != g.inter[static_cast<std::size_t>((g.nchannels - 1) * 2 + 1)])
        continue;
      g.inter[static_cast<std::size_t>(g.nchannels * 2)] = n;
      spend_net(n, bw);
      if (g.pattern == kNvls) {
        int lg = net.local_gpu;
        bool dup = false;
        for (int c = 0; c < g.nchannels; ++c) dup = dup || g.intra[static_cast<std::size_t>(c * ngpus)] == lg;
        if (g.nchannels < static_cast<int>(nets.size()) && lg >= 0 && !dup) {
          try_gpu(g, save, 0, back_net, back_first, 0, time, sys.net(n), lg);
          found = true;
        }
      } else if (g.nchannels > 0 && g.same_channels == 1) {
        try_gpu(g, save, 0, back_net, back_first, kForcedReplay, time, sys.net(n),
                g.intra[static_cast<std::size_t>((g.nchannels - 1) * ngpus)]);
      } else {
        if (g.nchannels == 0 && sys.count(kNvs) == 0) {
          std::int64_t t = 1 << 10;  // the PCI order first, outside the budget
          try_gpu(g, save, 0, back_net, back_first, kForcedPci, t, sys.net(n), 0);
          if (t == -1) time = -1;
        }
        int lg = net.local_gpu;
        if (lg >= 0) try_gpu(g, save, 0, back_net, back_first, 0, time, sys.net(n), lg);
        int ptype = kPathDis;
        std::vector<int> locals = sys.local(sys.net(n), kGpu, &ptype);
        if (ptype != kPathDis)
          for (int l : locals)
            if (l != lg) try_gpu(g, save, 0, back_net, back_first, 0, time, sys.net(n), l);
      }
      spend_net(n, -bw);
    }
  }

  void rec(SGraph& g, SGraph& save, std::int64_t& time) {
    int back_net = -1, back_first = -1;
    if (sys.inter) back_net = g.pattern == kRing ? ngpus - 1 : g.pattern == kSplitTree ? 1 : 0;
    else if (g.pattern == kRing) back_first = ngpus - 1;
    if (sys.inter) return rec_net(g, save, back_net, back_first, time);
    if (g.pattern == kNvls) return try_gpu(g, save, 0, back_net, back_first, 0, time, -1, g.nchannels);
    if (g.nchannels == 0) try_gpu(g, save, 0, back_net, back_first, kForcedPci, time, -1, 0);
    else try_gpu(g, save, 0, back_net, back_first, kForcedReplay, time, -1, g.intra[static_cast<std::size_t>((g.nchannels - 1) * ngpus)]);
    if (g.same_channels == 0 || g.nchannels == 0)
      for (int gi = 0; gi < ngpus; ++gi) try_gpu(g, save, 0, back_net, back_first, 0, time, -1, gi);
  }
};

void dup_channels(SGraph& g, int cc_min, int ngpus) {
  if (g.nchannels == 0 || g.pattern == kNvls || g.bw_intra < 25.0) return;
  if (cc_min > 80 && g.bw_intra < 50.0 && g.nchannels > 4) return;
  int dup = std::min(g.nchannels * 2, g.max_channels);
  for (int c = g.nchannels; c < dup; ++c) {
    for (int s = 0; s < ngpus; ++s)
      g.intra[static_cast<std::size_t>(c * ngpus + s)] = g.intra[static_cast<std::size_t>((c - g.nchannels) * ngpus + s)];
    for (int k = 0; k < 2; ++k) g.inter[static_cast<std::size_t>(c * 2 + k)] = g.inter[static_cast<std::size_t>((c - g.nchannels) * 2 + k)];
  }
  int div = (dup + g.nchannels - 1) / g.nchannels;
  g.bw_intra /= div;
  g.bw_inter /= div;
  g.nchannels = dup;
}

struct Outcome {
  SGraph graph;
  bool timed_out = false;
  bool fallback = false;
  std::int64_t steps = 0;
};

/// ncclTopoCompute: pass 1 (fallback order over sameChannels, tree kind, path types, crossNic,
/// speeds), channel duplication, pass 2 (raise the speed with the channels fixed).
const std::vector<double>& speed_array(int cc, bool inter, int version) {
  if (version < 219) {
    if (cc >= 90) return inter ? kInter90v218 : kIntra90v218;
    return inter ? kInter : kIntra;
  }
  if (!inter) return cc >= 100 ? kIntra100 : cc >= 90 ? kIntra90 : kIntra;
  return cc >= 100 ? kInter100 : cc >= 90 ? kInter90 : kInter;
}

Outcome compute(SearchSystem& sys, SGraph graph, int cross_nic_env, int version) {
  const bool v218 = version < 219;
  Search S{sys, sys.count(kGpu), std::vector<std::uint64_t>(static_cast<std::size_t>(sys.count(kGpu))), 0, {}, {}};
  S.next_buf.assign(static_cast<std::size_t>((kMaxChannels + 1) * std::max(1, S.ngpus)), {});
  const int ngpus = S.ngpus;
  Outcome out;
  int cross = sys.count(kNet) > 1 && (graph.pattern == kRing || graph.pattern == kBalancedTree || graph.pattern == kSplitTree)
                  ? cross_nic_env : 0;
  if (v218) cross = cross ? 1 : 0;  // 2.18: the fallback allows any NIC (crossNic 1), not pairs
  graph.crossnic = v218 ? (cross && cross_nic_env == 1 ? 1 : 0) : cross == 1 ? 1 : 0;
  int min_ti = kPathLoc, min_te = kPathPix, max_ti = kPathSys, max_te = kPathSys;
  if (v218) min_ti = ngpus == 1 ? kPathLoc : kPathNvl;
  else if (ngpus > 1) min_ti = sys.gpu_min_path(kGpu), max_ti = sys.gpu_max_path(kGpu);
  if (sys.inter && !v218) min_te = sys.gpu_min_path(kNet), max_te = sys.gpu_max_path(kNet), max_ti = max_te;
  graph.type_intra = min_ti;
  graph.type_inter = min_te;
  const int try_same = graph.pattern == kNvls ? 0 : 1;
  graph.same_channels = try_same;
  const int cc = sys.cc_min();
  if (graph.pattern == kNvls) graph.max_channels = std::min(32, ngpus);
  if (ngpus == 1 && graph.pattern != kRing) graph.pattern = kTree;
  if (!sys.inter && graph.pattern == kNvls) graph.min_channels = graph.max_channels;
  if (!v218 && graph.pattern == kRing && sys.split_nvlink() && graph.max_channels >= 2 && graph.min_channels == 1)
    graph.min_channels = 2;
  graph.intra.assign(static_cast<std::size_t>(kMaxChannels * ngpus), -1);
  graph.inter.assign(static_cast<std::size_t>(kMaxChannels * 2), -1);
  const auto& speeds = speed_array(cc, sys.inter, version);
  const int nspeeds = static_cast<int>(speeds.size());
  SGraph tmp = graph;
  SGraph& best = graph;
  best.nchannels = 0;
  best.bw_intra = best.bw_inter = 0;
  double total = sys.total_bw;
  if (ngpus > 1 && graph.pattern != kRing) total *= ngpus * 1.0 / (ngpus - 1);
  int si = 0;
  while ((speeds[static_cast<std::size_t>(si)] > sys.max_bw || speeds[static_cast<std::size_t>(si)] * graph.min_channels > total) && si < nspeeds - 1) ++si;
  tmp.bw_intra = tmp.bw_inter = speeds[static_cast<std::size_t>(si)];
  std::int64_t global = kGlobalTimeout;
  int pass = 1;
  std::int64_t time = 0;
  for (;;) {
    time = tmp.same_channels ? kTimeoutSame : kTimeout;
    tmp.nchannels = 0;
    global -= time;
    S.rec(tmp, best, time);
    if (time == 0) out.timed_out = true;
    bool done = time == -1 || best.nchannels * best.bw_inter >= sys.total_bw;
    if (pass == 1 && !done) {
      if (tmp.same_channels == 1 && (v218 || !(sys.cpu_x86 && sys.cpu_amd && tmp.type_intra == kPathSys))) {
        tmp.same_channels = 0;
        continue;
      }
      tmp.same_channels = try_same;
      if (time != -1) global += time;
      else global = kGlobalTimeout;
      if (!(global < 0 && best.nchannels)) {
        if (cc >= 90 && tmp.pattern == kBalancedTree) {
          tmp.pattern = kTree;
          continue;
        }
        tmp.pattern = best.pattern;  // NCCL: graph->pattern, i.e. the saved solution's
        int max_intra = sys.inter ? tmp.type_inter : max_ti;
        if (v218) max_te = kPathSys;
        if (tmp.type_intra < max_intra && (best.nchannels == 0 || tmp.type_intra < best.type_intra)) {
          if (++tmp.type_intra < kPathDis) continue;
        }
        tmp.type_intra = min_ti;
        if (sys.inter && tmp.type_inter < max_te &&
            (best.nchannels == 0 || tmp.type_inter < best.type_inter || tmp.type_inter < kPathPxn)) {
          if (++tmp.type_inter < kPathDis) continue;
        }
        tmp.type_inter = min_te;
        if (v218 && cross && tmp.crossnic == 0) {
          tmp.crossnic = 1;
          continue;
        }
        if (!v218 && cross == 2 && tmp.crossnic == 0 && (graph.pattern == kRing || graph.pattern == kBalancedTree)) {
          tmp.crossnic = 2;
          continue;
        }
        tmp.crossnic = graph.crossnic;
        if (si < nspeeds - 1 && (best.nchannels == 0 || speeds[static_cast<std::size_t>(si + 1)] / best.bw_inter > .49)) {
          tmp.bw_inter = tmp.bw_intra = speeds[static_cast<std::size_t>(++si)];
          continue;
        }
      }
    }
    if (pass == 1) {  // done: duplicate the channels, then try to raise the speed
      time = -1;
      if (!v218) dup_channels(best, cc, ngpus);  // 2.18 duplicates after pass 2
      tmp = best;
      si = 0;
      while (speeds[static_cast<std::size_t>(si)] > best.bw_inter && si < nspeeds - 1) ++si;
      tmp.bw_intra = tmp.bw_inter = speeds[static_cast<std::size_t>(si)];
      tmp.min_channels = best.nchannels;
      pass = 2;
    }
    if (time != 0 && si > 0) {
      if (graph.pattern == kRing && !v218) {
        tmp.bw_intra = tmp.bw_inter = speeds[static_cast<std::size_t>(--si)];
        continue;
      }
      if (!v218 && graph.pattern == kNvls && tmp.bw_inter == best.bw_inter && tmp.bw_inter < tmp.bw_intra * 2) {
        tmp.min_channels = tmp.max_channels = best.nchannels;
        tmp.bw_inter = speeds[static_cast<std::size_t>(--si)];
        continue;
      }
      if (graph.pattern != kNvls && graph.pattern != (v218 ? kRing : -1) && tmp.bw_intra == best.bw_intra &&
          tmp.bw_intra < tmp.bw_inter * 2) {
        tmp.bw_intra = speeds[static_cast<std::size_t>(--si)];
        continue;
      }
    }
    break;
  }
  out.steps = S.steps;
  if (best.nchannels == 0 && graph.pattern != kNvls) {
    out.fallback = true;
    for (int i = 0; i < ngpus; ++i) best.intra[static_cast<std::size_t>(i)] = i;
    best.inter[0] = best.inter[1] = sys.inter ? 0 : -1;
    best.bw_intra = best.bw_inter = 0.1;
    best.type_intra = best.type_inter = kPathSys;
    best.nchannels = 1;
  }
  if (v218) dup_channels(best, cc, ngpus);
  out.graph = best;
  return out;
}

std::string type_name(int t) {
  static const char* kNames[] = {"LOC", "NVL", "NVB", "C2C", "PIX", "PXB", "P2C", "PXN", "PHB", "SYS", "NET", "DIS"};
  return t >= 0 && t <= 11 ? kNames[t] : "DIS";
}

PredictedGraph to_predicted(const SearchSystem& sys, const Outcome& o, int id, GraphKind kind) {
  const SGraph& g = o.graph;
  const int ngpus = sys.count(kGpu);
  PredictedGraph p;
  p.id = id;
  p.kind = kind;
  p.pattern = g.pattern;
  p.crossnic = g.crossnic;
  p.nchannels = g.nchannels;
  p.speed_intra = g.bw_intra;
  p.speed_inter = g.bw_inter;
  p.type_intra = type_name(g.type_intra);
  p.type_inter = type_name(g.type_inter);
  p.same_channels = g.same_channels == 1;
  p.fallback = o.fallback;
  p.timed_out = o.timed_out;
  p.steps = o.steps;
  for (int c = 0; c < g.nchannels; ++c) {
    PredictedChannel ch;
    int len = g.pattern == kNvls ? 1 : ngpus;
    for (int s = 0; s < len; ++s) {
      int gi = g.intra[static_cast<std::size_t>(c * ngpus + s)];
      if (gi >= 0) ch.gpus.push_back(sys.nodes[static_cast<std::size_t>(sys.gpu(gi))].dev);
    }
    if (sys.inter) {
      int a = g.inter[static_cast<std::size_t>(c * 2)], b = g.inter[static_cast<std::size_t>(c * 2 + 1)];
      if (a >= 0) ch.net_in = sys.nodes[static_cast<std::size_t>(sys.net(a))].net_dev;
      if (b >= 0) ch.net_out = sys.nodes[static_cast<std::size_t>(sys.net(b))].net_dev;
    }
    p.channels.push_back(std::move(ch));
  }
  return p;
}

}  // namespace

Prediction predict_graphs(const topo::System& node, const PredictOptions& opts) {
  Prediction out;
  SearchOptions so;
  so.inter = opts.nodes > 1;
  so.p2p_level = opts.p2p_level;
  so.pxn_disable = opts.pxn_disable;
  so.assume_p2p_ok = opts.assume_p2p_ok;
  so.version = opts.version;
  SearchSystem sys = build_search_system(node, so);
  out.gpus = sys.count(kGpu);
  out.nets = sys.count(kNet);
  out.cc_min = sys.cc_min();
  out.max_bw = sys.max_bw;
  out.total_bw = sys.total_bw;
  if (out.gpus == 0) {
    out.notes.push_back("no GPU in the topology: NCCL builds no graph");
    return out;
  }
  if (out.gpus > kMaxGpus) {
    out.notes.push_back(fmt::format("{} GPUs in one node: more than the {} the search replay handles", out.gpus, kMaxGpus));
    return out;
  }
  if (so.inter && out.nets == 0) {
    out.notes.push_back("no NET in the topology: a multi-node job cannot start; predicted for one node");
    so.inter = false;
    sys = build_search_system(node, so);
    out.max_bw = sys.max_bw;
    out.total_bw = sys.total_bw;
  }
  out.inter = sys.inter;
  SGraph ring;
  ring.pattern = kRing;
  ring.min_channels = 1;
  ring.max_channels = kMaxChannels / 2;
  Outcome r = compute(sys, ring, opts.cross_nic, opts.version);
  out.graphs.push_back(to_predicted(sys, r, 0, GraphKind::kRing));
  SGraph tree;
  tree.pattern = kBalancedTree;
  tree.min_channels = tree.max_channels = r.graph.nchannels;
  out.graphs.push_back(to_predicted(sys, compute(sys, tree, opts.cross_nic, opts.version), 1, GraphKind::kTree));
  if (opts.nvls && sys.count(kNvs) > 0 && out.cc_min >= 90 && out.gpus > 1) {
    SGraph nvls;
    nvls.pattern = kNvls;
    nvls.min_channels = 1;
    nvls.max_channels = kMaxChannels;
    out.graphs.push_back(to_predicted(sys, compute(sys, nvls, opts.cross_nic, opts.version), 3, GraphKind::kNvls));
  }
  // comm->nChannels (connect.cc Postset): twice the ring, doubled again on sm90 multi-node
  // fast rings, then NCCL_MAX/MIN_NCHANNELS. The tuning model keeps the search channels.
  int comm = std::min(64, 2 * r.graph.nchannels);
  if (out.cc_min >= 90 && opts.nodes > 1 && r.graph.bw_intra > 45 && comm < 16) comm *= 2;
  if (opts.max_nchannels > 0) comm = std::min(comm, opts.max_nchannels);
  if (opts.min_nchannels > 0) comm = std::max(comm, std::min(64, opts.min_nchannels));
  out.comm_channels = comm;
  return out;
}

}  // namespace ncd::nccl
