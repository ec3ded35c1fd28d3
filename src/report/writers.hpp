// SPDX-License-Identifier: Apache-2.0
#pragma once
/// Writes the report files asked for on the command line (--json, --prom, --junit, --html),
/// each atomically. An empty path means "not asked for"; "-" is stdout.
#include <string>
#include <utility>
#include <vector>

#include "report/prom.hpp"
#include "report/report.hpp"

namespace ncd::report {

/// Writes every report file asked for. A format that fails (to render or to write) does not
/// stop the others: the failures come back, one line each naming the path, and the caller
/// makes the exit status 3.
[[nodiscard]] std::vector<std::string> write_report_files(const Report& r, int exit_code,
                                                          const std::string& json_path,
                                                          const std::string& prom_path,
                                                          const std::string& junit_path,
                                                          const std::string& html_path,
                                                          const PromOptions& prom = {});

/// Checks every output path before any work starts: each one writable (see
/// check_output_path), and no two on the same file (stdout included). Throws UsageError.
void check_output_paths(const std::vector<std::pair<std::string, std::string>>& flag_paths,
                        bool check_writable);

}  // namespace ncd::report
