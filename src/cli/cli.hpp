// SPDX-License-Identifier: Apache-2.0
#pragma once
/// The command line, callable in process (tests) as well as from main().
#include <ostream>
#include <string>
#include <vector>

namespace ncd::cli {

/// Parses `args` (without the program name), runs the command and returns the exit code
/// (0 healthy, 1 warnings, 2 errors, 3 could not complete). Never throws.
int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
/// Parses `args` like run_cli but runs nothing: 0 when they parse, 3 otherwise (for fuzzing).
int parse_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace ncd::cli
