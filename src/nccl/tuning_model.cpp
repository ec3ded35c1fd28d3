// SPDX-License-Identifier: Apache-2.0
#include "nccl/tuning_model.hpp"

#include <algorithm>

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

}  // namespace ncd::nccl
