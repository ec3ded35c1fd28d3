// SPDX-License-Identifier: Apache-2.0
#pragma once
/// Prometheus text exposition (version 0.0.4) of a report, for node_exporter's textfile
/// collector. Every metric is named nccl_doctor_*, in base units (bytes per second, seconds),
/// with bounded label sets; see docs/report-schema.md for the list and the cardinality.
#include <map>
#include <string>
#include <string_view>

#include "report/report.hpp"

namespace ncd::report {

struct PromOptions {
  /// Also the per host-pair link series (src, dst, class: N^2 for N hosts). Default: per host
  /// and link class only (min, median, counts).
  bool link_matrix = false;
};

/// The whole textfile: HELP and TYPE for every family, then its samples; no timestamps (the
/// textfile collector rejects them); label values escaped; one sample per label set.
[[nodiscard]] std::string render_prometheus(const Report& r, int exit_code, const PromOptions& o = {});

/// The same series split into one textfile per host (`--prom-dir`): a host's file holds the
/// series measured on it (its collective rows, GPU copies, its links); `root_host`'s file also
/// holds the job-wide series (verdict, findings, checks, the job's collectives, each host's
/// verdict), so a host that could not be reached is still judged. Every series is in exactly
/// one file; their union is render_prometheus's. Keys: host names; root_host is always present.
[[nodiscard]] std::map<std::string, std::string> render_prometheus_per_host(const Report& r, int exit_code,
                                                                          const PromOptions& o,
                                                                          const std::string& root_host);

/// The file name of a host's textfile in a --prom-dir: `nccl-doctor-<host>.prom`, the host
/// name reduced to [A-Za-z0-9._-] (anything else becomes '_').
[[nodiscard]] std::string prom_dir_file_name(std::string_view host);

/// A label value escaped for the exposition format (backslash, double quote, newline).
[[nodiscard]] std::string prom_escape_label(std::string_view value);

}  // namespace ncd::report
