// SPDX-License-Identifier: Apache-2.0
#include "cli/cmd_diff.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <optional>
#include <set>

#include "checks/baseline.hpp"
#include "core/fs.hpp"
#include "core/text.hpp"
#include "core/time.hpp"
#include "report/escape.hpp"

namespace ncd::cli {
namespace {

report::Report load(const std::string& path) {
  // Streamed, capped and within the --timeout deadline (a FIFO or /dev/zero ends, a 500 MB
  // report costs a small multiple of itself).
  return report::read_report(path);
}

std::string when(double unix_s) {
  if (unix_s <= 0) return "unknown time";
  return format_utc(unix_s, kUtcHuman);
}

std::string_view kind_name(checks::Change::Kind k) {
  switch (k) {
    case checks::Change::Kind::kFindingAdded: return "finding";
    case checks::Change::Kind::kFindingRemoved: return "finding";
    case checks::Change::Kind::kBandwidth: return "bandwidth";
    case checks::Change::Kind::kLink: return "link";
    case checks::Change::Kind::kTopology: return "topology";
    case checks::Change::Kind::kHost: return "host";
  }
  return "?";
}

struct Shape {
  std::size_t ranks = 0;
  std::set<std::string> hosts;
  std::optional<std::size_t> gpus;  ///< unknown when no host carries its topology
  std::set<std::string> backends;
};

Shape shape_of(const report::Report& r) {
  Shape s;
  for (const auto& h : r.hosts) {
    s.ranks += h.ranks.size();
    s.hosts.insert(h.name);
    if (h.topology.is_object() && h.topology.contains("gpus") && h.topology["gpus"].is_array())
      s.gpus = s.gpus.value_or(0) + h.topology["gpus"].size();
  }
  for (const auto& c : r.collectives)
    if (!checks::is_copy_row(c) && !c.backend.empty()) s.backends.insert(c.backend);
  return s;
}

std::string set_text(const std::set<std::string>& s) {
  return s.empty() ? std::string("none") : join({s.begin(), s.end()}, ",");
}

}  // namespace

std::vector<std::string> shape_differences(const report::Report& a, const report::Report& b) {
  const Shape x = shape_of(a), y = shape_of(b);
  std::vector<std::string> out;
  if (x.ranks != y.ranks) out.push_back(fmt::format("ranks {} vs {}", x.ranks, y.ranks));
  if (x.hosts != y.hosts) out.push_back(fmt::format("hosts {} vs {}", set_text(x.hosts), set_text(y.hosts)));
  if (x.gpus && y.gpus && *x.gpus != *y.gpus) out.push_back(fmt::format("GPUs {} vs {}", *x.gpus, *y.gpus));
  if (!x.backends.empty() && !y.backends.empty() && x.backends != y.backends)
    out.push_back(fmt::format("backend {} vs {}", set_text(x.backends), set_text(y.backends)));
  return out;
}

int run_diff(const DiffOptions& opts, Context& ctx) {
  report::Report old_r = load(opts.old_path);
  report::Report new_r = load(opts.new_path);
  const auto differs = shape_differences(old_r, new_r);
  if (!differs.empty() && !opts.shared_rows) {
    ctx.err << "nccl-doctor: diff: " << opts.old_path << " and " << opts.new_path
            << " measured different jobs (" << join(differs, "; ")
            << "): nothing comparable; pass --shared-rows to compare the rows both have\n";
    return 3;
  }
  checks::Comparison cmp = checks::compare_reports(old_r, new_r);

  // The diff's report is the new state (hosts, measurements) with the changes as findings, so
  // --html draws the new run against the old one.
  report::Report r;
  r.command = "diff";
  r.args = {opts.old_path, opts.new_path};
  r.hosts = new_r.hosts;
  r.collectives = new_r.collectives;
  r.links = new_r.links;
  r.findings = cmp.findings;
  nlohmann::json changes = nlohmann::json::array();
  for (const auto& c : cmp.changes)
    changes.push_back({{"kind", kind_name(c.kind)}, {"worse", c.worse}, {"subject", c.subject},
                       {"text", c.text}});
  r.sections["diff"] = {{"old", {{"file", opts.old_path}, {"command", old_r.command},
                                 {"started", old_r.started_unix}}},
                        {"new", {{"file", opts.new_path}, {"command", new_r.command},
                                 {"started", new_r.started_unix}}},
                        {"changes", changes}};
  r.sections["baseline"] = {{"file", opts.old_path}, {"collectives", old_r.collectives}};
  if (!differs.empty()) {
    r.sections["diff"]["shape_differs"] = differs;
    r.notes.push_back("different jobs (" + join(differs, "; ") + "): only the rows both reports share are compared");
  }

  return ctx.finish(r, [&](std::ostream& out) {
    out << fmt::format("# nccl-doctor diff\n#   old: {} ({}, {})\n#   new: {} ({}, {})\n",
                       report::terminal_text(opts.old_path), report::terminal_text(old_r.command),
                       when(old_r.started_unix), report::terminal_text(opts.new_path),
                       report::terminal_text(new_r.command), when(new_r.started_unix));
    if (cmp.changes.empty()) {
      out << "no changes\n";
      return;
    }
    for (bool worse : {true, false}) {
      bool header = false;
      for (const auto& c : cmp.changes) {
        if (c.worse != worse) continue;
        if (!header) out << (worse ? "\nWorse:\n" : "\nOther changes:\n");
        header = true;
        out << fmt::format("  {:<9} {}: {}\n", kind_name(c.kind), report::terminal_text(c.subject),
                           report::terminal_text(c.text));
      }
    }
  });
}

int run_show(const ShowOptions& opts, Context& ctx) {
  report::Report r = load(opts.path);
  return ctx.finish(r, [&](std::ostream& out) {
    out << fmt::format("# nccl-doctor {} report from {} ({}, {:.1f} s, {} host(s))\n",
                       report::terminal_text(r.command), report::terminal_text(opts.path),
                       when(r.started_unix), r.duration_s, r.hosts.size());
  });
}

}  // namespace ncd::cli
