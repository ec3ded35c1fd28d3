// SPDX-License-Identifier: Apache-2.0
#pragma once
/// Fault injection for the distributed-fault tests: NCD_TEST_FAULT="RANK:STEP:ACTION" makes
/// rank RANK kill itself (kill = SIGKILL), stop itself (stop = SIGSTOP) or sleep an hour
/// (hang) when it reaches STEP ("gather", "bench", "links", ...); "STEP@N" fires at the N-th
/// arrival. The rank prints "ncd-test-fault: ... t=<epoch s>" to stderr first, so tests can
/// time fault to report. Unset in normal runs.
#include <string_view>

namespace ncd::dist {

/// Called by distributed steps at their named fault points; does nothing unless the
/// environment asks for a fault at this rank and step.
void fault_point(std::string_view step, int rank);

}  // namespace ncd::dist
