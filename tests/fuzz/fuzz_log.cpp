// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: arbitrary bytes through the line classifier, the ingestion and the analysis.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "checks/log_rules.hpp"
#include "nccl/log_line.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  // Every line on its own (no allocation, no state).
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t nl = text.find('\n', start);
    std::string_view line = text.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
    ncd::nccl::LogLine l = ncd::nccl::classify_line(line);
    (void)ncd::nccl::second_record(line, l);
    ncd::nccl::ConnLine c;
    (void)ncd::nccl::parse_connection(l.msg, c);
    ncd::nccl::TraceLine t;
    (void)ncd::nccl::parse_trace(l.msg, t);
    int ch = 0, count = 0, ranks[16];
    (void)ncd::nccl::parse_ring_listing(l.msg, ch, ranks, 16, count);
    int code = 0;
    (void)ncd::nccl::classify_message(l.msg, l.src, &code);
    (void)ncd::nccl::strip_launcher(line);
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  // The whole pipeline.
  try {
    ncd::nccl::LogIngest in;
    in.add_text(text, "fuzz.log");
    (void)ncd::checks::analyze(in.take());
  } catch (const ncd::Error&) {
  }
  return 0;
}
