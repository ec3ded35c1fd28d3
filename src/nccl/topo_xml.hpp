// SPDX-License-Identifier: Apache-2.0
#pragma once
/// NCCL topology XML (NCCL_TOPO_FILE input, NCCL_TOPO_DUMP_FILE output; nccl-internals.md §2)
/// to the topology model. Accepts the dialects found in the wild: RCCL (`version="2"`, `<xgmi>`),
/// hand-written vendor files (fake bridges, missing attributes, comments), malformed speed
/// strings, VMs with width 0. What a file does not say stays unknown. Pure.
#include <string>
#include <string_view>

#include "topo/model.hpp"

namespace ncd::nccl {

/// Parses topology XML text. `source` names the input in errors (InputError: not XML, not a
/// `<system>`, unsupported version, too many elements). Paths are not computed.
[[nodiscard]] topo::System parse_topo_xml(std::string_view text, const std::string& source);
/// Reads and parses a topology file; the host name is the file name without directory and
/// extension. Computes the paths.
[[nodiscard]] topo::System load_topo_xml(const std::string& path);

}  // namespace ncd::nccl
