// SPDX-License-Identifier: Apache-2.0
#pragma once
/// The text rendering shared by every command: findings with evidence, and the verdict line.
#include <ostream>
#include <string>

#include "report/report.hpp"

namespace ncd::report {

struct TextStyle {
  bool color = false;
  int verbosity = 0;  ///< -1 quiet, 0 normal, 1+ verbose
};

/// Prints notes, findings (errors first, with evidence and hint) and a one-line verdict.
/// The first lines of an incomplete run: what was not measured and how to get it measured.
void render_incomplete_header(const Report& r, const TextStyle& style, std::ostream& out);
/// "checked N check(s) on H node(s); not applicable K (no GPU: K); could not run: ..." ("" when
/// the report has no outcomes).
[[nodiscard]] std::string checks_line(const Report& r);
void render_findings_text(const Report& r, int exit_code, const TextStyle& style, std::ostream& out);

}  // namespace ncd::report
