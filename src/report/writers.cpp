// SPDX-License-Identifier: Apache-2.0
#include "report/writers.hpp"

#include "core/error.hpp"
#include "core/fs.hpp"

namespace ncd::report {

void write_report_files(const Report& r, int code, const std::string& json_path,
                        const std::string& prom_path, const std::string& junit_path,
                        const std::string& html_path) {
  if (!json_path.empty()) write_file_atomic(json_path, report_to_json(r, code).dump(2) + "\n");
  // Prometheus, JUnit and HTML renderers land with the sweep; the CLI does not offer them yet.
  (void)prom_path;
  (void)junit_path;
  (void)html_path;
}

}  // namespace ncd::report
