// SPDX-License-Identifier: Apache-2.0
#pragma once
/// The text rendering shared by every command: findings with evidence, and the verdict line.
#include <ostream>

#include "report/report.hpp"

namespace ncd::report {

struct TextStyle {
  bool color = false;
  int verbosity = 0;  ///< -1 quiet, 0 normal, 1+ verbose
};

/// Prints notes, findings (errors first, with evidence and hint) and a one-line verdict.
void render_findings_text(const Report& r, int exit_code, const TextStyle& style, std::ostream& out);

}  // namespace ncd::report
