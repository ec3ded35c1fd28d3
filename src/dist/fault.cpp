// SPDX-License-Identifier: Apache-2.0
#include "dist/fault.hpp"

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <map>
#include <string>

#include "core/text.hpp"

namespace ncd::dist {

void fault_point(std::string_view step, int rank) {
  static const char* spec = std::getenv("NCD_TEST_FAULT");
  if (!spec || !*spec) return;
  auto parts = split(spec, ':');
  if (parts.size() != 3 || parts[0] != std::to_string(rank)) return;
  // STEP or STEP@N: the N-th arrival at STEP (1 = the first), so a fault can land mid-run.
  std::string_view want = parts[1];
  long nth = 1;
  if (auto at = want.find('@'); at != std::string_view::npos) {
    nth = std::atol(std::string(want.substr(at + 1)).c_str());
    want = want.substr(0, at);
  }
  if (want != step) return;
  static std::map<std::string, long, std::less<>> arrivals;
  if (++arrivals[std::string(step)] != nth) return;
  // The test measures fault-to-report time from this stamp (CLOCK_REALTIME, seconds).
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  std::fprintf(stderr, "ncd-test-fault: rank %d %s at %s arrival %ld, t=%ld.%09ld\n", rank, std::string(parts[2]).c_str(),
               std::string(step).c_str(), nth, static_cast<long>(ts.tv_sec), ts.tv_nsec);
  std::fflush(stderr);
  if (parts[2] == "kill") ::raise(SIGKILL);
  if (parts[2] == "stop") ::raise(SIGSTOP);
  if (parts[2] == "hang") ::sleep(3600);
}

}  // namespace ncd::dist
