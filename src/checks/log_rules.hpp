// SPDX-License-Identifier: Apache-2.0
#pragma once
/// Post-mortem of NCCL debug logs: the rules that turn the run model (nccl/log_ingest.hpp)
/// into findings with the ids of corpus/logs/TAXONOMY.md, root cause first, one file per
/// family of failures (log_rules_*.cpp).
#include <string>
#include <vector>

#include "core/finding.hpp"
#include "nccl/log_ingest.hpp"
#include "nccl/log_model.hpp"

namespace ncd::checks {

/// The result of the analysis.
struct Diagnosis {
  std::vector<Finding> findings;  ///< the root cause first, then consequences and context
  std::string root;               ///< the root-cause id; "" when nothing is wrong
  std::string verdict;            ///< one paragraph for people
};

/// Pure: from the run model to findings.
[[nodiscard]] Diagnosis analyze(const nccl::RunLog& log);

/// Reads `paths` into one run model. Throws InputError naming them when an input is
/// unreadable or holds no NCCL information.
[[nodiscard]] nccl::RunLog read_logs(const std::vector<std::string>& paths);

/// Reads `paths` and analyses them (the `log` command without the rendering). Throws
/// InputError when an input is unreadable or holds no NCCL information.
[[nodiscard]] Diagnosis analyze_files(const std::vector<std::string>& paths, nccl::RunLog* model = nullptr);

}  // namespace ncd::checks
