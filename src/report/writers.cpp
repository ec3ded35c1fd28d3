// SPDX-License-Identifier: Apache-2.0
#include "report/writers.hpp"

#include <functional>
#include <map>

#include "core/error.hpp"
#include "core/fs.hpp"
#include "report/html.hpp"
#include "report/junit.hpp"
#include "report/prom.hpp"

namespace ncd::report {

std::vector<std::string> write_report_files(const Report& r, int code, const std::string& json_path,
                                            const std::string& prom_path, const std::string& junit_path,
                                            const std::string& html_path, const PromOptions& prom) {
  // Each file is complete or absent: written to a temporary name and renamed (node_exporter's
  // textfile collector and CI artifact uploaders read whatever is there). Devices and FIFOs
  // are written in place.
  std::vector<std::string> errors;
  auto one = [&](const std::string& path, const std::function<std::string()>& render) {
    if (path.empty()) return;
    try {
      write_file_atomic(path, render());
    } catch (const Error& e) {
      errors.emplace_back(e.what());
    } catch (const std::exception& e) {
      errors.push_back("cannot write " + path + ": " + e.what());
    }
  };
  one(json_path, [&] { return report_to_json(r, code).dump(2) + "\n"; });
  one(prom_path, [&] { return render_prometheus(r, code, prom); });
  one(junit_path, [&] { return render_junit(r, code); });
  one(html_path, [&] { return render_html(r, code); });
  return errors;
}

void check_output_paths(const std::vector<std::pair<std::string, std::string>>& flag_paths,
                        bool check_writable) {
  std::map<std::string, std::string> seen;  // identity -> flag
  for (const auto& [flag, path] : flag_paths) {
    if (path.empty()) continue;
    if (check_writable) (void)check_output_path(path);
    auto [it, added] = seen.emplace(output_identity(path), flag);
    if (!added)
      throw UsageError(flag + " and " + it->second + " both write to " + path +
                       ": give each output its own path");
  }
}

}  // namespace ncd::report
