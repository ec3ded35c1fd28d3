// SPDX-License-Identifier: Apache-2.0
#pragma once
/// Topology checks (ARCHITECTURE §5): pure functions from host models to findings. Per host:
/// pcie.link_degraded, pcie.acs_enabled, iommu.translation_enabled, gpu.nic_far,
/// nic.port_down, nic.rate_low, nic.mtu_mismatch, nvlink.down, nvlink.count_mismatch,
/// gdr.unavailable, bind.rank_far_from_gpu, bind.none, and the file checks
/// numa.affinity_invalid, nvlink.target_suspect, pcie.speed_misread. Across hosts:
/// topo.differs, gpu.count_mismatch, and cross-host pcie.link_degraded / nic.rate_low /
/// nic.mtu_mismatch.
#include <string>
#include <vector>

#include "core/finding.hpp"
#include "topo/model.hpp"

namespace ncd::checks {

/// All topology checks over one or several hosts (paths must be computed). Findings carry the
/// host name of each System.
/// The catalogue ids check_topology (and check_topology_groups) evaluate, as the registry's
/// keys (exact ids, or prefixes ending in '.').
[[nodiscard]] std::vector<std::string> topology_check_ids();

[[nodiscard]] std::vector<Finding> check_topology(const std::vector<topo::System>& hosts);
/// The same, where host i stands for `weights[i]` identical nodes (a group of a large job): the
/// cross-host majorities and counts weigh each host by its group (topo_groups.hpp).
[[nodiscard]] std::vector<Finding> check_topology(const std::vector<topo::System>& hosts,
                                                  const std::vector<std::size_t>& weights);
/// bind.rank_far_from_gpu and bind.none of one host's rank bindings alone.
[[nodiscard]] std::vector<Finding> check_rank_bindings(const topo::System& host);

/// Plain remarks about inputs the checks could not use (ACS unknown without root, quirks
/// applied, ...), one line each, for the report's notes.
[[nodiscard]] std::vector<std::string> topology_notes(const std::vector<topo::System>& hosts);

/// "mlx5_0 0000:0c:00.0" / "GPU3 0000:1b:00.0" / "bridge 0000:08:00.0": how findings name a
/// PCI function of a host.
[[nodiscard]] std::string pci_subject(const topo::System& s, const std::string& bus_id);

}  // namespace ncd::checks
