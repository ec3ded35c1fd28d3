// SPDX-License-Identifier: Apache-2.0
// The only translation unit that includes CLI11 (about 6 s to compile): every command's options
// are bound here to a plain options struct, and the command runs from its own file.
#include "cli/cli.hpp"

#include <CLI/CLI.hpp>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <functional>

#include "cli/cmd_diff.hpp"
#include "cli/cmd_env.hpp"
#include "cli/cmd_info.hpp"
#include "cli/context.hpp"
#include "core/error.hpp"
#include "core/text.hpp"
#include "dist/mpi_comm.hpp"

namespace ncd::cli {
namespace {

using Action = std::function<int(Context&)>;

/// Binds a command: its options struct lives as long as the parse, and the callback records
/// what to run.
template <typename Opts>
CLI::App* add_command(CLI::App& app, Action& action, const std::string& name, const std::string& desc,
                      const std::shared_ptr<Opts>& opts, int (*run)(const Opts&, Context&)) {
  CLI::App* sub = app.add_subcommand(name, desc);
  sub->callback([&action, opts, run] { action = [opts, run](Context& c) { return run(*opts, c); }; });
  return sub;
}

void add_global_options(CLI::App& app, GlobalOptions& g, int& verbose, bool& quiet) {
  app.add_option("--json", g.json_path, "Write the JSON report to FILE (- for stdout)")->type_name("FILE");
  app.add_option("--prom", g.prom_path,
                 "Write a Prometheus textfile (node_exporter textfile collector) to FILE")
      ->type_name("FILE");
  app.add_option("--junit", g.junit_path, "Write a JUnit XML report to FILE (a testcase per check and host)")
      ->type_name("FILE");
  app.add_option("--html", g.html_path, "Write a self-contained HTML report to FILE")->type_name("FILE");
  app.add_option("--format", g.format, "What to print on stdout")
      ->check(CLI::IsMember({"text", "json"}));
  app.add_option("--fail-on", g.fail_on, "Lowest severity that fails the exit code")
      ->check(CLI::IsMember({"warn", "error"}));
  app.add_option("--timeout", g.timeout_s, "Deadline in seconds for every distributed step")
      ->check(CLI::PositiveNumber);
  app.add_flag("-v,--verbose", verbose, "More detail (repeat for more)");
  app.add_flag("-q,--quiet", quiet, "Only warnings and errors");
  app.add_option("--color", g.color, "Colour in text output")->check(CLI::IsMember({"auto", "always", "never"}));
}

std::vector<std::string> option_names(const CLI::App* app) {
  std::vector<std::string> names;
  for (const CLI::Option* o : app->get_options()) {
    for (const auto& l : o->get_lnames()) names.push_back("--" + l);
    for (const auto& s : o->get_snames()) names.push_back("-" + s);
  }
  return names;
}

/// "did you mean" for unknown flags and commands.
std::string suggestion(const CLI::App& app, const std::vector<std::string>& args) {
  const CLI::App* sub = nullptr;
  for (const CLI::App* s : app.get_subcommands()) sub = s;  // the selected one
  std::vector<std::string> flags = option_names(&app);
  if (sub) {
    auto more = option_names(sub);
    flags.insert(flags.end(), more.begin(), more.end());
  }
  std::vector<std::string> commands;
  for (const CLI::App* s : app.get_subcommands({})) commands.push_back(s->get_name());
  for (const auto& a : args) {
    std::string word = a.substr(0, a.find('='));
    if (word.rfind("-", 0) == 0) {
      std::string near = closest_match(word, flags);
      if (!near.empty()) return " (did you mean '" + near + "'?)";
    } else if (!sub) {
      std::string near = closest_match(word, commands);
      if (!near.empty()) return " (did you mean '" + near + "'?)";
    }
  }
  return "";
}

std::string one_line(std::string s) {
  std::replace(s.begin(), s.end(), '\n', ' ');
  return std::string(trim(s));
}

}  // namespace

namespace {
int run_cli_impl(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
                 bool parse_only) {
  CLI::App app{"nccl-doctor: is this GPU cluster's fabric healthy, and if not, what is wrong?",
               "nccl-doctor"};
  app.fallthrough();  // global options are accepted after the command name too
  app.require_subcommand(0, 1);
  GlobalOptions g;
  int verbose = 0;
  bool quiet = false;
  add_global_options(app, g, verbose, quiet);
  Action action;

  add_command(app, action, "env", "Versions and NCCL settings of every rank, compared",
              std::make_shared<EnvOptions>(), &run_env);
  add_command(app, action, "version", "Tool version, build features and runtime library versions",
              std::make_shared<VersionOptions>(), &run_version);
  {
    auto o = std::make_shared<ExplainOptions>();
    CLI::App* sub = add_command(app, action, "explain",
                                "What a finding id means, how it is detected, the usual fix", o,
                                &run_explain);
    sub->add_option("id", o->id, "Finding id (none: the whole catalogue)");
    sub->add_flag("--markdown", o->markdown, "Print the catalogue as Markdown (docs/checks.md)");
  }

  {
    auto o = std::make_shared<DiffOptions>();
    CLI::App* sub = add_command(app, action, "diff",
                                "What changed between two JSON reports; exits by the worst change",
                                o, &run_diff);
    sub->add_option("old", o->old_path, "The older report (baseline)")->required()->type_name("OLD.json");
    sub->add_option("new", o->new_path, "The newer report")->required()->type_name("NEW.json");
  }
  {
    auto o = std::make_shared<ShowOptions>();
    CLI::App* sub = add_command(app, action, "show",
                                "Render a saved JSON report again (text, --prom, --junit, --html)",
                                o, &run_show);
    sub->add_option("report", o->path, "A report written with --json")->required()->type_name("REPORT.json");
  }

  try {
    std::vector<std::string> rev(args.rbegin(), args.rend());
    app.parse(rev);
  } catch (const CLI::CallForHelp& e) {
    app.exit(e, out, err);
    return 0;
  } catch (const CLI::CallForAllHelp& e) {
    app.exit(e, out, err);
    return 0;
  } catch (const CLI::ParseError& e) {
    err << "nccl-doctor: " << one_line(e.what()) << suggestion(app, args) << '\n';
    return 3;
  }
  if (!action) {
    out << app.help();
    err << "nccl-doctor: no command given\n";
    return 3;
  }
  g.verbosity = quiet ? -1 : verbose;
  if (parse_only) return 0;

  Context ctx(g, out, err);
  auto fail = [&](const std::string& msg) {
    std::string where;
    if (ctx.has_comm() && ctx.comm().size() > 1)
      where = "[" + ctx.comm().host() + ":" + std::to_string(ctx.comm().rank()) + "] ";
    err << "nccl-doctor: " << where << one_line(msg) << '\n';
    err.flush();
    // Peers may be waiting for this rank: end the whole job rather than let them hang.
    if (ctx.has_comm() && ctx.comm().is_mpi() && ctx.comm().size() > 1)
      static_cast<dist::MpiComm&>(ctx.comm()).abort_job(3);
    return 3;
  };
  try {
    int code = action(ctx);
    // A step expired: peers may be stuck in MPI, so a collective finalize could hang. Rank 0
    // has written its report by now; end the whole job (other ranks give it time to do so).
    if (ctx.has_comm() && ctx.comm().is_mpi() && ctx.comm().broken()) {
      auto& mpi = static_cast<dist::MpiComm&>(ctx.comm());
      out.flush();
      err.flush();
      if (mpi.rank() != 0) {
        // Linger: Open MPI's daemon stops waiting (and sends SIGKILL) as soon as the other
        // ranks are gone, which would cut rank 0 off in the middle of writing its report.
        for (int i = 0; i < 100; ++i) ::usleep(100000);
        std::_Exit(code);
      }
      if (dist::termination_requested()) std::_Exit(code);
      mpi.abort_job(code);
    }
    return code;
  } catch (const Error& e) {
    return fail(e.what());
  } catch (const std::exception& e) {
    return fail(std::string("internal error: ") + e.what());
  }
}

}  // namespace

int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  return run_cli_impl(args, out, err, false);
}

int parse_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  return run_cli_impl(args, out, err, true);
}

}  // namespace ncd::cli
