// SPDX-License-Identifier: Apache-2.0
#include "cli/cmd_bench.hpp"

#include <fmt/format.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "checks/bench_checks.hpp"
#include "checks/dist_checks.hpp"
#include "checks/registry.hpp"
#include "core/error.hpp"
#include "core/text.hpp"
#include "core/units.hpp"
#include "dist/mpi_comm.hpp"
#include "probe/local.hpp"
#include "topo/paths.hpp"
#include "report/writers.hpp"
#include "ncd/config.hpp"
#include "gpu/backend.hpp"

namespace ncd::cli {
namespace {

using collectives::Algo;
using collectives::Op;

template <typename T, typename F>
std::vector<T> parse_list(const std::string& text, F parse, const char* what) {
  std::vector<T> out;
  for (const auto& item : split(text, ','))
    if (std::find(out.begin(), out.end(), parse(item)) == out.end()) out.push_back(parse(item));
  if (out.empty()) throw UsageError(fmt::format("{} list is empty", what));
  return out;
}

std::string row_text(const report::CollectiveResult& r) {
  const auto dtype = collectives::nccl_tests_name(collectives::parse_dtype(r.dtype));
  // The last two columns: nccl-tests' statistic (loop mean, averaged over ranks) beside ours.
  return fmt::format("{:>12}  {:>12}  {:>8}  {:>6}  {:>6}  {:>9.1f}  {:>7.2f}  {:>7.2f}  {:>6}  {:>6.1f}  {:>7}  {:>9}  {:>7}",
                     r.bytes, r.count, dtype, r.redop, r.root, r.time_us, r.algbw_gbps, r.busbw_gbps,
                     r.wrong < 0 ? std::string("N/A") : std::to_string(r.wrong), r.spread * 100,
                     r.expected_busbw_gbps ? fmt::format("{:.2f}", *r.expected_busbw_gbps) : std::string("N/A"),
                     r.nccltests_avg_time_us > 0 ? fmt::format("{:.1f}", r.nccltests_avg_time_us) : std::string("N/A"),
                     r.nccltests_avg_time_us > 0 ? fmt::format("{:.2f}", r.nccltests_busbw_gbps) : std::string("N/A"));
}

std::string group_header(const report::CollectiveResult& r) {
  return fmt::format("#\n# {} {} ({}), out-of-place\n", r.op, r.algo,
                     r.backend == "nccl" ? (r.algo == "native" ? "NCCL's own choice" : "NCCL_ALGO forced")
                                         : (r.algo == "native" ? "the MPI library's collective"
                                                               : "ours, over MPI point-to-point")) +
         "#                                                         ours: median                            "
         "    nccl-tests: mean\n"
         "#         size         count      type   redop    root       time    algbw    busbw  #wrong  spread   model  "
         "     time    busbw\n"
         "#          (B)    (elements)                                 (us)   (GB/s)   (GB/s)             (%)  (GB/s)  "
         "     (us)   (GB/s)\n";
}

void print_rows(std::ostream& out, const std::vector<report::CollectiveResult>& rows) {
  std::string current;
  for (const auto& r : rows) {
    std::string key = r.op + " " + r.algo;
    if (key != current) {
      current = key;
      out << group_header(r);
    }
    out << row_text(r) << '\n';
  }
}

/// nccl-tests' closing lines: "# Out of bounds values : 0 OK" and "# Avg bus bandwidth : X"
/// (the mean busbw over every row, as nccl-tests computes it; health decisions use the
/// large-message lines instead).
void print_avg_lines(std::ostream& out, const std::vector<report::CollectiveResult>& rows) {
  if (rows.empty()) return;
  double sum = 0;
  std::int64_t wrong = 0;
  for (const auto& r : rows) {
    sum += r.busbw_gbps;
    if (r.wrong > 0) wrong += r.wrong;
  }
  out << fmt::format("# Out of bounds values : {} {}\n", wrong, wrong ? "FAILED" : "OK");
  out << fmt::format("# Avg bus bandwidth    : {:.4f} \n", sum / static_cast<double>(rows.size()));
}

/// "# large messages: allreduce ring 1.02 GB/s at 16M (0.97x native)".
void print_verdict_lines(std::ostream& out, const checks::BenchEvidence& ev) {
  if (!ev.rows.empty() && ev.rows.front().nranks == 1) {
    out << "# one rank: busbw is 0 by definition (nothing crosses a bus, as in nccl-tests); run under mpirun with "
           "more ranks\n";
    return;
  }
  std::vector<std::string> ops;
  for (const auto& r : ev.rows)
    if (std::find(ops.begin(), ops.end(), r.op) == ops.end()) ops.push_back(r.op);
  for (const auto& op : ops) {
    std::map<std::string, std::pair<double, std::uint64_t>> by_algo;
    for (const char* algo : {"ring", "tree", "native", "nvls", "collnet"}) {
      auto idx = checks::large_rows(ev, op, algo, 1);
      if (idx.empty()) continue;
      std::vector<double> v;
      for (auto i : idx) v.push_back(ev.rows[i].busbw_gbps);
      std::sort(v.begin(), v.end());
      const double med = v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
      by_algo[algo] = {med, ev.rows[idx.back()].bytes};
    }
    std::vector<std::string> parts;
    for (const char* algo : {"ring", "tree", "native", "nvls", "collnet"}) {
      auto it = by_algo.find(algo);
      if (it == by_algo.end()) continue;
      std::string p = fmt::format("{} {:.2f} GB/s", algo, it->second.first);
      auto nat = by_algo.find("native");
      if (std::string(algo) != "native" && nat != by_algo.end() && nat->second.first > 0)
        p += fmt::format(" ({:.2f}x native)", it->second.first / nat->second.first);
      parts.push_back(p);
    }
    if (!parts.empty())
      out << fmt::format("# large-message busbw, {} (median of the largest sizes): {}\n", op, join(parts, ", "));
  }
}

}  // namespace

collectives::BenchPlan make_bench_plan(const BenchOptions& o) {
  collectives::BenchPlan p;
  p.ops = parse_list<Op>(o.ops, [](const std::string& s) { return collectives::parse_op(s); }, "--op");
  p.algos = parse_list<Algo>(o.algos, [](const std::string& s) { return collectives::parse_algo(s); }, "--algo");
  p.dtype = collectives::parse_dtype(o.dtype);
  p.redop = collectives::parse_redop(o.redop);
  const std::size_t lo = parse_size(o.min_bytes, "-b"), hi = parse_size(o.max_bytes, "-e");
  const std::size_t step = o.step_bytes.empty() ? 0 : parse_size(o.step_bytes, "-i");
  p.sizes = collectives::size_sweep(lo, hi, o.factor, step);
  if (o.iters < 1) throw UsageError(fmt::format("-n {}: at least one iteration is needed", o.iters));
  if (o.warmup < 0) throw UsageError(fmt::format("-w {}: must not be negative", o.warmup));
  if (o.check < 0) throw UsageError(fmt::format("-c {}: must not be negative", o.check));
  if (o.root < 0) throw UsageError(fmt::format("-r {}: must not be negative", o.root));
  // nccl-tests drives several GPUs per process (-g): so does the NCCL backend, one thread per GPU
  // (a node check without MPI); the host backend runs one rank per process.
  if (o.ngpus < 1) throw UsageError(fmt::format("-g {}: at least one GPU", o.ngpus));
  if (o.ngpus != 1 && o.backend == "mpi")
    throw UsageError(fmt::format("-g {}: the host backend runs one rank per process; start {} times as many ranks "
                                 "instead (e.g. mpirun -np <ranks>), or use --backend nccl to drive {} GPUs from one "
                                 "process", o.ngpus, o.ngpus, o.ngpus));
  if (o.nthreads != 1)
    throw UsageError(fmt::format("-t {}: nccl-doctor uses one thread per rank; start {} times as many ranks instead",
                                 o.nthreads, o.nthreads));
  if (o.average < 0 || o.average > 3)
    throw UsageError(fmt::format("-a {}: expected 0 (rank 0), 1 (mean), 2 (min) or 3 (max)", o.average));
  if (o.graph_iters < 0) throw UsageError(fmt::format("-G {}: must not be negative", o.graph_iters));
  p.iters = o.iters;
  p.warmup = o.warmup;
  p.check = o.check;
  p.root = o.root;
  if (!o.slice_bytes.empty()) p.tuning.slice_bytes = parse_size(o.slice_bytes, "--slice");
  if (o.backend != "auto" && o.backend != "nccl" && o.backend != "mpi")
    throw UsageError(fmt::format("--backend {}: expected auto, nccl or mpi", o.backend));
  return p;
}

namespace {

int run_self_test(Context& ctx) {
  dist::MpiComm& comm = ctx.mpi();
  std::size_t cases = 0;
  auto failures = collectives::run_self_test(comm, ctx.deadline(), &cases);
  nlohmann::json mine = nlohmann::json::array();
  for (const auto& f : failures) mine.push_back({{"what", f.what}, {"rank", f.rank}, {"wrong", f.wrong}});
  auto blobs = comm.gather(mine.dump(), dist::Deadline::after(std::max(5.0, ctx.deadline().remaining_s())));
  report::Report r;
  r.command = "bench";
  if (ctx.is_root()) {
    std::vector<std::string> evidence;
    std::set<int> ranks;
    std::vector<int> missing;
    std::size_t total = 0;
    for (std::size_t q = 0; q < blobs.size(); ++q) {
      if (!blobs[q]) {
        missing.push_back(static_cast<int>(q));
        continue;
      }
      for (const auto& f : nlohmann::json::parse(*blobs[q])) {
        ranks.insert(f.at("rank").get<int>());
        ++total;
        if (evidence.size() < 40)
          evidence.push_back(fmt::format("rank {}: {}: {} wrong", f.at("rank").get<int>(), f.at("what").get<std::string>(),
                                         f.at("wrong").get<std::size_t>()));
      }
    }
    const std::vector<checks::Unanswered> unanswered = {{"the self-test", missing, ""}};
    checks::Evidence in;
    in.unanswered = &unanswered;
    in.nodes = &comm.nodes();
    in.timeout_s = ctx.opts.timeout_s;
    r.findings = checks::run_checks("dist", in).findings;
    if (!ranks.empty()) {
      Finding f = make_finding("bench.data_corrupt", comm.host(),
                               "ranks " + format_ranges({ranks.begin(), ranks.end()}),
                               fmt::format("self-test: {} case(s) returned wrong data", total));
      f.evidence = evidence;
      r.findings.push_back(std::move(f));
    }
    r.sections["self_test"] = {{"cases_per_rank", cases}, {"ranks", comm.size()}};
  }
  int code = ctx.finish(r, [&](std::ostream& out) {
    out << fmt::format("# bench self-test: {} cases on each of {} rank(s)\n", cases, comm.size());
  });
  // Rank 0 only: a non-root rank's MPI_Abort would end the job with its own code (0) and could
  // cut rank 0 off mid-report; the others linger in cli.cpp until rank 0 ends the job.
  if (comm.broken() && comm.size() > 1 && comm.rank() == 0) comm.abort_job(code);
  return code;
}

/// The backend a bench run measures: NCCL on GPUs, or the host backend over MPI when the build
/// or the machine has no GPU (said in `notes`).
std::string choose_backend(const BenchOptions& opts, std::vector<std::string>& notes) {
  std::string backend = opts.backend;
  const gpu::Backend& gpu_backend = gpu::backend();
  const std::string unused_g = opts.ngpus > 1 ? fmt::format(" (-g {} not used: it drives GPUs)", opts.ngpus) : "";
  if (!gpu_backend.built()) {
    if (backend == "nccl")
      throw UnavailableError("--backend nccl: this build has no NCCL backend (rebuild with -DNCD_WITH_NCCL=ON)");
    if (backend == "auto") {
      backend = "mpi";
      notes.push_back("built without NCCL: measured the host backend over MPI" + unused_g);
    }
    return backend;
  }
  const gpu::GpuAvailability gpus = gpu_backend.availability();
  if (backend == "nccl" && gpus.count == 0) throw UnavailableError("--backend nccl: no GPU: " + gpus.reason);
  if (backend == "auto") {
    backend = gpus.count > 0 ? "nccl" : "mpi";
    if (gpus.count == 0) notes.push_back("no GPU (" + gpus.reason + "): measured the host backend over MPI instead" + unused_g);
  }
  return backend;
}

/// One bench run: the chosen backend measures, then rank 0 checks and reports.
class BenchRun {
 public:
  BenchRun(const BenchOptions& opts, Context& ctx, collectives::BenchPlan plan)
      : opts_(opts), ctx_(ctx), plan_(std::move(plan)) {
    backend_ = choose_backend(opts_, notes_);
    r_.command = "bench";
    // Rows on stderr as they are measured (rank 0), terminal or not: a launcher's log shows the
    // run advancing; the complete table follows on stdout at the end.
    plan_.on_row = [this](const report::CollectiveResult& row) {
      if (ctx_.opts.verbosity < 0) return;
      ctx_.end_progress();
      const std::string key = row.op + " " + row.algo;
      if (key != live_key_) {
        live_key_ = key;
        ctx_.err << group_header(row);
      }
      ctx_.err << row_text(row) << std::endl;
    };
  }

  int run() {
    if (backend_ == "mpi") measure_host();
    else measure_gpu();
    checks::BenchEvidence ev;
    if (ctx_.is_root()) fill(r_, ev, outcome_);
    int code = ctx_.finish(r_, [&](std::ostream& out) {
      print_header(out);
      print_rows(out, ev.rows);
      out << "#\n";
      print_avg_lines(out, ev.rows);
      print_verdict_lines(out, ev);
    });
    // A rank that never answered may be stuck in MPI: end the whole job now that the report is
    // out. Rank 0 only (see the self-test): the job's exit status is rank 0's verdict.
    if (comm_->broken() && comm_->size() > 1 && comm_->is_mpi() && comm_->rank() == 0) comm_->abort_job(code);
    return code;
  }

 private:
  void progress(const std::string& step) { ctx_.progress("bench: " + step); }

  /// The expected busbw of each op and algorithm: NCCL's model for this node's GPUs and NICs
  /// (every node assumed alike; sweep compares them), or --expected-busbw. Returns why there is
  /// no model, when there is none.
  std::string set_expectations(checks::BenchEvidence& ev) const {
    std::string no_model;
    if (opts_.expected_busbw <= 0 && backend_ == "nccl") {
      topo::System sys = probe::probe_local(probe::ProbeOptions{});
      topo::compute_paths(sys);
      no_model = checks::apply_model_expectation(ev, sys, static_cast<int>(comm_->nodes().node_names.size()));
    }
    if (opts_.expected_busbw > 0) {
      const int n = comm_->size();
      for (Op op : plan_.ops) {
        const std::string o(collectives::to_string(op));
        ev.expected_busbw[o + "/ring"] = opts_.expected_busbw;
        ev.expected_busbw[o + "/native"] = opts_.expected_busbw;
        if (op == Op::kAllReduce && n > 1) ev.expected_busbw[o + "/tree"] = opts_.expected_busbw * 0.92 * (n - 1) / n;
      }
    }
    return no_model;
  }

  /// What the run had for its checks: one rank measures nothing between ranks (busbw is 0 by
  /// definition), so the checks could not run and the verdict is INCOMPLETE, not HEALTHY.
  RunFacts facts_of() const {
    RunFacts facts;
    facts.domains["bench"] = {};
    facts.domains["dist"] = {};
    facts.ranks = comm_->size();
    facts.hosts = static_cast<int>(comm_->nodes().node_names.size());
    if (comm_->size() < 2)
      facts.missing[need::kMultiRank] = {"one rank: nothing crosses a bus; run under mpirun or srun with 2+ ranks",
                                         false};
    return facts;
  }

  /// Rank 0: the report from what was measured (also used by the watchdog when stuck).
  void fill(report::Report& r, checks::BenchEvidence& ev, const collectives::BenchOutcome& outcome) const {
    for (const auto& p : outcome.points) {
      ev.rows.push_back(p.row);
      ev.wrong_per_rank.push_back(p.wrong_per_rank);
    }
    ev.rank_host = comm_->nodes().rank_host;
    ev.host = join(comm_->nodes().node_names, ",");
    checks::Evidence in;
    in.bench = &ev;
    in.bench_thresholds = &th_;
    in.bench_no_model = set_expectations(ev);
    in.bench_data_check = plan_.check != 0;
    const std::vector<checks::Unanswered> unanswered = checks::bench_unanswered(outcome);
    in.unanswered = &unanswered;
    in.nodes = &comm_->nodes();
    in.timeout_s = ctx_.opts.timeout_s;
    checks::CheckRun run = checks::run_checks("bench", in);
    run.merge(checks::run_checks("dist", in));
    r.findings.insert(r.findings.end(), run.findings.begin(), run.findings.end());
    r.collectives = ev.rows;
    RunFacts facts = facts_of();
    if (outcome.missing_ranks.empty() && outcome.timed_out_ranks.empty() && outcome.stopped) {
      r.incomplete = true;
      r.incomplete_reason = "bench stopped early at " + outcome.failed_step;
    }
    r.notes = notes_;
    nlohmann::json wrong = nlohmann::json::array();
    for (const auto& p : outcome.points) wrong.push_back(p.wrong_per_rank);
    r.sections["bench"] = {{"backend", backend_},
                           {"dtype", std::string(collectives::to_string(plan_.dtype))},
                           {"redop", std::string(collectives::to_string(plan_.redop))},
                           {"iters", plan_.iters},
                           {"warmup", plan_.warmup},
                           {"check", plan_.check},
                           {"nranks", comm_->size()},
                           {"wrong_per_rank", wrong}};
    for (std::size_t nd = 0; nd < comm_->nodes().node_names.size(); ++nd)
      r.hosts.push_back({comm_->nodes().node_names[nd], comm_->nodes().node_ranks[nd], "", nullptr});
    run.add_to(facts);
    for (const auto& f : r.findings) facts.raised.insert(f.id);
    r.checks = record_outcomes(facts);
  }

  /// The watchdog's report when the MPI library's own collective outlives the deadline.
  void on_stuck(dist::MpiComm& mpi, const collectives::BenchOutcome& so_far, const std::string& step) const {
    const std::string msg =
        fmt::format("the MPI library's own {} did not finish {:.0f} s after the {:.0f} s deadline: a rank is "
                    "stuck inside MPI (the library cannot say which); ending the job",
                    step, collectives::kStuckGrace_s, ctx_.opts.timeout_s);
    if (!ctx_.is_root()) {
      ctx_.err << fmt::format("nccl-doctor: [{}:{}] {}\n", mpi.host(), mpi.rank(), msg);
      ctx_.err.flush();
      return;
    }
    report::Report stuck;
    stuck.command = "bench";
    checks::BenchEvidence sev;
    fill(stuck, sev, so_far);
    Finding f = make_finding("bench.timeout", join(mpi.nodes().node_names, ","), "MPI " + step, msg);
    stuck.findings.push_back(std::move(f));
    stuck.started_unix = ctx_.started_unix();
    stuck.duration_s = ctx_.elapsed_s();
    const int code = report::exit_code(stuck, ctx_.fail_on());
    report::render_findings_text(stuck, code, ctx_.style(), ctx_.out);
    ctx_.out.flush();
    for (const auto& e : report::write_report_files(stuck, code, ctx_.opts.json_path, ctx_.opts.prom_path,
                                                    ctx_.opts.junit_path, ctx_.opts.html_path))
      ctx_.err << "nccl-doctor: " << e << '\n';
  }

  void measure_host() {
    for (Algo a : plan_.algos)
      for (Op op : plan_.ops)
        if (!collectives::host_supports(a, op))
          notes_.push_back(fmt::format("the host backend has no {} {} (ring: allreduce, allgather, reducescatter; "
                                       "tree: allreduce, broadcast, reduce; native: all; nvls, collnet: GPUs only)",
                                       collectives::to_string(a), collectives::to_string(op)));
    dist::MpiComm& mpi = ctx_.mpi();
    comm_ = &mpi;
    // The MPI library's own collective cannot be abandoned: if one outlives the deadline the
    // watchdog writes what was measured, with bench.timeout, and ends this process.
    outcome_ = collectives::run_host_bench(
        plan_, mpi, ctx_.deadline(), [this](const std::string& step) { progress(step); },
        [this, &mpi](const collectives::BenchOutcome& so_far, const std::string& step) { on_stuck(mpi, so_far, step); });
  }

  void measure_gpu() {
    const gpu::Backend& gpu_backend = gpu::backend();
    th_ = checks::thresholds_for("nccl");
    gpu::GpuBenchOutcome g;
    dist::Comm* copy_comm = &ctx_.comm();
    auto step = [this](const std::string& s) { progress(s); };
    if (opts_.ngpus > 1) {
      // -g N: this process drives N GPUs, one thread (an in-process rank) each.
      if (copy_comm->size() > 1)
        throw UsageError(fmt::format("-g {}: one process drives {} GPUs without MPI; under a launcher start one rank "
                                     "per GPU instead ({} ranks here)",
                                     opts_.ngpus, opts_.ngpus, copy_comm->size()));
      gpu::LocalGroupRun local = gpu_backend.run_bench_local(plan_, opts_.ngpus, ctx_.deadline(), step);
      local_comm_ = local.comm;
      comm_ = local_comm_.get();
      g = std::move(local.outcome);
      notes_.push_back(fmt::format("-g {}: one process drives GPUs 0-{}, one thread and communicator rank each (rank "
                                   "r is GPU r)",
                                   opts_.ngpus, opts_.ngpus - 1));
    } else {
      comm_ = copy_comm;
      g = gpu_backend.run_bench(plan_, *comm_, ctx_.deadline(), step);
    }
    outcome_ = std::move(g.bench);
    notes_.insert(notes_.end(), g.notes.begin(), g.notes.end());
    r_.findings.insert(r_.findings.end(), g.findings.begin(), g.findings.end());
    if (opts_.copies && !comm_->broken()) measure_copies(*copy_comm);
  }

  /// One rank per node measures its node's GPU copies (so copies do not compete with each
  /// other); rank 0 merges them and checks them against their expectations.
  void measure_copies(dist::Comm& copy_comm) {
    std::vector<gpu::CopyResult> copies;
    if (copy_comm.nodes().is_leader(copy_comm.rank()))
      copies = gpu::backend().run_copies(parse_size(opts_.copy_bytes, "--copy-size"), 10, ctx_.deadline());
    nlohmann::json cj = nlohmann::json::array();
    for (const auto& c : copies) cj.push_back(gpu::copy_to_json(c, copy_comm.host(), copy_comm.rank()));
    auto all = copy_comm.gather(cj.dump(), dist::Deadline::after(std::max(5.0, ctx_.deadline().remaining_s())));
    if (!ctx_.is_root()) return;
    nlohmann::json merged = nlohmann::json::array();
    std::set<std::string> seen;  // one rank per host measures the same GPUs
    for (const auto& b : all) {
      if (!b) continue;
      for (auto& c : nlohmann::json::parse(*b)) {
        std::string key = c["host"].get<std::string>() + c["kind"].get<std::string>() +
                          std::to_string(c["src"].get<int>()) + std::to_string(c["dst"].get<int>());
        if (seen.insert(key).second) merged.push_back(c);
      }
    }
    r_.sections["copies"] = merged;
    checks::Evidence in;
    in.copies = &merged;
    checks::CheckRun run = checks::run_checks("bench", in);
    r_.findings.insert(r_.findings.end(), run.findings.begin(), run.findings.end());
    if (!run.incomplete.empty()) {
      r_.incomplete = true;
      r_.incomplete_reason = run.incomplete;
    }
  }

  void print_header(std::ostream& out) const {
    out << fmt::format("# nccl-doctor bench: backend {}, {} rank(s) on {} host(s)\n", backend_, comm_->size(),
                       comm_->nodes().node_names.size());
    out << fmt::format("# dtype {}, redop {}, root {}, iters {}, warmup {}, check {}; time = median per iteration "
                       "(slowest rank), spread = (p90-p10)/median; nccl-tests' time = each rank's loop mean (total / "
                       "iters), averaged over ranks (its -a 1), and its busbw from that\n",
                       collectives::to_string(plan_.dtype), collectives::to_string(plan_.redop), plan_.root, plan_.iters,
                       plan_.warmup, plan_.check);
    out << fmt::format("# in-place: not measured (out-of-place only); {}; times are the slowest rank's{}; -G {}: {}\n",
                       opts_.ngpus > 1 && backend_ == "nccl"
                           ? fmt::format("-g {}: {} GPUs in this process, one thread each", opts_.ngpus, opts_.ngpus)
                           : std::string("-g 1 -t 1: one rank per GPU"),
                       opts_.average != 3 ? fmt::format(" (-a {} is not used)", opts_.average) : "", opts_.graph_iters,
                       opts_.graph_iters > 0 ? "ignored, no CUDA graphs are captured" : "no CUDA graphs, as asked");
  }

  const BenchOptions& opts_;
  Context& ctx_;
  collectives::BenchPlan plan_;
  std::string backend_;
  std::vector<std::string> notes_;
  checks::BenchThresholds th_;
  dist::Comm* comm_ = nullptr;
  std::shared_ptr<dist::Comm> local_comm_;  // -g N: rank 0's view of the in-process ranks
  collectives::BenchOutcome outcome_;
  report::Report r_;
  std::string live_key_;
};

}  // namespace

int run_bench(const BenchOptions& opts, Context& ctx) {
  collectives::BenchPlan plan = make_bench_plan(opts);
  if (opts.self_test) return run_self_test(ctx);
  return BenchRun(opts, ctx, std::move(plan)).run();
}

}  // namespace ncd::cli
