// SPDX-License-Identifier: Apache-2.0
#include "dist/fault.hpp"

#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "core/text.hpp"

namespace ncd::dist {

void fault_point(std::string_view step, int rank) {
  static const char* spec = std::getenv("NCD_TEST_FAULT");
  if (!spec || !*spec) return;
  auto parts = split(spec, ':');
  if (parts.size() != 3 || parts[1] != step || parts[0] != std::to_string(rank)) return;
  if (parts[2] == "kill") ::raise(SIGKILL);
  if (parts[2] == "stop") ::raise(SIGSTOP);
  if (parts[2] == "hang") ::sleep(3600);
}

}  // namespace ncd::dist
