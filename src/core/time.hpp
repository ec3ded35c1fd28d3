// SPDX-License-Identifier: Apache-2.0
#pragma once
/// The one UTC time formatter (gmtime_r + strftime) every renderer and command uses.
#include <string>

namespace ncd {

/// "2026-12-02 07:56:02 UTC": report headers, diff lines.
inline constexpr const char* kUtcHuman = "%Y-%m-%d %H:%M:%S UTC";
/// "2026-12-02T07:56:02": ISO 8601 without zone (JUnit timestamp).
inline constexpr const char* kUtcIso8601 = "%Y-%m-%dT%H:%M:%S";
/// "07:56:02": progress lines.
inline constexpr const char* kUtcClock = "%H:%M:%S";

/// `unix_s` (seconds since the epoch, fraction dropped) in UTC, written with strftime's `fmt`.
/// Any value is formatted (0 is 1970-01-01); callers decide what an unknown time reads as.
[[nodiscard]] std::string format_utc(double unix_s, const char* fmt);

}  // namespace ncd
