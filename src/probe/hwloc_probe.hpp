// SPDX-License-Identifier: Apache-2.0
#pragma once
/// The topology structure through hwloc 2.x: NUMA nodes with cpusets and packages, the PCI tree
/// (bridges, GPUs, NICs, NVSwitches) with OS devices (mlx5_N, ibN, nvmlN, cudaN). The I/O
/// filter is set to KEEP_ALL before every load (the default keeps no PCI object at all, even
/// from XML). Debian's hwloc has no CUDA/NVML plugin: GPUs are PCI functions of class 0x03,
/// matched to NVML by bus id.
#include <string>
#include <string_view>

#include "topo/model.hpp"

namespace ncd::probe {

/// Loads an hwloc v2 XML export (lstopo --of xml) of some machine. Throws InputError naming
/// the file when it is missing or hwloc refuses it (hwloc 2.x cannot import v3 XML).
[[nodiscard]] topo::System hwloc_xml_system(const std::string& path);

/// The same from XML text; `source` names it in errors (InputError: not hwloc XML, too deep,
/// entity declarations, refused by hwloc). Host name and notes are left to the caller.
[[nodiscard]] topo::System parse_hwloc_xml(std::string_view text, const std::string& source);

/// This machine through hwloc. Throws UnavailableError when hwloc cannot load it.
[[nodiscard]] topo::System hwloc_live_system();

}  // namespace ncd::probe
