// SPDX-License-Identifier: Apache-2.0
// The graph search's results as NCCL's graph structure and as JSON; order comparison.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "nccl/graph_search.hpp"

namespace ncd::nccl {

const PredictedGraph* Prediction::find(GraphKind k) const {
  for (const auto& g : graphs)
    if (g.kind == k) return &g;
  return nullptr;
}

Graph to_graph(const PredictedGraph& p) {
  Graph g;
  g.id = p.id;
  g.pattern_raw = p.pattern;
  g.pattern = static_cast<GraphPattern>(p.pattern);
  g.kind = p.kind;
  g.crossnic = p.crossnic;
  g.nchannels = p.nchannels;
  g.speed_intra = p.speed_intra;
  g.speed_inter = p.speed_inter;
  g.type_intra = p.type_intra;
  g.type_inter = p.type_inter;
  g.same_channels = p.same_channels;
  for (const auto& c : p.channels) {
    GraphChannel gc;
    for (int d : c.gpus) gc.gpus.push_back(TopoRef{0, d, fmt::format("{:#x}", d)});
    if (c.net_in >= 0) gc.net_in = TopoRef{0, c.net_in, fmt::format("{:#x}", c.net_in)};
    if (c.net_out >= 0) gc.net_out = TopoRef{0, c.net_out, fmt::format("{:#x}", c.net_out)};
    g.channels.push_back(std::move(gc));
  }
  return g;
}

bool same_order_up_to_rotation(const std::vector<int>& a, const std::vector<int>& b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  for (std::size_t r = 0; r < a.size(); ++r) {
    bool same = true;
    for (std::size_t i = 0; i < a.size() && same; ++i) same = a[(i + r) % a.size()] == b[i];
    if (same) return true;
  }
  return false;
}

void to_json(nlohmann::json& j, const PredictedChannel& c) {
  j = nlohmann::json{{"gpus", c.gpus}};
  if (c.net_in >= 0) j["net_in"] = c.net_in;
  if (c.net_out >= 0) j["net_out"] = c.net_out;
}

void to_json(nlohmann::json& j, const PredictedGraph& g) {
  j = nlohmann::json{{"id", g.id},
                     {"kind", std::string(to_string(g.kind))},
                     {"pattern", g.pattern},
                     {"crossnic", g.crossnic},
                     {"nchannels", g.nchannels},
                     {"speedintra", g.speed_intra},
                     {"speedinter", g.speed_inter},
                     {"typeintra", g.type_intra},
                     {"typeinter", g.type_inter},
                     {"samechannels", g.same_channels},
                     {"fallback", g.fallback},
                     {"timed_out", g.timed_out},
                     {"search_steps", g.steps},
                     {"channels", g.channels}};
}

}  // namespace ncd::nccl
