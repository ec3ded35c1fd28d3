// SPDX-License-Identifier: Apache-2.0
#include "core/units.hpp"

#include <charconv>
#include <cmath>
#include <fmt/format.h>

#include "core/error.hpp"

namespace ncd {

std::uint64_t parse_size(std::string_view text, std::string_view what) {
  auto bad = [&](std::string_view why) {
    return UsageError(fmt::format("bad {} '{}': {}", what, text, why));
  };
  if (text.empty()) throw bad("empty");
  std::string_view num = text;
  double mult = 1;
  std::string_view suffix;
  std::size_t i = 0;
  while (i < num.size() && (std::isdigit(static_cast<unsigned char>(num[i])) || num[i] == '.')) ++i;
  suffix = num.substr(i);
  num = num.substr(0, i);
  if (num.empty()) throw bad("expected a number with an optional K, M, G or T suffix");
  std::string s(suffix);
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (s == "" || s == "B") mult = 1;
  else if (s == "K" || s == "KB" || s == "KIB") mult = 1024.0;
  else if (s == "M" || s == "MB" || s == "MIB") mult = 1024.0 * 1024;
  else if (s == "G" || s == "GB" || s == "GIB") mult = 1024.0 * 1024 * 1024;
  else if (s == "T" || s == "TB" || s == "TIB") mult = 1024.0 * 1024 * 1024 * 1024;
  else throw bad("unknown suffix '" + std::string(suffix) + "' (use K, M, G or T)");
  double v = 0;
  auto [p, ec] = std::from_chars(num.data(), num.data() + num.size(), v);
  if (ec != std::errc() || p != num.data() + num.size() || !std::isfinite(v))
    throw bad("not a number");
  double bytes = v * mult;
  if (bytes > 9.0e18) throw bad("too large");
  return static_cast<std::uint64_t>(std::llround(bytes));
}

std::string format_size(std::uint64_t bytes) {
  const char* units[] = {"", "K", "M", "G", "T"};
  int u = 0;
  double v = static_cast<double>(bytes);
  while (u < 4 && v >= 1024 && std::fmod(v, 1024) == 0) {
    v /= 1024;
    ++u;
  }
  if (u == 0 && bytes >= 1024 * 1024) {  // not a round multiple: keep one decimal
    u = 1;
    v = static_cast<double>(bytes) / 1024;
    while (u < 4 && v >= 1024) {
      v /= 1024;
      ++u;
    }
    return fmt::format("{:.1f}{}", v, units[u]);
  }
  return fmt::format("{}{}", static_cast<std::uint64_t>(v), units[u]);
}

double parse_double(std::string_view text, std::string_view what) {
  double v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || p != text.data() + text.size() || !std::isfinite(v))
    throw UsageError(fmt::format("bad {} '{}': expected a number", what, text));
  return v;
}

std::int64_t parse_int(std::string_view text, std::string_view what) {
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || p != text.data() + text.size() || v < 0)
    throw UsageError(fmt::format("bad {} '{}': expected a non-negative integer", what, text));
  return v;
}

}  // namespace ncd
