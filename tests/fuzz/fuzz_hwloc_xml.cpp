// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: hwloc v2 XML text -> hwloc (from a buffer) -> our model builder -> paths ->
// checks -> JSON. Any input must give a model or an ncd::Error: never a crash, a hang inside
// hwloc or libxml2, or unbounded recursion (the depth screen runs before hwloc sees the text).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <nlohmann/json.hpp>

#include "checks/topo_checks.hpp"
#include "core/error.hpp"
#include "probe/hwloc_probe.hpp"
#include "topo/paths.hpp"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // hwloc's own warnings about a malformed file go to stderr: keep the fuzzer log readable.
  setenv("HWLOC_HIDE_ERRORS", "2", 1);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    ncd::topo::System s = ncd::probe::parse_hwloc_xml(text, "fuzz.xml");
    ncd::topo::compute_paths(s);
    (void)ncd::checks::check_topology({s});
    (void)ncd::topo::system_to_json(s).dump();
  } catch (const ncd::Error&) {
  }
  return 0;
}
