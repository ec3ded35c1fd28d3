// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <string>
#include <vector>

#include "cli/context.hpp"

namespace ncd::cli {

struct LogOptions {
  std::vector<std::string> files;  ///< log files, "-" for stdin; .gz read transparently
};

/// `nccl-doctor log FILE...`: post-mortem of NCCL debug logs.
int run_log(const LogOptions& opts, Context& ctx);

}  // namespace ncd::cli
