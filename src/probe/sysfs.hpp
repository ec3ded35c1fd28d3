// SPDX-License-Identifier: Apache-2.0
#pragma once
/// sysfs, rooted at a directory (`--sysfs-root`, default /sys) so that hand-made trees serve as
/// fixtures. Reads, for the PCI functions of the model: current/max link speed and width,
/// class, NUMA node; InfiniBand/RoCE ports (state, phys_state, rate, link_layer); their
/// netdevs (mtu, speed, operstate); ACS control of bridges (PCI config space, root only);
/// IOMMU group types; the nvidia_peermem module. Nothing here throws for a missing file: what
/// cannot be read stays unknown.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "topo/model.hpp"

namespace ncd::probe {

/// Builds a model from a sysfs tree alone: NUMA nodes (devices/system/node), the PCI hierarchy
/// (bus/pci/devices symlinks resolved into devices/pci*), GPUs, NICs and NVSwitches with every
/// bridge above them, then enrich_from_sysfs. Throws InputError when `root` has no
/// bus/pci/devices directory.
[[nodiscard]] topo::System sysfs_system(const std::string& root);

/// Adds sysfs facts to a model whose structure came from elsewhere (hwloc): link values of
/// every PCI function present in both, RDMA ports and netdevs of NICs, ACS, IOMMU, peermem.
void enrich_from_sysfs(topo::System& s, const std::string& root);

/// Parses "400 Gb/sec (4X NDR)" -> 400 (Gb/s); 0 when unknown.
[[nodiscard]] double parse_ib_rate(std::string_view s);
/// "4: ACTIVE" -> "ACTIVE", "5: LinkUp" -> "LinkUp".
[[nodiscard]] std::string ib_state_name(std::string_view s);
/// ACS P2P redirect from a PCI config space image: nullopt when the image does not reach the
/// extended capabilities (not root, or conventional PCI); else whether RR or CR is set (a
/// device without the ACS capability does not redirect). `detail` gets a readable summary.
[[nodiscard]] std::optional<bool> acs_redirect_from_config(std::string_view config, std::string* detail);

}  // namespace ncd::probe
