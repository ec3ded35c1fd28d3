// SPDX-License-Identifier: Apache-2.0
// What this build has, as the report's `tool.features` says it. The modules that know fill it
// at start-up (the GPU backend's factory: src/gpu/backend.cpp); the lower layers only read it.
#pragma once
#include <string>

namespace ncd {

struct BuildInfo {
  bool nccl = false;
  std::string nccl_build_version;
};

/// The one instance (filled before main by the modules that know).
[[nodiscard]] BuildInfo& build_info();

}  // namespace ncd
