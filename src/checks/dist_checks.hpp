// SPDX-License-Identifier: Apache-2.0
#pragma once
/// Findings about the job itself: ranks that did not answer a distributed step in time.
#include <string>
#include <vector>

#include "core/finding.hpp"
#include "dist/comm.hpp"

namespace ncd::checks {

/// bench.timeout naming the ranks (and their hosts) that did not finish `step`.
[[nodiscard]] Finding timeout_finding(const std::string& step, const std::vector<int>& missing,
                                      const dist::NodeMap& nodes, double timeout_s);

}  // namespace ncd::checks
