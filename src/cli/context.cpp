// SPDX-License-Identifier: Apache-2.0
#include "cli/context.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <iostream>

#include "cli/launcher.hpp"
#include "core/fs.hpp"
#include "dist/mpi_comm.hpp"
#include "report/writers.hpp"

namespace ncd::cli {
namespace {
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
  if (!comm_) {
    if (dist::launched_by_mpi_launcher())
      comm_ = std::make_unique<dist::MpiComm>(deadline_.capped(120));
    else
      comm_ = std::make_unique<dist::SingleComm>();
    check_launch(comm_->size());  // srun without PMI: N one-rank jobs, each thinking it is alone
  }
  return *comm_;
}

dist::MpiComm& Context::mpi() {
  if (comm_ && !comm_->is_mpi()) comm_.reset();
  if (!comm_) {
    comm_ = std::make_unique<dist::MpiComm>(deadline_.capped(120));
    check_launch(comm_->size());
  }
  return static_cast<dist::MpiComm&>(*comm_);
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
  if (!is_root() || opts.verbosity < 0 || !isatty(STDERR_FILENO)) return;
  err << "\r\033[K" << line << std::flush;
  progress_shown_ = true;
}

void Context::end_progress() {
  if (progress_shown_) err << "\r\033[K" << std::flush;
  progress_shown_ = false;
}

int Context::finish(report::Report& r, const std::function<void(std::ostream&)>& body) {
  end_progress();
  if (r.started_unix <= 0) {  // a report read back from a file (`show`) keeps its own times
    r.started_unix = started_unix_;
    r.duration_s = elapsed_s();
  }
  int code = report::exit_code(r, fail_on());
  if (is_root()) {
    // Files first: when the launcher is ending the job, SIGKILL follows SIGTERM within a second,
    // and the report files are what scrapers and scripts read.
    report::write_report_files(r, code, opts.json_path, opts.prom_path, opts.junit_path,
                               opts.html_path);
    if (opts.format == "json") {
      out << report::report_to_json(r, code).dump(2) << '\n';
    } else {
      if (body) body(out);
      report::render_findings_text(r, code, style(), out);
    }
    out.flush();
  }
  // Every rank returns rank 0's code, so the launcher's exit status is the verdict.
  if (comm_ && comm_->size() > 1 && !comm_->broken()) {
    std::string blob = std::to_string(code);
    if (comm_->broadcast(blob, dist::Deadline::after(30))) code = std::atoi(blob.c_str());
  }
  return code;
}

}  // namespace ncd::cli
