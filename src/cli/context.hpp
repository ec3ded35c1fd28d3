// SPDX-License-Identifier: Apache-2.0
#pragma once
/// What every command gets: global options, output streams, and the job (created on demand so
/// offline commands never touch MPI).
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/error.hpp"
#include "dist/comm.hpp"
#include "report/report.hpp"
#include "report/text.hpp"

namespace ncd::report {
struct PromOptions;
}

namespace ncd::dist {
class MpiComm;
}

namespace ncd::cli {

/// ARCHITECTURE §3 global options.
struct GlobalOptions {
  std::string json_path;
  std::string prom_path;
  std::string junit_path;
  std::string html_path;
  std::string prom_dir;           ///< --prom-dir: one textfile per node (each node's first rank writes its own)
  bool prom_link_matrix = false;  ///< --prom-link-matrix: the host-pair link series too
  std::string format = "text";   ///< text | json (what goes to stdout)
  std::string fail_on = "warn";  ///< warn | error
  double timeout_s = 300;        ///< deadline of the whole command's distributed steps
  int verbosity = 0;             ///< -1 quiet, 0 normal, >0 verbose
  std::string color = "auto";    ///< auto | always | never
};

/// Thrown by Context::comm()/mpi() on every rank when the ranks were started with different
/// commands or options (dist::Comm::disagreement()); the CLI reports run.ranks_disagree.
class RanksDisagree : public Error {
 public:
  using Error::Error;
};

class Context {
 public:
  Context(GlobalOptions opts, std::ostream& out, std::ostream& err);
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  GlobalOptions opts;
  std::ostream& out;
  std::ostream& err;

  /// The job: MPI when started by a launcher, else a single process.
  dist::Comm& comm();
  /// The job over MPI, even without a launcher (a one-rank MPI job), for the host backend.
  dist::MpiComm& mpi();
  /// True unless this is a rank other than 0 of a job that exists.
  [[nodiscard]] bool is_root() const;
  [[nodiscard]] bool has_comm() const { return comm_ != nullptr; }
  /// The deadline of the whole command, from --timeout, fixed when the command starts.
  [[nodiscard]] const dist::Deadline& deadline() const { return deadline_; }
  void start_clock();
  [[nodiscard]] double elapsed_s() const;
  [[nodiscard]] double started_unix() const { return started_unix_; }
  [[nodiscard]] report::TextStyle style() const;
  [[nodiscard]] report::FailOn fail_on() const;
  /// Prints progress on a terminal (stderr is a tty) only; a no-op for redirected output.
  void progress(const std::string& line);
  void end_progress();

  /// Common end of every command: computes the exit code, prints the text (body, then findings
  /// and verdict) or JSON on stdout, and writes the report files. Rank 0 only prints; every
  /// rank returns the same code.
  int finish(report::Report& r, const std::function<void(std::ostream&)>& body);

 private:
  /// Takes `c` as the job's communicator: checks the launch and that the ranks agree.
  void adopt_comm(std::unique_ptr<dist::Comm> c);
  // The steps of finish().
  /// Rank 0 after SIGINT/SIGTERM: run.interrupted when every rank was alive (true; a
  /// --prom textfile then keeps the previous run's: `prom_path` cleared), else a note.
  bool note_interrupt(report::Report& r, std::string& prom_path);
  /// Rank 0, --prom-dir: writes its own node's textfile (every one without a job) and returns
  /// the other nodes' [{host, text}] to send with the code; failures into `failed`.
  nlohmann::json write_prom_dir(report::Report& r, int code, const report::PromOptions& prom_opts,
                                std::vector<std::string>& failed);
  /// Rank 0: the report files, then the text or JSON on stdout; failures named on stderr.
  void write_outputs(report::Report& r, int code, const std::string& prom_path, const report::PromOptions& prom_opts,
                     std::vector<std::string> failed, const std::function<void(std::ostream&)>& body);
  /// Every rank gets rank 0's code (and a node leader its --prom-dir textfile).
  int share_verdict(int code, const nlohmann::json& prom_send);
  std::unique_ptr<dist::Comm> comm_;
  dist::Deadline deadline_;
  double started_unix_ = 0;
  double started_mono_ = 0;
  bool progress_shown_ = false;
  bool output_failed_ = false;  ///< a report file or stdout could not be written (exit 3)
};

}  // namespace ncd::cli
