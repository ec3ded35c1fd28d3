// SPDX-License-Identifier: Apache-2.0
#include "report/writers.hpp"

#include "core/error.hpp"
#include "core/fs.hpp"
#include "report/html.hpp"
#include "report/junit.hpp"
#include "report/prom.hpp"

namespace ncd::report {

void write_report_files(const Report& r, int code, const std::string& json_path,
                        const std::string& prom_path, const std::string& junit_path,
                        const std::string& html_path) {
  // Each file is complete or absent: written to a temporary name and renamed (node_exporter's
  // textfile collector and CI artifact uploaders read whatever is there).
  if (!json_path.empty()) write_file_atomic(json_path, report_to_json(r, code).dump(2) + "\n");
  if (!prom_path.empty()) write_file_atomic(prom_path, render_prometheus(r, code));
  if (!junit_path.empty()) write_file_atomic(junit_path, render_junit(r, code));
  if (!html_path.empty()) write_file_atomic(html_path, render_html(r, code));
}

}  // namespace ncd::report
