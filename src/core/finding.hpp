// SPDX-License-Identifier: Apache-2.0
#pragma once
/// A finding: one thing wrong (or worth knowing) about the system, with its evidence.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace ncd {

enum class Severity { kInfo = 0, kWarn = 1, kError = 2 };

[[nodiscard]] std::string_view to_string(Severity s);
/// Parses "info", "warn"/"warning", "error"; throws UsageError otherwise.
[[nodiscard]] Severity parse_severity(std::string_view s);

/// One finding. `id` is a stable catalogue id (e.g. "pcie.link_degraded"); the catalogue holds
/// its documentation. `subject` names the part at fault ("GPU3 0000:1b:00.0", "mlx5_2/1",
/// "node1<->node3"). `evidence` holds measured values or quoted log lines.
struct Finding {
  std::string id;
  Severity severity = Severity::kWarn;
  std::string host;
  std::string subject;
  std::string message;
  std::vector<std::string> evidence;
  std::optional<double> expected;
  std::optional<double> measured;
  std::string unit;  ///< unit of expected/measured, e.g. "GB/s"
  std::string hint;
};

/// Makes a finding with the catalogue's default severity and hint for `id`.
/// The id must be registered (checked in debug builds and by the catalogue tests).
[[nodiscard]] Finding make_finding(std::string_view id, std::string host, std::string subject,
                                   std::string message);

void to_json(nlohmann::json& j, const Finding& f);
void from_json(const nlohmann::json& j, Finding& f);

/// Sorts findings: errors first, then warnings, then info; stable within a severity.
void sort_findings(std::vector<Finding>& findings);

}  // namespace ncd
