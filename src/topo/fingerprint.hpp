// SPDX-License-Identifier: Apache-2.0
#pragma once
/// A per-host topology fingerprint for comparing hosts: GPUs and their PCIe widths, the NVLink
/// layout, NICs with their port rates and widths. Hosts built alike have equal fingerprints.
#include <cstdint>
#include <string>
#include <vector>

#include "topo/model.hpp"

namespace ncd::topo {

struct Fingerprint {
  std::vector<std::string> items;  ///< one line per component, sorted ("gpu 0000:0f:00.0 sm90 nvlink 18 pcie x16")
  std::string digest;              ///< short hash of the items
};

[[nodiscard]] Fingerprint fingerprint(const System& s);

/// Digest of everything the checks read of a host: the model as serialised, without its host
/// name, bindings, computed paths and serial-like identifiers (GPU UUIDs, port GUIDs). Hosts with equal digests raise the same findings, so a
/// large job sends this (8 bytes) first and rank 0 asks one host per digest for its model.
[[nodiscard]] std::uint64_t content_digest(const System& s);

/// Items of `a` missing from `b` ("-" prefix) and of `b` missing from `a` ("+" prefix).
[[nodiscard]] std::vector<std::string> fingerprint_diff(const Fingerprint& a, const Fingerprint& b);

}  // namespace ncd::topo
