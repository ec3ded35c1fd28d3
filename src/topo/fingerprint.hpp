// SPDX-License-Identifier: Apache-2.0
#pragma once
/// A per-host topology fingerprint for comparing hosts: GPUs and their PCIe widths, the NVLink
/// layout, NICs with their port rates and widths. Hosts built alike have equal fingerprints.
#include <string>
#include <vector>

#include "topo/model.hpp"

namespace ncd::topo {

struct Fingerprint {
  std::vector<std::string> items;  ///< one line per component, sorted ("gpu 0000:0f:00.0 sm90 nvlink 18 pcie x16")
  std::string digest;              ///< short hash of the items
};

[[nodiscard]] Fingerprint fingerprint(const System& s);

/// Items of `a` missing from `b` ("-" prefix) and of `b` missing from `a` ("+" prefix).
[[nodiscard]] std::vector<std::string> fingerprint_diff(const Fingerprint& a, const Fingerprint& b);

}  // namespace ncd::topo
