// SPDX-License-Identifier: Apache-2.0
#include "cli/cmd_sweep.hpp"

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <fmt/format.h>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "checks/baseline.hpp"
#include "checks/bench_checks.hpp"
#include "checks/dist_checks.hpp"
#include "checks/registry.hpp"
#include "checks/env_checks.hpp"
#include "checks/link_checks.hpp"
#include "checks/ring_predict.hpp"
#include "checks/topo_checks.hpp"
#include "checks/topo_groups.hpp"
#include "cli/topo_live.hpp"
#include "cli/cmd_rings.hpp"
#include "collectives/bench.hpp"
#include "collectives/link_sweep.hpp"
#include "core/error.hpp"
#include "core/fs.hpp"
#include "core/text.hpp"
#include "core/time.hpp"
#include "core/units.hpp"
#include "dist/mpi_comm.hpp"
#include "ncd/config.hpp"
#include "probe/local.hpp"
#include "topo/fingerprint.hpp"
#include "topo/paths.hpp"
#include "topo/model.hpp"
#include "gpu/backend.hpp"

extern char** environ;

namespace ncd::cli {

namespace {

constexpr std::size_t kMiB = std::size_t{1} << 20;
/// --quick promises a verdict well inside 2 minutes: the whole sweep runs under this deadline
/// (or --timeout when shorter), so a hung fabric is reported, not waited for.
constexpr double kQuickDeadlineS = 105;

}  // namespace

// ---- the plan (pure) ------------------------------------------------------------------------

double SweepPlan::total_budget_s() const {
  double t = 0;
  for (const auto& s : stages)
    if (s.run) t += s.budget_s;
  return t;
}

const SweepStage* SweepPlan::stage(const std::string& name) const {
  for (const auto& s : stages)
    if (s.name == name) return &s;
  return nullptr;
}

void to_json(nlohmann::json& j, const SweepPlan& p) {
  nlohmann::json st = nlohmann::json::array();
  for (const auto& s : p.stages)
    st.push_back({{"name", s.name}, {"run", s.run}, {"budget_s", s.budget_s}, {"what", s.what},
                  {"skip_note", s.skip_note}, {"skip_cause", s.skip_cause}});
  j = {{"stages", st},          {"backend", p.backend},       {"bench_sizes", p.bench_sizes},
       {"bench_iters", p.bench_iters}, {"bench_warmup", p.bench_warmup}, {"copies", p.copies},
       {"copy_bytes", p.copy_bytes}, {"links_mode", p.links_mode}, {"links_bytes", p.links_bytes}};
}

void from_json(const nlohmann::json& j, SweepPlan& p) {
  p.stages.clear();
  for (const auto& s : j.at("stages"))
    p.stages.push_back({s.at("name").get<std::string>(), s.at("run").get<bool>(), s.at("budget_s").get<double>(),
                        s.at("what").get<std::string>(), s.at("skip_note").get<std::string>(),
                        s.value("skip_cause", "")});
  p.backend = j.at("backend").get<std::string>();
  p.bench_sizes = j.at("bench_sizes").get<std::vector<std::size_t>>();
  p.bench_iters = j.at("bench_iters").get<int>();
  p.bench_warmup = j.at("bench_warmup").get<int>();
  p.copies = j.at("copies").get<bool>();
  p.copy_bytes = j.at("copy_bytes").get<std::size_t>();
  p.links_mode = j.at("links_mode").get<std::string>();
  p.links_bytes = j.at("links_bytes").get<std::size_t>();
}

SweepPlan plan_sweep(const SweepFacts& f) {
  SweepPlan p;
  const bool gpu = f.nccl_build && f.min_gpus > 0;
  p.backend = gpu ? "nccl" : "mpi";
  const bool multi = f.nranks > 1;
  std::string one_rank = "one rank: nothing to measure between ranks (run under mpirun or srun)";

  p.stages.push_back({"env", true, 2, "versions and NCCL_* settings of every rank, compared", ""});
  p.stages.push_back({"topo", true, f.quick ? 5.0 : 10.0,
                      "each node's PCIe/NVLink/NIC topology, checked, fingerprinted and compared across nodes", ""});
  // NCCL reads its debug and dump settings once per process, so the ring inspection (which sets
  // them) runs before the bench's communicators.
  SweepStage rings{"rings", gpu, f.quick ? 10.0 : 15.0,
                   "NCCL's rings and trees (one communicator, its topology and graph dumps) against the topology", ""};
  if (!gpu) {
    rings.skip_note = f.min_gpus == 0 ? "no GPU: NCCL's rings are not inspected"
                                      : "built without NCCL: NCCL's rings are not inspected";
    rings.skip_cause = "not_applicable";
  }
  if (gpu) p.stages.push_back(rings);

  // bench: large-message allreduce, ring vs tree vs native. Budgets: an 8-GPU node inits one
  // NCCL communicator per algorithm (a few seconds each) and moves 256 MiB in about a
  // millisecond; 4 host ranks on 2 cores move 16 MiB in tens of milliseconds.
  SweepStage bench{"bench", true, 0, "", ""};
  if (gpu) {
    p.bench_sizes = f.quick ? std::vector<std::size_t>{32 * kMiB, 256 * kMiB}
                            : std::vector<std::size_t>{kMiB, 4 * kMiB, 16 * kMiB, 64 * kMiB, 256 * kMiB, 1024 * kMiB};
    p.bench_iters = f.quick ? 10 : 20;
    p.bench_warmup = f.quick ? 3 : 5;
    p.copies = true;
    p.copy_bytes = f.quick ? 64 * kMiB : 256 * kMiB;
    bench.budget_s = f.quick ? 25 : 60;
  } else {
    // 4 MiB first, as a probe: from its time the stage predicts the larger sizes and skips them
    // on a fabric too slow for the budget. The verdict rests on the large ones (16, 32 MiB):
    // on oversubscribed hosts small messages are dominated by scheduling noise.
    p.bench_sizes = f.quick ? std::vector<std::size_t>{4 * kMiB, 16 * kMiB, 32 * kMiB}
                            : std::vector<std::size_t>{kMiB, 4 * kMiB, 16 * kMiB, 64 * kMiB};
    p.bench_iters = f.quick ? 10 : 20;  // fewer make p10-p90 the min-max: false bench.unstable
    p.bench_warmup = f.quick ? 2 : 5;
    bench.budget_s = f.quick ? 20 : 60;
  }
  std::vector<std::string> sizes;
  for (auto b : p.bench_sizes) sizes.push_back(format_size(b));
  bench.what = fmt::format("allreduce ring, tree, native on {} at {}; {} iterations{}",
                           gpu ? "GPUs (NCCL)" : "host memory (MPI)", join(sizes, ","), p.bench_iters,
                           gpu ? fmt::format("; copy bandwidth per GPU ({})", format_size(p.copy_bytes)) : "");
  if (!multi && !gpu) {
    bench.run = false;
    bench.skip_note = one_rank;
    bench.skip_cause = "too_few_ranks";
  }
  p.stages.push_back(bench);

  // links: host memory over MPI point-to-point, every node with its ring neighbours (O(n)
  // time), or every pair with --full (n-1 rounds).
  p.links_mode = f.full ? "pairwise" : "ring";
  p.links_bytes = f.quick ? 16 * kMiB : 64 * kMiB;
  SweepStage links{"links", multi, 0, "", ""};
  const double rounds = f.full ? std::max(1, f.nranks - 1) : 3;
  links.budget_s = f.quick ? 10 : std::max(20.0, 2.0 * rounds);
  links.what = fmt::format("{} link sweep over {} ranks, {} messages, both directions",
                           p.links_mode, f.nranks, format_size(p.links_bytes));
  if (!multi) {
    links.skip_note = one_rank;
    links.skip_cause = "too_few_ranks";
  }
  p.stages.push_back(links);
  if (!gpu) p.stages.push_back(rings);
  // Stages the user excluded are not planned: their checks are "excluded", the verdict can
  // still be complete.
  for (auto& st : p.stages)
    if (std::find(f.excluded.begin(), f.excluded.end(), st.name) != f.excluded.end()) {
      st.run = false;
      st.skip_note = "excluded by --skip/--only";
      st.skip_cause = "excluded";
    }
  return p;
}

// ---- running it -----------------------------------------------------------------------------

namespace {

/// State shared by the stages of one run.
struct Sweep {
  Context& ctx;
  dist::Comm& comm;
  const SweepOptions& opts;
  dist::Deadline deadline;
  report::Report& r;
  SweepPlan plan;
  std::map<std::string, std::string> summary;  ///< stage -> one line for the text output
  nlohmann::json stages = nlohmann::json::array();
  double started = 0;
  std::size_t stage_index = 0;
  double stage_started = 0;
  checks::CheckRun checks;  ///< what the stages' checks gave beyond findings (outcomes they know better)
  /// What each host's best RDMA port should give a net link, from the topo stage (rank 0; empty
  /// when that stage did not run): the links stage judges the fabric against it, as `links` does.
  std::vector<std::pair<std::string, checks::NetExpectation>> net_expect;

  /// An Evidence naming the job's nodes (for unanswered steps); a stage adds its inputs.
  [[nodiscard]] checks::Evidence evidence() const {
    checks::Evidence ev;
    ev.nodes = &comm.nodes();
    ev.timeout_s = ctx.opts.timeout_s;
    return ev;
  }
  /// A stage's check results: findings into the report, outcomes kept for the verdict; returns
  /// the notes for the stage to place.
  std::vector<std::string> add(checks::CheckRun run) {
    r.findings.insert(r.findings.end(), run.findings.begin(), run.findings.end());
    run.findings.clear();
    std::vector<std::string> notes = std::move(run.notes);
    run.notes.clear();
    checks.merge(std::move(run));
    return notes;
  }
  /// The deadline of one stage: the sweep's, or three times its budget when that is sooner
  /// (a stage far over its budget is hung, not slow).
  [[nodiscard]] dist::Deadline stage_deadline(double budget) const {
    return deadline.capped(std::max(20.0, 3 * budget));
  }
  [[nodiscard]] double budget_of(const std::string& stage) const {
    const SweepStage* st = plan.stage(stage);
    return st ? st->budget_s : 0;
  }
  void progress(const std::string& stage, const std::string& step) {
    // ETA: what is left of this stage's budget plus the budgets of the stages after it.
    double left = 0;
    bool after = false;
    for (const auto& s : plan.stages) {
      if (s.name == stage) {
        after = true;
        left += std::max(0.0, s.budget_s - (ctx.elapsed_s() - stage_started));
      } else if (after && s.run) {
        left += s.budget_s;
      }
    }
    // Before the plan exists (env decides it) there is no stage count and no estimate yet.
    if (plan.stages.size() <= 1)
      ctx.progress(fmt::format("sweep {}: {} | {:.0f} s elapsed", stage, step, ctx.elapsed_s() - started));
    else
      ctx.progress(fmt::format("sweep [{}/{}] {}: {} | {:.0f} s elapsed, about {:.0f} s to go", stage_index,
                               plan.stages.size(), stage, step, ctx.elapsed_s() - started, left));
  }
  /// One line on stderr (rank 0, terminal or not, silent with -q) as a stage starts, ends or is
  /// skipped, so a launcher's log grows stage by stage: UTC time, elapsed since the start.
  void stage_line(const std::string& stage, const std::string& what) {
    if (!ctx.is_root() || ctx.opts.verbosity < 0) return;
    ctx.end_progress();
    const std::string clock = format_utc(static_cast<double>(std::time(nullptr)), kUtcClock);
    const std::string of = plan.stages.size() > 1 ? fmt::format("/{}", plan.stages.size()) : "";
    ctx.err << fmt::format("nccl-doctor: {}Z t={:.1f}s sweep [{}{}] {}: {}", clock, ctx.elapsed_s() - started,
                           stage_index, of, stage, what)
            << std::endl;
  }
  /// "done in 3.1 s of its 5 s budget", or the overrun.
  void stage_done(const std::string& stage, double took, double budget) {
    stage_line(stage, took > budget ? fmt::format("done in {:.1f} s, OVER its {:.0f} s budget by {:.1f} s", took,
                                                  budget, took - budget)
                                    : fmt::format("done in {:.1f} s of its {:.0f} s budget", took, budget));
  }
};

// env ------------------------------------------------------------------------------------------

struct EnvResult {
  std::vector<checks::RankEnv> ranks;
  std::vector<int> missing;
};

EnvResult stage_env(Sweep& s, const dist::Deadline& deadline) {
  checks::RankEnv mine;
  mine.rank = s.comm.rank();
  mine.host = s.comm.host();
  mine.versions = probe::probe_versions();
  mine.vars = checks::relevant_vars(environ);
  auto blobs = s.comm.gather(nlohmann::json(mine).dump(), deadline);
  EnvResult out;
  if (!s.ctx.is_root()) return out;
  for (std::size_t i = 0; i < blobs.size(); ++i) {
    if (!blobs[i]) {
      out.missing.push_back(static_cast<int>(i));
      continue;
    }
    out.ranks.push_back(nlohmann::json::parse(*blobs[i]).get<checks::RankEnv>());
  }
  const std::vector<checks::Unanswered> unanswered = {{"reporting the environment", out.missing, ""}};
  checks::Evidence ev = s.evidence();
  ev.env = &out.ranks;
  ev.unanswered = &unanswered;
  (void)s.add(checks::run_checks("env", ev));
  (void)s.add(checks::run_checks("dist", ev));
  s.r.sections["env"] = out.ranks;
  std::set<std::string> versions;
  for (const auto& e : out.ranks) {
    const auto& v = e.versions;
    versions.insert(fmt::format("NCCL {}, CUDA {}, driver {}, {}", v.nccl.empty() ? "absent" : v.nccl,
                                v.cuda_runtime.empty() ? "absent" : v.cuda_runtime, v.cuda_driver, v.mpi));
  }
  s.summary["env"] = fmt::format("{} rank(s) reported{}; {}", out.ranks.size(),
                                 out.missing.empty() ? "" : fmt::format(", {} silent", out.missing.size()),
                                 versions.size() == 1 ? *versions.begin()
                                                      : fmt::format("{} different version sets", versions.size()));
  return out;
}

// bench ----------------------------------------------------------------------------------------

/// Measures once more, at once, each row bench.unstable would warn about, when the stage's
/// budget allows: a series disturbed by something else on the host is steady the second time,
/// a path that varies keeps varying (checks::check_bench weighs both). Rank 0 decides and
/// every rank takes part; returns the new rows on rank 0.
std::vector<report::CollectiveResult> repeat_unstable(Sweep& s, collectives::BenchPlan bp,
                                                      const collectives::BenchOutcome& outcome, double stage_start,
                                                      const dist::Deadline& deadline) {
  dist::MpiComm& mpi = s.ctx.mpi();
  nlohmann::json plan = nlohmann::json::array();
  if (s.ctx.is_root()) {
    checks::BenchEvidence ev;
    for (const auto& p : outcome.points) ev.rows.push_back(p.row);
    const double used = s.ctx.elapsed_s() - stage_start;
    // A row's share of the stage so far, by bytes moved: a generous estimate of measuring it again.
    double bytes_all = 0;
    for (const auto& r : ev.rows) bytes_all += static_cast<double>(r.bytes);
    double planned = 0;
    for (auto i : checks::unstable_rows(ev)) {
      const auto& r = ev.rows[i];
      const double est = 1.5 * used * static_cast<double>(r.bytes) / std::max(1.0, bytes_all);
      if (used + planned + est > 1.5 * s.budget_of("bench") || planned + est > 0.5 * deadline.remaining_s()) {
        s.r.notes.push_back(fmt::format("bench: {} {} at {} varied {:.0f}%; no time left in the stage to measure it again",
                                        r.op, r.algo, format_size(r.bytes), r.spread * 100));
        continue;
      }
      planned += est;
      plan.push_back({{"algo", r.algo}, {"bytes", r.bytes}});
    }
  }
  std::string msg = plan.dump();
  if (!mpi.broadcast(msg, deadline)) return {};
  std::vector<report::CollectiveResult> rows;
  for (const auto& item : nlohmann::json::parse(msg)) {
    bp.algos = {collectives::parse_algo(item.at("algo").get<std::string>())};
    bp.sizes = {item.at("bytes").get<std::size_t>()};
    s.progress("bench", fmt::format("measuring {} at {} again", item.at("algo").get<std::string>(),
                                    format_size(bp.sizes.front())));
    collectives::BenchOutcome o = collectives::run_host_bench(bp, mpi, deadline, {});
    for (const auto& p : o.points) rows.push_back(p.row);
    if (o.stopped || mpi.broken()) break;
  }
  return rows;
}

/// The host backend: one size at a time, smallest first. Before a larger size, rank 0
/// predicts its time from the last one and skips it when it would overrun the stage (a node
/// shaped to 200 Mbit/s makes a 32 MiB allreduce take seconds per iteration), so the bench
/// never breaks the job and the links stage still runs to name the slow part. Unstable rows
/// are measured again into `repeats`.
collectives::BenchOutcome measure_host(Sweep& s, collectives::BenchPlan bp, const dist::Deadline& deadline,
                                       std::vector<report::CollectiveResult>& repeats) {
  auto progress = [&s](const std::string& step) { s.progress("bench", step); };
  collectives::BenchOutcome outcome;
  dist::MpiComm& mpi = s.ctx.mpi();
  const double stage_start = s.ctx.elapsed_s();
  const auto sizes = bp.sizes;
  for (std::size_t k = 0; k < sizes.size(); ++k) {
    bp.sizes = {sizes[k]};
    const double t0 = s.ctx.elapsed_s();
    collectives::BenchOutcome o = collectives::run_host_bench(bp, mpi, deadline, progress);
    outcome.points.insert(outcome.points.end(), o.points.begin(), o.points.end());
    outcome.missing_ranks = o.missing_ranks;
    outcome.timed_out_ranks = o.timed_out_ranks;
    outcome.failed_step = o.failed_step;
    outcome.stopped = o.stopped;
    if (o.stopped || mpi.broken() || k + 1 == sizes.size()) break;
    std::string go = "go";
    if (s.ctx.is_root()) {
      const double took = s.ctx.elapsed_s() - t0;
      const double next = took * static_cast<double>(sizes[k + 1]) / static_cast<double>(sizes[k]);
      const double used = s.ctx.elapsed_s() - stage_start;
      if (used + next > 1.5 * s.budget_of("bench") || next > 0.5 * deadline.remaining_s())
        go = fmt::format("bench: skipped {} and larger: {} took {:.1f} s, {} would take about {:.0f} s "
                         "(the stage's budget is {:.0f} s)",
                         format_size(sizes[k + 1]), format_size(sizes[k]), took, format_size(sizes[k + 1]), next,
                         s.budget_of("bench"));
    }
    if (mpi.size() > 1 && !mpi.broadcast(go, deadline)) break;
    if (go != "go") {
      if (s.ctx.is_root()) s.r.notes.push_back(go);
      break;
    }
  }
  if (!outcome.stopped && !mpi.broken()) repeats = repeat_unstable(s, bp, outcome, stage_start, deadline);
  return outcome;
}

/// The GPU backend: NCCL's collectives, then (when planned) each node's copy bandwidth,
/// measured by one rank per node (the others would measure the same GPUs) into `copies`.
collectives::BenchOutcome measure_gpu(Sweep& s, const collectives::BenchPlan& bp, const dist::Deadline& deadline,
                                      nlohmann::json& copies) {
  auto progress = [&s](const std::string& step) { s.progress("bench", step); };
  gpu::GpuBenchOutcome g = gpu::backend().run_bench(bp, s.comm, deadline, progress);
  if (s.ctx.is_root()) s.r.notes.insert(s.r.notes.end(), g.notes.begin(), g.notes.end());
  if (s.ctx.is_root()) s.r.findings.insert(s.r.findings.end(), g.findings.begin(), g.findings.end());
  if (s.plan.copies && !s.comm.broken()) {
    s.progress("bench", "copy bandwidth");
    nlohmann::json mine = nlohmann::json::array();
    if (s.comm.nodes().is_leader(s.comm.rank())) {
      for (const auto& c : gpu::backend().run_copies(s.plan.copy_bytes, 10, deadline))
        mine.push_back(gpu::copy_to_json(c, s.comm.host(), s.comm.rank()));
    }
    auto all = s.comm.gather(mine.dump(), deadline);
    for (const auto& b : all)
      if (b)
        for (const auto& c : nlohmann::json::parse(*b)) copies.push_back(c);
  }
  return std::move(g.bench);
}

/// Rank 0: the stage's rows, copies and unanswered steps through the bench and dist checks,
/// with NCCL's model as the GPU expectation (the first node's topology from the topo stage;
/// topo.differs says when the nodes differ).
void judge_bench(Sweep& s, checks::BenchEvidence& ev, const collectives::BenchOutcome& outcome,
                 const checks::BenchThresholds& th, const nlohmann::json& copies) {
  checks::Evidence in = s.evidence();
  if (s.plan.backend == "nccl") {
    in.bench_no_model = "the topology was not probed (topo stage)";
    for (const auto& h : s.r.hosts) {
      if (!h.topology.is_object()) continue;
      topo::System sys;
      from_json(h.topology, sys);
      topo::compute_paths(sys);
      in.bench_no_model = checks::apply_model_expectation(ev, sys, static_cast<int>(s.comm.nodes().node_names.size()));
      break;
    }
  }
  in.bench = &ev;
  in.bench_thresholds = &th;
  in.bench_failed_step = outcome.failed_step;
  if (!copies.empty()) {
    s.r.sections["copies"] = copies;
    in.copies = &copies;
  }
  const std::vector<checks::Unanswered> unanswered = checks::bench_unanswered(outcome);
  in.unanswered = &unanswered;
  checks::CheckRun run = checks::run_checks("bench", in);
  if (!run.incomplete.empty()) {
    s.r.incomplete = true;
    s.r.incomplete_reason = run.incomplete;
  }
  (void)s.add(std::move(run));
  s.r.collectives.insert(s.r.collectives.end(), ev.rows.begin(), ev.rows.end());
  (void)s.add(checks::run_checks("dist", in));
  if (outcome.missing_ranks.empty() && outcome.timed_out_ranks.empty() && outcome.stopped)
    s.r.notes.push_back("bench stopped early at " + outcome.failed_step);
}

/// "allreduce busbw at 16M (mpi): ring 1.2, tree 0.9, native 1.3 GB/s"
std::string bench_summary(const Sweep& s, const std::vector<report::CollectiveResult>& rows, std::size_t copies) {
  std::map<std::string, const report::CollectiveResult*> at_max;
  std::size_t largest = 0;
  for (const auto& row : rows) largest = std::max<std::size_t>(largest, row.bytes);
  for (const auto& row : rows)
    if (row.bytes == largest) at_max[row.algo] = &row;
  std::vector<std::string> parts;
  for (const char* a : {"ring", "tree", "native"})
    if (at_max.count(a))
      parts.push_back(at_max[a]->expected_busbw_gbps
                          ? fmt::format("{} {:.2f} (model {:.1f})", a, at_max[a]->busbw_gbps, *at_max[a]->expected_busbw_gbps)
                          : fmt::format("{} {:.2f}", a, at_max[a]->busbw_gbps));
  return parts.empty() ? std::string("no measurement finished")
                       : fmt::format("allreduce busbw at {} ({}): {} GB/s{}", format_size(largest), s.plan.backend,
                                     join(parts, ", "), copies == 0 ? "" : fmt::format("; {} copy measurement(s)", copies));
}

void stage_bench(Sweep& s, const dist::Deadline& deadline) {
  collectives::BenchPlan bp;
  bp.ops = {collectives::Op::kAllReduce};
  bp.algos = {collectives::Algo::kRing, collectives::Algo::kTree, collectives::Algo::kNative};
  bp.sizes = s.plan.bench_sizes;
  bp.iters = s.plan.bench_iters;
  bp.warmup = s.plan.bench_warmup;
  bp.check = 1;
  std::vector<report::CollectiveResult> repeats;
  nlohmann::json copies = nlohmann::json::array();
  const bool host = s.plan.backend == "mpi";
  const checks::BenchThresholds th = checks::thresholds_for(host ? "mpi" : "nccl");
  const collectives::BenchOutcome outcome = host ? measure_host(s, bp, deadline, repeats) : measure_gpu(s, bp, deadline, copies);
  if (!s.ctx.is_root()) return;
  checks::BenchEvidence ev;
  for (const auto& p : outcome.points) {
    ev.rows.push_back(p.row);
    ev.wrong_per_rank.push_back(p.wrong_per_rank);
  }
  ev.rank_host = s.comm.nodes().rank_host;
  ev.host = join(s.comm.nodes().node_names, ",");
  ev.repeats = std::move(repeats);
  judge_bench(s, ev, outcome, th, copies);
  s.r.sections["bench"] = {{"backend", s.plan.backend}, {"nranks", s.comm.size()}, {"iters", bp.iters},
                           {"warmup", bp.warmup}, {"check", bp.check}};
  s.summary["bench"] = bench_summary(s, ev.rows, copies.size());
}

// topo -----------------------------------------------------------------------------------------

/// "node0: X", "node1: X", ... -> "node0, node1: X" (4 or fewer hosts) or "12 hosts (node0,
/// node1, ...): X", so 1,000 identical nodes give one line. Other notes are kept as they are.
std::vector<std::string> group_host_notes(const std::vector<std::string>& notes,
                                          const std::vector<std::string>& hosts) {
  std::set<std::string> known(hosts.begin(), hosts.end());
  std::vector<std::string> order;
  std::map<std::string, std::vector<std::string>> by_text;
  std::vector<std::string> out;
  for (const auto& n : notes) {
    auto colon = n.find(": ");
    if (colon == std::string::npos || !known.count(n.substr(0, colon))) {
      out.push_back(n);
      continue;
    }
    std::string text = n.substr(colon + 2);
    if (!by_text.count(text)) order.push_back(text);
    by_text[text].push_back(n.substr(0, colon));
  }
  for (const auto& text : order) {
    const auto& hs = by_text[text];
    if (hs.size() <= 4) {
      out.push_back(join(hs, ", ") + ": " + text);
    } else {
      std::vector<std::string> head(hs.begin(), hs.begin() + 3);
      out.push_back(fmt::format("{} hosts ({}, ...): {}", hs.size(), join(head, ", "), text));
    }
  }
  return out;
}

void stage_topo(Sweep& s, const dist::Deadline& deadline) {
  const auto& nodes = s.comm.nodes();
  if (nodes.is_leader(s.comm.rank())) s.progress("topo", "probing this node");
  // Fingerprint first, models on demand (topo_live.hpp): one model per distinct topology.
  LiveTopology live = gather_live_topology(s.comm, s.comm.size() > 1, deadline);
  if (!s.ctx.is_root()) return;
  std::vector<topo::System> systems;
  checks::Evidence ev = s.evidence();
  // Up to kExpandNodesUpTo nodes one model per node, else one per distinct topology; cluster
  // consistency (topo.differs, gpu.count_mismatch) comes from the same checks.
  if (live.nodes <= checks::kExpandNodesUpTo) {
    systems = expand_nodes(live);
    ev.systems = &systems;
  } else {
    s.r.hosts = grouped_host_entries(live, nodes);
    ev.groups = &live.groups;
  }
  const std::vector<std::string> notes = s.add(checks::run_checks("topo", ev));
  for (const auto& n : group_host_notes(notes, nodes.node_names)) s.r.notes.push_back("topo: " + n);
  const std::vector<checks::Unanswered> unanswered = {{"probing the topology", live.missing_ranks, ""}};
  ev.unanswered = &unanswered;
  (void)s.add(checks::run_checks("dist", ev));
  std::map<std::string, std::vector<std::string>> by_fp;
  std::size_t gpus = 0, nics = 0;
  for (const auto& sys : systems) {
    auto fp = topo::fingerprint(sys);
    by_fp[fp.digest].push_back(sys.host);
    gpus += sys.gpus.size();
    nics += sys.nics.size();
    s.r.hosts.push_back({sys.host, nodes.node_ranks[static_cast<std::size_t>(
                                       std::find(nodes.node_names.begin(), nodes.node_names.end(), sys.host) -
                                       nodes.node_names.begin())],
                         fp.digest, topo::system_to_json(sys)});
  }
  for (const auto& sys : systems) s.net_expect.emplace_back(sys.host, checks::net_expectation(sys));
  if (systems.empty())
    for (const auto& g : live.groups) {
      const checks::NetExpectation e = checks::net_expectation(g.system);
      for (const auto& h : g.hosts) s.net_expect.emplace_back(h, e);
    }
  for (const auto& g : live.groups) {
    if (!systems.empty()) break;  // counted above
    by_fp[topo::fingerprint(g.system).digest].push_back(g.hosts.front());
    gpus += g.system.gpus.size() * g.hosts.size();
    nics += g.system.nics.size() * g.hosts.size();
  }
  s.summary["topo"] = fmt::format("{} node(s), {} GPU(s), {} NIC(s); {} distinct topolog{}", live.nodes, gpus,
                                  nics, by_fp.size(), by_fp.size() == 1 ? "y" : "ies");
  // NCCL's graphs predicted once per distinct topology; nodes worse than their siblings are named.
  std::vector<std::pair<std::string, const topo::System*>> fp_sys;
  for (const auto& sys : systems) fp_sys.emplace_back(topo::fingerprint(sys).digest, &sys);
  checks::Evidence pe;
  pe.predicted = &fp_sys;
  pe.job_nodes = static_cast<int>(nodes.node_names.size());
  for (const auto& n : s.add(checks::run_family("rings.predicted", pe))) s.r.notes.push_back("rings: " + n);
}

// links ----------------------------------------------------------------------------------------

void stage_links(Sweep& s, const dist::Deadline& deadline, double budget_s) {
  collectives::LinkPlan lp;
  lp.mode = collectives::parse_link_mode(s.plan.links_mode);
  lp.bytes = s.plan.links_bytes;
  lp.iters = s.opts.quick ? 3 : 5;
  s.progress("links", fmt::format("{} sweep over {} ranks", s.plan.links_mode, s.comm.size()));
  const double stage_s = std::min(deadline.remaining_s(), std::max(20.0, 3 * budget_s));
  checks::LinkCheckOptions link_opts{};
  if (!s.net_expect.empty()) checks::apply_net_expectations(s.net_expect, link_opts);
  else link_opts.no_expectation_reason["net"] = "the topo stage did not run";
  // Suspect pairs are measured again before they are blamed, as in `links` (its --no-confirm
  // has no sweep counterpart: a sweep's verdict rests on confirmed findings).
  const collectives::SuspectFn suspects = [&](const std::vector<report::LinkResult>& links) {
    checks::LinkSweepData d;
    d.links = links;
    d.rank_host = s.comm.nodes().rank_host;
    checks::Evidence ev;
    ev.links = &d;
    ev.link_opts = &link_opts;
    const checks::CheckRun run = checks::run_checks("links", ev);
    std::vector<collectives::Pair> pairs;
    for (const auto& [a, b] : run.links->suspect_rank_pairs) pairs.push_back({a, b});
    return pairs;
  };
  collectives::LinkSweepResult res = collectives::run_link_sweep(lp, s.ctx.mpi(), deadline, stage_s, suspects);
  if (!s.ctx.is_root()) return;
  checks::LinkSweepData data;
  data.links = res.links;
  data.silent_ranks = res.silent_ranks;
  data.rank_host = s.comm.nodes().rank_host;
  data.round_timeout_s = res.round_timeout_s;
  checks::Evidence ev;
  ev.links = &data;
  ev.link_opts = &link_opts;
  checks::CheckRun run = checks::run_checks("links", ev);
  const checks::LinkAnalysis analysis = *run.links;
  const std::vector<std::string> notes = s.add(std::move(run));
  s.r.links.insert(s.r.links.end(), res.links.begin(), res.links.end());
  s.r.notes.insert(s.r.notes.end(), notes.begin(), notes.end());
  if (res.deadline_reached) s.r.notes.push_back("links: stopped early: " + res.stop_reason);
  if (res.failed) s.r.notes.push_back("links: a round did not finish; the report holds what was measured before it");
  const nlohmann::json classes = checks::link_classes_json(analysis, link_opts);
  std::vector<std::string> parts;
  for (const auto& [cls, c] : analysis.classes) {
    parts.push_back(fmt::format("{} {} link(s), median {:.3g} GB/s, {:.3g} us", cls, c.links, c.median_gbps,
                                c.median_latency_us));
  }
  s.r.sections["links"] = {{"mode", s.plan.links_mode},       {"backend", "mpi"},
                           {"bytes", lp.bytes},               {"iters", lp.iters},
                           {"rounds_planned", res.rounds_planned}, {"rounds_done", res.rounds_done},
                           {"round_timeout_s", res.round_timeout_s}, {"silent_ranks", res.silent_ranks},
                           {"remeasured_pairs", res.confirmed_pairs},
                           {"stop_reason", res.stop_reason},  {"classes", classes}};
  const report::LinkResult* slowest = nullptr;
  for (const auto& l : res.links)
    if (!slowest || (!l.ok && slowest->ok) || (l.ok == slowest->ok && l.gbps < slowest->gbps)) slowest = &l;
  s.summary["links"] = fmt::format("{} sweep: {}{}", s.plan.links_mode, parts.empty() ? "nothing measured" : join(parts, "; "),
                                   slowest ? fmt::format("; slowest {}:{} -> {}:{} {}", slowest->src_host, slowest->src_rank,
                                                         slowest->dst_host, slowest->dst_rank,
                                                         slowest->ok ? fmt::format("{:.3g} GB/s", slowest->gbps)
                                                                     : std::string("no answer"))
                                           : "");
}

// rings ----------------------------------------------------------------------------------------

void stage_rings(Sweep& s) {
  s.progress("rings", "one NCCL communicator with topology and graph dumps");
  LiveRings live = inspect_rings_live(s.ctx);
  if (!s.ctx.is_root()) return;
  s.r.findings.insert(s.r.findings.end(), live.findings.begin(), live.findings.end());
  for (const auto& n : live.notes) s.r.notes.push_back("rings: " + n);
  s.r.sections["rings"] = live.section;
  s.summary["rings"] = fmt::format("{} node(s) inspected, {} finding(s)", live.hosts.size(), live.findings.size());
}

std::string describe_plan(const SweepPlan& p, const SweepOptions& o, double deadline_s) {
  std::string s = fmt::format("# sweep plan ({}): {} backend, about {:.0f} s of a {:.0f} s deadline\n",
                              o.quick ? "--quick" : o.full ? "--full" : "default", p.backend, p.total_budget_s(),
                              deadline_s);
  for (const auto& st : p.stages)
    s += st.run ? fmt::format("#   {:<6} {:>4.0f} s  {}\n", st.name, st.budget_s, st.what)
                : fmt::format("#   {:<6}   skip  {}\n", st.name, st.skip_note);
  return s;
}

}  // namespace

std::vector<std::string> excluded_stages(const std::string& skip, const std::string& only) {
  static const std::vector<std::string> kStages = {"env", "topo", "bench", "links", "rings"};
  if (!skip.empty() && !only.empty()) throw UsageError("--skip and --only exclude each other");
  auto parse = [](const std::string& text, const char* flag) {
    std::vector<std::string> out;
    for (const auto& part : split(text, ',')) {
      std::string name(trim(part));
      if (std::find(kStages.begin(), kStages.end(), name) == kStages.end())
        throw UsageError(fmt::format("{} {}: unknown stage '{}' (stages: topo, bench, links, rings)", flag, text, name));
      if (name == "env") throw UsageError(fmt::format("{}: the env stage always runs (it plans the others)", flag));
      out.push_back(name);
    }
    return out;
  };
  if (!skip.empty()) return parse(skip, "--skip");
  if (only.empty()) return {};
  auto keep = parse(only, "--only");
  std::vector<std::string> out;
  for (const auto& st : kStages)
    if (st != "env" && std::find(keep.begin(), keep.end(), st) == keep.end()) out.push_back(st);
  return out;
}

std::string save_refusal(const report::Report& r, int exit_code, bool allow_warnings) {
  int worst = -1;
  for (const auto& f : r.findings) worst = std::max(worst, static_cast<int>(f.severity));
  if (r.incomplete || exit_code == 3)
    return "the run is incomplete (" + (r.incomplete_reason.empty() ? std::string("exit 3") : r.incomplete_reason) +
           "): a baseline must be a complete measurement";
  if (worst == static_cast<int>(Severity::kError)) return "the run found errors: a baseline must be healthy";
  if (worst == static_cast<int>(Severity::kWarn) && !allow_warnings)
    return "the run ended with warnings (pass --save-allow-warnings to keep it anyway)";
  return "";
}

namespace {

/// Each check's outcome from what the sweep ran and found (rank 0).
RunFacts sweep_facts(const report::Report& r, const nlohmann::json& stages, const EnvResult& env, int nranks,
                     std::size_t nnodes, bool baseline) {
  RunFacts f;
  f.ranks = nranks;
  f.hosts = static_cast<int>(std::max<std::size_t>(1, nnodes));
  bool topo_known = false, nvml_missing = false;
  std::map<std::string, const nlohmann::json*> model_of;  // a grouped job: {"same_as": host}
  for (const auto& h : r.hosts)
    if (h.topology.is_object() && !h.topology.contains("same_as")) model_of[h.name] = &h.topology;
  for (const auto& h0 : r.hosts) {
    if (!h0.topology.is_object()) continue;
    const nlohmann::json* model = &h0.topology;
    if (h0.topology.contains("same_as") && h0.topology["same_as"].is_string()) {
      auto it = model_of.find(h0.topology["same_as"].get<std::string>());
      if (it == model_of.end()) continue;
      model = it->second;
    }
    const nlohmann::json& t = *model;
    topo_known = true;
    if (t.contains("gpus") && t["gpus"].is_array()) f.gpus += static_cast<int>(t["gpus"].size());
    if (t.contains("nics") && t["nics"].is_array()) f.nics += static_cast<int>(t["nics"].size());
    if (t.contains("notes") && t["notes"].is_array())
      for (const auto& n : t["notes"])
        if (n.is_string() && n.get<std::string>().rfind("NVML:", 0) == 0) nvml_missing = true;
  }
  if (!topo_known)
    for (const auto& e : env.ranks) f.gpus += e.versions.gpu_count;
  auto miss = [&f](Needs bit, std::string why, bool na) { f.missing[bit] = {std::move(why), na}; };
  if (f.gpus == 0) miss(need::kGpu, "no GPU", true);
  if (topo_known && f.nics == 0) miss(need::kNic, "no NIC", true);
  if (!topo_known) {
    miss(need::kNic, "the topology was not probed", false);
    miss(need::kSysfs, "the topology was not probed", false);
  }
  if (nranks < 2) miss(need::kMultiRank, "one rank: run under mpirun or srun", false);
  if (nnodes < 2) miss(need::kMultiNode, "one node", true);
  if (f.gpus > 0 && !gpu::backend().built()) miss(need::kNcclBackend, "built without NCCL", true);
  if (f.gpus > 0 && nvml_missing) miss(need::kNvml, "NVML unavailable", false);
  miss(need::kLog, "no NCCL log given (nccl-doctor log)", true);
  for (const auto& st : stages) {
    const std::string name = st.value("name", ""), status = st.value("status", "");
    RunFacts::Domain d;
    d.reason = st.contains("reason") && st["reason"].is_string() ? st["reason"].get<std::string>() : "";
    d.status = status == "ran"              ? CheckStatus::kEvaluated
               : status == "not_applicable" ? CheckStatus::kNotApplicable
               : status == "excluded"       ? CheckStatus::kExcluded
                                            : CheckStatus::kCouldNotRun;
    f.domains[name] = d;
  }
  // bench.timeout (domain dist) is looked for by every distributed stage.
  f.domains["dist"] = {};
  if (baseline) f.domains["baseline"] = {};
  for (const auto& x : r.findings) f.raised.insert(x.id);
  return f;
}

/// Reads the baseline on rank 0 before anything is measured and tells every rank whether it is
/// usable: "ok", or the one line to print (a bad file ends the run at once, exit 3).
std::string read_baseline(const SweepOptions& o, Context& ctx, dist::Comm& comm, const dist::Deadline& deadline,
                          report::Report& baseline) {
  std::string status = "ok";
  if (ctx.is_root() && !o.baseline.empty()) {
    try {
      baseline = report::read_report(o.baseline);
    } catch (const Error& e) {
      status = e.what();
    }
  }
  if (comm.size() > 1 && !comm.broadcast(status, deadline.capped(60)))
    status = "the ranks did not start within the deadline";
  return status;
}

std::vector<std::string> sweep_args(const SweepOptions& o) {
  std::vector<std::string> args;
  if (o.quick) args.push_back("--quick");
  if (o.full) args.push_back("--full");
  if (!o.skip.empty()) args.insert(args.end(), {"--skip", o.skip});
  if (!o.only.empty()) args.insert(args.end(), {"--only", o.only});
  if (!o.baseline.empty()) args.insert(args.end(), {"--baseline", o.baseline});
  if (!o.save.empty()) args.insert(args.end(), {"--save", o.save});
  return args;
}

/// Hosts without a GPU, grouped by the reason their ranks gave: the note that says why the host
/// backend measures instead.
std::string no_gpu_note(const EnvResult& env) {
  std::map<std::string, std::set<std::string>> why;
  std::size_t with_gpu = 0;
  for (const auto& e : env.ranks) {
    if (e.versions.gpu_count > 0) ++with_gpu;
    else why[e.versions.gpu_note.empty() ? "no GPU visible" : e.versions.gpu_note].insert(e.host);
  }
  std::vector<std::string> parts;
  for (const auto& [text, hosts] : why)
    parts.push_back(fmt::format("{} ({})", text,
                                hosts.size() <= 4 ? join({hosts.begin(), hosts.end()}, ", ")
                                                  : fmt::format("{} hosts", hosts.size())));
  return fmt::format("{}{}: the host backend measures over MPI instead, and NCCL's rings are not inspected",
                     join(parts, "; "), with_gpu ? fmt::format(" while {} rank(s) have GPUs", with_gpu) : "");
}

/// Rank 0: the plan from what env found (GPU counts, missing ranks) and the time left.
SweepPlan plan_on_root(Sweep& s, const EnvResult& env, const std::vector<std::string>& excluded) {
  SweepFacts f;
  f.nranks = s.comm.size();
  f.nnodes = static_cast<int>(s.comm.nodes().node_names.size());
  f.min_gpus = env.ranks.empty() ? 0 : 1 << 20;
  for (const auto& e : env.ranks) f.min_gpus = std::min(f.min_gpus, e.versions.gpu_count);
  f.nccl_build = gpu::backend().built();
  f.quick = s.opts.quick;
  f.full = s.opts.full;
  f.excluded = excluded;
  f.time_left_s = s.deadline.remaining_s();
  SweepPlan p = plan_sweep(f);
  if (!env.missing.empty())
    for (auto& st : p.stages)
      if (st.name != "env" && st.name != "topo" && st.run) {
        st.run = false;
        st.skip_note = "ranks " + format_ranges(env.missing) + " did not report: the job cannot measure between ranks";
        st.skip_cause = "failure";
      }
  if (p.backend == "mpi" && f.min_gpus == 0 && !env.ranks.empty())
    s.r.notes.push_back(no_gpu_note(env));
  else if (p.backend == "mpi" && f.min_gpus > 0 && !f.nccl_build)
    s.r.notes.push_back("built without NCCL: the host backend measures over MPI (rebuild with -DNCD_WITH_NCCL=ON)");
  return p;
}

/// Rank 0 sends the plan to every rank. When it cannot, the job is not usable for measurements,
/// and every planned stage is reported as skipped for that reason (never silently dropped).
void share_plan(Sweep& s, const std::string& root_plan) {
  std::string plan_blob = root_plan;
  if (s.comm.size() > 1 && !s.comm.broken() && !s.comm.broadcast(plan_blob, s.deadline.capped(60))) plan_blob.clear();
  if (plan_blob.empty() && s.ctx.is_root() && !root_plan.empty()) {
    s.plan = nlohmann::json::parse(root_plan).get<SweepPlan>();
    for (auto& st : s.plan.stages)
      if (st.name != "env" && st.run) {
        st.run = false;
        st.skip_note = "the plan could not be sent to every rank (a rank did not answer)";
        st.skip_cause = "failure";
      }
  } else if (plan_blob.empty()) {
    s.plan.stages.clear();
  } else {
    s.plan = nlohmann::json::parse(plan_blob).get<SweepPlan>();
  }
}

/// Rank 0 decides whether a stage runs (time left, earlier failures) and tells everyone, so all
/// ranks enter the same collective steps. Returns {"run", ""} or {reason, cause}.
std::pair<std::string, std::string> stage_decision(Sweep& s, const SweepStage& st) {
  std::string go = "run";
  std::string cause;
  if (s.ctx.is_root()) {
    if (!st.run) {
      go = st.skip_note;
      cause = st.skip_cause.empty() ? "failure" : st.skip_cause;
    } else if (s.comm.broken()) {
      go = "an earlier step did not finish: the job's state is unknown";
      cause = "failure";
    } else if (s.deadline.remaining_s() < 0.5 * st.budget_s) {
      go = fmt::format("{:.0f} s of the deadline left, the stage needs about {:.0f} s (raise --timeout)",
                       std::max(0.0, s.deadline.remaining_s()), st.budget_s);
      cause = "deadline";
    }
  }
  if (s.comm.size() > 1 && !s.comm.broken() && !s.comm.broadcast(go, s.deadline.capped(30))) {
    go = "the ranks did not meet";
    cause = "failure";
  }
  if (s.comm.broken() && go == "run") {
    go = "an earlier step did not finish: the job's state is unknown";
    cause = "failure";
  }
  return {go, cause};
}

/// Runs (or records as not run) stage i of the plan, and its record in `stages`.
void run_stage(Sweep& s, std::size_t i) {
  const SweepStage& st = s.plan.stages[i];
  s.stage_index = i + 1;
  const auto [go, cause] = stage_decision(s, st);
  nlohmann::json rec = {{"name", st.name}, {"budget_s", st.budget_s}};
  if (go != "run") {
    // ran | not_applicable (no GPU, no NCCL) | excluded (--skip/--only) | skipped (deadline,
    // too_few_ranks, failure: a planned stage that did not run makes the run incomplete).
    rec["status"] = cause == "not_applicable" ? "not_applicable" : cause == "excluded" ? "excluded" : "skipped";
    rec["cause"] = cause;
    rec["reason"] = go;
    rec["note"] = go;
    // Planned skips are in the stage list; unplanned ones (time, failures) are news.
    if (s.ctx.is_root() && st.run) s.r.notes.push_back(st.name + ": skipped: " + go);
    s.stage_line(st.name, "skipped: " + go);
    s.stages.push_back(rec);
    return;
  }
  s.stage_started = s.ctx.elapsed_s();
  s.progress(st.name, "starting");
  s.stage_line(st.name, fmt::format("started, budget {:.0f} s", st.budget_s));
  double t = s.ctx.elapsed_s();
  const dist::Deadline sd = s.stage_deadline(st.budget_s);
  if (st.name == "topo") stage_topo(s, sd);
  else if (st.name == "bench") stage_bench(s, sd);
  else if (st.name == "links") stage_links(s, sd, st.budget_s);
  else if (st.name == "rings") stage_rings(s);
  rec["status"] = "ran";
  rec["cause"] = nullptr;
  rec["reason"] = nullptr;
  rec["elapsed_s"] = s.ctx.elapsed_s() - t;
  s.stage_done(st.name, s.ctx.elapsed_s() - t, st.budget_s);
  rec["note"] = s.summary.count(st.name) ? s.summary[st.name] : "";
  s.stages.push_back(rec);
}

/// Rank 0: every host listed, the stages and plan, the baseline's findings, and each check's
/// outcome.
void close_report(Sweep& s, const EnvResult& env, const report::Report& baseline) {
  report::Report& r = s.r;
  const auto& nodes = s.comm.nodes();
  for (std::size_t n = 0; n < nodes.node_names.size(); ++n) {
    bool known = std::any_of(r.hosts.begin(), r.hosts.end(),
                             [&](const report::HostEntry& h) { return h.name == nodes.node_names[n]; });
    if (!known) r.hosts.push_back({nodes.node_names[n], nodes.node_ranks[n], "", nullptr});
  }
  r.sections["stages"] = s.stages;
  r.sections["plan"] = s.plan;
  const bool with_baseline = !s.opts.baseline.empty();
  RunFacts facts = sweep_facts(r, s.stages, env, s.comm.size(), nodes.node_names.size(), with_baseline);
  if (with_baseline) {
    checks::Evidence ev;
    ev.baseline = &baseline;
    ev.current = &r;
    (void)s.add(checks::run_checks("baseline", ev));
    r.sections["baseline"] = {{"file", s.opts.baseline},
                              {"started", baseline.started_unix},
                              {"collectives", baseline.collectives}};
  }
  s.checks.add_to(facts);
  for (const auto& x : r.findings) facts.raised.insert(x.id);
  r.checks = record_outcomes(facts);
}

void print_stage_summary(std::ostream& out, Sweep& s) {
  const SweepOptions& o = s.opts;
  out << fmt::format("# nccl-doctor sweep{}: {} rank(s) on {} host(s), {} backend, {:.1f} s\n",
                     o.quick ? " --quick" : o.full ? " --full" : "", s.comm.size(), s.comm.nodes().node_names.size(),
                     s.plan.backend.empty() ? "no" : s.plan.backend, s.ctx.elapsed_s());
  for (const auto& st : s.stages) {
    std::string name = st.value("name", "");
    if (st.value("status", "") == "ran")
      out << fmt::format("  {:<6} {:>5.1f} s  {}\n", name, st.value("elapsed_s", 0.0),
                         s.summary.count(name) ? s.summary[name] : "");
    else
      out << fmt::format("  {:<6} {}  {}\n", name,
                         st.value("status", "") == "skipped" ? "SKIPPED" : st.value("status", "skipped"),
                         st.value("note", ""));
  }
  if (!o.baseline.empty()) out << "  compared with the baseline " << o.baseline << '\n';
}

}  // namespace

int run_sweep(const SweepOptions& o, Context& ctx) {
  if (o.quick && o.full) throw UsageError("--quick and --full exclude each other");
  const std::vector<std::string> excluded = excluded_stages(o.skip, o.only);
  dist::Deadline deadline = o.quick ? ctx.deadline().capped(kQuickDeadlineS) : ctx.deadline();
  const double deadline_s = o.quick ? std::min(ctx.opts.timeout_s, kQuickDeadlineS) : ctx.opts.timeout_s;
  dist::Comm& comm = ctx.comm();

  report::Report baseline;
  if (const std::string status = read_baseline(o, ctx, comm, deadline, baseline); status != "ok") {
    if (ctx.is_root()) ctx.err << "nccl-doctor: " << status << '\n';
    return 3;
  }

  report::Report r;
  r.command = "sweep";
  r.args = sweep_args(o);
  Sweep s{ctx, comm, o, deadline, r, {}, {}, nlohmann::json::array(), ctx.elapsed_s(), 0, ctx.elapsed_s(), {}, {}};

  // Stage 1, env: every rank reports; its answers (GPU counts) shape the plan.
  s.stage_index = 1;
  s.plan.stages.push_back({"env", true, 2, "", ""});
  s.progress("env", "gathering versions and settings");
  s.stage_line("env", "started, budget 2 s");
  double t0 = ctx.elapsed_s();
  EnvResult env = stage_env(s, s.stage_deadline(2));
  double env_took = ctx.elapsed_s() - t0;
  s.stage_done("env", env_took, 2);

  share_plan(s, ctx.is_root() ? nlohmann::json(plan_on_root(s, env, excluded)).dump() : std::string());
  if (ctx.is_root() && ctx.opts.verbosity > 0 && ctx.opts.format == "text") {
    ctx.end_progress();
    ctx.out << describe_plan(s.plan, o, deadline_s) << std::flush;
  }
  s.stages.push_back({{"name", "env"}, {"status", "ran"}, {"budget_s", 2}, {"elapsed_s", env_took},
                      {"note", ""}, {"cause", nullptr}, {"reason", nullptr}});
  for (std::size_t i = 0; i < s.plan.stages.size(); ++i)
    if (s.plan.stages[i].name != "env") run_stage(s, i);
  ctx.end_progress();

  if (ctx.is_root()) close_report(s, env, baseline);
  int code = ctx.finish(r, [&](std::ostream& out) { print_stage_summary(out, s); });
  if (ctx.is_root() && !o.save.empty()) {
    const std::string refusal = save_refusal(r, code, o.save_allow_warnings);
    if (refusal.empty()) {
      write_file_atomic(o.save, report::report_to_json(r, code).dump(2) + "\n");
    } else {
      ctx.err << "nccl-doctor: --save " << o.save << ": not saved as a baseline: " << refusal << '\n';
    }
  }
  return code;
}

}  // namespace ncd::cli
