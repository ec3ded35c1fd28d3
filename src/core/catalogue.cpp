// SPDX-License-Identifier: Apache-2.0
#include "core/catalogue.hpp"

#include <cstdio>
#include <cstdlib>

namespace ncd {

Catalogue& Catalogue::instance() {
  static Catalogue catalogue;
  return catalogue;
}

void Catalogue::add(CheckInfo info) {
  std::string id = info.id;
  if (!entries_.emplace(id, std::move(info)).second) {
    std::fprintf(stderr, "nccl-doctor: internal error: finding id '%s' registered twice\n",
                 id.c_str());
    std::abort();
  }
}

const CheckInfo* Catalogue::find(std::string_view id) const {
  auto it = entries_.find(id);
  return it == entries_.end() ? nullptr : &it->second;
}

std::vector<const CheckInfo*> Catalogue::all() const {
  std::vector<const CheckInfo*> out;
  out.reserve(entries_.size());
  for (const auto& [id, info] : entries_) out.push_back(&info);
  return out;
}

}  // namespace ncd
