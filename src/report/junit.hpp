// SPDX-License-Identifier: Apache-2.0
#pragma once
/// JUnit XML of a report, for CI systems: a testsuite per check domain, a testcase per check id
/// and host; warn and error findings are failures carrying their message and evidence.
#include <map>
#include <set>
#include <string>

#include "report/report.hpp"

namespace ncd::report {

/// The check domains (catalogue `domain`) the run covered: from its stages (sweep), else from
/// its command, plus the domains of every finding it raised.
[[nodiscard]] std::set<std::string> domains_run(const Report& r);
/// Domains whose stage was skipped (sweep: no GPU, no input), with the reason.
[[nodiscard]] std::map<std::string, std::string> domains_skipped(const Report& r);

[[nodiscard]] std::string render_junit(const Report& r, int exit_code);

}  // namespace ncd::report
