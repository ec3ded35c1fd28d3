// SPDX-License-Identifier: Apache-2.0
#pragma once
/// The run model: what one run of a command found and measured, as typed records below the
/// checks and the renderers (layer `model`, docs/developing.md). Renderers (text, JSON,
/// Prometheus, JUnit, HTML) read it; `diff` and `--baseline` read it back from JSON.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/catalogue.hpp"
#include "core/finding.hpp"

namespace ncd::model {

inline constexpr const char* kSchema = "nccl-doctor/report/v2";
/// Older schema still read back (baselines saved before checks[] and stages existed).
inline constexpr const char* kSchemaV1 = "nccl-doctor/report/v1";

/// One collective measurement (a row of nccl-tests output), ARCHITECTURE §7.
struct CollectiveResult {
  std::string op;       ///< allreduce, allgather, reducescatter, broadcast, reduce, alltoall, sendrecv
  std::string algo;     ///< ring, tree or native (the backend's own choice)
  std::string backend;  ///< mpi or nccl
  std::string dtype;    ///< float32, ...
  std::string redop;    ///< sum, ... or "none"
  int root = -1;
  std::uint64_t bytes = 0;
  std::uint64_t count = 0;
  double time_us = 0;     ///< median over iterations
  double time_min_us = 0;
  double time_max_us = 0;
  double spread = 0;      ///< (p90 - p10) / median of per-iteration times
  /// (p75 - p25) / median: how much the bulk of the iterations varies (one or two slow
  /// iterations move `spread`, not this). -1 when unknown (reports written before it).
  double spread_iqr = -1;
  int iters = 0;
  double algbw_gbps = 0;
  double busbw_gbps = 0;
  /// nccl-tests' statistic beside ours: each rank's mean time per iteration (its timed loop's
  /// total / iters), averaged over the ranks (nccl-tests' default -a 1), and the bandwidths
  /// from it. 0 when not measured (JSON null).
  double nccltests_avg_time_us = 0;
  double nccltests_algbw_gbps = 0;
  double nccltests_busbw_gbps = 0;
  std::int64_t wrong = -1;  ///< -1 when not checked (JSON null); 0 checked and correct
  int nranks = 0;
  std::string host;        ///< set when the measurement belongs to one host (GPU copies)
  /// What NCCL's model gives for this row (GB/s busbw); absent when there is no model for it.
  std::optional<double> expected_busbw_gbps;
  std::string expected_from;  ///< where the expectation comes from ("NCCL 2.28 model: ...")
};

/// One directed link measurement between two ranks (ARCHITECTURE §7).
struct LinkResult {
  std::string src_host;
  std::string dst_host;
  int src_rank = 0;
  int dst_rank = 0;
  std::uint64_t bytes = 0;
  double gbps = 0;        ///< 0 when the pair did not answer
  double latency_us = 0;  ///< small-message one-way latency
  std::string cls;        ///< link class: "net", "shm", "nvlink", "pcie", ...
  bool ok = true;         ///< false: the pair did not finish within its deadline
};

/// One host of the job.
struct HostEntry {
  std::string name;
  std::vector<int> ranks;
  std::string fingerprint;
  nlohmann::json topology;  ///< the host's topology model (null when not probed)
};

/// Everything one command run produced.
struct Report {
  std::string command;
  std::vector<std::string> args;
  double started_unix = 0;
  double duration_s = 0;
  std::vector<HostEntry> hosts;
  std::vector<CollectiveResult> collectives;
  std::vector<LinkResult> links;
  /// Command-specific structured data ("env", "topology", "rings", "log", "copies", ...).
  nlohmann::json sections = nlohmann::json::object();
  std::vector<Finding> findings;
  std::vector<std::string> notes;  ///< plain remarks: skipped stages, "no GPU", ...
  bool incomplete = false;         ///< the command could not finish (exit 3 without a finding)
  std::string incomplete_reason;
  /// Per check of this command: evaluated / not applicable / could not run (ARCHITECTURE §2).
  /// Empty: the command did not record outcomes (an old report read back).
  std::vector<CheckOutcome> checks;
  /// What to do to measure what was not measured ("run under mpirun or srun ..."), one line each.
  std::vector<std::string> to_measure;
};

/// One stage of a sweep as its report holds it (`sections.stages[]`): the typed view the
/// renderers read.
struct StageRecord {
  std::string name;    ///< env, topo, bench, links, rings
  std::string status;  ///< ran, skipped, not_applicable, excluded
  std::optional<double> budget_s;
  std::optional<double> elapsed_s;
  std::string note;    ///< "" when absent
  std::string reason;  ///< why it did not run; "" when absent
};
/// `sections.stages` of a report (a sweep's), read leniently: an entry that is not an object is
/// left out, a field of another type reads as absent. nullopt when the report has no stages
/// (another command).
[[nodiscard]] std::optional<std::vector<StageRecord>> stages_of(const Report& r);

/// `sections.links.classes`: per link class ("net", "shm", ...), the typical bandwidth and the
/// slow threshold the links checks judged with. Only classes with a typical bandwidth; empty
/// when the report has none.
struct LinkClassRecord {
  double median_gbps = 0;
  double slow_below_gbps = 0;
};
[[nodiscard]] std::map<std::string, LinkClassRecord> link_classes_of(const Report& r);

/// `sections.diff` (the `diff` command): the two reports compared and each change.
struct DiffRecord {
  std::string old_file, new_file;
  struct Change {
    bool worse = false;
    std::string kind, subject, text;
  };
  std::vector<Change> changes;
};
[[nodiscard]] std::optional<DiffRecord> diff_of(const Report& r);

/// `sections.baseline.collectives` (--baseline): the baseline's rows; empty when absent or of
/// another shape.
[[nodiscard]] std::vector<CollectiveResult> baseline_rows_of(const Report& r);

/// Marks the report incomplete when a check could not run or a planned stage was skipped
/// (sections.stages status "skipped"), naming them in incomplete_reason. Idempotent.
void apply_outcomes(Report& r);
/// Outcomes of a command that did not record its own, from what its report holds (`topo`:
/// the hosts' topologies say whether there were GPUs, NICs, NVML). Empty for other commands.
[[nodiscard]] std::vector<CheckOutcome> derived_outcomes(const Report& r);
/// "bench (one rank ...), links (...)": the planned stages that did not run.
[[nodiscard]] std::vector<std::string> unmeasured_stages(const Report& r);

enum class FailOn { kWarn, kError };

/// 0 healthy, 1 warnings, 2 errors, 3 could not complete (ARCHITECTURE §7). With
/// FailOn::kError warnings map to 0. An incomplete run exits 3 unless it found an error (2).
[[nodiscard]] int exit_code(const Report& r, FailOn fail_on);

void to_json(nlohmann::json& j, const CollectiveResult& c);
void from_json(const nlohmann::json& j, CollectiveResult& c);
void to_json(nlohmann::json& j, const LinkResult& l);
void from_json(const nlohmann::json& j, LinkResult& l);

/// The whole report as JSON (schema nccl-doctor/report/v2), with summary.exit_code.
[[nodiscard]] nlohmann::json report_to_json(const Report& r, int exit_code);
/// Reads a report written by report_to_json. Throws InputError naming `source` when the text
/// is not JSON or not of this schema.
[[nodiscard]] Report report_from_json(const std::string& text, const std::string& source);
/// Reads a report file (or FIFO, device) as a stream, within the input deadline and at most
/// kMaxReportBytes: the rows of measurements, findings and hosts become typed records as they
/// are parsed, so memory stays a small multiple of the file (not the 8x of a JSON tree).
/// Throws InputError naming `path`.
[[nodiscard]] Report read_report(const std::string& path);

}  // namespace ncd::model
