// SPDX-License-Identifier: Apache-2.0
#include "core/finding.hpp"

#include <algorithm>
#include <cassert>
#include <nlohmann/json.hpp>

#include "core/catalogue.hpp"
#include "core/error.hpp"

namespace ncd {

std::string_view to_string(Severity s) {
  switch (s) {
    case Severity::kInfo: return "info";
    case Severity::kWarn: return "warn";
    case Severity::kError: return "error";
  }
  return "info";
}

Severity parse_severity(std::string_view s) {
  if (s == "info") return Severity::kInfo;
  if (s == "warn" || s == "warning") return Severity::kWarn;
  if (s == "error") return Severity::kError;
  throw UsageError("unknown severity '" + std::string(s) + "' (expected info, warn or error)");
}

Finding make_finding(std::string_view id, std::string host, std::string subject,
                     std::string message) {
  Finding f;
  f.id = std::string(id);
  f.host = std::move(host);
  f.subject = std::move(subject);
  f.message = std::move(message);
  if (const CheckInfo* info = Catalogue::instance().find(id)) {
    f.severity = info->severity;
    f.hint = info->hint;
  } else {
    assert(false && "finding id not registered in the catalogue");
  }
  return f;
}

void to_json(nlohmann::json& j, const Finding& f) {
  j = nlohmann::json{{"id", f.id},           {"severity", to_string(f.severity)},
                     {"host", f.host},       {"subject", f.subject},
                     {"message", f.message}, {"evidence", f.evidence},
                     {"hint", f.hint}};
  j["expected"] = f.expected ? nlohmann::json(*f.expected) : nlohmann::json(nullptr);
  j["measured"] = f.measured ? nlohmann::json(*f.measured) : nlohmann::json(nullptr);
  if (!f.unit.empty()) j["unit"] = f.unit;
}

void from_json(const nlohmann::json& j, Finding& f) {
  f.id = j.at("id").get<std::string>();
  f.severity = parse_severity(j.at("severity").get<std::string>());
  f.host = j.value("host", "");
  f.subject = j.value("subject", "");
  f.message = j.value("message", "");
  f.evidence = j.value("evidence", std::vector<std::string>{});
  f.hint = j.value("hint", "");
  f.unit = j.value("unit", "");
  if (j.contains("expected") && j["expected"].is_number()) f.expected = j["expected"].get<double>();
  if (j.contains("measured") && j["measured"].is_number()) f.measured = j["measured"].get<double>();
}

void sort_findings(std::vector<Finding>& findings) {
  std::stable_sort(findings.begin(), findings.end(), [](const Finding& a, const Finding& b) {
    return static_cast<int>(a.severity) > static_cast<int>(b.severity);
  });
}

}  // namespace ncd
