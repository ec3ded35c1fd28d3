// SPDX-License-Identifier: Apache-2.0
#pragma once
/// NCCL's bandwidth model for AllReduce (graph/tuning.cc @2.28.9; nccl-internals.md §6.2-6.3):
/// what NCCL itself predicts for a graph, converted to the busbw nccl-tests would print.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ncd::topo {
struct System;
}

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

/// The graph NCCL's search would settle on for one node's GPUs and NICs (nccl-internals
/// §4.2-4.4, replayed on the capacities only: speeds from NCCL's arrays, channels as many as
/// the tightest GPU link or the NICs carry, then pass 2's channel doubling).
struct EstimatedGraph {
  TuningInput input;      ///< ready for model_allreduce
  std::string path;       ///< "NVL", "PIX", "SYS", ... of the intra-node hops
  std::string describe;   ///< "12 ch x 30 GB/s (NVL), 8 GPUs x 1 node"
};
/// Empty (and `why` set) when the model has no answer: a GPU of unknown compute capability,
/// one GPU on one node, or links of unknown bandwidth. `node` needs compute_paths.
[[nodiscard]] std::optional<EstimatedGraph> estimate_graph(const topo::System& node, int nodes, std::string* why);

/// What NCCL's model gives as nccl-tests busbw for one row.
struct BusbwExpectation {
  double busbw_gbps = 0;
  std::string protocol;  ///< the protocol the model picks at this size (LL, LL128, Simple)
  std::string basis;     ///< "NCCL 2.28 model: 12 ch x 30 GB/s (NVL), 8 GPUs x 1 node, Simple"
};
/// THE expected busbw of `op` (allreduce, allgather, reducescatter, broadcast, reduce) with
/// `algo` (ring, tree, native = NCCL's best of the two) at `bytes` on the job of `nodes`
/// copies of `node`: NCCL's tuning model (model_allreduce, the one `rings` uses), protocol
/// chosen by the model's time (latency + size / bandwidth) as NCCL does. Empty with `why`
/// when the model has no answer (unknown GPU, an op or algorithm it does not model).
[[nodiscard]] std::optional<BusbwExpectation> expected_busbw(const topo::System& node, int nodes, std::string_view op,
                                                             std::string_view algo, std::uint64_t bytes,
                                                             std::string* why);

/// expected_busbw on a graph the caller has (the graph search's prediction, nccl/graph_search):
/// the same model and protocol choice, without estimate_graph.
[[nodiscard]] std::optional<BusbwExpectation> expected_busbw_for(const EstimatedGraph& graph, int nodes,
                                                                 std::string_view op, std::string_view algo,
                                                                 std::uint64_t bytes, std::string* why);

}  // namespace ncd::nccl
