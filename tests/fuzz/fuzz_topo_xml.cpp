// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: NCCL topology XML -> model -> paths -> checks -> JSON and back. Any input
// must give a model or an ncd::Error, never a crash, hang or unbounded recursion.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "checks/topo_checks.hpp"
#include "core/error.hpp"
#include "nccl/topo_xml.hpp"
#include "topo/paths.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    ncd::topo::System s = ncd::nccl::parse_topo_xml(text, "fuzz.xml");
    ncd::topo::compute_paths(s);
    (void)ncd::checks::check_topology({s});
    ncd::topo::System back = ncd::topo::system_from_json(ncd::topo::system_to_json(s).dump(), "fuzz.json");
    (void)back;
  } catch (const ncd::Error&) {
  }
  return 0;
}
