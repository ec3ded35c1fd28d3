// SPDX-License-Identifier: Apache-2.0
// The only translation unit that includes CLI11 (about 6 s to compile): every command's options
// are bound here to a plain options struct, and the command runs from its own file.
#include "cli/cli.hpp"

#include <CLI/CLI.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <map>

#include "cli/cmd_bench.hpp"
#include "cli/cmd_diff.hpp"
#include "cli/cmd_env.hpp"
#include "cli/cmd_info.hpp"
#include "cli/cmd_topo.hpp"
#include "cli/cmd_log.hpp"
#include "cli/cmd_links.hpp"
#include "cli/cmd_rings.hpp"
#include "cli/cmd_sweep.hpp"
#include "cli/context.hpp"
#include "core/error.hpp"
#include "core/finding.hpp"
#include "core/fs.hpp"
#include "core/text.hpp"
#include "dist/comm.hpp"
#include "report/writers.hpp"
#include "ncd/config.hpp"

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

/// "--timeout 0: must be a positive number of seconds, e.g. 60" instead of CLI11's range with
/// the largest double in it.
CLI::Validator positive(const std::string& what, const std::string& example) {
  return CLI::Validator(
      [what, example](std::string& v) -> std::string {
        double x = 0;
        try {
          std::size_t used = 0;
          x = std::stod(v, &used);
          if (used != v.size()) x = 0;
        } catch (const std::exception&) {
          x = 0;
        }
        if (x > 0 && x < 1e9) return "";
        return "'" + v + "' is not a positive " + what + " (e.g. " + example + ")";
      },
      "", "POSITIVE");
}

/// A value from a fixed list; the error lists the valid ones ("did you mean" only for one of them).
CLI::Validator one_of(std::vector<std::string> values) {
  return CLI::Validator(
      [values](std::string& v) -> std::string {
        if (std::find(values.begin(), values.end(), v) != values.end()) return "";
        std::string near = closest_match(v, values);
        return "'" + v + "' is not one of " + join(values, ", ") + (near.empty() ? "" : " (did you mean '" + near + "'?)");
      },
      "{" + join(values, ",") + "}", "ONE_OF");
}

void add_global_options(CLI::App& app, GlobalOptions& g, int& verbose, bool& quiet) {
  app.add_option("--json", g.json_path, "Write the JSON report to FILE (- for stdout)")->type_name("FILE");
  app.add_option("--prom", g.prom_path,
                 "Write a Prometheus textfile (node_exporter textfile collector) to FILE")
      ->type_name("FILE");
  app.add_option("--prom-dir", g.prom_dir,
                 "Write one Prometheus textfile per node, DIR/nccl-doctor-HOST.prom (each node's first rank "
                 "writes its own; the job-wide series are in rank 0's node's file)")
      ->type_name("DIR");
  app.add_flag("--prom-link-matrix", g.prom_link_matrix,
               "Prometheus: also one link series per pair of hosts (N^2; default: per host and link class)");
  app.add_option("--junit", g.junit_path, "Write a JUnit XML report to FILE (a testcase per check and host)")
      ->type_name("FILE");
  app.add_option("--html", g.html_path, "Write a self-contained HTML report to FILE")->type_name("FILE");
  app.add_option("--format", g.format, "What to print on stdout")
      ->check(one_of({"text", "json"}));
  app.add_option("--fail-on", g.fail_on, "Lowest severity that fails the exit code")
      ->check(one_of({"warn", "error"}));
  app.add_option("--timeout", g.timeout_s, "Deadline in seconds for every distributed step")
      ->check(positive("number of seconds", "--timeout 60"))
      ->type_name("SECONDS");
  app.add_flag("-v,--verbose", verbose, "More detail (repeat for more)");
  app.add_flag("-q,--quiet", quiet, "Only warnings and errors");
  app.add_option("--color", g.color, "Colour in text output")->check(one_of({"auto", "always", "never"}));
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
    if (std::find(flags.begin(), flags.end(), word) != flags.end() ||
        std::find(commands.begin(), commands.end(), word) != commands.end())
      continue;  // a real name: nothing to suggest for it
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

/// The command line as far as it changes what the ranks do together: everything but output
/// paths, verbosity and colour (rank 0 alone writes and prints).
std::string job_signature(const std::vector<std::string>& args) {
  static const std::vector<std::string> kWithValue = {"--json", "--prom", "--junit", "--html",
                                                      "--save", "--format", "--color", "--prom-dir"};
  static const std::vector<std::string> kAlone = {"-v", "-vv", "-vvv", "--verbose", "-q", "--quiet",
                                                  "--prom-link-matrix"};
  std::string sig;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    std::string name = a.substr(0, a.find('='));
    if (std::find(kWithValue.begin(), kWithValue.end(), name) != kWithValue.end()) {
      if (name == a) ++i;  // "--json F": skip F too
      continue;
    }
    if (std::find(kAlone.begin(), kAlone.end(), a) != kAlone.end()) continue;
    if (!sig.empty()) sig += ' ';
    sig += a;
  }
  return sig;
}

/// This process's rank under a launcher, from the environment (before MPI exists); -1 if none.
int launcher_rank() {
  for (const char* v : {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK", "SLURM_PROCID"})
    if (const char* s = std::getenv(v)) return std::atoi(s);
  return -1;
}

/// Two examples per command, shown at the end of its help (and in the man page).
const std::map<std::string, std::vector<std::string>>& examples() {
  static const std::map<std::string, std::vector<std::string>> k = {
      {"env", {"mpirun -N 1 nccl-doctor env", "nccl-doctor env --json - | python3 -m json.tool"}},
      {"topo", {"nccl-doctor topo", "nccl-doctor topo --hwloc-xml node.xml --save node-topo.json"}},
      {"bench",
       {"mpirun -np 8 nccl-doctor bench -b 8 -e 128M -f 2", "nccl-doctor bench --backend mpi --op allreduce,allgather"}},
      {"version", {"nccl-doctor version", "nccl-doctor version --format json"}},
      {"log", {"nccl-doctor log job-1234/*.log", "zcat run.log.gz | nccl-doctor log -"}},
      {"sweep",
       {"mpirun -N 1 nccl-doctor sweep --quick",
        "nccl-doctor sweep --baseline golden.json --prom nccl.prom --html report.html"}},
      {"diff", {"nccl-doctor diff golden.json today.json", "nccl-doctor diff golden.json today.json --fail-on error"}},
      {"show", {"nccl-doctor show report.json", "nccl-doctor show report.json --html report.html"}},
      {"explain", {"nccl-doctor explain", "nccl-doctor explain pcie.link_degraded"}},
      {"links", {"mpirun -N 1 nccl-doctor links", "mpirun -N 1 nccl-doctor links --mode bisect --expect net=12.5"}},
      {"rings", {"mpirun -np 8 nccl-doctor rings", "nccl-doctor rings --topo-xml topo.xml --graph-xml graph.xml",
                 "nccl-doctor rings --topo-xml topo.xml"}},
  };
  return k;
}

/// The global options as help lines (a command's help shows them too: they work after it).
std::string global_options_text(const CLI::App& app) {
  std::string text = "Global options (before or after the command):\n";
  for (const CLI::Option* o : app.get_options()) {
    if (o->get_name() == "--help" || o->get_name() == "-h,--help" || o->get_group().empty()) continue;
    std::string name = o->get_name(false, true);
    if (o->get_type_size() != 0 && !o->get_type_name().empty()) name += " " + o->get_type_name();
    std::string line = "  " + name;
    line += std::string(line.size() < 26 ? 26 - line.size() : 1, ' ') + o->get_description();
    if (o->get_type_size() != 0 && !o->get_default_str().empty()) line += " (default: " + o->get_default_str() + ")";
    text += line + "\n";
  }
  return text;
}

std::string examples_text(const std::string& command) {
  auto it = examples().find(command);
  if (it == examples().end()) return "";
  std::string text = "Examples:\n";
  for (const auto& e : it->second) text += "  " + e + "\n";
  return text;
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
  app.set_version_flag("--version", std::string("nccl-doctor ") + NCD_VERSION, "Print the version and exit");
  app.require_subcommand(0, 1);
  GlobalOptions g;
  int verbose = 0;
  bool quiet = false;
  add_global_options(app, g, verbose, quiet);
  Action action;
  std::vector<std::pair<CLI::App*, const std::string*>> cmd_outputs;  // --save of topo, sweep

  add_command(app, action, "env", "Versions and NCCL settings of every rank, compared",
              std::make_shared<EnvOptions>(), &run_env);
  {
    auto o = std::make_shared<TopoOptions>();
    CLI::App* sub = add_command(app, action, "topo",
                                "PCIe/NVLink/NIC topology, NCCL path types and expected bandwidth, "
                                "misconfigurations",
                                o, &run_topo);
    sub->add_option("--hwloc-xml", o->hwloc_xml, "Analyse an hwloc v2 XML export (lstopo --of xml)")
        ->type_name("FILE");
    sub->add_option("--nccl-topo", o->nccl_topo,
                    "Analyse an NCCL topology file / NCCL_TOPO_DUMP_FILE (repeat: one host each)")
        ->type_name("FILE");
    sub->add_option("--sysfs-root", o->sysfs_root, "Read sysfs facts from DIR instead of /sys")
        ->type_name("DIR");
    sub->add_option("--load", o->load, "Analyse a topology written by --save")->type_name("FILE");
    sub->add_option("--save", o->save, "Write the topology model (JSON) to FILE")->type_name("FILE");
    cmd_outputs.push_back({sub, &o->save});
  }
  {
    auto o = std::make_shared<BenchOptions>();
    CLI::App* sub = add_command(app, action, "bench",
                                "Collective bandwidth: ring vs tree vs native, data-checked (nccl-tests flags)", o,
                                &run_bench);
    sub->add_option("--backend", o->backend, "auto (NCCL on GPUs, else MPI), nccl, or mpi (host memory)")
        ->check(one_of({"auto", "nccl", "mpi"}));
    sub->add_option("--algo", o->algos, "Algorithms, comma-separated: ring,tree,native (GPUs also nvls,collnet)");
    sub->add_option("--op", o->ops,
                    "Collectives, comma-separated: allreduce,allgather,reducescatter,broadcast,reduce,alltoall,sendrecv");
    sub->add_option("-b,--minbytes", o->min_bytes, "Smallest size (K/M/G suffixes)");
    sub->add_option("-e,--maxbytes", o->max_bytes, "Largest size (K/M/G suffixes)");
    sub->add_option("-f,--stepfactor", o->factor, "Multiply the size by this factor between sizes");
    sub->add_option("-i,--stepbytes", o->step_bytes, "Add this many bytes between sizes (instead of -f)");
    sub->add_option("-n,--iters", o->iters, "Timed iterations per size");
    sub->add_option("-w,--warmup_iters", o->warmup, "Warm-up iterations per size");
    sub->add_option("-c,--check", o->check, "Data-checked iterations after the timed ones (0: no check)");
    sub->add_option("-d,--datatype", o->dtype, "int8, int32, int64, float32, float64, float16, bfloat16");
    sub->add_option("-o,--redop", o->redop, "sum, prod, min, max, avg");
    sub->add_option("-r,--root", o->root, "Root rank of broadcast and reduce");
    sub->add_option("-g,--ngpus", o->ngpus, "GPUs driven by this process (nccl-tests), one thread each; no MPI needed");
    sub->add_option("-t,--nthreads", o->nthreads, "Threads per process (nccl-tests); 1 only: one rank per GPU");
    sub->add_option("-a,--average", o->average,
                    "nccl-tests' time across ranks (0-3); accepted, no-op: times are always the slowest rank's (3)");
    sub->add_option("-G,--cudagraph", o->graph_iters,
                    "CUDA graph launches (nccl-tests); accepted, no-op: neither backend captures graphs");
    sub->add_option("--expected-busbw", o->expected_busbw,
                    "Large-message busbw (GB/s) this topology should give, for bench.busbw_low");
    sub->add_flag("--copy", o->copies, "Also measure copy bandwidth per GPU (H2D, D2H, D2D; nccl backend)");
    sub->add_option("--copy-size", o->copy_bytes, "Bytes per copy for --copy");
    sub->add_option("--slice", o->slice_bytes, "Slice size of our pipelined host algorithms")->group("");
    sub->add_flag("--self-test", o->self_test, "Exhaustive correctness matrix of the host backend")->group("");
  }
  add_command(app, action, "version", "Tool version, build features and runtime library versions",
              std::make_shared<VersionOptions>(), &run_version);
  {
    auto o = std::make_shared<LogOptions>();
    CLI::App* sub = add_command(app, action, "log",
                                "Post-mortem of NCCL debug logs (files, .gz, or - for stdin)", o, &run_log);
    sub->add_option("files", o->files, "Log files: one per rank or one interleaved stream; - reads stdin")
        ->required();
  }
  {
    auto o = std::make_shared<SweepOptions>();
    CLI::App* sub = add_command(app, action, "sweep",
                                "The health check: env, topo, bench, links and rings in one run, one report",
                                o, &run_sweep);
    sub->add_flag("--quick", o->quick, "Pre-flight budget: a verdict in under a minute on an 8-GPU node");
    sub->add_flag("--full", o->full, "Pairwise links and the full message-size range");
    sub->add_option("--baseline", o->baseline,
                    "Compare with a saved report: bench.regression, link.regression, topo.changed")
        ->type_name("FILE");
    sub->add_option("--save", o->save,
                    "Write this run's JSON report to FILE as a baseline for later runs; refused for an incomplete "
                    "run or one with errors, and for warnings without --save-allow-warnings")
        ->type_name("FILE");
    sub->add_flag("--save-allow-warnings", o->save_allow_warnings,
                  "Let --save keep a run that ended with warnings as the baseline");
    sub->add_option("--skip", o->skip, "Stages not to run, comma-separated (topo,bench,links,rings); not planned, "
                                       "so the verdict can still be complete")
        ->type_name("STAGES");
    sub->add_option("--only", o->only, "Run only these stages, comma-separated (env always runs)")
        ->type_name("STAGES");
    cmd_outputs.push_back({sub, &o->save});
  }
  {
    auto o = std::make_shared<DiffOptions>();
    CLI::App* sub = add_command(app, action, "diff",
                                "What changed between two JSON reports; exits by the worst change",
                                o, &run_diff);
    sub->add_option("old", o->old_path, "The older report (baseline)")->required()->type_name("OLD.json");
    sub->add_option("new", o->new_path, "The newer report")->required()->type_name("NEW.json");
    sub->add_flag("--shared-rows", o->shared_rows,
                  "Compare the rows both reports share even when they measured different jobs (ranks, hosts, GPUs, "
                  "backend); without it such a diff exits 3");
  }
  {
    auto o = std::make_shared<ShowOptions>();
    CLI::App* sub = add_command(app, action, "show",
                                "Render a saved JSON report again (text, --prom, --junit, --html)",
                                o, &run_show);
    sub->add_option("report", o->path, "A report written with --json")->required()->type_name("REPORT.json");
  }
  {
    auto o = std::make_shared<ExplainOptions>();
    CLI::App* sub = add_command(app, action, "explain",
                                "What a finding id means, how it is detected, the usual fix", o,
                                &run_explain);
    sub->add_option("id", o->id, "Finding id (none: the whole catalogue)");
    sub->add_flag("--markdown", o->markdown, "Print the catalogue as Markdown (docs/checks.md)");
  }

  {
    auto o = std::make_shared<LinksOptions>();
    CLI::App* sub = add_command(app, action, "links",
                                "Pairwise link sweep: which link or which node is slow", o, &run_links);
    sub->add_option("--size", o->size, "Bandwidth message size (K/M/G suffixes)")->capture_default_str();
    sub->add_option("--mode", o->mode, "pairwise: every pair; ring: ring neighbours only; bisect: group testing")->capture_default_str()
        ->check(one_of({"pairwise", "ring", "bisect"}));
    // Link sweeps run over MPI point-to-point on host memory only (no NCCL send/recv backend).
    sub->add_option("--backend", o->backend, "auto and mpi: host memory over MPI point-to-point")->capture_default_str()
        ->check(one_of({"auto", "mpi"}));
    sub->add_option("-n,--iters", o->iters, "Timed transfers per direction")->capture_default_str()->check(CLI::Range(1, 10000));
    sub->add_option("-w,--warmup", o->warmup, "Untimed transfers per direction first")->capture_default_str()->check(CLI::Range(0, 1000));
    sub->add_option("--repeat", o->repeat, "Sweeps of the whole schedule, within --timeout")->capture_default_str()
        ->check(CLI::Range(1, 1000000));
    sub->add_option("--passes", o->passes, "Passes over the schedule (noise from repetition), as --timeout allows")
        ->capture_default_str()->check(CLI::Range(1, 100));
    sub->add_flag("!--no-topo", o->topo, "Do not probe the NICs for the bandwidth links should give");
    sub->add_option("--round-timeout", o->round_timeout, "Deadline of one round in seconds (default: split from --timeout)")
        ->check(positive("number of seconds", "--round-timeout 10"));
    sub->add_option("--expect", o->expect, "Expected bandwidth per link class in GB/s, e.g. net=12.5,shm=20")
        ->type_name("CLASS=GBPS,...");
    sub->add_flag("!--no-confirm", o->confirm, "Do not measure suspect pairs a second time before blaming them");
  }
  {
    auto o = std::make_shared<RingsOptions>();
    CLI::App* sub = add_command(app, action, "rings",
                                "NCCL's rings and trees against the topology (live, or from dump files)", o,
                                &run_rings);
    sub->add_option("--topo-xml,--nccl-topo", o->topo_xml,
                    "NCCL topology dump (NCCL_TOPO_DUMP_FILE); alone: predict the rings and trees NCCL will build")
        ->type_name("FILE");
    sub->add_option("--graph-xml", o->graph_xml, "NCCL graph dump (NCCL_GRAPH_DUMP_FILE)")->type_name("FILE");
    sub->add_option("--log", o->logs, "NCCL_DEBUG=INFO log(s) of the same run, for transports")
        ->type_name("FILE")
        ->expected(1, -1);
    sub->add_option("--nodes", o->nodes, "Nodes of the job for NCCL's model (offline; default: from --log, "
                                         "else 2 when the graph has NICs)")
        ->check(positive("number of nodes", "--nodes 2"));
  }

  {
    // Every option with a value shows its default in the help (flags have none to show).
    auto capture = [](CLI::App& a) {
      for (CLI::Option* o : a.get_options())
        if (o->get_type_size() != 0 && o->get_default_str().empty()) o->capture_default_str();
    };
    capture(app);
    for (CLI::App* sub : app.get_subcommands({})) capture(*sub);
    const std::string globals = global_options_text(app);
    for (CLI::App* sub : app.get_subcommands({})) sub->footer("\n" + globals + "\n" + examples_text(sub->get_name()));
    app.footer("\nRun `nccl-doctor COMMAND --help` for a command's options and examples.\n");
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
  } catch (const CLI::CallForVersion& e) {
    out << e.what() << '\n';
    return 0;
  } catch (const CLI::ValidationError& e) {
    // The validators list the valid values themselves; a flag's own name is no suggestion.
    err << "nccl-doctor: " << one_line(e.what()) << '\n';
    return 3;
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
  // Every output path is checked before any measurement: a typo must not waste a sweep. Two
  // outputs on one file would overwrite each other. Ranks other than 0 only check the second
  // (their file systems may differ; rank 0 alone writes).
  try {
    std::vector<std::pair<std::string, std::string>> outputs = {
        {"--json", g.json_path}, {"--prom", g.prom_path}, {"--junit", g.junit_path}, {"--html", g.html_path}};
    for (const auto& [sub, path] : cmd_outputs)
      if (sub->parsed()) outputs.emplace_back("--save", *path);
    if (g.format == "json") outputs.emplace_back("--format json", "-");  // the report on stdout
    report::check_output_paths(outputs, launcher_rank() <= 0);
    if (!g.prom_dir.empty() && launcher_rank() <= 0) {
      struct stat st {};
      if (::stat(g.prom_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
        throw UsageError("--prom-dir " + g.prom_dir + ": not a directory");
      if (::access(g.prom_dir.c_str(), W_OK | X_OK) != 0)
        throw UsageError("--prom-dir " + g.prom_dir + ": not writable");
    }
  } catch (const Error& e) {
    err << "nccl-doctor: " << one_line(e.what()) << '\n';
    return 3;
  }
  if (parse_only) return 0;

  std::string command_name;
  for (const CLI::App* sub : app.get_subcommands()) command_name = sub->get_name();
  dist::set_job_signature(job_signature(args));
  set_input_timeout(g.timeout_s);
  // A report written to stdout owns it: the human text (the text report, the plan, anything
  // a command prints for people) goes to stderr, so `--json - | jq .` and `--prom - | promtool`
  // read a clean stream. Stage lines and rows already go to stderr.
  bool report_on_stdout = false;
  for (const std::string* p : {&g.json_path, &g.prom_path, &g.junit_path, &g.html_path})
    if (!p->empty() && output_identity(*p) == "stdout") report_on_stdout = true;
  Context ctx(g, report_on_stdout && g.format != "json" ? err : out, err);
  auto fail = [&](const std::string& msg) {
    std::string where;
    if (ctx.has_comm() && ctx.comm().size() > 1)
      where = "[" + ctx.comm().host() + ":" + std::to_string(ctx.comm().rank()) + "] ";
    err << "nccl-doctor: " << where << one_line(msg) << '\n';
    err.flush();
    // Peers may be waiting for this rank: end the whole job rather than let them hang.
    if (ctx.has_comm() && ctx.comm().is_mpi() && ctx.comm().size() > 1)
      ctx.comm().abort_job(3);
    return 3;
  };
  try {
    int code = action(ctx);
    // A step expired: peers may be stuck in MPI, so a collective finalize could hang. Rank 0
    // has written its report by now; end the whole job (other ranks give it time to do so).
    if (ctx.has_comm() && ctx.comm().is_mpi() && ctx.comm().broken()) {
      dist::Comm& mpi = ctx.comm();
      out.flush();
      err.flush();
      if (mpi.rank() != 0) {
        // Linger: Open MPI's daemon stops waiting (and sends SIGKILL) as soon as the other
        // ranks are gone, which would cut rank 0 off in the middle of writing its report.
        for (int i = 0; i < 100; ++i) {
          dist::announce_alive_if_interrupted();
          ::usleep(100000);
        }
        std::_Exit(code);
      }
      if (dist::termination_requested()) std::_Exit(code);
      mpi.abort_job(code);
    }
    return code;
  } catch (const RanksDisagree& e) {
    // Every rank knows (the start-up exchange is an allgather): one report, exit 3 everywhere.
    report::Report r;
    r.command = command_name;
    r.args = args;
    Finding f = make_finding("run.ranks_disagree", ctx.comm().host(), "the whole job",
                             std::string("the ranks were started with different commands or options: ") + e.what());
    f.hint = "start every rank with the same command line";
    r.findings.push_back(std::move(f));
    r.incomplete = true;
    r.incomplete_reason = "ranks started with different commands or options";
    try {
      return ctx.finish(r, nullptr);
    } catch (const Error& e2) {
      return fail(e2.what());
    }
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
