// SPDX-License-Identifier: Apache-2.0
#pragma once
/// A pre-parse screen for untrusted XML (topology and graph dumps, hwloc exports): rejects what
/// is hostile rather than merely malformed before any XML library sees it. Pure, no recursion.
#include <cstddef>
#include <string>
#include <string_view>

namespace ncd {

/// Deepest element nesting accepted. Real files: NCCL topology ~12, hwloc exports ~30.
inline constexpr std::size_t kMaxXmlDepth = 256;

/// Throws InputError(source, line, what) when `text` holds a DOCTYPE with an internal subset or
/// an <!ENTITY> (entity-expansion bombs; a bare `<!DOCTYPE x SYSTEM "y.dtd">`, as lstopo writes,
/// is allowed), elements nested deeper than `max_depth`, a NUL byte, or text that ends inside a
/// tag or with elements still open (a truncated file, which pugixml would accept).
void check_xml_shape(std::string_view text, const std::string& source, std::size_t max_depth = kMaxXmlDepth);

/// 1-based line of byte `offset` in `text` (offset past the end: the last line).
[[nodiscard]] long line_at(std::string_view text, std::ptrdiff_t offset);

}  // namespace ncd
