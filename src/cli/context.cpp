// SPDX-License-Identifier: Apache-2.0
#include "cli/context.hpp"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <optional>

#include "cli/launcher.hpp"
#include "core/catalogue.hpp"
#include "core/fs.hpp"
#include "core/text.hpp"
#include "report/escape.hpp"
#include "report/prom.hpp"
#include "report/writers.hpp"

namespace ncd::cli {
namespace {
NCD_REGISTER_CHECK({"run.interrupted", Severity::kInfo, "dist",
                    "The run was interrupted by a signal before it finished",
                    "SIGINT or SIGTERM reached the tool (Ctrl-C on mpirun, scancel, a job "
                    "script's timeout, or the launcher ending the job) while every rank was "
                    "still alive. What was measured is reported; nothing is blamed on ranks "
                    "that were only waiting. The verdict is INCOMPLETE (exit 3).",
                    "Under a launcher every rank tells rank 0 it is alive when the signal comes; "
                    "rank 0 waits up to 0.3 s for all of them. When all answer, the interrupt is "
                    "the cause and timeouts it provoked are dropped; a rank that does not answer "
                    "died first, and the job's teardown is reported as bench.timeout naming it.",
                    "Rerun when the job can finish. If nobody interrupted it, look for what sent "
                    "the signal (the batch system's time limit, an OOM killer on the launcher)."});

NCD_REGISTER_CHECK({"run.ranks_disagree", Severity::kInfo, "dist",
                    "Ranks were started with different commands or options",
                    "The ranks of one job were asked to do different things (an MPMD launch "
                    "such as 'sweep : env', or different --timeout or sizes on different nodes): "
                    "they would wait for each other until a deadline, so nothing is measured. "
                    "The verdict is INCOMPLETE (exit 3).",
                    "At start-up every rank sends rank 0 a fingerprint of its command and the "
                    "options that change what is measured (not output paths or verbosity); "
                    "ranks whose fingerprints differ are named with what each runs.",
                    "Start every rank with the same command line (one mpirun command, the same "
                    "script on every node)."});

void escape_for_terminal(report::Report& r) {
  auto esc = [](std::string& s) {
    if (std::any_of(s.begin(), s.end(), [](char c) {
          auto u = static_cast<unsigned char>(c);
          return u < 0x20 || u >= 0x7f;
        }))
      s = report::terminal_text(s);
  };
  for (auto& f : r.findings) {
    esc(f.id);
    esc(f.host);
    esc(f.subject);
    esc(f.message);
    esc(f.unit);
    esc(f.hint);
    for (auto& e : f.evidence) esc(e);
  }
  for (auto& n : r.notes) esc(n);
  esc(r.incomplete_reason);
}

/// Writes one --prom-dir textfile; an error line when it cannot.
std::optional<std::string> write_prom_dir_file(const std::string& dir, const std::string& host, const std::string& text) {
  std::string path = dir + "/" + report::prom_dir_file_name(host);
  try {
    write_file_atomic(path, text);
  } catch (const std::exception& e) {
    return std::string(e.what());
  }
  return std::nullopt;
}

double mono_now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
}  // namespace

Context::Context(GlobalOptions o, std::ostream& o_out, std::ostream& o_err)
    : opts(std::move(o)), out(o_out), err(o_err) {
  start_clock();
}

Context::~Context() = default;

void Context::start_clock() {
  deadline_ = dist::Deadline::after(opts.timeout_s);
  started_unix_ =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  started_mono_ = mono_now();
}

double Context::elapsed_s() const { return mono_now() - started_mono_; }

dist::Comm& Context::comm() {
  if (!comm_) adopt_comm(dist::make_world_comm(deadline_.capped(120)));
  return *comm_;
}

void Context::adopt_comm(std::unique_ptr<dist::Comm> c) {
  comm_ = std::move(c);
  check_launch(comm_->size());  // srun without PMI: N one-rank jobs, each thinking it is alone
  if (!comm_->disagreement().empty()) throw RanksDisagree(comm_->disagreement());
}

bool Context::is_root() const { return !comm_ || comm_->rank() == 0; }

report::TextStyle Context::style() const {
  report::TextStyle s;
  s.verbosity = opts.verbosity;
  if (opts.color == "always") s.color = true;
  else if (opts.color == "never") s.color = false;
  else  // under a launcher stdout is often mpirun's pty, not the user's terminal
    s.color = (&out == &std::cout) && isatty(STDOUT_FILENO) && !std::getenv("NO_COLOR") &&
              !dist::launched_by_mpi_launcher();
  return s;
}

report::FailOn Context::fail_on() const {
  return opts.fail_on == "error" ? report::FailOn::kError : report::FailOn::kWarn;
}

void Context::progress(const std::string& line) {
  if (!is_root() || opts.verbosity < 0) return;
  if (isatty(STDERR_FILENO)) {
    err << "\r\033[K" << line << std::flush;
    progress_shown_ = true;
  } else if (opts.verbosity > 0) {
    // A batch log (Slurm, CI) gets each step as a line of its own with -v, time-stamped by the run.
    err << fmt::format("[{:7.1f} s] ", elapsed_s()) << line << '\n' << std::flush;
  }
}

void Context::end_progress() {
  if (progress_shown_) err << "\r\033[K" << std::flush;
  progress_shown_ = false;
}

bool Context::note_interrupt(report::Report& r, std::string& prom_path) {
  int size = comm_ ? comm_->size() : 1;
  std::vector<int> alive = size > 1 ? comm_->alive_after_interrupt(0.3) : std::vector<int>{0};
  std::vector<int> dead;
  for (int rank = 0; rank < size; ++rank)
    if (!std::binary_search(alive.begin(), alive.end(), rank)) dead.push_back(rank);
  if (!dead.empty()) {
    r.notes.push_back("the launcher ended the job after rank(s) " + format_ranges(dead) + " stopped answering");
    return false;
  }
  // Every rank was alive: the signal is the cause. Timeouts it provoked only name ranks
  // that were waiting for it.
  std::erase_if(r.findings, [](const Finding& f) { return f.id == "bench.timeout" || f.id == "link.unresponsive"; });
  Finding f = make_finding("run.interrupted", comm_ ? comm_->host() : dist::local_hostname(), "the whole job",
                           fmt::format("interrupted by a signal (SIGINT or SIGTERM, from the user or the "
                                       "launcher) after {:.1f} s; all {} rank(s) were alive; the "
                                       "results are incomplete",
                                       elapsed_s(), size));
  r.findings.insert(r.findings.begin(), std::move(f));
  r.incomplete = true;
  r.incomplete_reason = r.incomplete_reason.empty() ? std::string("interrupted by a signal")
                                                    : "interrupted by a signal (" + r.incomplete_reason + ")";
  // A Prometheus textfile keeps the last complete run's metrics: a Ctrl-C says nothing
  // about the cluster (node_exporter's node_textfile_mtime_seconds shows its age).
  struct stat st {};
  if (!prom_path.empty() && ::stat(prom_path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
    r.notes.push_back("interrupted: " + prom_path + " was left as the previous run wrote it");
    prom_path.clear();
  }
  return true;
}

nlohmann::json Context::write_prom_dir(report::Report& r, int code, const report::PromOptions& prom_opts,
                                       std::vector<std::string>& failed) {
  // --prom-dir: one textfile per node. Rank 0 renders them all; it writes its own node's (with
  // the job-wide series) and, without a job, every one; each other node's first rank writes
  // its own, sent with the exit code.
  const bool job = comm_ && comm_->size() > 1;
  nlohmann::json prom_send = nlohmann::json::array();  // [{host, text}] for the other nodes
  std::string root_host = comm_ ? comm_->host() : std::string();
  if (root_host.empty())
    for (const auto& h : r.hosts)
      if (std::find(h.ranks.begin(), h.ranks.end(), 0) != h.ranks.end()) root_host = h.name;
  if (root_host.empty()) root_host = dist::local_hostname();
  std::vector<std::string> unsent;
  for (const auto& [host, text] : report::render_prometheus_per_host(r, code, prom_opts, root_host)) {
    const bool has_leader = job && std::find(comm_->nodes().rank_host.begin(), comm_->nodes().rank_host.end(),
                                             host) != comm_->nodes().rank_host.end();
    if (host == root_host || !has_leader) {
      if (auto e = write_prom_dir_file(opts.prom_dir, host, text)) failed.push_back(*e);
    } else if (comm_->broken()) {
      unsent.push_back(host);
    } else {
      prom_send.push_back({{"host", host}, {"text", text}});
    }
  }
  if (!unsent.empty())
    r.notes.push_back("--prom-dir: the textfiles of " + join(unsent, ", ") +
                      " were not written (the job's communication broke); " + root_host +
                      "'s file holds the job's verdict on every node");
  return prom_send;
}

void Context::write_outputs(report::Report& r, int code, const std::string& prom_path,
                            const report::PromOptions& prom_opts, std::vector<std::string> failed,
                            const std::function<void(std::ostream&)>& body) {
  // Files first: when the launcher is ending the job, SIGKILL follows SIGTERM within a second,
  // and the report files are what scrapers and scripts read.
  // A file that cannot be written does not stop the others nor the verdict on stdout; the
  // exit status is then 3 (after the text, so the verdict is still shown).
  std::vector<std::string> files =
      report::write_report_files(r, code, opts.json_path, prom_path, opts.junit_path, opts.html_path, prom_opts);
  failed.insert(failed.begin(), files.begin(), files.end());
  if (opts.format == "json") {
    out << report::report_to_json(r, code).dump(2) << '\n';
  } else {
    report::render_incomplete_header(r, style(), out);
    if (body) body(out);
    // The files are written: what reaches a terminal has its control characters shown, not
    // obeyed (a report or log line can hold any escape sequence).
    escape_for_terminal(r);
    report::render_findings_text(r, code, style(), out);
  }
  out.flush();
  bool stdout_named = std::any_of(failed.begin(), failed.end(), [](const std::string& f) {
    return f.rfind("cannot write standard output", 0) == 0;
  });
  if (!out) {
    out.clear();
    if (!stdout_named) failed.emplace_back("cannot write standard output: write failed (disk full, closed or broken pipe)");
  }
  for (const auto& f : failed) err << "nccl-doctor: " << f << '\n';
  if (!failed.empty()) {
    err.flush();
    output_failed_ = true;
  }
}

int Context::share_verdict(int code, const nlohmann::json& prom_send) {
  if (!comm_ || comm_->size() < 2 || comm_->broken()) return code;
  std::string blob = std::to_string(code);
  // The other nodes' --prom-dir textfiles follow the code ("CODE\n[{host, text}...]").
  if (is_root() && !prom_send.empty()) blob += "\n" + prom_send.dump();
  if (!comm_->broadcast(blob, dist::Deadline::after(30))) return code;
  code = std::atoi(blob.c_str());
  std::size_t nl = blob.find('\n');
  if (is_root() || nl == std::string::npos || !comm_->nodes().is_leader(comm_->rank())) return code;
  const std::string& dir = opts.prom_dir;
  nlohmann::json files = nlohmann::json::parse(blob.substr(nl + 1), nullptr, false);
  if (!files.is_array()) return code;
  for (const auto& f : files) {
    if (f.value("host", std::string()) != comm_->host()) continue;
    auto e = dir.empty() ? std::optional<std::string>("--prom-dir: this rank was started without it")
                         : write_prom_dir_file(dir, comm_->host(), f.value("text", std::string()));
    if (e) {
      err << "nccl-doctor: [" << comm_->host() << ":" << comm_->rank() << "] " << *e << '\n';
      err.flush();
      output_failed_ = true;
    }
  }
  return code;
}

int Context::finish(report::Report& r, const std::function<void(std::ostream&)>& body) {
  end_progress();
  if (r.started_unix <= 0) {  // a report read back from a file (`show`) keeps its own times
    r.started_unix = started_unix_;
    r.duration_s = elapsed_s();
  }
  std::string prom_path = opts.prom_path;
  const bool interrupted = dist::termination_requested() && is_root() && note_interrupt(r, prom_path);
  if (r.checks.empty()) r.checks = report::derived_outcomes(r);
  report::apply_outcomes(r);
  int code = report::exit_code(r, fail_on());
  // Interrupted with every rank alive: INCOMPLETE (3), whatever partial measurements suggest
  // (an interrupted timing loop is no evidence of a warning); an error found before the
  // interrupt (corrupt data, a dead rank) still exits 2.
  if (interrupted && code != 2) code = 3;
  report::PromOptions prom_opts;
  prom_opts.link_matrix = opts.prom_link_matrix;
  nlohmann::json prom_send = nlohmann::json::array();
  std::vector<std::string> prom_failed;
  // Not after an interrupt (like --prom).
  if (is_root() && !opts.prom_dir.empty() && !interrupted) prom_send = write_prom_dir(r, code, prom_opts, prom_failed);
  if (is_root()) write_outputs(r, code, prom_path, prom_opts, std::move(prom_failed), body);
  // Every rank returns rank 0's code, so the launcher's exit status is the verdict.
  code = share_verdict(code, prom_send);
  // A report file or stdout that could not be written: the run did not deliver (rank 0 only;
  // the others exit with the verdict that the written files carry).
  if (output_failed_) code = 3;
  return code;
}

}  // namespace ncd::cli
