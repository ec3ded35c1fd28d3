// SPDX-License-Identifier: Apache-2.0
#pragma once
/// Prometheus text exposition (version 0.0.4) of a report, for node_exporter's textfile
/// collector. Every metric is named nccl_doctor_*; see docs/report-schema.md for the list.
#include <string>
#include <string_view>

#include "report/report.hpp"

namespace ncd::report {

/// The whole textfile: HELP and TYPE for every family, then its samples; no timestamps (the
/// textfile collector rejects them); label values escaped; one sample per label set.
[[nodiscard]] std::string render_prometheus(const Report& r, int exit_code);
/// A label value escaped for the exposition format (backslash, double quote, newline).
[[nodiscard]] std::string prom_escape_label(std::string_view value);

}  // namespace ncd::report
