// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the NCCL graph XML parser (NCCL_GRAPH_DUMP_FILE format).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "nccl/graph_xml.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    ncd::nccl::GraphFile f = ncd::nccl::parse_graph_xml(text, "fuzz.xml");
    // Exercise the accessors and the serialiser on whatever parsed.
    for (const auto& g : f.graphs) {
      (void)g.inter_node();
      for (const auto& c : g.channels) (void)g.exit_index(c);
    }
    (void)nlohmann::json(f).dump();
  } catch (const ncd::Error&) {
  }
  return 0;
}
