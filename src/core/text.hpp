// SPDX-License-Identifier: Apache-2.0
#pragma once
/// Small string helpers shared by parsers and renderers.
#include <string>
#include <string_view>
#include <vector>

namespace ncd {

[[nodiscard]] std::string_view trim(std::string_view s);
[[nodiscard]] std::vector<std::string> split(std::string_view s, char sep, bool skip_empty = true);
[[nodiscard]] std::string join(const std::vector<std::string>& parts, std::string_view sep);
[[nodiscard]] std::string to_lower(std::string_view s);
/// Levenshtein distance, for "did you mean" suggestions.
[[nodiscard]] std::size_t edit_distance(std::string_view a, std::string_view b);
/// The closest candidate within a small distance of `word`, or "" when none is close.
[[nodiscard]] std::string closest_match(std::string_view word,
                                        const std::vector<std::string>& candidates);
/// "0-3,5,7-8" from a sorted or unsorted list of integers.
[[nodiscard]] std::string format_ranges(std::vector<int> values);

}  // namespace ncd
