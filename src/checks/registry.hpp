// SPDX-License-Identifier: Apache-2.0
#pragma once
/// The check registry: the one way a command runs checks (ARCHITECTURE §2).
///
/// A *family* is one function that evaluates a set of catalogue ids from one input (the
/// topology models, the collective rows, the link sweep, an NCCL log, ...). Each family
/// registers itself with NCD_REGISTER_FAMILY next to its code: its name, the catalogue domain
/// it runs in, the ids it evaluates, what input it reads and the function. A command gathers
/// what it measured into an Evidence and calls run_checks(domain, evidence): the registry runs
/// every family of that domain whose input is there, and records for each id whose families
/// all lacked their input "could not run: no <input>", so a check that had no input never
/// passes. Commands parse options, gather, call this and render; they hold no check logic.
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/catalogue.hpp"
#include "core/finding.hpp"
#include "checks/link_checks.hpp"
#include "checks/ring_checks.hpp"

namespace ncd::topo {
struct System;
}
namespace ncd::dist {
struct NodeMap;
}
namespace ncd::model {
struct Report;
}
namespace ncd::nccl {
struct RunLog;
}

namespace ncd::checks {

struct RankEnv;
struct TopoGroup;
struct BenchEvidence;
struct BenchThresholds;
struct BisectFindingsInput;

/// One node's NCCL graphs to inspect against its topology (paths computed), with the
/// transports of a log when there is one.
struct RingsInput {
  const topo::System* system = nullptr;
  const nccl::GraphFile* graphs = nullptr;
  const nccl::RunLog* log = nullptr;
  RingsOptions opts;
};

/// A distributed step that some ranks did not finish within its deadline.
struct Unanswered {
  std::string step;        ///< "probing the topology", "bench allreduce 16M ring"
  std::vector<int> ranks;  ///< the ranks that did not answer
  std::string suffix;      ///< appended to the message ("(they were waiting for peers ...)")
};

/// What a run gathered for its checks. Each input is null (or empty) when the run did not
/// gather it; the families that read it then do not run and their ids could not run.
struct Evidence {
  // env
  const std::vector<RankEnv>* env = nullptr;  ///< each rank's versions and settings
  // topo: one model per node, or (many nodes) one per distinct topology
  const std::vector<topo::System>* systems = nullptr;
  std::vector<TopoGroup>* groups = nullptr;
  /// One model per distinct topology with its fingerprint, for NCCL's predicted graphs
  /// (ring.predicted_degraded); `job_nodes` nodes in the job.
  const std::vector<std::pair<std::string, const topo::System*>>* predicted = nullptr;
  int job_nodes = 0;
  // bench
  const BenchEvidence* bench = nullptr;
  const BenchThresholds* bench_thresholds = nullptr;  ///< null: the defaults
  std::string bench_no_model;     ///< why NCCL's model gave no expectation ("" when it did)
  bool bench_data_check = true;   ///< false: the user turned the data check off (-c 0)
  std::string bench_failed_step;  ///< the step a bench stopped at, when it measured nothing
  const nlohmann::json* copies = nullptr;  ///< GPU copy rows (sections.copies)
  // links
  const LinkSweepData* links = nullptr;
  const LinkCheckOptions* link_opts = nullptr;  ///< null: the defaults
  const BisectFindingsInput* bisect = nullptr;
  // dist: steps some ranks did not finish (empty list: all answered)
  const std::vector<Unanswered>* unanswered = nullptr;
  const dist::NodeMap* nodes = nullptr;  ///< to name the hosts of unanswered ranks
  double timeout_s = 0;
  // rings: one entry per node whose graphs were dumped (several: they are compared)
  const std::vector<RingsInput>* rings = nullptr;
  // log: an NCCL debug log, read (nccl::LogIngest)
  const nccl::RunLog* log = nullptr;
  // baseline
  const model::Report* baseline = nullptr;  ///< the saved report to compare with
  const model::Report* current = nullptr;   ///< this run's report so far
};

/// What running a domain's checks gave.
struct CheckRun {
  std::vector<Finding> findings;
  std::vector<std::string> notes;
  /// Per id, an outcome its family knows better than the needs table (no model, data check off,
  /// nothing measured, no input).
  std::map<std::string, CheckOutcome> outcomes;
  std::vector<std::string> families_run;         ///< in the order they ran
  std::vector<std::string> families_no_input;    ///< registered for the domain, input absent
  /// Family-specific results a command renders beyond findings.
  std::optional<LinkAnalysis> links;              ///< links.sweep: classes, suspects
  std::vector<RingsAnalysis> rings;               ///< rings.graphs: one per RingsInput, same order
  std::vector<std::string> unmeasured_copies;     ///< bench.copies: rows without a value or expectation
  std::string root;     ///< log.rules: the root-cause id ("" when nothing is wrong)
  std::string verdict;  ///< log.rules: one paragraph for people
  /// Why what was gathered leaves the run INCOMPLETE though a family ran ("" when nothing
  /// does): a copy without a measurement, a damaged log.
  std::string incomplete;

  /// Appends another run (of another domain) to this one.
  void merge(CheckRun&& other);
  /// Its outcomes as overrides of `facts` (an override already there wins) and its findings'
  /// ids as raised.
  void add_to(RunFacts& facts) const;
  [[nodiscard]] bool ran(std::string_view family) const;
};

/// One family of checks.
struct CheckFamily {
  std::string name;              ///< "topo.hosts"
  std::string domain;            ///< the catalogue domain it runs in ("topo")
  /// Catalogue ids it evaluates: exact, a prefix ending in '.', or "*" for every id of its domain.
  std::vector<std::string> ids;
  std::string input;             ///< what it reads, for "could not run: no <input>"
  std::function<bool(const Evidence&)> has_input;
  std::function<void(const Evidence&, CheckRun&)> run;

  [[nodiscard]] bool covers(std::string_view id) const;
};

class Registry {
 public:
  static Registry& instance();
  /// Registers a family; a duplicate name is a programming error and aborts.
  void add(CheckFamily family);
  [[nodiscard]] std::vector<const CheckFamily*> families(std::string_view domain = {}) const;
  /// The families that evaluate `id` (a test asserts every catalogue id has one).
  [[nodiscard]] std::vector<const CheckFamily*> families_of(std::string_view id) const;

 private:
  std::vector<CheckFamily> families_;
};

/// Runs every family of `domain` whose input `ev` holds, in registration order of name.
/// Ids of the domain whose every family lacked its input get "could not run: no <input>".
[[nodiscard]] CheckRun run_checks(std::string_view domain, const Evidence& ev);

/// Runs one family when `ev` holds its input (a stage that gathers one family's input while
/// the rest of its domain comes later). Records nothing for an absent input: the domain's own
/// run, or its stage's status, says what happened to those ids.
[[nodiscard]] CheckRun run_family(std::string_view name, const Evidence& ev);

namespace detail {
struct FamilyRegistrar {
  explicit FamilyRegistrar(CheckFamily f) { Registry::instance().add(std::move(f)); }
};
}  // namespace detail

}  // namespace ncd::checks

/// Registers a check family: NCD_REGISTER_FAMILY({"topo.hosts", "topo", {"pcie.", ...}, ...});
#define NCD_REGISTER_FAMILY(...)                                                        \
  static const ::ncd::checks::detail::FamilyRegistrar NCD_CAT_(ncd_family_, __LINE__) { \
    ::ncd::checks::CheckFamily __VA_ARGS__                                              \
  }
