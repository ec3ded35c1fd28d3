// SPDX-License-Identifier: Apache-2.0
#pragma once
/// Findings about the job itself: ranks that did not answer a distributed step in time.
#include <string>
#include <vector>

#include "core/finding.hpp"
#include "checks/registry.hpp"
#include "collectives/bench.hpp"
#include "dist/comm.hpp"

namespace ncd::checks {

/// bench.timeout naming the ranks (and their hosts) that did not finish `step`.
[[nodiscard]] Finding timeout_finding(const std::string& step, const std::vector<int>& missing,
                                      const dist::NodeMap& nodes, double timeout_s);

/// The step a bench run left unanswered: the ranks that never answered it, else those whose
/// collective expired waiting for peers that never sent. Empty when all answered.
[[nodiscard]] std::vector<Unanswered> bench_unanswered(const collectives::BenchOutcome& o);

}  // namespace ncd::checks
