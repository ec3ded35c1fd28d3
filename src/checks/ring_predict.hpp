// SPDX-License-Identifier: Apache-2.0
#pragma once
/// NCCL's rings and trees predicted from a topology alone (nccl/graph_search), the busbw NCCL's
/// model expects from them, the comparison with a graph NCCL dumped, and the
/// ring.predicted_degraded check: a part (a GPU's NVLinks, a NIC's
/// place, rate or PCIe width) that makes this node's predicted graphs worse than the same node
/// with that part like its siblings. Pure.
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/finding.hpp"
#include "nccl/graph_search.hpp"
#include "nccl/graph_xml.hpp"
#include "topo/model.hpp"

namespace ncd::checks {

struct RingsPredictOptions {
  int nodes = 0;           ///< 0: single node, plus two nodes when the topology has NICs
  bool what_if = true;     ///< look for the part that degrades the prediction
  nccl::PredictOptions nccl;
};

/// One field where prediction and dump differ.
struct FieldDiff {
  std::string field;
  std::string predicted;
  std::string dumped;
};

/// One graph kind of a dump held against the prediction.
struct GraphComparison {
  nccl::GraphKind kind = nccl::GraphKind::kRing;
  bool in_dump = false;
  bool predicted = false;
  std::vector<FieldDiff> diffs;      ///< nchannels, speedintra, speedinter, typeintra, typeinter, pattern, order, nets
  int channels_compared = 0;
  int orders_equal = 0;              ///< channels whose GPU order equals the dump's up to rotation
  std::vector<std::string> explanations;
  [[nodiscard]] bool matches() const { return in_dump && predicted && diffs.empty(); }
};

/// Expected busbw of one collective and algorithm (NCCL's model on the predicted graph).
struct BusbwRow {
  std::string op, algo, protocol;
  double busbw_gbps = 0;
};

/// A prediction for one scope: one node, or `nodes` copies of it.
struct ScopedPrediction {
  int nodes = 1;
  nccl::Prediction prediction;
  std::vector<BusbwRow> busbw;
  std::vector<std::string> busbw_notes;
};

struct RingsPrediction {
  std::vector<ScopedPrediction> scopes;
  std::vector<GraphComparison> comparisons;  ///< with a dump only
  std::vector<Finding> findings;
  std::vector<std::string> notes;
};

/// Predicts the graphs of `node` (paths need not be computed); with `dump`, compares. `host`
/// names the findings.
[[nodiscard]] RingsPrediction predict_rings(const topo::System& node, const nccl::GraphFile* dump,
                                            const RingsPredictOptions& opts);

/// Compares a prediction with a dump, field by field (speeds within 1e-3), GPU orders up to
/// rotation channel by channel, and explains what it can.
[[nodiscard]] std::vector<GraphComparison> compare_prediction(const nccl::Prediction& p, const nccl::GraphFile& dump,
                                                              const topo::System& node, const nccl::PredictOptions& o);

/// sweep: one prediction per distinct topology (`nodes` holds each node's fingerprint digest
/// and topology); a node whose predicted ring carries less than its best sibling's gets
/// ring.predicted_degraded, naming the part a what-if replay finds, else the node. `job_nodes`
/// is the job's node count (1: graphs inside the node; more: channels through the NICs).
/// `notes` receives one line per distinct topology.
[[nodiscard]] std::vector<Finding> predicted_node_findings(
    const std::vector<std::pair<std::string, const topo::System*>>& nodes, int job_nodes, std::vector<std::string>* notes);

/// "ring 12 x 30/30 GB/s NVL/PIX": one line per graph, for sweep and text output.
[[nodiscard]] std::string summary(const nccl::PredictedGraph& g);
/// Aggregate GB/s of a graph: nchannels x speedintra (single node) or x speedinter (multi-node).
[[nodiscard]] double aggregate(const nccl::PredictedGraph& g, bool inter);

void to_json(nlohmann::json& j, const GraphComparison& c);
void to_json(nlohmann::json& j, const ScopedPrediction& s);

}  // namespace ncd::checks
