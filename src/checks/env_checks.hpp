// SPDX-License-Identifier: Apache-2.0
#pragma once
/// `env`: what each rank runs with, and the checks across ranks (version.mismatch,
/// env.mismatch, env.risky).
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/finding.hpp"
#include "probe/versions.hpp"

namespace ncd::checks {

/// One rank's environment as reported to rank 0.
struct RankEnv {
  int rank = 0;
  std::string host;
  probe::Versions versions;
  /// NCCL_*, CUDA_VISIBLE_DEVICES, UCX_*, OMPI_MCA_* (minus launcher-internal per-rank ones).
  std::map<std::string, std::string> vars;
};

void to_json(nlohmann::json& j, const RankEnv& e);
void from_json(const nlohmann::json& j, RankEnv& e);

/// Picks the variables `env` reports from a process environment (`environ` style).
[[nodiscard]] std::map<std::string, std::string> relevant_vars(char** envp);

/// One entry of the table of settings known to cost bandwidth or correctness.
struct RiskyRule {
  std::string var;
  std::string value;   ///< matched case-insensitively; "*" means any value
  std::string why;     ///< what it costs
  std::string fix;     ///< what to do
  std::string source;  ///< where the effect is documented
};
/// The table (one place, each entry sourced).
[[nodiscard]] const std::vector<RiskyRule>& risky_rules();

/// Compares the ranks: version.mismatch, env.mismatch, env.risky. Ranks missing from the
/// vector (timeouts) are the caller's business.
[[nodiscard]] std::vector<Finding> check_env(const std::vector<RankEnv>& ranks);

}  // namespace ncd::checks
