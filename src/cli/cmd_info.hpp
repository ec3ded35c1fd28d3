// SPDX-License-Identifier: Apache-2.0
#pragma once
/// `version` and `explain`: about the tool itself.
#include <string>

#include "cli/context.hpp"

namespace ncd::cli {

struct VersionOptions {};
int run_version(const VersionOptions& opts, Context& ctx);

struct ExplainOptions {
  std::string id;  ///< empty: the whole catalogue
  bool markdown = false;  ///< the catalogue as docs/checks.md
};
int run_explain(const ExplainOptions& opts, Context& ctx);

/// docs/checks.md: the whole catalogue in Markdown, generated from the registry.
[[nodiscard]] std::string catalogue_markdown();

}  // namespace ncd::cli
