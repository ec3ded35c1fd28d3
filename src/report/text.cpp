// SPDX-License-Identifier: Apache-2.0
#include "report/text.hpp"

#include <fmt/format.h>

#include <map>

#include "core/text.hpp"

namespace ncd::report {
namespace {

std::string paint(const TextStyle& s, std::string_view code, std::string_view text) {
  if (!s.color) return std::string(text);
  return fmt::format("\033[{}m{}\033[0m", code, text);
}

std::string_view severity_color(Severity sev) {
  switch (sev) {
    case Severity::kError: return "1;31";
    case Severity::kWarn: return "1;33";
    case Severity::kInfo: return "36";
  }
  return "0";
}

}  // namespace

void render_incomplete_header(const Report& r, const TextStyle& style, std::ostream& out) {
  if (!r.incomplete) return;
  out << paint(style, "1;31", "INCOMPLETE") << ": "
      << (r.incomplete_reason.empty() ? std::string("the run could not complete") : r.incomplete_reason) << '\n';
  for (const auto& t : r.to_measure) out << "  to measure it: " << t << '\n';
}

std::string checks_line(const Report& r) {
  if (r.checks.empty()) return "";
  int evaluated = 0;
  std::map<std::string, int> na;                       // reason -> count
  std::map<std::string, std::vector<std::string>> cnr;  // reason -> ids
  int na_total = 0, cnr_total = 0;
  for (const auto& c : r.checks) {
    if (c.status == CheckStatus::kEvaluated) ++evaluated;
    else if (c.status == CheckStatus::kCouldNotRun) {
      cnr[c.reason].push_back(c.id);
      ++cnr_total;
    } else {
      ++na[c.status == CheckStatus::kExcluded ? "excluded: " + c.reason : c.reason];
      ++na_total;
    }
  }
  std::string line = fmt::format("checked {} check(s) on {} node(s)", evaluated, std::max<std::size_t>(1, r.hosts.size()));
  if (na_total) {
    std::vector<std::string> parts;
    for (const auto& [reason, n] : na) parts.push_back(fmt::format("{}: {}", reason, n));
    line += fmt::format("; not applicable {} ({})", na_total, join(parts, "; "));
  }
  if (cnr_total) {
    std::vector<std::string> parts;
    for (const auto& [reason, ids] : cnr)
      parts.push_back(fmt::format("{} ({})", ids.size() <= 4 ? join(ids, ", ") : fmt::format("{} checks", ids.size()),
                                  reason));
    line += fmt::format("; could not run: {}", join(parts, "; "));
  } else {
    line += "; could not run: none";
  }
  return line;
}

void render_findings_text(const Report& r, int code, const TextStyle& style, std::ostream& out) {
  if (style.verbosity >= 0) {
    for (const auto& n : r.notes) out << "note: " << n << '\n';
  }
  std::vector<Finding> findings = r.findings;
  sort_findings(findings);
  int shown = 0;
  for (const auto& f : findings) {
    if (f.severity == Severity::kInfo && style.verbosity < 0) continue;
    if (shown++ == 0) out << "\nFindings:\n";
    std::string where = f.host.empty() ? f.subject
                        : f.subject.empty() ? f.host
                                            : f.host + " " + f.subject;
    out << "  " << paint(style, severity_color(f.severity), fmt::format("{:<5}", to_string(f.severity)))
        << ' ' << f.id << (where.empty() ? "" : "  [" + where + "]") << '\n';
    out << "        " << f.message << '\n';
    if (f.expected && f.measured)
      out << fmt::format("        measured {:.3g} {} vs expected {:.3g} {}\n", *f.measured, f.unit,
                         *f.expected, f.unit);
    std::size_t max_ev = style.verbosity > 0 ? f.evidence.size() : std::min<std::size_t>(f.evidence.size(), 4);
    for (std::size_t i = 0; i < max_ev; ++i) out << "        | " << f.evidence[i] << '\n';
    if (max_ev < f.evidence.size())
      out << fmt::format("        | ... {} more evidence line(s), -v shows all\n", f.evidence.size() - max_ev);
    if (!f.hint.empty() && f.severity != Severity::kInfo) out << "        fix: " << f.hint << '\n';
  }
  int counts[3] = {0, 0, 0};
  for (const auto& f : r.findings) ++counts[static_cast<int>(f.severity)];
  std::string verdict;
  switch (code) {
    case 0: verdict = paint(style, "1;32", "HEALTHY"); break;
    case 1: verdict = paint(style, "1;33", "WARNINGS"); break;
    case 2: verdict = paint(style, "1;31", "ERRORS"); break;
    default: verdict = paint(style, "1;31", "INCOMPLETE"); break;
  }
  if (std::string cl = checks_line(r); !cl.empty()) out << '\n' << cl;
  out << fmt::format("\n{}: {} error(s), {} warning(s), {} info; exit {}", verdict, counts[2],
                     counts[1], counts[0], code);
  if (r.incomplete && !r.incomplete_reason.empty()) out << " (" << r.incomplete_reason << ")";
  out << '\n';
}

}  // namespace ncd::report
