// SPDX-License-Identifier: Apache-2.0
#include "cli/cmd_rings.hpp"

#include <fmt/format.h>
#include <algorithm>
#include <map>
#include <set>

#include "ncd/config.hpp"
#include "core/error.hpp"
#include "core/text.hpp"
#include "checks/registry.hpp"
#include "checks/ring_predict.hpp"
#include "nccl/graph_xml.hpp"
#include "nccl/log_ingest.hpp"
#include "nccl/log_model.hpp"
#include "nccl/topo_xml.hpp"
#include "topo/paths.hpp"
#include "gpu/backend.hpp"

namespace ncd::cli {
namespace {

using checks::RingChannel;
using checks::RingGraph;
using checks::RingsAnalysis;

constexpr std::size_t kMaxLogPerRank = std::size_t{4} << 20;

std::string tname(topo::PathType t) { return std::string(topo::to_string(t)); }

std::string end_text(const checks::RingNetEnd& e, bool verbose) {
  std::string net = e.net.empty() ? fmt::format("NET{}", e.net_dev) : e.net;
  std::string how = tname(e.type);
  if (!e.via.empty()) how += " via " + e.via;
  if (verbose && e.bw_gbps > 0) how += fmt::format(" {:.1f}", e.bw_gbps);
  return e.entry ? fmt::format("{} ={}=> ", net, how) : fmt::format(" ={}=> {}", how, net);
}

/// One channel as a line: "mlx5_0/1 =PIX=> GPU0 -NVL-> GPU1 ... =PIX=> mlx5_0/1".
std::string channel_text(const RingGraph& rg, const RingChannel& ch, bool verbose) {
  const auto& g = rg.graph;
  std::string s;
  if (g.kind == nccl::GraphKind::kNvls) {
    s = fmt::format("head GPU{}", ch.gpus.empty() ? -1 : ch.gpus.front());
    if (ch.in) s = end_text(*ch.in, verbose) + s;
    if (ch.out) s += end_text(*ch.out, verbose);
    return s;
  }
  if (ch.in) s += end_text(*ch.in, verbose);
  const bool ring = g.pattern == nccl::GraphPattern::kRing;
  for (std::size_t i = 0; i < ch.gpus.size(); ++i) {
    s += fmt::format("GPU{}", ch.gpus[i]);
    if (i < ch.hops.size()) {
      const auto& h = ch.hops[i];
      std::string label = tname(h.type);
      if (verbose && h.bw_gbps > 0) label += fmt::format(" {:.1f}", h.bw_gbps);
      if (verbose && !h.transports.empty()) label += " [" + join(h.transports, "; ") + "]";
      s += fmt::format(" {}{}{} ", ring ? "-" : "-", label, ring ? "->" : "-");
    } else if (i + 1 < ch.gpus.size()) {
      s += " ";
    }
  }
  if (ring && !ch.in && ch.hops.size() == ch.gpus.size() && !ch.gpus.empty()) s += fmt::format("GPU{}", ch.gpus.front());
  if (ch.out) {
    if (ring) s += end_text(*ch.out, verbose);
    else s += fmt::format("; out at GPU{}{}", ch.out->gpu_dev, end_text(*ch.out, verbose));
  }
  return s;
}

void render_graph(const RingGraph& rg, std::ostream& out, bool verbose) {
  const auto& g = rg.graph;
  std::string head = fmt::format("{} graph (id {}, pattern {} {})", nccl::to_string(g.kind), g.id, g.pattern_raw,
                                 nccl::to_string(g.pattern));
  if (g.channels.empty()) {
    out << fmt::format("{}: not computed (nchannels {})\n", head, g.nchannels);
    return;
  }
  std::string topo;
  if (rg.worst_intra) topo += fmt::format("worst hop {}", tname(*rg.worst_intra));
  if (rg.worst_inter) topo += fmt::format("{}worst NIC end {}", topo.empty() ? "" : ", ", tname(*rg.worst_inter));
  out << fmt::format("{}: {} channel(s) x {:g} GB/s intra / {:g} GB/s inter, type {}/{}{}{}\n", head, g.nchannels,
                     g.speed_intra, g.speed_inter, g.type_intra, g.type_inter, g.same_channels ? ", same channels" : "",
                     topo.empty() ? "" : "; topology: " + topo);
  std::map<std::string, int> seen;  // line -> first channel
  std::vector<std::pair<std::string, std::vector<int>>> rows;
  for (const auto& ch : rg.channels) {
    std::string line = channel_text(rg, ch, verbose);
    auto it = seen.find(line);
    if (it == seen.end()) {
      seen.emplace(line, static_cast<int>(rows.size()));
      rows.push_back({line, {ch.index}});
    } else {
      rows[static_cast<std::size_t>(it->second)].second.push_back(ch.index);
    }
  }
  for (const auto& [line, chans] : rows) {
    std::string label = chans.size() == 1 ? fmt::format("ch {}", chans.front())
                                          : fmt::format("ch {}", format_ranges(chans));
    const RingChannel& first = rg.channels[static_cast<std::size_t>(chans.front())];
    std::string cross;
    if (first.socket_hops > 0 || first.min_socket_hops > 0)
      cross = fmt::format("  ({} inter-socket hop(s), {} needed)", first.socket_hops, first.min_socket_hops);
    out << fmt::format("  {:<9} {}{}\n", label, line, cross);
  }
  if (rg.capacity_gbps > 0 && g.kind == nccl::GraphKind::kRing) {
    std::string nics = g.inter_node() ? fmt::format(", {} of {} local NIC port(s) used", rg.nic_ports_used,
                                                    rg.nic_ports_usable)
                                      : "";
    out << fmt::format("  channels carry {:.1f} GB/s; the topology offers these GPUs about {:.1f} GB/s per direction{}\n",
                       rg.aggregate_gbps, rg.capacity_gbps, nics);
  }
}

void render_analysis(const RingsAnalysis& a, std::ostream& out, bool verbose) {
  for (const auto& rg : a.graphs) render_graph(rg, out, verbose);
  if (!a.node_trees.empty()) {
    out << "trees between nodes (from the log):\n";
    for (const auto& t : a.node_trees) out << "  " << t << '\n';
  }
  if (a.predicted) {
    const auto& p = *a.predicted;
    out << fmt::format("NCCL model, AllReduce at large sizes ({} node(s){}, {} ranks): ring {:.1f} GB/s busbw ({}), "
                       "tree {:.1f} GB/s ({}){}\n",
                       a.nodes, a.nodes_assumed ? " assumed" : "", a.ranks, p.ring_busbw, p.ring.best_protocol(),
                       p.tree_busbw, p.tree.best_protocol(), p.ll128_enabled ? "" : "; LL128 off");
    if (a.possible)
      out << fmt::format("  with what the topology offers these GPUs: ring {:.1f} GB/s, tree {:.1f} GB/s\n",
                         a.possible->ring_busbw, a.possible->tree_busbw);
  }
}

std::string channel_line(const nccl::PredictedChannel& c) {
  std::string s;
  if (c.net_in >= 0) s += fmt::format("NET{} -> ", c.net_in);
  for (std::size_t i = 0; i < c.gpus.size(); ++i) s += fmt::format("{}GPU{}", i ? " " : "", c.gpus[i]);
  if (c.net_out >= 0) s += fmt::format(" -> NET{}", c.net_out);
  return s;
}

void render_predicted_graph(const nccl::PredictedGraph& g, std::ostream& out) {
  out << fmt::format("  {} (pattern {}{}): {}\n", nccl::to_string(g.kind), g.pattern,
                     g.crossnic ? fmt::format(", crossnic {}", g.crossnic) : "", checks::summary(g));
  std::vector<std::pair<std::string, std::vector<int>>> rows;  // distinct lines with their channels
  for (std::size_t c = 0; c < g.channels.size(); ++c) {
    std::string line = channel_line(g.channels[c]);
    auto it = std::find_if(rows.begin(), rows.end(), [&](const auto& r) { return r.first == line; });
    if (it == rows.end()) rows.push_back({line, {static_cast<int>(c)}});
    else it->second.push_back(static_cast<int>(c));
  }
  for (const auto& [line, chans] : rows) out << fmt::format("    ch {:<7} {}\n", format_ranges(chans), line);
}

void render_prediction(const checks::RingsPrediction& p, std::ostream& out) {
  for (const auto& sp : p.scopes) {
    const auto& pr = sp.prediction;
    out << fmt::format("predicted by NCCL 2.28's search, {} ({} GPU(s), {} NET(s); maxBw {:g}, totalBw {:g} GB/s; {} comm "
                       "channels):\n",
                       sp.nodes > 1 ? fmt::format("{} nodes", sp.nodes) : "one node", pr.gpus, pr.nets, pr.max_bw,
                       pr.total_bw, pr.comm_channels);
    for (const auto& g : pr.graphs) render_predicted_graph(g, out);
    for (const auto& n : pr.notes) out << "  note: " << n << '\n';
    if (!sp.busbw.empty()) {
      out << "  expected busbw (NCCL's model, 1 GiB):";
      for (const auto& r : sp.busbw) out << fmt::format(" {} {} {:.1f} ({});", r.op, r.algo, r.busbw_gbps, r.protocol);
      out << '\n';
    }
    for (const auto& n : sp.busbw_notes) out << "  model: " << n << '\n';
  }
  for (const auto& c : p.comparisons) {
    if (c.matches()) {
      out << fmt::format("dump vs prediction, {}: match ({} of {} channel orders equal up to rotation)\n",
                         nccl::to_string(c.kind), c.orders_equal, c.channels_compared);
      continue;
    }
    out << fmt::format("dump vs prediction, {}: differs\n", nccl::to_string(c.kind));
    for (const auto& d : c.diffs) out << fmt::format("  {}: dump {}, predicted {}\n", d.field, d.dumped, d.predicted);
    for (const auto& e : c.explanations) out << "  why: " << e << '\n';
  }
}

nlohmann::json predicted_json(const checks::RingsPrediction& p) {
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& sp : p.scopes)
    for (const auto& g : sp.prediction.graphs) {
      nlohmann::json j = g;
      j["nodes"] = sp.nodes;
      arr.push_back(std::move(j));
    }
  return arr;
}

void add_prediction(nlohmann::json& entry, const checks::RingsPrediction& p) {
  entry["predicted"] = predicted_json(p);
  entry["prediction"] = {{"scopes", p.scopes}, {"comparison", p.comparisons}};
}

report::HostEntry host_entry(const topo::System& s, std::vector<int> ranks) {
  report::HostEntry h;
  h.name = s.host;
  h.ranks = std::move(ranks);
  h.topology = topo::system_to_json(s);
  return h;
}

}  // namespace

int run_rings(const RingsOptions& opts, Context& ctx) {
  const bool offline = !opts.topo_xml.empty() || !opts.graph_xml.empty();
  if (offline && opts.topo_xml.empty())
    throw UsageError("rings: --graph-xml needs --topo-xml FILE (the topology NCCL searched on)");
  if (opts.graph_xml.empty() && !opts.logs.empty() && offline)
    throw UsageError("rings: --log needs --graph-xml as well (the transports are held against a graph)");
  if (!offline && !opts.logs.empty())
    throw UsageError("rings: --log needs --topo-xml and --graph-xml (the live inspection makes its own log)");
  if (!offline && opts.nodes > 0) throw UsageError("rings: --nodes applies to offline inspection only");

  report::Report r;
  r.command = "rings";
  const bool verbose = ctx.opts.verbosity > 0;
  if (offline && opts.graph_xml.empty()) {  // prediction from the topology alone
    topo::System sys = nccl::load_topo_xml(opts.topo_xml);
    checks::RingsPredictOptions po;
    po.nodes = opts.nodes;
    checks::RingsPrediction p = checks::predict_rings(sys, nullptr, po);
    r.findings = p.findings;
    r.notes = p.notes;
    sort_findings(r.findings);
    nlohmann::json entry = {{"host", sys.host}};
    add_prediction(entry, p);
    r.sections["rings"] = nlohmann::json::array({entry});
    r.hosts.push_back(host_entry(sys, {}));
    return ctx.finish(r, [&](std::ostream& out) {
      out << fmt::format("# nccl-doctor rings: topology {} ({} GPU(s), {} NIC(s)), no graph: NCCL's graphs predicted\n",
                         opts.topo_xml, sys.gpus.size(), sys.nics.size());
      render_prediction(p, out);
    });
  }
  if (offline) {
    topo::System sys = nccl::load_topo_xml(opts.topo_xml);
    nccl::GraphFile graphs = nccl::load_graph_xml(opts.graph_xml);
    std::optional<nccl::RunLog> log;
    if (!opts.logs.empty()) {
      nccl::LogIngest ingest;
      for (const auto& f : opts.logs) ingest.add_file(f);
      log = ingest.take();
    }
    std::vector<checks::RingsInput> inputs = {{&sys, &graphs, log ? &*log : nullptr, {}}};
    inputs.front().opts.nodes = opts.nodes;
    checks::Evidence ev;
    ev.rings = &inputs;
    checks::CheckRun run = checks::run_checks("rings", ev);
    const RingsAnalysis& a = run.rings.front();
    checks::RingsPredictOptions po;
    po.nodes = opts.nodes;
    checks::RingsPrediction p = checks::predict_rings(sys, &graphs, po);
    r.findings = run.findings;
    r.findings.insert(r.findings.end(), p.findings.begin(), p.findings.end());
    sort_findings(r.findings);
    r.notes = a.notes;
    r.notes.insert(r.notes.end(), p.notes.begin(), p.notes.end());
    nlohmann::json entry = a;
    add_prediction(entry, p);
    r.sections["rings"] = nlohmann::json::array({entry});
    r.hosts.push_back(host_entry(sys, {}));
    return ctx.finish(r, [&](std::ostream& out) {
      out << fmt::format("# nccl-doctor rings: topology {} ({} GPU(s), {} NIC(s)), graphs {}{}\n", opts.topo_xml,
                         sys.gpus.size(), sys.nics.size(), opts.graph_xml,
                         log ? fmt::format(", {} log file(s)", opts.logs.size()) : "");
      render_analysis(a, out, verbose);
      render_prediction(p, out);
    });
  }

  LiveRings live = inspect_rings_live(ctx);
  if (!ctx.is_root()) return ctx.finish(r, nullptr);
  r.findings = live.findings;
  r.notes = live.notes;
  r.sections["rings"] = live.section;
  for (std::size_t n = 0; n < ctx.comm().nodes().node_names.size(); ++n)
    r.hosts.push_back({ctx.comm().nodes().node_names[n], ctx.comm().nodes().node_ranks[n], "", nullptr});
  return ctx.finish(r, [&](std::ostream& out) {
    out << fmt::format("# nccl-doctor rings: live, {} rank(s) on {} node(s)\n", ctx.comm().size(),
                       ctx.comm().nodes().node_names.size());
    for (const auto& a : live.hosts) {
      out << fmt::format("## {}\n", a.host);
      render_analysis(a, out, verbose);
    }
  });
}

LiveRings inspect_rings_live(Context& ctx) {
  const gpu::Backend& gpu_backend = gpu::backend();
  if (!gpu_backend.built())
    throw UnavailableError(
        "rings: this build has no NCCL backend (rebuild with -DNCD_WITH_NCCL=ON); for offline inspection pass "
        "--topo-xml FILE --graph-xml FILE");
  dist::Comm& comm = ctx.comm();
  // The capture stops a reserve before the deadline (gpu::work_deadline): ranks whose capture
  // ran into it still report in the reserve, and only the rank that never comes back is named.
  const dist::Deadline& deadline = ctx.deadline();
  gpu::RingsCapture cap = gpu_backend.capture_rings(comm, gpu::work_deadline(deadline), kMaxLogPerRank);
  auto blobs = comm.gather(nlohmann::json(cap).dump(), dist::Deadline::after(std::max(0.5, deadline.remaining_s())));
  LiveRings out;
  out.section = nlohmann::json::array();
  if (!ctx.is_root()) return out;

  std::vector<gpu::RingsCapture> caps;
  std::vector<int> missing;
  for (std::size_t i = 0; i < blobs.size(); ++i) {
    if (!blobs[i]) {
      missing.push_back(static_cast<int>(i));
      continue;
    }
    caps.push_back(nlohmann::json::parse(*blobs[i]).get<gpu::RingsCapture>());
  }
  if (!missing.empty())
    out.notes.push_back(fmt::format("rank(s) {} did not report before the deadline", format_ranges(missing)));
  nccl::LogIngest ingest;
  for (const auto& c : caps) {
    if (!c.error.empty()) out.notes.push_back(fmt::format("{} rank {}: {}", c.host, c.rank, c.error));
    if (c.log_truncated)
      out.notes.push_back(fmt::format("{} rank {}: NCCL log cut at {} bytes", c.host, c.rank, kMaxLogPerRank));
    if (!c.debug_log.empty()) {
      try {
        ingest.add_text(c.debug_log, fmt::format("{}:rank{}.log", c.host, c.rank));
      } catch (const InputError& e) {
        out.notes.push_back(e.what());
      }
    }
  }
  nccl::RunLog log = ingest.take();
  const int nodes = static_cast<int>(comm.nodes().node_names.size());
  // Each leader's dumps parsed (a node whose dump is unreadable is named in a note), then one
  // run of the rings checks over all of them.
  std::vector<topo::System> systems;
  std::vector<nccl::GraphFile> graphs;
  for (const auto& c : caps) {
    if (!c.leader) continue;
    if (c.topo_xml.empty() || c.graph_xml.empty()) {
      out.notes.push_back(fmt::format("{}: NCCL wrote no {} dump", c.host, c.topo_xml.empty() ? "topology" : "graph"));
      continue;
    }
    try {
      topo::System sys = nccl::parse_topo_xml(c.topo_xml, c.host + ":NCCL_TOPO_DUMP_FILE");
      sys.host = c.host;
      topo::compute_paths(sys);
      nccl::GraphFile gf = nccl::parse_graph_xml(c.graph_xml, c.host + ":NCCL_GRAPH_DUMP_FILE");
      systems.push_back(std::move(sys));
      graphs.push_back(std::move(gf));
    } catch (const InputError& e) {
      out.notes.push_back(e.what());
    }
  }
  std::vector<checks::RingsInput> inputs;
  for (std::size_t i = 0; i < systems.size(); ++i) {
    checks::RingsInput in{&systems[i], &graphs[i], &log, {}};
    in.opts.nodes = nodes;
    in.opts.log_host = systems[i].host;
    in.opts.compare_hosts = i == 0;
    inputs.push_back(std::move(in));
  }
  checks::Evidence ev;
  ev.rings = &inputs;
  checks::CheckRun run = checks::run_checks("rings", ev);
  out.findings = std::move(run.findings);
  for (auto& a : run.rings) {
    out.section.push_back(a);
    out.hosts.push_back(std::move(a));
  }
  return out;
}

}  // namespace ncd::cli
