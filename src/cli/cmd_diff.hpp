// SPDX-License-Identifier: Apache-2.0
#pragma once
/// Offline commands on saved JSON reports: `diff OLD NEW` (what changed, exit by the worst
/// change) and `show REPORT` (re-render a saved report as text, Prometheus, JUnit or HTML).
#include <string>
#include <vector>

#include "cli/context.hpp"

namespace ncd::cli {

struct DiffOptions {
  std::string old_path;
  std::string new_path;
  /// Compare the rows both reports share even when their shapes (ranks, hosts, GPUs, backend)
  /// differ; without it such a diff exits 3 naming the differences.
  bool shared_rows = false;
};

/// What makes two reports incomparable: "ranks 2 vs 4", "hosts a vs a,b", "GPUs 0 vs 8",
/// "backend mpi vs nccl". Empty when they have the same shape.
[[nodiscard]] std::vector<std::string> shape_differences(const report::Report& a, const report::Report& b);
/// `nccl-doctor diff OLD.json NEW.json`.
int run_diff(const DiffOptions& opts, Context& ctx);

struct ShowOptions {
  std::string path;
};
/// `nccl-doctor show REPORT.json`: the saved report rendered again; exits by its findings.
int run_show(const ShowOptions& opts, Context& ctx);

}  // namespace ncd::cli
