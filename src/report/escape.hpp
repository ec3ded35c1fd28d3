// SPDX-License-Identifier: Apache-2.0
#pragma once
/// Text hygiene shared by the renderers: reports quote log lines and device names, which may
/// hold any byte, and XML/HTML/Prometheus each accept only part of that.
#include <string>
#include <string_view>

namespace ncd::report {

/// `s` as valid UTF-8 without C0 control characters (tab and newline kept): invalid bytes and
/// controls (an ANSI escape from a log, a NUL) become U+FFFD. XML 1.0 accepts the result.
[[nodiscard]] std::string clean_text(std::string_view s);
/// `s` safe to print on a terminal: C0 control characters and DEL (an ANSI escape sequence, a
/// carriage return, a newline inside a one-line field) are shown as "\xNN", then clean_text
/// (C1 controls and invalid UTF-8 become U+FFFD).
[[nodiscard]] std::string terminal_text(std::string_view s);
/// HTML text and attribute escaping (& < > " ') of clean_text(s).
[[nodiscard]] std::string html_escape(std::string_view s);
/// "2026-11-28 17:22:58 UTC"; "unknown" for 0.
[[nodiscard]] std::string format_utc(double unix_s);

}  // namespace ncd::report
