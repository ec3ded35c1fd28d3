// SPDX-License-Identifier: Apache-2.0
#pragma once
/// The finding catalogue: every id the tool can report, with its documentation.
/// Ids are a contract: add, never rename. Each domain registers its ids in its own file with
/// NCD_REGISTER_CHECK, next to the code that detects them.
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/finding.hpp"

namespace ncd {

/// What a check needs to be able to look at anything: a bitset of these (ARCHITECTURE §2).
/// A run records, per need, whether it had it; a check whose need is missing is *not
/// applicable* when the machine has no such part (no GPU: no NVLink check) and *could not run*
/// otherwise (one rank, no NVML, a stage skipped for time).
using Needs = std::uint32_t;
namespace need {
inline constexpr Needs kNone = 0;
inline constexpr Needs kGpu = 1u << 0;          ///< at least one GPU
inline constexpr Needs kNic = 1u << 1;          ///< at least one NIC (RDMA or Ethernet) in the topology
inline constexpr Needs kMultiRank = 1u << 2;    ///< two or more ranks (run under mpirun or srun)
inline constexpr Needs kNcclBackend = 1u << 3;  ///< a build with NCCL and GPUs to run it on
inline constexpr Needs kSysfs = 1u << 4;        ///< a live /sys (or --sysfs-root) with PCIe link state
inline constexpr Needs kNvml = 1u << 5;         ///< NVML (live NVLink state)
inline constexpr Needs kGraphDump = 1u << 6;    ///< NCCL's topology and graph dumps
inline constexpr Needs kLog = 1u << 7;          ///< an NCCL debug log
inline constexpr Needs kMultiNode = 1u << 8;    ///< two or more nodes (cross-node comparisons)
inline constexpr Needs kBaseline = 1u << 9;     ///< a baseline report (--baseline, diff)
inline constexpr Needs kExpectation = 1u << 10; ///< an expected value (NCCL's model or a flag)
inline constexpr Needs kAll = (1u << 11) - 1;
/// Placeholder: the entry takes its needs from the central table (default_needs).
inline constexpr Needs kFromTable = 1u << 31;
}  // namespace need
/// "gpu,nic" for a bitset (docs, JSON).
[[nodiscard]] std::string needs_to_string(Needs n);
/// The needs of an id registered without them: the table in catalogue.cpp, by id, then by
/// its domain.
[[nodiscard]] Needs default_needs(std::string_view id, std::string_view domain);

/// Documentation of one finding id.
struct CheckInfo {
  std::string id;          ///< "area.name"
  Severity severity;       ///< default severity
  std::string domain;      ///< "env", "topo", "bench", "links", "rings", "log"
  std::string title;       ///< one line
  std::string meaning;     ///< what it means for the user
  std::string detection;   ///< how it is detected, from which inputs
  std::string hint;        ///< the usual fix
  Needs needs = need::kFromTable;  ///< what it needs (need::k*); default: the central table
};

/// What happened to one check in one run (ARCHITECTURE §2, report `checks[]`).
enum class CheckStatus { kEvaluated, kNotApplicable, kCouldNotRun, kExcluded };
[[nodiscard]] std::string_view to_string(CheckStatus s);
[[nodiscard]] CheckStatus parse_check_status(std::string_view s);

struct CheckOutcome {
  std::string id;
  CheckStatus status = CheckStatus::kEvaluated;
  int subjects = 0;    ///< parts looked at (GPUs, NICs, ranks, hosts, files); evaluated only
  std::string reason;  ///< why not evaluated ("no GPU", "one rank: run under mpirun or srun")
};

/// What a run had, for deciding each check's outcome (pure input of record_outcomes).
struct RunFacts {
  /// The state of one domain ("topo", "bench", ...) in this run: a stage that ran, one that
  /// was not applicable, skipped (could not run) or excluded by the user.
  struct Domain {
    CheckStatus status = CheckStatus::kEvaluated;  ///< kEvaluated = ran
    std::string reason;
  };
  std::map<std::string, Domain> domains;  ///< domains of this command; others are left out
  /// Per missing need bit: the reason, and whether the machine simply has no such part
  /// (not applicable) rather than the run failing to get it (could not run).
  struct Missing {
    std::string reason;
    bool not_applicable = false;
  };
  std::map<Needs, Missing> missing;  ///< need bit -> why it is absent; absent bits are present
  /// Subjects a need covers (GPUs, NICs, ranks, hosts); "hosts" is the fallback.
  int gpus = 0, nics = 0, ranks = 1, hosts = 1;
  /// Per-check results known better by the code that ran it (e.g. bench.busbw_low: no model
  /// for this GPU); they win over the derived outcome.
  std::map<std::string, CheckOutcome> overrides;
  /// Ids that produced a finding: evaluated, whatever else says.
  std::set<std::string> raised;
};

/// One outcome per catalogue check of the run's domains, sorted by id.
[[nodiscard]] std::vector<CheckOutcome> record_outcomes(const RunFacts& facts);

/// Registry of CheckInfo by id. Filled at static-initialisation time.
class Catalogue {
 public:
  static Catalogue& instance();
  /// Registers `info`; a duplicate id is a programming error and aborts.
  void add(CheckInfo info);
  [[nodiscard]] const CheckInfo* find(std::string_view id) const;
  /// All entries sorted by id.
  [[nodiscard]] std::vector<const CheckInfo*> all() const;

 private:
  std::map<std::string, CheckInfo, std::less<>> entries_;
};

namespace detail {
struct CheckRegistrar {
  explicit CheckRegistrar(CheckInfo info) { Catalogue::instance().add(std::move(info)); }
};
}  // namespace detail

}  // namespace ncd

#define NCD_CAT2_(a, b) a##b
#define NCD_CAT_(a, b) NCD_CAT2_(a, b)
/// Registers a catalogue entry: NCD_REGISTER_CHECK({"id", Severity::kWarn, "domain", ...});
#define NCD_REGISTER_CHECK(...)                                            \
  static const ::ncd::detail::CheckRegistrar NCD_CAT_(ncd_check_, __LINE__) { \
    ::ncd::CheckInfo __VA_ARGS__                                           \
  }
