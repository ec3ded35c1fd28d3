// SPDX-License-Identifier: Apache-2.0
#pragma once
/// NCCL's bandwidth model for AllReduce (graph/tuning.cc @2.28.9; nccl-internals.md §6.2-6.3):
/// what NCCL itself predicts for a graph, converted to the busbw nccl-tests would print.
#include <string>

namespace ncd::nccl {

/// What the model needs from the topology and the graphs.
struct TuningInput {
  int sm_min = 0;           ///< lowest compute capability (major*10+minor) of the job's GPUs
  int sm_max = 0;
  int nodes = 1;
  int ranks = 1;            ///< all ranks of the communicator
  int channels = 0;         ///< search channels of the graph (after dup), not comm channels
  double bw_intra = 0;      ///< graph speedintra, GB/s per channel
  double bw_inter = 0;      ///< graph speedinter
  int type_intra = 0;       ///< 2.28 path type value of the graph's typeintra
  int type_inter = 0;
  bool amd_or_mixed_cpu = false;  ///< selects llMaxBw's row on multi-node (tuning.cc:249-258)
  bool tree_pattern_tree = false; ///< the tree graph's pattern is TREE (×0.85)
};

/// Model bus bandwidth of one algorithm per protocol (GB/s); 0 = disabled.
struct ProtoBw {
  double ll = 0;
  double ll128 = 0;
  double simple = 0;
  [[nodiscard]] double best() const;
  [[nodiscard]] std::string best_protocol() const;
};

/// The model's view of AllReduce at large sizes.
struct TuningResult {
  ProtoBw ring;          ///< modelBusBw per protocol (tuning.cc:301-309)
  ProtoBw tree;
  bool ll128_enabled = false;
  /// What nccl-tests would print as busbw at large sizes: ring = modelBusBw, tree =
  /// modelBusBw × (n-1)/n (§6.2 "Stored value").
  double ring_busbw = 0;
  double tree_busbw = 0;
};

/// Applies the model. Inputs with 0 channels or bandwidth give zeros.
[[nodiscard]] TuningResult model_allreduce(const TuningInput& in);

/// compCapIdx: Volta 0 (<80), Ampere 1, Hopper 2 (≥90), Blackwell 3 (≥100).
[[nodiscard]] int comp_cap_index(int sm);

}  // namespace ncd::nccl
