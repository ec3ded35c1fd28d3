// SPDX-License-Identifier: Apache-2.0
#pragma once
/// Writes the report files asked for on the command line (--json, --prom, --junit, --html),
/// each atomically. An empty path means "not asked for"; "-" is stdout.
#include <string>

#include "report/report.hpp"

namespace ncd::report {

void write_report_files(const Report& r, int exit_code, const std::string& json_path,
                        const std::string& prom_path, const std::string& junit_path,
                        const std::string& html_path);

}  // namespace ncd::report
