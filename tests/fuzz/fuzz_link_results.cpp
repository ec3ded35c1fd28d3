// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: the link results ranks send to rank 0 (collectives::decode_links), then the
// attribution on whatever they decode to (checks::check_links), and --expect values.
#include <cstddef>
#include <cstdint>
#include <string>

#include "checks/link_checks.hpp"
#include "collectives/link_sweep.hpp"
#include "core/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    ncd::checks::LinkSweepData d;
    d.links = ncd::collectives::decode_links(text);
    for (auto& l : d.links) {
      l.src_host = "h" + std::to_string(l.src_rank % 5);
      l.dst_host = "h" + std::to_string(l.dst_rank % 5);
      l.cls = ncd::collectives::link_class(l.src_host, l.dst_host);
    }
    d.rank_host = {"h0", "h1", "h2", "h3", "h4"};
    d.silent_ranks = {static_cast<int>(size % 7) - 1};
    (void)ncd::checks::check_links(d);
  } catch (const ncd::Error&) {
  }
  try {
    (void)ncd::checks::parse_expected_gbps(text, "--expect");
  } catch (const ncd::Error&) {
  }
  return 0;
}
