// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: a report read back from JSON (diff, show, --baseline read untrusted files),
// then compared with itself and rendered in every format. Must never crash or hang.
#include <cstddef>
#include <cstdint>
#include <string>

#include "checks/baseline.hpp"
#include "core/error.hpp"
#include "report/html.hpp"
#include "report/junit.hpp"
#include "report/prom.hpp"
#include "report/report.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  try {
    ncd::report::Report r = ncd::report::report_from_json(text, "fuzz.json");
    ncd::report::Report empty;
    (void)ncd::checks::compare_reports(empty, r);
    (void)ncd::checks::compare_reports(r, r);
    (void)ncd::report::render_prometheus(r, 0);
    ncd::report::PromOptions matrix;
    matrix.link_matrix = true;
    (void)ncd::report::render_prometheus_per_host(r, 1, matrix, "root");
    (void)ncd::report::render_junit(r, 3);
    (void)ncd::report::render_html(r, 2);
  } catch (const ncd::Error&) {
  }
  return 0;
}
