// SPDX-License-Identifier: Apache-2.0
#pragma once
/// `nccl-doctor sweep`: the one-command health check. env -> topo -> bench -> links -> rings
/// under one deadline, one report. Stages whose inputs are missing (no GPU, one rank) are
/// skipped with a note, never an error.
#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "cli/context.hpp"

namespace ncd::cli {

struct SweepOptions {
  bool quick = false;    ///< pre-flight budget: under a minute on an 8-GPU node
  bool full = false;     ///< pairwise links and the full size range
  std::string baseline;  ///< compare with this report (bench.regression, link.regression, topo.changed)
  std::string save;      ///< write the JSON report here (a baseline for later runs)
  bool save_allow_warnings = false;  ///< --save keeps a run with warnings (never an incomplete or error run)
  std::string skip;      ///< --skip: stages excluded by the user (comma list)
  std::string only;      ///< --only: the stages to run (comma list; env always runs)
};

/// The stages --skip/--only exclude, validated (UsageError for an unknown stage or both given).
[[nodiscard]] std::vector<std::string> excluded_stages(const std::string& skip, const std::string& only);
/// Why --save refuses this report ("" when it may be saved): an incomplete run or errors
/// always, warnings without allow_warnings.
[[nodiscard]] std::string save_refusal(const report::Report& r, int exit_code, bool allow_warnings);

/// What the plan depends on: facts known on rank 0 once every rank reported (env stage).
struct SweepFacts {
  std::vector<std::string> excluded;  ///< stages the user excluded (--skip/--only)
  int nranks = 1;
  int nnodes = 1;
  int min_gpus = 0;       ///< fewest visible GPUs on any rank
  bool nccl_build = false;
  bool quick = false;
  bool full = false;
  double time_left_s = 300;  ///< of the sweep's deadline when the plan is made
};

/// One stage of the plan.
struct SweepStage {
  std::string name;       ///< env, topo, bench, links, rings
  bool run = true;
  double budget_s = 0;    ///< the time the plan gives it
  std::string what;       ///< what it will measure, one line
  std::string skip_note;  ///< why it does not run
  /// Why it does not run, as a class: "not_applicable" (no GPU, no NCCL), "excluded" (--skip),
  /// "too_few_ranks", "deadline", "failure". Empty when it runs.
  std::string skip_cause = "";
};

/// The plan: the stages and the parameters their budgets were computed from. Rank 0 makes
/// it and broadcasts it, so every rank takes part in the same steps.
struct SweepPlan {
  std::vector<SweepStage> stages;
  std::string backend;                  ///< "nccl" or "mpi": the bench and links backend
  std::vector<std::size_t> bench_sizes;
  int bench_iters = 5;
  int bench_warmup = 2;
  bool copies = false;                  ///< GPU copy bandwidth
  std::size_t copy_bytes = 0;
  std::string links_mode = "ring";      ///< ring (default) or pairwise (--full)
  std::size_t links_bytes = 0;
  [[nodiscard]] double total_budget_s() const;
  [[nodiscard]] const SweepStage* stage(const std::string& name) const;
};
void to_json(nlohmann::json& j, const SweepPlan& p);
void from_json(const nlohmann::json& j, SweepPlan& p);

/// The plan for `facts` (pure; unit-tested): sizes, iterations and per-stage budgets.
/// --quick fits 60 s on an 8-GPU node and well under 2 minutes with 4 host ranks on 2 cores.
[[nodiscard]] SweepPlan plan_sweep(const SweepFacts& facts);

/// `nccl-doctor sweep [--quick] [--full] [--baseline F] [--save F]`.
int run_sweep(const SweepOptions& opts, Context& ctx);

}  // namespace ncd::cli
