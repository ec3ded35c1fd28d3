// SPDX-License-Identifier: Apache-2.0
// Times NCCL's graph search replay (nccl/graph_search) per topology file: single node and
// two nodes, ring + tree (+ NVLS), repeated; prints the prediction and the time per topology.
// Usage: predict_bench [--reps N] FILE...
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fmt/format.h>
#include <iostream>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "nccl/graph_search.hpp"
#include "nccl/topo_xml.hpp"

int main(int argc, char** argv) {
  int reps = 3;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--reps" && i + 1 < argc) reps = std::max(1, std::atoi(argv[++i]));
    else files.push_back(a);
  }
  if (files.empty()) {
    std::cerr << "usage: predict_bench [--reps N] topo.xml...\n";
    return 2;
  }
  double worst = 0;
  for (const auto& f : files) {
    ncd::topo::System s;
    try {
      s = ncd::nccl::load_topo_xml(f);
    } catch (const ncd::InputError& e) {
      std::cerr << e.what() << '\n';
      continue;
    }
    for (int nodes : {1, 2}) {
      ncd::nccl::PredictOptions o;
      o.nodes = nodes;
      ncd::nccl::Prediction p;
      std::vector<double> ms;
      for (int r = 0; r < reps; ++r) {
        auto t0 = std::chrono::steady_clock::now();
        p = ncd::nccl::predict_graphs(s, o);
        ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
      }
      double best = *std::min_element(ms.begin(), ms.end()), slow = *std::max_element(ms.begin(), ms.end());
      worst = std::max(worst, slow);
      std::cout << fmt::format("{} nodes={} maxBw {:g} totalBw {:g}: {:.2f} ms (min of {}; max {:.2f})\n", f, nodes,
                               p.max_bw, p.total_bw, best, reps, slow);
      for (const auto& g : p.graphs) {
        std::cout << fmt::format("  {} pattern {} nch {} {:g}/{:g} {}/{} cross {}{}{} steps {}\n",
                                 ncd::nccl::to_string(g.kind), g.pattern, g.nchannels, g.speed_intra, g.speed_inter,
                                 g.type_intra, g.type_inter, g.crossnic, g.fallback ? " FALLBACK" : "",
                                 g.timed_out ? " timeout" : "", g.steps);
        for (std::size_t c = 0; c < g.channels.size() && c < 4; ++c) {
          const auto& ch = g.channels[c];
          std::string line;
          if (ch.net_in >= 0) line += fmt::format("N{} ", ch.net_in);
          for (int d : ch.gpus) line += fmt::format("{} ", d);
          if (ch.net_out >= 0) line += fmt::format("N{}", ch.net_out);
          std::cout << "    " << line << '\n';
        }
      }
      for (const auto& n : p.notes) std::cout << "  note: " << n << '\n';
    }
  }
  std::cerr << fmt::format("predict_bench: slowest prediction {:.2f} ms\n", worst);
  return 0;
}
