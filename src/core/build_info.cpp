// SPDX-License-Identifier: Apache-2.0
#include "core/build_info.hpp"

namespace ncd {

BuildInfo& build_info() {
  static BuildInfo info;
  return info;
}

}  // namespace ncd
