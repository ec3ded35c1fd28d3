// SPDX-License-Identifier: Apache-2.0
#pragma once
/// What the log tests share: analyse a text as one log file, find a finding by id.
#include <string>

#include "nccl/log_analyzer.hpp"

namespace ncd::nccl::testing_util {

inline Diagnosis run(const std::string& text) {
  LogIngest in;
  in.add_text(text, "t.log");
  return analyze(in.take());
}

inline const Finding* find_id(const Diagnosis& d, const std::string& id) {
  for (const auto& f : d.findings)
    if (f.id == id) return &f;
  return nullptr;
}

}  // namespace ncd::nccl::testing_util
