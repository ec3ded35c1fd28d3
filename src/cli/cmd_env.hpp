// SPDX-License-Identifier: Apache-2.0
#pragma once
#include "cli/context.hpp"

namespace ncd::cli {

struct EnvOptions {};

/// `nccl-doctor env`: versions and NCCL settings of every rank, compared.
int run_env(const EnvOptions& opts, Context& ctx);

}  // namespace ncd::cli
