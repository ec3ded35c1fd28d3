// SPDX-License-Identifier: Apache-2.0
#pragma once
/// What the log tests share: analyse a text as one log file, find a finding by id.
#include <string>

#include "checks/log_rules.hpp"

// The log rules moved to checks/ (issue 14); the log tests keep their names.
namespace ncd::nccl {
using checks::analyze;
using checks::analyze_files;
using checks::Diagnosis;
}  // namespace ncd::nccl

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
