// SPDX-License-Identifier: Apache-2.0
#include "core/time.hpp"

#include <ctime>

namespace ncd {

std::string format_utc(double unix_s, const char* fmt) {
  const std::time_t t = static_cast<std::time_t>(unix_s);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  const std::size_t n = std::strftime(buf, sizeof buf, fmt, &tm);
  return std::string(buf, n);
}

}  // namespace ncd
