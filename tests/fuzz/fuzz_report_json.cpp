// SPDX-License-Identifier: Apache-2.0
// Fuzzes the report JSON reader used by `diff` and `--baseline`.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/error.hpp"
#include "report/report.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  try {
    ncd::report::Report r = ncd::report::report_from_json(text, "fuzz.json");
    (void)ncd::report::report_to_json(r, 0);
  } catch (const ncd::Error&) {
  }
  return 0;
}
