// SPDX-License-Identifier: Apache-2.0
#pragma once
/// Expected bandwidth of each kind of link, from ONE table (bandwidth.cpp) with sources.
/// All values in GB/s (10^9 bytes per second), per direction, as NCCL's topology model uses
/// them, so that our expectations match what NCCL itself plans with.
#include <string>
#include <string_view>

#include "topo/model.hpp"

namespace ncd::topo {

/// "Unlimited" bandwidth NCCL gives same-device and virtual links (LOC_BW).
inline constexpr double kLocBw = 5000.0;

/// PCIe link: width x per-lane speed, NCCL's conversion (width*speed/80 with NCCL's per-lane
/// table); 0 when speed or width is unknown.
[[nodiscard]] double pcie_bw(double gts, int width);
/// Raw PCIe link rate in GB/s after line encoding (8b/10b to Gen2, 128b/130b from Gen3):
/// width x GT/s x encoding / 8, what hwloc's pci_link_speed and a datasheet quote (Gen4 x16 =
/// 31.51). The theoretical ceiling of a copy; 0 when speed or width is unknown.
[[nodiscard]] double pcie_raw_gbps(double gts, int width);
/// How NCCL 2.28 reads a `link_speed` string (kvDictPciGen with prefix matching,
/// topo.cc:423-426): per-lane GT/s it will assume. Unknown strings fall back to Gen3 (8 GT/s).
[[nodiscard]] double nccl_reads_speed(std::string_view text);
/// NCCL-style bandwidth from hwloc's raw link bandwidth (GB/s after line encoding), used when
/// speed and width are not known separately (hwloc XML).
[[nodiscard]] double pcie_bw_from_raw(double raw_gbps);
/// The bandwidth NCCL gives a PCI element's link to its parent: its own reading of the speed
/// string (unknown strings Gen3), width 0 read as 16 (topo.cc:482-492), hwloc's raw number when
/// nothing else is known; quirks do not exist for NCCL.
[[nodiscard]] double nccl_link_bw(const PciDevice& d);
/// One NVLink of a GPU with compute capability `sm` (NCCL ncclTopoNVLinkBw).
[[nodiscard]] double nvlink_bw_per_link(int sm);
/// NVLinks per GPU of a generation (what NCCL probes: nccl-internals §2.2); 0 unknown.
[[nodiscard]] int nvlinks_per_gpu(int sm);
/// Inter-socket (CPU-CPU) bandwidth from the CPU's arch/vendor/family/model (NCCL
/// ncclTopoGetInterCpuBw); kLocBw when unrecognised (as NCCL does).
[[nodiscard]] double inter_cpu_bw(const CpuNode& cpu);
/// NIC port: Gb/s -> GB/s.
[[nodiscard]] inline double net_bw(double rate_gbps) { return rate_gbps / 8.0; }
/// A short name of the inter-socket link class ("SPR UPI", "AMD xGMI", ...).
[[nodiscard]] std::string inter_cpu_class(const CpuNode& cpu);

}  // namespace ncd::topo
