// SPDX-License-Identifier: Apache-2.0
#pragma once
/// The finding catalogue: every id the tool can report, with its documentation.
/// Ids are a contract: add, never rename. Each domain registers its ids in its own file with
/// NCD_REGISTER_CHECK, next to the code that detects them.
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/finding.hpp"

namespace ncd {

/// Documentation of one finding id.
struct CheckInfo {
  std::string id;          ///< "area.name"
  Severity severity;       ///< default severity
  std::string domain;      ///< "env", "topo", "bench", "links", "rings", "log"
  std::string title;       ///< one line
  std::string meaning;     ///< what it means for the user
  std::string detection;   ///< how it is detected, from which inputs
  std::string hint;        ///< the usual fix
};

/// Registry of CheckInfo by id. Filled at static-initialisation time.
class Catalogue {
 public:
  static Catalogue& instance();
  /// Registers `info`; a duplicate id is a programming error and aborts.
  void add(CheckInfo info);
  [[nodiscard]] const CheckInfo* find(std::string_view id) const;
  /// All entries sorted by id.
  [[nodiscard]] std::vector<const CheckInfo*> all() const;

 private:
  std::map<std::string, CheckInfo, std::less<>> entries_;
};

namespace detail {
struct CheckRegistrar {
  explicit CheckRegistrar(CheckInfo info) { Catalogue::instance().add(std::move(info)); }
};
}  // namespace detail

}  // namespace ncd

#define NCD_CAT2_(a, b) a##b
#define NCD_CAT_(a, b) NCD_CAT2_(a, b)
/// Registers a catalogue entry: NCD_REGISTER_CHECK({"id", Severity::kWarn, "domain", ...});
#define NCD_REGISTER_CHECK(...)                                            \
  static const ::ncd::detail::CheckRegistrar NCD_CAT_(ncd_check_, __LINE__) { \
    ::ncd::CheckInfo __VA_ARGS__                                           \
  }
