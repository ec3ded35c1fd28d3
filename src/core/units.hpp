// SPDX-License-Identifier: Apache-2.0
#pragma once
/// Sizes, numbers and their text forms, parsed strictly (a bad value is a UsageError).
#include <cstdint>
#include <string>
#include <string_view>

namespace ncd {

/// Parses a byte count: "8", "1K", "16M", "2G", "64MiB", "1.5G" (K/M/G/T are powers of 1024,
/// as in nccl-tests). Throws UsageError naming `what` on anything else or on overflow.
[[nodiscard]] std::uint64_t parse_size(std::string_view text, std::string_view what = "size");
/// Formats a byte count the way nccl-tests users read it: "1K", "64M", "1.5G", "12345".
[[nodiscard]] std::string format_size(std::uint64_t bytes);
/// Parses a finite double; throws UsageError naming `what` otherwise.
[[nodiscard]] double parse_double(std::string_view text, std::string_view what);
/// Parses a non-negative integer that fits in int64; throws UsageError otherwise.
[[nodiscard]] std::int64_t parse_int(std::string_view text, std::string_view what);
/// Bytes per second to GB/s (10^9, as nccl-tests).
[[nodiscard]] inline double to_gbps(double bytes, double seconds) {
  return seconds > 0 ? bytes / seconds / 1e9 : 0.0;
}

}  // namespace ncd
