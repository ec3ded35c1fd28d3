// SPDX-License-Identifier: Apache-2.0
#include "core/xml_guard.hpp"

#include <algorithm>

#include "core/error.hpp"

namespace ncd {

long line_at(std::string_view text, std::ptrdiff_t offset) {
  auto end = static_cast<std::size_t>(std::clamp<std::ptrdiff_t>(offset, 0, static_cast<std::ptrdiff_t>(text.size())));
  return 1 + static_cast<long>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(end), '\n'));
}

void check_xml_shape(std::string_view text, const std::string& source, std::size_t max_depth) {
  std::size_t depth = 0;
  long line = 1;
  const std::size_t n = text.size();
  auto skip_to = [&](std::size_t from, std::string_view end) {  // index just past `end`, or n
    std::size_t p = text.find(end, from);
    std::size_t stop = p == std::string_view::npos ? n : p + end.size();
    line += static_cast<long>(std::count(text.begin() + static_cast<std::ptrdiff_t>(from),
                                         text.begin() + static_cast<std::ptrdiff_t>(stop), '\n'));
    return stop;
  };
  std::size_t i = 0;
  while (i < n) {
    char c = text[i];
    if (c == '\n') {
      ++line;
      ++i;
      continue;
    }
    if (c == '\0') throw InputError(source, line, "NUL byte: not an XML text file");
    if (c != '<') {
      ++i;
      continue;
    }
    std::string_view rest = text.substr(i);
    if (rest.rfind("<!--", 0) == 0) {
      i = skip_to(i + 4, "-->");
    } else if (rest.rfind("<![CDATA[", 0) == 0) {
      i = skip_to(i + 9, "]]>");
    } else if (rest.rfind("<?", 0) == 0) {
      i = skip_to(i + 2, "?>");
    } else if (rest.rfind("<!DOCTYPE", 0) == 0) {
      std::size_t gt = text.find('>', i);
      std::size_t br = text.find('[', i);
      if (br != std::string_view::npos && (gt == std::string_view::npos || br < gt))
        throw InputError(source, line, "DOCTYPE with an internal subset (entity declarations) is not accepted");
      i = skip_to(i + 9, ">");
    } else if (rest.rfind("<!", 0) == 0) {
      throw InputError(source, line, "markup declaration (<!ENTITY/<!ELEMENT) is not accepted outside a DOCTYPE");
    } else if (rest.rfind("</", 0) == 0) {
      if (depth > 0) --depth;
      i = skip_to(i + 2, ">");
    } else {
      // A start tag: find its '>' outside quoted attribute values.
      std::size_t p = i + 1;
      char quote = 0;
      while (p < n) {
        char d = text[p];
        if (d == '\n') ++line;
        if (quote) {
          if (d == quote) quote = 0;
        } else if (d == '"' || d == '\'') {
          quote = d;
        } else if (d == '>') {
          break;
        }
        ++p;
      }
      if (p >= n) throw InputError(source, line, "the file ends inside a tag (truncated?)");
      bool self_closing = p > i + 1 && text[p - 1] == '/';
      if (!self_closing && ++depth > max_depth)
        throw InputError(source, line, "elements nested more than " + std::to_string(max_depth) + " deep");
      i = p + 1;
    }
  }
  if (depth > 0)
    throw InputError(source, line, "the file ends with " + std::to_string(depth) + " element(s) still open (truncated?)");
}

}  // namespace ncd
