// SPDX-License-Identifier: Apache-2.0
// Fuzzes size parsing and command-line parsing (parse only: nothing runs, no file is written).
// Input: NUL-separated arguments.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "cli/cli.hpp"
#include "core/error.hpp"
#include "core/units.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> args;
  std::size_t start = 0;
  while (start <= text.size() && args.size() < 32) {
    std::size_t end = text.find('\0', start);
    if (end == std::string::npos) end = text.size();
    args.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  for (const auto& a : args) {
    try {
      (void)ncd::parse_size(a);
    } catch (const ncd::Error&) {
    }
  }
  std::ostringstream out, err;
  int rc = ncd::cli::parse_cli(args, out, err);
  if (rc != 0 && rc != 3) __builtin_trap();
  return 0;
}
