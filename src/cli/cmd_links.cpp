// SPDX-License-Identifier: Apache-2.0
#include "cli/cmd_links.hpp"

#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <map>
#include <set>

#include "checks/dist_checks.hpp"
#include "checks/link_checks.hpp"
#include "checks/registry.hpp"
#include "collectives/link_sweep.hpp"
#include "core/error.hpp"
#include "core/text.hpp"
#include "core/units.hpp"
#include "dist/mpi_comm.hpp"
#include "probe/local.hpp"
#include "ncd/config.hpp"

namespace ncd::cli {

namespace {

std::string cell(const report::LinkResult* l) {
  if (!l) return "-";
  if (!l->ok) return "FAIL";
  if (l->gbps >= 100) return fmt::format("{:.1f}", l->gbps);
  return fmt::format("{:.3f}", l->gbps);
}

}  // namespace

std::string format_link_matrix(const std::vector<report::LinkResult>& links, std::size_t max_endpoints) {
  std::map<int, std::string> host_of;
  for (const auto& l : links) {
    host_of[l.src_rank] = l.src_host;
    host_of[l.dst_rank] = l.dst_host;
  }
  if (host_of.empty()) return "";
  std::set<std::string> hosts;
  for (const auto& [r, h] : host_of) hosts.insert(h);
  const bool by_host = hosts.size() == host_of.size();
  if (host_of.size() > max_endpoints)
    return fmt::format("(matrix of {} endpoints omitted: more than {}; the JSON report has every link)\n",
                       host_of.size(), max_endpoints);
  std::map<std::pair<int, int>, const report::LinkResult*> at;
  for (const auto& l : links) at[{l.src_rank, l.dst_rank}] = &l;
  std::vector<int> ranks;
  std::vector<std::string> labels;
  for (const auto& [r, h] : host_of) {
    ranks.push_back(r);
    labels.push_back(by_host ? h : fmt::format("r{}", r));
  }
  std::size_t w = 6;
  for (const auto& s : labels) w = std::max(w, s.size());
  std::size_t cw = std::max<std::size_t>(7, w);
  std::string out = fmt::format("{:<{}}", "from\\to", w);
  for (const auto& s : labels) out += fmt::format(" {:>{}}", s, cw);
  out += "\n";
  for (std::size_t i = 0; i < ranks.size(); ++i) {
    out += fmt::format("{:<{}}", labels[i], w);
    for (std::size_t j = 0; j < ranks.size(); ++j) {
      std::string c = i == j ? "." : cell(at.count({ranks[i], ranks[j]}) ? at[{ranks[i], ranks[j]}] : nullptr);
      out += fmt::format(" {:>{}}", c, cw);
    }
    out += "\n";
  }
  if (!by_host) {
    std::map<std::string, std::vector<int>> per_host;
    for (const auto& [r, h] : host_of) per_host[h].push_back(r);
    std::vector<std::string> legend;
    for (const auto& [h, rs] : per_host) legend.push_back(fmt::format("{}: r{}", h, format_ranges(rs)));
    out += "ranks: " + join(legend, "; ") + "\n";
  }
  return out;
}

namespace {

void render(std::ostream& out, const report::Report& r, const collectives::LinkSweepResult& res,
            const checks::LinkAnalysis& analysis, const collectives::LinkPlan& plan, int nranks,
            std::size_t nhosts) {
  out << fmt::format("# nccl-doctor links: {} over {} rank(s) on {} host(s), {} messages, host "
                     "memory over MPI\n",
                     to_string(plan.mode), nranks, nhosts, format_size(plan.bytes));
  out << fmt::format("# {} of {} round(s) ({} pass(es)), round deadline {:.1f} s{}{}\n", res.rounds_done,
                     res.rounds_planned, res.passes_done, res.round_timeout_s,
                     res.confirmed_pairs ? fmt::format("; {} suspect pair(s) measured again", res.confirmed_pairs) : "",
                     res.stop_reason.empty() ? "" : "; stopped: " + res.stop_reason);
  if (r.links.empty()) return;
  out << "\nBandwidth matrix (GB/s, row sends to column):\n" << format_link_matrix(r.links, 32);

  std::vector<const report::LinkResult*> order;
  for (const auto& l : r.links) order.push_back(&l);
  std::sort(order.begin(), order.end(), [](const auto* x, const auto* y) {
    if (x->ok != y->ok) return !x->ok;
    return x->gbps < y->gbps;
  });
  out << "\nSlowest links:\n";
  for (std::size_t i = 0; i < order.size() && i < 6; ++i) {
    const auto* l = order[i];
    std::string expect;
    if (auto it = analysis.classes.find(l->cls); it != analysis.classes.end()) {
      const auto& c = it->second;
      expect = fmt::format("typical {:.3f} GB/s, slow below {:.3f}, noise {:.1f}%", c.median_gbps, c.slow_below_gbps,
                           100 * c.noise);
      if (c.expected_gbps > 0) expect += fmt::format(", expected {:.3g}", c.expected_gbps);
    }
    const std::string latency = l->latency_us > 0 ? fmt::format("{:7.1f} us", l->latency_us) : "      - us";
    const std::string what = l->ok ? fmt::format("{:8.3f} GB/s {}", l->gbps, latency)
                                   : std::string("   no answer        ");
    out << fmt::format("  {:>8} -> {:<8} {:<4} {}   {}\n", fmt::format("{}:{}", l->src_host, l->src_rank),
                       fmt::format("{}:{}", l->dst_host, l->dst_rank), l->cls, what, expect);
  }
  if (!res.bisect.is_null())
    out << fmt::format("\nBisection: {} round(s), {} group test(s), reference {:.3f} GB/s\n",
                       res.bisect.value("rounds", 0), res.bisect.value("tests", 0),
                       res.bisect.value("reference_gbps", 0.0));
}

/// Waits to be ended by rank 0's abort once the MPI state may be stuck: exiting without
/// MPI_Finalize would make the launcher kill the job, possibly before rank 0 wrote the report.
[[noreturn]] void await_abort(int code) {
  std::cout.flush();
  std::cerr.flush();
  for (int i = 0; i < 600; ++i) {  // 60 s, sleeping
    usleep(100000);
  }
  std::_Exit(code);
}

}  // namespace

namespace {

/// The sweep's plan and the checks' options from the command line.
collectives::LinkPlan link_plan(const LinksOptions& o, checks::LinkCheckOptions& check_opts) {
  collectives::LinkPlan plan;
  plan.mode = collectives::parse_link_mode(o.mode);
  plan.bytes = parse_size(o.size, "--size");
  if (plan.bytes == 0 || plan.bytes > (1ull << 30)) throw UsageError("--size must be between 1 and 1G");
  plan.iters = o.iters;
  plan.warmup = o.warmup;
  plan.repeat = o.repeat;
  plan.passes = plan.mode == collectives::LinkMode::kBisect ? 1 : o.passes;
  plan.round_timeout_s = o.round_timeout;
  if (!o.expect.empty()) check_opts.expected_gbps = checks::parse_expected_gbps(o.expect, "--expect");
  if (check_opts.expected_gbps.count("net")) plan.bisect.expected_gbps = check_opts.expected_gbps["net"];
  return plan;
}

/// What the hardware should give a net link: each node's best RDMA port (one rank per node
/// probes, rank 0 applies them to `check_opts`). Returns notes for the report (rank 0).
std::vector<std::string> probe_net_expectations(const LinksOptions& o, Context& ctx, dist::MpiComm& comm,
                                                checks::LinkCheckOptions& check_opts) {
  std::vector<std::string> topo_notes;
  if (!o.topo && !check_opts.expected_gbps.count("net")) check_opts.no_expectation_reason["net"] = "--no-topo";
  if (!o.topo || check_opts.expected_gbps.count("net") || comm.size() < 2) return topo_notes;
  ctx.progress("links: probing the NICs for the expected bandwidth...");
  std::string mine;
  if (comm.nodes().is_leader(comm.rank())) {
    probe::ProbeOptions po;
    po.use_nvml = false;  // NICs and their PCIe links only: sysfs is enough and quick
    po.use_hwloc = false;
    checks::NetExpectation e;
    try {
      e = checks::net_expectation(probe::probe_local(po));
    } catch (const std::exception& ex) {
      e.reason = std::string("topology probe failed: ") + ex.what();
    }
    mine = nlohmann::json{{"gbps", e.gbps}, {"from", e.from}, {"reason", e.reason}}.dump();
  }
  auto blobs = comm.gather(mine, dist::Deadline::after(std::min(30.0, std::max(5.0, ctx.deadline().remaining_s() / 10))));
  if (!ctx.is_root()) return topo_notes;
  std::vector<std::pair<std::string, checks::NetExpectation>> hosts;
  for (std::size_t r = 0; r < blobs.size(); ++r) {
    if (!blobs[r] || blobs[r]->empty()) continue;
    try {
      auto j = nlohmann::json::parse(*blobs[r]);
      checks::NetExpectation e;
      e.gbps = j.value("gbps", 0.0);
      e.from = j.value("from", "");
      e.reason = j.value("reason", "");
      hosts.emplace_back(comm.nodes().rank_host.at(r), e);
    } catch (const std::exception&) {
      topo_notes.push_back(fmt::format("links: rank {} sent an unreadable NIC summary", r));
    }
  }
  checks::apply_net_expectations(hosts, check_opts);
  return topo_notes;
}

/// Rank 0: how the sweep ended, as notes and the report's completeness.
void note_sweep_end(report::Report& r, const collectives::LinkPlan& plan, const collectives::LinkSweepResult& res,
                    const checks::CheckRun& run, int nranks) {
  if (nranks < 2) r.notes.push_back("one rank: no link to measure (run under mpirun with 2+ ranks)");
  // With --repeat, running into the deadline after a whole sweep is how a soak ends.
  const bool soaked = plan.repeat > 1 && res.rounds_per_sweep > 0 && res.rounds_done >= res.rounds_per_sweep;
  if (res.deadline_reached && soaked) {
    r.notes.push_back(fmt::format("soak: {} round(s) = {:.1f} sweep(s) before --timeout", res.rounds_done,
                                  static_cast<double>(res.rounds_done) / res.rounds_per_sweep));
  } else if (res.deadline_reached) {
    r.incomplete = true;
    r.incomplete_reason = res.stop_reason;
    r.notes.push_back("stopped early: " + res.stop_reason + " (raise --timeout, or use --mode ring)");
  }
  for (const auto& [id, o] : run.outcomes)  // a check that could not judge never passes
    if (o.status == CheckStatus::kCouldNotRun && !r.incomplete) {
      r.incomplete = true;
      r.incomplete_reason = id + " could not judge: " + o.reason;
    }
  if (res.failed && r.findings.empty()) {
    r.incomplete = true;
    r.incomplete_reason = res.stop_reason;
  }
  if (res.failed)
    r.notes.push_back("a round did not finish: the report holds what was measured before it; "
                      "the job is ended (MPI may be stuck)");
}

/// Rank 0: `sections.links` of the report.
nlohmann::json links_section(const collectives::LinkPlan& plan, const collectives::LinkSweepResult& res,
                             const checks::LinkAnalysis& analysis, const checks::LinkCheckOptions& check_opts) {
  nlohmann::json sec = {{"mode", std::string(to_string(plan.mode))},
                        {"backend", "mpi"},
                        {"bytes", plan.bytes},
                        {"iters", plan.iters},
                        {"rounds_planned", res.rounds_planned},
                        {"rounds_done", res.rounds_done},
                        {"round_timeout_s", res.round_timeout_s},
                        {"remeasured_pairs", res.confirmed_pairs},
                        {"passes", res.passes_done},
                        {"silent_ranks", res.silent_ranks},
                        {"stop_reason", res.stop_reason},
                        {"classes", checks::link_classes_json(analysis, check_opts)}};
  if (!res.bisect.is_null()) sec["bisect"] = res.bisect;
  return sec;
}

}  // namespace

int run_links(const LinksOptions& o, Context& ctx) {
  checks::LinkCheckOptions check_opts;
  const collectives::LinkPlan plan = link_plan(o, check_opts);
  dist::MpiComm& comm = ctx.mpi();
  const std::vector<std::string> topo_notes = probe_net_expectations(o, ctx, comm, check_opts);
  ctx.progress(fmt::format("links: {} sweep over {} ranks...", o.mode, comm.size()));
  collectives::SuspectFn suspects;
  if (plan.mode != collectives::LinkMode::kBisect && o.confirm) {
    suspects = [&](const std::vector<report::LinkResult>& links) {
      checks::LinkSweepData d;
      d.links = links;
      d.rank_host = comm.nodes().rank_host;
      checks::Evidence ev;
      ev.links = &d;
      ev.link_opts = &check_opts;
      const checks::CheckRun run = checks::run_checks("links", ev);
      std::vector<collectives::Pair> pairs;
      for (const auto& [a, b] : run.links->suspect_rank_pairs) pairs.push_back({a, b});
      return pairs;
    };
  }
  collectives::LinkSweepResult res =
      collectives::run_link_sweep(plan, comm, ctx.deadline(), ctx.opts.timeout_s, suspects);

  report::Report r;
  r.command = "links";
  if (!ctx.is_root()) {
    if (comm.broken()) await_abort(3);
    return ctx.finish(r, nullptr);
  }

  const auto& nodes = comm.nodes();
  r.links = res.links;
  checks::LinkSweepData data;
  data.links = res.links;
  data.silent_ranks = res.silent_ranks;
  data.rank_host = nodes.rank_host;
  data.round_timeout_s = res.round_timeout_s;
  data.samples = res.samples;
  checks::Evidence ev;
  ev.links = &data;
  ev.link_opts = &check_opts;
  std::optional<checks::BisectFindingsInput> bisect;
  if (plan.mode == collectives::LinkMode::kBisect && !res.failed) {
    bisect = checks::bisect_input(res.bisect_slow, res.bisect_inconclusive, res.bisect, nodes.rank_host);
    ev.bisect = &*bisect;
  }
  checks::CheckRun run = checks::run_checks("links", ev);
  const checks::LinkAnalysis& analysis = *run.links;
  r.findings = run.findings;
  r.notes.insert(r.notes.end(), topo_notes.begin(), topo_notes.end());
  r.notes.insert(r.notes.end(), run.notes.begin(), run.notes.end());
  if (bisect)
    for (const auto& g : res.bisect_inconclusive)
      if (g.size() == 1)
        r.notes.push_back(fmt::format("bisection: rank {} looked slow but no healthy partner was "
                                      "left to confirm it",
                                      g[0]));
  note_sweep_end(r, plan, res, run, comm.size());
  for (std::size_t n = 0; n < nodes.node_names.size(); ++n)
    r.hosts.push_back({nodes.node_names[n], nodes.node_ranks[n], "", nullptr});
  r.sections["links"] = links_section(plan, res, analysis, check_opts);

  const int code = ctx.finish(r, [&](std::ostream& out) {
    render(out, r, res, analysis, plan, comm.size(), nodes.node_names.size());
  });
  if (comm.broken() && comm.rank() == 0) {
    // The report is written; peers may be stuck in MPI, so end the whole job now. Rank 0 only:
    // another rank's MPI_Abort would end the job with its own exit code, maybe mid-report.
    std::cout.flush();
    std::cerr.flush();
    comm.abort_job(code);
  }
  return code;
}

}  // namespace ncd::cli
