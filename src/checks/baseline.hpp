// SPDX-License-Identifier: Apache-2.0
#pragma once
/// Comparison of two reports (pure): what got worse or better between a baseline and a new run.
/// Powers `nccl-doctor diff OLD NEW` and `--baseline F` (bench.regression, link.regression,
/// topo.changed).
#include <string>
#include <vector>

#include "core/finding.hpp"
#include "model/report.hpp"

namespace ncd::checks {

/// Thresholds of the comparison, each a fraction of the baseline value.
struct CompareOptions {
  /// A busbw/copy drop counts only when it exceeds the larger of this and the measured
  /// iteration spread of either run (the spread is what the noise of the measurement is).
  double min_bw_tolerance = 0.05;
  /// Links carry no per-iteration spread, so a fixed tolerance: a link regressed when it lost
  /// more than this fraction of its baseline bandwidth.
  double link_tolerance = 0.20;
  /// busbw regressions are judged on messages at least this large (small messages are
  /// latency-bound and too noisy to call a regression on).
  std::uint64_t min_bytes = std::uint64_t{1} << 20;
};

/// One difference between two reports. `worse` changes make `diff` fail; the others are shown.
struct Change {
  enum class Kind { kFindingAdded, kFindingRemoved, kBandwidth, kLink, kTopology, kHost };
  Kind kind = Kind::kBandwidth;
  bool worse = false;
  std::string subject;  ///< what changed: "allreduce ring mpi 64M", "node1:0->node2:1", "node3"
  std::string text;     ///< one line: "12.1 -> 8.0 GB/s (-34%, tolerance 5%)"
};

/// Everything `diff` reports: the changes and, for the worse ones, findings carrying the
/// catalogue ids (bench.regression, link.regression, topo.changed) plus the findings that are
/// new in NEW (copied with their own id and severity, the message prefixed "new: ").
struct Comparison {
  std::vector<Change> changes;
  std::vector<Finding> findings;
  [[nodiscard]] bool any_worse() const;
};

/// Compares a baseline (`old_r`) with a new report. Keys: findings by (id, host, subject);
/// collectives by (op, algo, backend, dtype, bytes, host, nranks); links by (src host/rank,
/// dst host/rank); topology by host name and fingerprint.
[[nodiscard]] Comparison compare_reports(const model::Report& old_r, const model::Report& new_r,
                                         const CompareOptions& opts = {});

/// The findings `--baseline F` adds to a run: bench.regression, link.regression,
/// topo.changed (only the measurement and topology comparison; findings that are new are
/// already in the run's own findings).
[[nodiscard]] std::vector<Finding> baseline_findings(const model::Report& baseline,
                                                     const model::Report& current,
                                                     const CompareOptions& opts = {});

/// True for collective rows that are copy-bandwidth measurements (host<->device, device<->device)
/// rather than collectives.
[[nodiscard]] bool is_copy_row(const model::CollectiveResult& c);

/// One GPU copy-bandwidth measurement, whichever way the report holds it: a collectives row
/// with a copy op, or an entry of sections.copies (bench --copy: kind, src, dst, bus_id,
/// bytes, gbps, expected_gbps, expected_from, host).
struct CopyMeasurement {
  model::CollectiveResult row;  ///< op = h2d|d2h|d2d, algo = "GPU0" or "GPU0->GPU1", host set
  double expected_gbps = 0;      ///< 0 when unknown
  std::string expected_from;
};
[[nodiscard]] std::vector<CopyMeasurement> copy_measurements(const model::Report& r);

}  // namespace ncd::checks
