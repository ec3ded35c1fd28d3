// SPDX-License-Identifier: Apache-2.0
#pragma once
/// Offline commands on saved JSON reports: `diff OLD NEW` (what changed, exit by the worst
/// change) and `show REPORT` (re-render a saved report as text, Prometheus, JUnit or HTML).
#include <string>

#include "cli/context.hpp"

namespace ncd::cli {

struct DiffOptions {
  std::string old_path;
  std::string new_path;
};
/// `nccl-doctor diff OLD.json NEW.json`.
int run_diff(const DiffOptions& opts, Context& ctx);

struct ShowOptions {
  std::string path;
};
/// `nccl-doctor show REPORT.json`: the saved report rendered again; exits by its findings.
int run_show(const ShowOptions& opts, Context& ctx);

}  // namespace ncd::cli
