// SPDX-License-Identifier: Apache-2.0
// THE bandwidth constants table. Every number used for "expected GB/s" is here, with its source.
// Source of all NCCL values: NCCL 2.28.9 src/graph/topo.h:15-36 and topo.cc (summarised in
// shared/reference/nccl-internals.md §1.4-1.5). Using NCCL's own numbers makes our expectation
// the one NCCL plans rings and trees with, which is what users compare against.
#include "topo/bandwidth.hpp"

#include <iterator>

namespace ncd::topo {

namespace {

// --- PCIe: NCCL kvDictPciGen (topo.cc:423-426) gives 100 Mb/s-per-lane units; link bw is
// width*units/80 GB/s, i.e. Gen3 x16 = 12, Gen4 x16 = 24, Gen5 x16 = 48, Gen6 x16 = 96 GB/s.
// (Roughly the usable payload rate after 128b/130b encoding and TLP overhead; nvbandwidth
// measures 25-26 GB/s host<->device on Gen4 x16.)
// Indexed by generation - 1 (the per-lane speeds are kPcieGts in model.cpp, via pcie_gen).
constexpr double kPcieNcclUnits[] = {
    15,   // Gen1  2.5 GT/s
    30,   // Gen2  5 GT/s
    60,   // Gen3  8 GT/s
    120,  // Gen4 16 GT/s
    240,  // Gen5 32 GT/s
    480,  // Gen6 64 GT/s
};

// --- NVLink per link, by the source GPU's SM (NCCL ncclTopoNVLinkBw, topo.h:274-283).
constexpr double kSm60NvlinkBw = 18.0;   // P100 (NVLink 1)
constexpr double kSm70NvlinkBw = 20.0;   // V100 (NVLink 2)
constexpr double kSm80NvlinkBw = 20.0;   // A100 (NVLink 3); also the fallback below sm60
constexpr double kSm86NvlinkBw = 12.0;   // GA10x bridges (RTX 3090, A40, A6000)
constexpr double kSm90NvlinkBw = 20.6;   // H100/H200 (NVLink 4); 20.0 in NCCL <= 2.19
constexpr double kSm100NvlinkBw = 40.1;  // B200/GB200/B300 (NVLink 5); 40.0 in 2.25-2.26

// --- Links per GPU that NCCL probes (xml.cc:769): sm<60 0, <70 4, <80 6, <90 12, else 18.
// An H100 SXM has 18 links, an A100 SXM 12, a V100 SXM2 6, a P100 SXM2 4.

// --- Inter-socket bandwidth (NCCL ncclTopoGetInterCpuBw, topo.cc:70-94).
constexpr double kAmdBw = 16.0;          // x86 AMD (xGMI/Infinity Fabric between sockets)
constexpr double kBdwQpiBw = 6.0;        // Intel, Broadwell and older
constexpr double kSklQpiBw = 10.0;       // Intel family 6, model >= 0x55 (Skylake-SP)
constexpr double kSrpQpiBw = 22.0;       // Intel model >= 0x8F (Sapphire Rapids)
constexpr double kErpQpiBw = 40.0;       // Intel model >= 0xCF (Emerald Rapids)
constexpr double kZpiBw = 6.0;           // Zhaoxin
constexpr double kYongfengZpiBw = 9.0;   // Zhaoxin family 7 model 0x5B
constexpr double kP9Bw = 32.0;           // POWER9
constexpr double kArmBw = 6.0;           // every arm64, Grace included

}  // namespace

double pcie_bw(double gts, int width) {
  if (gts <= 0 || width <= 0) return 0;
  const int gen = pcie_gen(gts);
  if (gen < 1 || gen > static_cast<int>(std::size(kPcieNcclUnits))) return 0;  // unknown, not slow
  return width * kPcieNcclUnits[gen - 1] / 80.0;
}

double pcie_raw_gbps(double gts, int width) {
  if (gts <= 0 || width <= 0) return 0;
  const double encoding = gts >= 8 ? 128.0 / 130.0 : 8.0 / 10.0;  // 128b/130b from Gen3, 8b/10b before
  return gts * encoding * width / 8.0;
}

// --- hwloc's pci_link_speed is pcie_raw_gbps: Gen4 x16 = 31.51 GB/s where NCCL's table gives
// 24. The ratio 24/31.51 = 0.7617 (Gen3+) maps one onto the other (Gen1/2 give 0.75).
double pcie_bw_from_raw(double raw_gbps) {
  return raw_gbps > 0 ? raw_gbps * pcie_bw(16.0, 16) / pcie_raw_gbps(16.0, 16) : 0;
}

double nccl_link_bw(const PciDevice& d) {
  double gts = !d.speed_text.empty() ? nccl_reads_speed(d.speed_text)
               : d.link.max_gts > 0  ? d.link.max_gts
               : d.link.cur_gts > 0  ? d.link.cur_gts
                                     : 8.0;
  int width = d.link.max_width > 0 ? d.link.max_width : d.link.cur_width > 0 ? d.link.cur_width : 16;
  if (d.speed_text.empty() && d.link.max_gts <= 0 && d.link.cur_gts <= 0 && d.link_gbps > 0)
    return pcie_bw_from_raw(d.link_gbps);
  return pcie_bw(gts, width);
}

double nccl_reads_speed(std::string_view text) {
  // NCCL 2.28.9 kvDictPciGen, in its order; kvConvertToInt matches when the string starts with
  // the key (strncmp over the key's length), else falls back to 60 units (Gen3).
  struct Key {
    std::string_view key;
    double gts;
  };
  constexpr Key kKeys[] = {{"2.5 GT/s", 2.5},        {"5 GT/s", 5.0},         {"8 GT/s", 8.0},
                           {"16 GT/s", 16.0},        {"32 GT/s", 32.0},       {"2.5 GT/s PCIe", 2.5},
                           {"5.0 GT/s PCIe", 5.0},   {"8.0 GT/s PCIe", 8.0},  {"16.0 GT/s PCIe", 16.0},
                           {"32.0 GT/s PCIe", 32.0}, {"64.0 GT/s PCIe", 64.0}};
  for (const auto& k : kKeys)
    if (text.substr(0, k.key.size()) == k.key) return k.gts;
  return 8.0;
}

double nvlink_bw_per_link(int sm) {
  if (sm >= 100) return kSm100NvlinkBw;
  if (sm >= 90) return kSm90NvlinkBw;
  if (sm == 86) return kSm86NvlinkBw;
  if (sm >= 80) return kSm80NvlinkBw;
  if (sm >= 70) return kSm70NvlinkBw;
  if (sm >= 60) return kSm60NvlinkBw;
  return kSm80NvlinkBw;
}

int nvlinks_per_gpu(int sm) {
  if (sm <= 0) return 0;
  if (sm < 60) return 0;
  if (sm < 70) return 4;
  if (sm < 80) return 6;
  if (sm < 90) return 12;
  return 18;
}

double inter_cpu_bw(const CpuNode& cpu) {
  if (cpu.arch == "arm64" || cpu.arch == "aarch64") return kArmBw;
  if (cpu.arch == "ppc64" || cpu.arch == "ppc64le") return kP9Bw;
  if (cpu.arch == "x86_64" || cpu.arch.empty()) {
    if (cpu.vendor == "AuthenticAMD" || cpu.vendor == "HygonGenuine" || cpu.vendor == "AMD") return kAmdBw;
    if (cpu.vendor == "GenuineIntel") {
      if (cpu.family != 6) return kBdwQpiBw;
      if (cpu.model >= 0xCF) return kErpQpiBw;
      if (cpu.model >= 0x8F) return kSrpQpiBw;
      if (cpu.model >= 0x55) return kSklQpiBw;
      return kBdwQpiBw;
    }
    if (cpu.vendor == "CentaurHauls" || cpu.vendor == "  Shanghai  " || cpu.vendor == "Shanghai")
      return (cpu.family == 7 && cpu.model == 0x5B) ? kYongfengZpiBw : kZpiBw;
  }
  return kLocBw;
}

std::string inter_cpu_class(const CpuNode& cpu) {
  if (cpu.arch == "arm64" || cpu.arch == "aarch64") return "ARM";
  if (cpu.arch == "ppc64" || cpu.arch == "ppc64le") return "POWER";
  if (cpu.vendor == "AuthenticAMD" || cpu.vendor == "HygonGenuine" || cpu.vendor == "AMD") return "AMD xGMI";
  if (cpu.vendor == "GenuineIntel") {
    if (cpu.family != 6) return "Intel QPI";
    if (cpu.model >= 0xCF) return "EMR UPI";
    if (cpu.model >= 0x8F) return "SPR UPI";
    if (cpu.model >= 0x55) return "SKL UPI";
    return "Intel QPI";
  }
  return "CPU link";
}

}  // namespace ncd::topo
