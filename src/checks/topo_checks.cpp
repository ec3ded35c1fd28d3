// SPDX-License-Identifier: Apache-2.0
#include "checks/topo_checks.hpp"
#include "checks/registry.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <set>

#include <fmt/format.h>

#include "core/catalogue.hpp"
#include "core/text.hpp"
#include "topo/bandwidth.hpp"
#include "topo/fingerprint.hpp"
#include "topo/paths.hpp"

namespace ncd::checks {

NCD_REGISTER_CHECK({"pcie.link_degraded", Severity::kWarn, "topo",
                    "A PCIe link runs narrower (or a NIC slower) than it can",
                    "A GPU, NIC or the switch above them trained its PCIe link at fewer lanes than "
                    "both ends support (x8 instead of x16), halving the bandwidth of every transfer "
                    "through it: NCCL's PCIe/NET paths and host copies slow down.",
                    "sysfs current_link_width vs max_link_width (the narrower of the device and its "
                    "upstream port), NVML PCIe width; NCCL dumps carry max values only, so hosts are "
                    "compared: the same device narrower on one host than on its peers. Link *speed* "
                    "below max on GPUs and switches is power saving at idle and not reported; VM "
                    "widths of 0 and known vendor quirks count as unknown.",
                    "Reseat the card or riser, check the slot's lane wiring and BIOS bifurcation, "
                    "compare `lspci -vv` LnkCap/LnkSta; replace the riser/cable if it persists."});
NCD_REGISTER_CHECK({"pcie.acs_enabled", Severity::kWarn, "topo",
                    "ACS redirects peer-to-peer PCIe traffic through the root complex",
                    "Access Control Services with P2P Request/Completion Redirect on a bridge above a "
                    "GPU or NIC sends GPU-GPU and GPUDirect RDMA traffic up to the CPU: P2P bandwidth "
                    "drops sharply or P2P hangs.",
                    "The ACS extended capability's control register (PCI config space, needs root; "
                    "without root ACS is reported unknown, never healthy).",
                    "Disable ACS on the switch ports (BIOS, or `setpci -s BDF ECAP_ACS+6.w=0` at boot) "
                    "on bare metal; in VMs it is required by passthrough, use ATS."});
NCD_REGISTER_CHECK({"iommu.translation_enabled", Severity::kWarn, "topo",
                    "The IOMMU translates DMA for GPUs/NICs",
                    "With the IOMMU in translated mode (not passthrough), every DMA of a GPU or NIC is "
                    "remapped: GPUDirect RDMA and P2P lose bandwidth or fail.",
                    "sysfs iommu_group/type of the GPUs and NICs (DMA or DMA-FQ = translated, "
                    "identity = passthrough).",
                    "Boot with iommu=pt (intel_iommu=on iommu=pt / amd_iommu=on iommu=pt) on bare "
                    "metal GPU nodes."});
NCD_REGISTER_CHECK({"gpu.nic_far", Severity::kWarn, "topo",
                    "A GPU's nearest NIC is across the CPU while its peers have one on their switch",
                    "The GPU reaches every RDMA NIC only through the host bridge (PHB) or across the "
                    "sockets (SYS), while other GPUs of the host have a NIC at PIX/PXB. Its network "
                    "traffic crosses the CPU (or needs PXN through a peer), and GDR may be refused.",
                    "NCCL path types (nccl-internals §1.3) from every GPU to every RDMA NIC of the "
                    "host; the best one per GPU is compared with its peers'. Design is told from "
                    "fault by the node's own layout: when the node has fewer RDMA NIC cards than CPU "
                    "nodes (sockets, or NUMA nodes of NPS/SNC sockets) holding GPUs, a GPU on a CPU "
                    "node without any RDMA NIC is how the node is built and is reported as info, with "
                    "the path NCCL takes and its bandwidth. A GPU on a CPU node that has a NIC, or a "
                    "CPU node left without one although there are enough cards for every GPU's (a NIC "
                    "moved away), is a warning.",
                    "Move the NIC (or the GPU) to the same PCIe switch/socket, or check that the "
                    "topology file gives the NIC the right NUMA node."});
NCD_REGISTER_CHECK({"nic.port_down", Severity::kWarn, "topo",
                    "An RDMA NIC port is not ACTIVE",
                    "An InfiniBand/RoCE port is down, initialising or disabled: NCCL skips it and its "
                    "GPU's traffic goes through another NIC, or the job fails to connect.",
                    "sysfs class/infiniband/<dev>/ports/<n>/state and phys_state.",
                    "Check the cable and switch port (ibstat, ibportstate), the subnet manager, and "
                    "`mlxlink -d <dev>`."});
NCD_REGISTER_CHECK({"nic.rate_low", Severity::kWarn, "topo",
                    "A NIC port runs below the rate of its peers",
                    "A port of the same NIC model and link layer links at a lower rate than the "
                    "others (for example 200 Gb/s among 400 Gb/s ports): every ring through it runs at "
                    "that rate.",
                    "IB rate (sysfs ports/<n>/rate) or NCCL net speed, compared with the most common "
                    "rate of the same NIC model on this host and across hosts.",
                    "Check the cable/transceiver and the switch port's speed settings (mlxlink, "
                    "ibportstate); reseat or replace the cable."});
NCD_REGISTER_CHECK({"nic.mtu_mismatch", Severity::kWarn, "topo",
                    "An RDMA port's MTU differs from its peers'",
                    "RoCE derives its path MTU from the netdev MTU; ports with different MTUs in one "
                    "fabric negotiate the smaller one or drop traffic.",
                    "netdev MTU (sysfs class/net/<if>/mtu) of RDMA ports, compared per link layer "
                    "across the host and across hosts.",
                    "Set the same MTU on every RDMA interface (e.g. 9000 for RoCE, 4092 for IPoIB)."});
NCD_REGISTER_CHECK({"nvlink.down", Severity::kError, "topo",
                    "NVLinks of a GPU are down",
                    "NVML reports some of the GPU's NVLinks inactive while its other links (or its "
                    "peers') are up: NVLink bandwidth to and from that GPU drops, and NCCL may fall "
                    "back to PCIe.",
                    "nvmlDeviceGetNvLinkState for every link of every GPU.",
                    "Check `nvidia-smi nvlink -s`, the NVSwitch fabric manager, then reset the GPU or "
                    "have the baseboard serviced."});
NCD_REGISTER_CHECK({"nvlink.count_mismatch", Severity::kWarn, "topo",
                    "A GPU has fewer active NVLinks than its peers",
                    "GPUs of the same model on one host normally have the same number of active "
                    "NVLinks; one with fewer has lost links (its bandwidth to the NVSwitch drops).",
                    "Active NVLink count (NVML, or NCCL topology <nvlink count>) compared with the most "
                    "common count of the same GPU model on the host.",
                    "Check `nvidia-smi nvlink -s` and the fabric manager log; reset or service the GPU."});
NCD_REGISTER_CHECK({"gdr.unavailable", Severity::kWarn, "topo",
                    "GPUDirect RDMA is not available",
                    "The host has RDMA NICs and GPUs but NICs cannot read/write GPU memory directly "
                    "(no nvidia_peermem and no DMA-BUF, or NCCL reported gdr=0): inter-node traffic is "
                    "staged through host memory, costing bandwidth and CPU.",
                    "Kernel modules (sysfs module/nvidia_peermem), DMA-BUF support, or the gdr "
                    "attributes of an NCCL topology dump.",
                    "Load nvidia_peermem (modprobe nvidia-peermem) or use a kernel/driver with DMA-BUF "
                    "(open kernel module, Linux >= 5.12, NCCL_DMABUF_ENABLE=1)."});
NCD_REGISTER_CHECK({"bind.rank_far_from_gpu", Severity::kWarn, "topo",
                    "A rank's CPU binding misses its GPU's NUMA node",
                    "The rank's threads run on cores of another NUMA node (or socket) than its GPU: "
                    "every kernel launch, host copy and proxy thread crosses the CPU interconnect.",
                    "sched_getaffinity of each rank vs the NUMA node of its GPU. Sub-NUMA clustering "
                    "(several NUMA nodes per socket) is told apart: the same socket is reported as "
                    "info.",
                    "Bind ranks to their GPU's cores: `mpirun --map-by ppr:8:node --bind-to numa`, "
                    "`srun --cpu-bind=ldoms`, or a wrapper that sets numactl per local rank."});
NCD_REGISTER_CHECK({"bind.none", Severity::kWarn, "topo",
                    "Ranks are not bound to cores",
                    "The ranks may run on any core of a multi-NUMA host, so the scheduler moves them "
                    "across sockets, away from their GPU.",
                    "sched_getaffinity covers every online CPU of a host with several NUMA nodes.",
                    "Bind ranks: `mpirun --bind-to numa` (or core), `srun --cpu-bind=...`."});
NCD_REGISTER_CHECK({"gpu.count_mismatch", Severity::kError, "topo",
                    "Hosts have different numbers of GPUs",
                    "A host sees fewer GPUs than its peers: a GPU fell off the bus or the driver "
                    "lost it. NCCL jobs sized for the full count fail or run unbalanced.",
                    "GPU count of each host's topology, grouped; the minority is named.",
                    "Check `nvidia-smi`, dmesg for Xid/fallen-off-the-bus, and reseat or replace."});
NCD_REGISTER_CHECK({"topo.differs", Severity::kWarn, "topo",
                    "A host's topology differs from the majority",
                    "Hosts of one job usually have the same GPUs, NVLink layout, NICs and PCIe widths; "
                    "a different one makes NCCL build different rings and often runs slower.",
                    "A fingerprint per host (GPUs, NVLinks, NICs and port rates, PCIe widths); hosts "
                    "outside the largest group are named with what differs (differences already "
                    "named by another finding are not repeated).",
                    "Compare the named items with a healthy host; fix the hardware or exclude the host."});
NCD_REGISTER_CHECK({"numa.affinity_invalid", Severity::kWarn, "topo",
                    "CPU affinity masks of a topology file are inconsistent",
                    "The NUMA nodes of a topology file claim overlapping CPUs, or their CPU masks are "
                    "in the opposite order of their NUMA ids (node 1 owns CPU 0): NCCL pins its "
                    "threads with these masks, so they run on the wrong socket. Seen in Azure's "
                    "published NDv2/NDv4/NDv5 files before they were fixed.",
                    "The cpu elements' affinity masks of an NCCL topology file, compared with each "
                    "other.",
                    "Take the masks from /sys/devices/system/node/node<N>/cpumap of the real machine, "
                    "or let NCCL detect the topology."});
NCD_REGISTER_CHECK({"nvlink.target_suspect", Severity::kWarn, "topo",
                    "NVLink targets of a topology file do not hold together",
                    "The file claims NVLinks that cannot be real: GPU A links to B but B does not "
                    "link back with the same count, or an NVLink bridge joins PCIe cards on "
                    "different CPUs. NCCL then plans NVLink paths that do not exist and P2P fails "
                    "(\"P2P is disabled between NVLINK connected GPUs\") or runs at PCIe speed.",
                    "The nvlink elements of an NCCL topology file, checked for symmetry and, for "
                    "PCIe-card GPUs (NVLink bridge pairs), for sharing a CPU.",
                    "Fix the targets (nvidia-smi topo -m shows the real NV# pairs), or let NCCL detect."});
NCD_REGISTER_CHECK({"pcie.speed_misread", Severity::kWarn, "topo",
                    "NCCL misreads a link_speed string of a topology file",
                    "NCCL converts link_speed by prefix match against the kernel's spellings; any "
                    "other spelling (\"32.0 GT/s\" without \"PCIe\") silently becomes Gen3, so NCCL "
                    "plans the link at a fraction of its bandwidth.",
                    "Each link_speed string of the file is read the way NCCL 2.28 reads it "
                    "(kvDictPciGen) and compared with its real value.",
                    "Write the kernel's spelling: \"32.0 GT/s PCIe\" (kernel >= 5.7) or \"32 GT/s\"."});

namespace {

using topo::PathType;
using topo::PciKind;
using topo::System;
using topo::Tri;

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

/// Bus ids of GPUs, NICs and everything above them.
std::set<std::string> relevant_pci(const System& s) {
  std::set<std::string> out;
  for (const auto& g : s.gpus)
    for (const auto& b : topo::pci_ancestry(s, g.bus_id)) out.insert(b);
  for (const auto& n : s.nics)
    if (!n.bus_id.empty())
      for (const auto& b : topo::pci_ancestry(s, n.bus_id)) out.insert(b);
  return out;
}

/// Devices whose link registers describe their own upstream link: endpoints and switch
/// upstream ports. Root and downstream ports describe the link below them (the same physical
/// link as their child's), so checking them would report one fault twice.
std::set<std::string> link_positions(const System& s, const std::set<std::string>& relevant) {
  if (s.nccl_tree) return relevant;
  std::set<std::string> out;
  for (const auto& b : relevant) {
    const topo::PciDevice* d = s.find_pci(b);
    if (!d) continue;
    if (d->kind != PciKind::kBridge) out.insert(b);
    std::string p = topo::nccl_parent(s, b);
    if (!p.empty()) out.insert(p);
  }
  return out;
}

/// A device's effective max: the narrower/slower of the device and its upstream port (as NCCL).
topo::PciLink effective_link(const System& s, const topo::PciDevice& d) {
  topo::PciLink l = d.link;
  if (s.nccl_tree) return l;
  if (const topo::PciDevice* up = s.find_pci(d.parent)) {
    if (up->link.max_width > 0 && l.max_width > 0) l.max_width = std::min(l.max_width, up->link.max_width);
    if (up->link.max_gts > 0 && l.max_gts > 0) l.max_gts = std::min(l.max_gts, up->link.max_gts);
  }
  return l;
}

int gpu_of_bus(const System& s, const std::string& bus) {
  for (std::size_t i = 0; i < s.gpus.size(); ++i)
    if (s.gpus[i].bus_id == bus) return static_cast<int>(i);
  return -1;
}
int nic_of_bus(const System& s, const std::string& bus) {
  for (std::size_t i = 0; i < s.nics.size(); ++i)
    if (!bus.empty() && s.nics[i].bus_id == bus) return static_cast<int>(i);
  return -1;
}

/// What is below a bridge, for its subject: "above GPU0, mlx5_0".
std::string below(const System& s, const std::string& bridge) {
  std::vector<std::string> names;
  for (std::size_t i = 0; i < s.gpus.size(); ++i) {
    auto anc = topo::pci_ancestry(s, s.gpus[i].bus_id);
    if (std::find(anc.begin() + 1, anc.end(), bridge) != anc.end())
      names.push_back(fmt::format("GPU{}", s.gpus[i].index >= 0 ? s.gpus[i].index : static_cast<int>(i)));
  }
  for (const auto& n : s.nics) {
    if (n.bus_id.empty()) continue;
    auto anc = topo::pci_ancestry(s, n.bus_id);
    if (std::find(anc.begin() + 1, anc.end(), bridge) != anc.end()) names.push_back(n.name);
  }
  return join(names, ", ");
}

/// Most common value; ties go to the largest.
template <typename T>
T reference_value(const std::vector<T>& values) {
  std::map<T, int> count;
  for (const auto& v : values) ++count[v];
  T best{};
  int n = -1;
  for (const auto& [v, c] : count)
    if (c >= n) best = v, n = c;  // ascending map: ">=" lets the largest win ties
  return best;
}

/// Most common value when each value counts `weights[i]` times (hosts that stand for a group of
/// identical nodes); ties go to the largest.
template <typename T>
T reference_value(const std::vector<T>& values, const std::vector<std::size_t>& weights) {
  std::map<T, std::size_t> count;
  for (std::size_t i = 0; i < values.size(); ++i) count[values[i]] += weights[i];
  T best{};
  std::size_t n = 0;
  bool any = false;
  for (const auto& [v, c] : count)
    if (!any || c >= n) best = v, n = c, any = true;
  return best;
}

std::string gbps(double v) { return v > 0 ? fmt::format("{:g} GB/s", std::round(v * 10) / 10) : "unknown"; }

bool is_active(const topo::NicPort& p) { return p.state.empty() || upper(p.state).find("ACTIVE") != std::string::npos; }

// PCIe-card GPUs whose NVLinks are bridges between neighbouring cards (device ids from the
// PCI id database): a bridge joins two cards of one riser/CPU.
bool pcie_card_gpu(std::uint32_t device) {
  static const std::set<std::uint32_t> kIds = {
      0x20b5, 0x20f1, 0x20f3, 0x20f5,  // A100 PCIe 80GB/40GB, A800 PCIe
      0x20b7,                          // A30
      0x2331, 0x2321,                  // H100 PCIe, H100 NVL
      0x2235, 0x2230, 0x2204, 0x2206,  // A40, RTX A6000, RTX 3090, RTX 3080
  };
  return kIds.count(device) > 0;
}

// --------------------------------------------------------------------------------------------

void check_links(const System& s, std::vector<Finding>& out) {
  auto rel = relevant_pci(s);
  for (const auto& bus : link_positions(s, rel)) {
    const topo::PciDevice* d = s.find_pci(bus);
    if (!d || !d->link_quirk.empty()) continue;
    topo::PciLink l = effective_link(s, *d);
    int gi = gpu_of_bus(s, bus), ni = nic_of_bus(s, bus);
    // NVML's view of a GPU when sysfs did not give one.
    if (gi >= 0 && (l.cur_width <= 0 || l.max_width <= 0)) {
      const auto& g = s.gpus[static_cast<std::size_t>(gi)];
      if (g.pcie_width_cur > 0 && g.pcie_width_max > 0) {
        l.cur_width = g.pcie_width_cur;
        l.max_width = g.pcie_width_max;
      }
    }
    double gts = l.max_gts > 0 ? l.max_gts : l.cur_gts;
    bool narrow = l.cur_width > 0 && l.max_width > 0 && l.cur_width < l.max_width;
    // Speed below max: GPUs (and the switches above them) drop the link speed when idle to save
    // power (corpus: nvidia-smi -q of idle RTX 4090s, Current 1 / Max 4): not a fault. NICs do not.
    bool slow_nic = ni >= 0 && l.cur_gts > 0 && l.max_gts > 0 && l.cur_gts < l.max_gts - 0.01;
    if (!narrow && !slow_nic) continue;
    double expected = topo::pcie_bw(l.max_gts > 0 ? l.max_gts : gts, l.max_width > 0 ? l.max_width : l.cur_width);
    double measured = topo::pcie_bw(narrow ? gts : l.cur_gts, narrow ? l.cur_width : (l.cur_width > 0 ? l.cur_width : l.max_width));
    std::string what = narrow ? fmt::format("x{} instead of x{}", l.cur_width, l.max_width)
                              : fmt::format("{:g} GT/s instead of {:g} GT/s", l.cur_gts, l.max_gts);
    std::string subj = pci_subject(s, bus);
    Finding f = make_finding("pcie.link_degraded", s.host, subj,
                             fmt::format("{} PCIe link trained at {}: {} instead of {}", subj, what,
                                         gbps(measured), gbps(expected)));
    f.evidence.push_back(fmt::format("current {:g} GT/s x{}, max {:g} GT/s x{} (device and upstream port)",
                                     l.cur_gts, l.cur_width, l.max_gts, l.max_width));
    if (d->kind == PciKind::kBridge) f.evidence.push_back("switch port above " + below(s, bus));
    if (expected > 0) f.expected = expected;
    if (measured > 0) f.measured = measured;
    f.unit = "GB/s";
    out.push_back(std::move(f));
  }
}

/// One GPU or NIC narrower than its identical siblings in the same host (same vendor:device and
/// link speed): NCCL dumps carry max values only, so a slot or riser that trained (or is wired)
/// at x8 among x16 siblings shows only this way on a single node.
void check_sibling_widths(const System& s, std::vector<Finding>& out) {
  struct Entry {
    std::string bus;
    int width;
    double gts;
  };
  std::map<std::string, std::vector<Entry>> groups;
  auto add = [&](const std::string& bus, const char* role) {
    const topo::PciDevice* d = s.find_pci(bus);
    if (!d || !d->link_quirk.empty() || d->vendor == 0) return;
    int w = d->link.cur_width > 0 ? d->link.cur_width : d->link.max_width;
    double gts = d->link.max_gts > 0 ? d->link.max_gts : d->link.cur_gts;
    if (w <= 0) return;
    groups[fmt::format("{}|{:04x}:{:04x}|{:06x}|{:g}", role, d->vendor, d->device, d->class_code, gts)].push_back({bus, w, gts});
  };
  for (const auto& g : s.gpus) add(g.bus_id, "gpu");
  std::set<std::string> seen;
  for (const auto& n : s.nics)
    if (n.own_pci && !n.bus_id.empty() && seen.insert(n.bus_id).second) add(n.bus_id, "nic");
  std::set<std::string> already;
  for (const auto& f : out)
    if (f.id == "pcie.link_degraded" && f.host == s.host) already.insert(f.subject);
  for (const auto& [key, entries] : groups) {
    if (entries.size() < 3) continue;
    std::vector<int> widths;
    for (const auto& e : entries) widths.push_back(e.width);
    int ref = reference_value(widths);
    auto at_ref = std::count(widths.begin(), widths.end(), ref);
    if (at_ref < 2) continue;
    for (const auto& e : entries) {
      if (e.width >= ref) continue;
      // Only a clear minority is a fault: half the devices at one width is a design.
      if (std::count(widths.begin(), widths.end(), e.width) * 2 >= static_cast<long>(entries.size())) continue;
      std::string subj = pci_subject(s, e.bus);
      if (already.count(subj)) continue;
      const std::string model = key.substr(key.find('|') + 1, 9);
      Finding f = make_finding("pcie.link_degraded", s.host, subj,
                               fmt::format("{} PCIe link is x{} while {} of its {} identical siblings ({}) are x{}: {} "
                                           "instead of {}",
                                           subj, e.width, at_ref, entries.size() - 1, model, ref,
                                           gbps(topo::pcie_bw(e.gts, e.width)), gbps(topo::pcie_bw(e.gts, ref))));
      std::vector<std::string> all_widths;
      for (const auto& o : entries) all_widths.push_back(fmt::format("{} x{}", o.bus, o.width));
      f.evidence.push_back(fmt::format("same vendor:device {} and link speed on this host; widths: {}", model,
                                       join(all_widths, ", ")));
      if (topo::pcie_bw(e.gts, ref) > 0) {
        f.expected = topo::pcie_bw(e.gts, ref);
        f.measured = topo::pcie_bw(e.gts, e.width);
        f.unit = "GB/s";
      }
      out.push_back(std::move(f));
    }
  }
}

void check_acs_iommu(const System& s, std::vector<Finding>& out) {
  auto rel = relevant_pci(s);
  for (const auto& bus : rel) {
    const topo::PciDevice* d = s.find_pci(bus);
    if (!d || d->kind != PciKind::kBridge || d->acs_redirect != Tri::kYes) continue;
    std::string subj = pci_subject(s, bus);
    Finding f = make_finding("pcie.acs_enabled", s.host, subj,
                             fmt::format("ACS redirects P2P traffic at {} (above {}): GPU P2P and GPUDirect "
                                         "RDMA through it go up to the root complex",
                                         subj, below(s, bus)));
    if (!d->acs_detail.empty()) f.evidence.push_back(d->acs_detail);
    out.push_back(std::move(f));
  }
  std::vector<std::string> translated;
  for (const auto& bus : rel) {
    const topo::PciDevice* d = s.find_pci(bus);
    if (!d || d->kind == PciKind::kBridge) continue;
    if (d->iommu_group_type == "DMA" || d->iommu_group_type == "DMA-FQ")
      translated.push_back(fmt::format("{} iommu_group type {}", pci_subject(s, bus), d->iommu_group_type));
  }
  if (!translated.empty() || s.iommu_mode == "translated") {
    Finding f = make_finding("iommu.translation_enabled", s.host, "IOMMU",
                             fmt::format("the IOMMU translates DMA of {} GPU/NIC function(s) (not passthrough)",
                                         translated.size()));
    f.evidence = translated;
    if (f.evidence.empty()) f.evidence.push_back("iommu mode: " + s.iommu_mode);
    out.push_back(std::move(f));
  }
}

/// "across sockets" or "across NUMA nodes on one socket" (NPS/SNC), from the packages the
/// topology gives; NCCL topology files do not name packages.
std::string cross_cpu_words(const System& s, int numa_a, int numa_b) {
  const topo::CpuNode* a = s.find_cpu(numa_a);
  const topo::CpuNode* b = s.find_cpu(numa_b);
  if (a && b && a->package >= 0 && b->package >= 0)
    return a->package == b->package ? fmt::format("across NUMA nodes {} and {} on one socket", numa_a, numa_b)
                                     : fmt::format("across sockets, NUMA {} to {}", numa_a, numa_b);
  return fmt::format("across CPU nodes {} and {} (the input does not say whether they share a socket)", numa_a, numa_b);
}

/// The locality domain NCCL's SYS boundary follows: the CPU (NUMA) node, named with its socket
/// when the topology names packages (hwloc, sysfs; NCCL files do not). "" when unknown. NPS/SNC
/// nodes have several per socket, and crossing between them is SYS for NCCL as well.
std::string cpu_domain(const System& s, int numa) {
  if (numa < 0) return "";
  const topo::CpuNode* c = s.find_cpu(numa);
  if (c && c->package >= 0) return fmt::format("NUMA node {} (socket {})", numa, c->package);
  return fmt::format("CPU node {}", numa);
}

/// The physical card of a NIC: its PCI bus id without the function (a dual-port card exposes one
/// function per port), or its name when it has no PCI function.
std::string nic_card(const topo::Nic& n) {
  if (n.bus_id.empty()) return "name:" + n.name;
  auto dot = n.bus_id.rfind('.');
  return dot == std::string::npos ? n.bus_id : n.bus_id.substr(0, dot);
}

void check_nic_placement(const System& s, std::vector<Finding>& out) {
  if (s.gpus.empty() || s.nics.empty()) return;
  std::vector<std::size_t> nics;
  for (std::size_t n = 0; n < s.nics.size(); ++n)
    if (s.nics[n].rdma) nics.push_back(n);
  if (nics.empty()) return;  // socket-only hosts: placement is not what limits them
  std::vector<PathType> best(s.gpus.size(), PathType::kDIS);
  std::vector<int> best_nic(s.gpus.size(), -1);
  for (std::size_t g = 0; g < s.gpus.size(); ++g)
    for (std::size_t n : nics) {
      PathType t = s.nic_path(g, n).pci_type;
      if (t < best[g]) best[g] = t, best_nic[g] = static_cast<int>(n);
    }
  // Design versus fault. A node with fewer RDMA NIC cards than CPU nodes (sockets, or NUMA nodes
  // of NPS/SNC sockets) holding GPUs cannot give each of them a NIC: a GPU on a CPU node without
  // any RDMA NIC is the node's design (info, with its cost). A GPU on a CPU node that has an RDMA
  // NIC, yet not near it while its peers are, or a CPU node left without a NIC although the node
  // has enough cards for every GPU's (a NIC moved away from where its peers sit), is a fault.
  std::set<std::string> gpu_domains, nic_domains, cards;
  for (const auto& g : s.gpus)
    if (auto d = cpu_domain(s, g.numa); !d.empty()) gpu_domains.insert(d);
  for (std::size_t n : nics) {
    cards.insert(nic_card(s.nics[n]));
    if (auto d = cpu_domain(s, s.nics[n].numa); !d.empty()) nic_domains.insert(d);
  }
  const bool too_few_cards = cards.size() < gpu_domains.size();
  // A GPU is far when it is at PHB/SYS while a peer has a NIC on its switch (PIX/PXB), or at
  // SYS while a peer has one on its own socket (PHB): either way a better placement exists.
  auto peers_better = [&](PathType limit) {
    std::vector<std::string> names;
    for (std::size_t g = 0; g < s.gpus.size(); ++g)
      if (best[g] <= limit) names.push_back(fmt::format("GPU{}", s.gpus[g].index));
    return names;
  };
  std::vector<std::string> on_switch = peers_better(PathType::kPXB), on_socket = peers_better(PathType::kPHB);
  for (std::size_t g = 0; g < s.gpus.size(); ++g) {
    if (best[g] < PathType::kPHB || best[g] == PathType::kDIS) continue;
    bool sw = !on_switch.empty();
    if (!sw && !(best[g] == PathType::kSYS && !on_socket.empty())) continue;
    const auto& good = sw ? on_switch : on_socket;
    const auto& nic = s.nics[static_cast<std::size_t>(best_nic[g])];
    const auto& p = s.nic_path(g, static_cast<std::size_t>(best_nic[g]));
    const std::string domain = cpu_domain(s, s.gpus[g].numa);
    const bool by_design = !domain.empty() && !nic_domains.count(domain) && too_few_cards;
    std::string subj = s.gpu_subject(g);
    std::string where = best[g] == PathType::kSYS ? cross_cpu_words(s, s.gpus[g].numa, nic.numa)
                                                  : "through the host bridge";
    std::string msg;
    if (by_design) {
      msg = fmt::format("{}'s {} has no RDMA NIC: the node has {} RDMA NIC card(s) for GPUs on {} CPU nodes, so by "
                        "design its nearest, {}, is {} ({}); NCCL reaches it via {} at {} (a property of the "
                        "node, not a fault)",
                        subj, domain, cards.size(), gpu_domains.size(), nic.name, topo::to_string(best[g]), where,
                        topo::to_string(p.type), p.bw_gbps > 0 ? fmt::format("{:g} GB/s", p.bw_gbps) : "an unknown rate");
    } else {
      msg = fmt::format("{}'s nearest RDMA NIC {} is {} ({}), while {} {}", subj, nic.name, topo::to_string(best[g]),
                        where, good.size() > 4 ? fmt::format("{} other GPUs", good.size()) : join(good, ", "),
                        good.size() == 1 ? (sw ? "has a NIC behind its PCIe switch" : "has one on its own socket")
                                         : (sw ? "have a NIC behind their PCIe switch" : "have one on their own socket"));
      if (best[g] == PathType::kSYS && !domain.empty() && !nic_domains.count(domain))
        msg += fmt::format("; the node has {} RDMA NIC cards for GPUs on {} CPU nodes, yet none on GPU{}'s {}", cards.size(),
                           gpu_domains.size(), s.gpus[g].index, domain);
    }
    Finding f = make_finding("gpu.nic_far", s.host, subj, msg);
    if (by_design) f.severity = Severity::kInfo;
    f.evidence.push_back(fmt::format("GPU NUMA {}, NIC {} NUMA {}; NCCL path {} {}", s.gpus[g].numa, nic.name,
                                     nic.numa, topo::to_string(p.type), p.via.empty() ? "" : "via " + p.via));
    f.evidence.push_back(fmt::format("RDMA NIC cards {} on {}; GPUs on {}", cards.size(),
                                     nic_domains.empty() ? "unknown CPU nodes" : join(std::vector<std::string>(nic_domains.begin(), nic_domains.end()), ", "),
                                     join(std::vector<std::string>(gpu_domains.begin(), gpu_domains.end()), ", ")));
    out.push_back(std::move(f));
  }
}

void check_nvlinks(const System& s, std::vector<Finding>& out) {
  int any_up = 0;
  for (const auto& g : s.gpus) any_up += g.nvlinks_up();
  std::map<std::pair<int, std::uint32_t>, std::vector<std::size_t>> models;
  for (std::size_t i = 0; i < s.gpus.size(); ++i) {
    const auto* d = s.find_pci(s.gpus[i].bus_id);
    models[{s.gpus[i].sm, d ? d->device : 0}].push_back(i);
  }
  for (const auto& [model, idx] : models) {
    std::vector<int> ups;
    for (auto i : idx) ups.push_back(s.gpus[i].nvlinks_up());
    int ref = reference_value(ups);
    for (auto i : idx) {
      const auto& g = s.gpus[i];
      int down = g.nvlinks_down(), up = g.nvlinks_up();
      std::string subj = s.gpu_subject(i);
      if (down > 0 && (up > 0 || any_up > 0)) {
        std::vector<std::string> links;
        for (const auto& l : g.nvlinks)
          if (l.active == Tri::kNo) links.push_back(std::to_string(l.link));
        Finding f = make_finding("nvlink.down", s.host, subj,
                                 fmt::format("{}: {} NVLink(s) down ({} up)", subj, down, up));
        f.evidence.push_back("inactive links: " + join(links, ","));
        f.expected = up + down;
        f.measured = up;
        f.unit = "links";
        out.push_back(std::move(f));
      } else if (idx.size() >= 2 && ref > 0 && up < ref) {
        double per = topo::nvlink_bw_per_link(g.sm);
        Finding f = make_finding("nvlink.count_mismatch", s.host, subj,
                                 fmt::format("{} has {} active NVLinks, its {} peers {} ({} instead of {})", subj,
                                             up, idx.size() - 1, ref, gbps(up * per), gbps(ref * per)));
        f.expected = ref;
        f.measured = up;
        f.unit = "links";
        out.push_back(std::move(f));
      }
    }
  }
}

void check_gdr(const System& s, std::vector<Finding>& out) {
  if (s.gpus.empty()) return;
  std::vector<const topo::NicPort*> rdma;
  for (const auto& n : s.nics)
    if (n.rdma)
      for (const auto& p : n.ports) rdma.push_back(&p);
  bool rdma_nic = std::any_of(s.nics.begin(), s.nics.end(), [](const topo::Nic& n) { return n.rdma; });
  if (!rdma_nic) return;
  bool gpu_gdr_no = std::all_of(s.gpus.begin(), s.gpus.end(), [](const topo::Gpu& g) { return g.gdr == Tri::kNo; });
  bool gpu_gdr_yes = std::any_of(s.gpus.begin(), s.gpus.end(), [](const topo::Gpu& g) { return g.gdr == Tri::kYes; });
  bool nic_gdr_no = !rdma.empty() && std::all_of(rdma.begin(), rdma.end(), [](const topo::NicPort* p) { return p->gdr == Tri::kNo; });
  if (gpu_gdr_no) {
    // GeForce and similar boards do not support GPUDirect RDMA: a property, not a fix.
    Finding f = make_finding("gdr.unavailable", s.host, "GPUDirect RDMA",
                             "the GPUs do not support GPUDirect RDMA (gdr=0): network traffic is staged "
                             "through host memory");
    f.severity = Severity::kInfo;
    f.evidence.push_back(fmt::format("{} GPU(s) with gdr=0", s.gpus.size()));
    out.push_back(std::move(f));
    return;
  }
  if (nic_gdr_no && gpu_gdr_yes) {
    Finding f = make_finding("gdr.unavailable", s.host, "GPUDirect RDMA",
                             fmt::format("NCCL reported gdr=0 for all {} RDMA NIC port(s) while the GPUs "
                                         "support it: nvidia_peermem/DMA-BUF is missing",
                                         rdma.size()));
    for (const auto* p : rdma) f.evidence.push_back(p->subject() + " gdr=0");
    out.push_back(std::move(f));
    return;
  }
  if (s.peermem == Tri::kNo && s.dmabuf != Tri::kYes) {
    Finding f = make_finding("gdr.unavailable", s.host, "GPUDirect RDMA",
                             s.dmabuf == Tri::kNo
                                 ? "nvidia_peermem is not loaded and DMA-BUF is not supported"
                                 : "nvidia_peermem is not loaded (DMA-BUF support could not be confirmed)");
    if (s.dmabuf == Tri::kUnknown) f.severity = Severity::kInfo;
    f.evidence.push_back("module nvidia_peermem: absent; dma-buf: " + std::string(topo::to_string(s.dmabuf)));
    out.push_back(std::move(f));
  }
}

void check_bindings(const System& s, std::vector<Finding>& out) {
  if (s.bindings.empty()) return;
  std::set<int> numas;
  for (const auto& c : s.cpus)
    if (c.numa >= 0) numas.insert(c.numa);
  std::vector<int> unbound;
  for (const auto& b : s.bindings) {
    if (numas.size() > 1 && b.total_cpus > 0 && static_cast<int>(b.cpus.size()) >= b.total_cpus) {
      unbound.push_back(b.rank);
      continue;
    }
    const topo::Gpu* g = nullptr;
    std::size_t gi = 0;
    for (std::size_t i = 0; i < s.gpus.size(); ++i)
      if ((!b.gpu_bus_id.empty() && s.gpus[i].bus_id == b.gpu_bus_id) ||
          (b.gpu_bus_id.empty() && b.gpu_index >= 0 && s.gpus[i].index == b.gpu_index))
        g = &s.gpus[i], gi = i;
    if (!g || g->numa < 0 || b.numa_nodes.empty()) continue;
    if (std::find(b.numa_nodes.begin(), b.numa_nodes.end(), g->numa) != b.numa_nodes.end()) continue;
    const topo::CpuNode* gc = s.find_cpu(g->numa);
    bool same_package = gc && gc->package >= 0;
    for (int n : b.numa_nodes) {
      const topo::CpuNode* c = s.find_cpu(n);
      if (!c || !gc || c->package != gc->package || c->package < 0) same_package = false;
    }
    std::string subj = fmt::format("rank {} ({})", b.rank, s.gpu_subject(gi));
    std::vector<std::string> nn;
    for (int n : b.numa_nodes) nn.push_back(std::to_string(n));
    Finding f = make_finding("bind.rank_far_from_gpu", s.host, subj,
                             fmt::format("rank {} runs on NUMA node {} but its GPU is on NUMA node {}{}", b.rank,
                                         join(nn, ","), g->numa,
                                         same_package ? " (same socket: sub-NUMA clustering)" : ""));
    if (same_package) f.severity = Severity::kInfo;
    f.evidence.push_back("cores " + format_ranges(b.cpus));
    out.push_back(std::move(f));
  }
  if (!unbound.empty()) {
    Finding f = make_finding("bind.none", s.host, fmt::format("ranks {}", format_ranges(unbound)),
                             fmt::format("{} rank(s) may run on any of the host's cores across {} NUMA nodes",
                                         unbound.size(), numas.size()));
    out.push_back(std::move(f));
  }
}

void check_file_consistency(const System& s, std::vector<Finding>& out) {
  if (s.source == "live" || !s.nccl_tree) return;
  // CPU affinity masks.
  std::vector<const topo::CpuNode*> cpus;
  for (const auto& c : s.cpus)
    if (c.numa >= 0 && !c.cpus.empty()) cpus.push_back(&c);
  std::sort(cpus.begin(), cpus.end(), [](auto* a, auto* b) { return a->numa < b->numa; });
  std::vector<std::string> why;
  for (std::size_t i = 0; i < cpus.size(); ++i)
    for (std::size_t j = i + 1; j < cpus.size(); ++j) {
      if (cpus[i]->numa == cpus[j]->numa) continue;
      std::vector<int> both;
      std::set_intersection(cpus[i]->cpus.begin(), cpus[i]->cpus.end(), cpus[j]->cpus.begin(), cpus[j]->cpus.end(),
                            std::back_inserter(both));
      if (!both.empty())
        why.push_back(fmt::format("NUMA{} and NUMA{} both claim CPUs {}", cpus[i]->numa, cpus[j]->numa,
                                  format_ranges(both)));
      else if (cpus[i]->cpus.front() > cpus[j]->cpus.front())
        why.push_back(fmt::format("NUMA{} owns CPUs {} but NUMA{} owns {} (masks in reverse order: swapped?)",
                                  cpus[i]->numa, format_ranges(cpus[i]->cpus), cpus[j]->numa,
                                  format_ranges(cpus[j]->cpus)));
    }
  if (!why.empty()) {
    Finding f = make_finding("numa.affinity_invalid", s.host, "cpu affinity",
                             "the topology's CPU affinity masks are inconsistent: " + why.front());
    f.evidence = why;
    out.push_back(std::move(f));
  }
  // NVLink targets.
  std::set<std::pair<std::size_t, std::size_t>> reported;
  for (std::size_t a = 0; a < s.gpus.size(); ++a) {
    const auto& ga = s.gpus[a];
    std::map<std::string, int> to;
    for (const auto& l : ga.nvlinks)
      if (l.remote == topo::LinkRemote::kGpu && l.remote_bus_id != ga.bus_id) to[l.remote_bus_id] += l.count;
    for (const auto& [bus, count] : to) {
      int bi = gpu_of_bus(s, bus);
      if (bi < 0) continue;  // trimmed from the dump
      std::size_t b = static_cast<std::size_t>(bi);
      if (reported.count({std::min(a, b), std::max(a, b)})) continue;
      const auto& gb = s.gpus[b];
      int back = 0;
      for (const auto& l : gb.nvlinks)
        if (l.remote == topo::LinkRemote::kGpu && l.remote_bus_id == ga.bus_id) back += l.count;
      std::string subj = fmt::format("{}<->{}", s.gpu_subject(a), s.gpu_subject(b));
      const auto* da = s.find_pci(ga.bus_id);
      const auto* db = s.find_pci(gb.bus_id);
      std::string problem;
      if (back != count) {
        problem = fmt::format("{} lists {} NVLink(s) to {} but {} lists {} back", s.gpu_subject(a), count,
                              gb.bus_id, s.gpu_subject(b), back);
      } else if (ga.numa != gb.numa && da && db && pcie_card_gpu(da->device) && pcie_card_gpu(db->device)) {
        problem = fmt::format("NVLink bridge claimed between PCIe cards on different CPUs (NUMA {} and {})", ga.numa,
                              gb.numa);
      }
      if (problem.empty()) continue;
      reported.insert({std::min(a, b), std::max(a, b)});
      Finding f = make_finding("nvlink.target_suspect", s.host, subj, problem);
      f.evidence.push_back(fmt::format("{} nvlink target={} count={}", ga.bus_id, bus, count));
      out.push_back(std::move(f));
    }
  }
  // link_speed strings NCCL misreads.
  std::map<std::string, std::vector<std::string>> misread;
  for (const auto& d : s.pci) {
    double real = topo::parse_pcie_speed(d.speed_text);
    if (real <= 0) continue;
    double nccl = topo::nccl_reads_speed(d.speed_text);
    if (std::fabs(real - nccl) > 0.01) misread[d.speed_text].push_back(d.bus_id);
  }
  for (const auto& [text, buses] : misread) {
    double real = topo::parse_pcie_speed(text), nccl = topo::nccl_reads_speed(text);
    Finding f = make_finding("pcie.speed_misread", s.host, fmt::format("link_speed \"{}\"", text),
                             fmt::format("NCCL reads link_speed \"{}\" as {:g} GT/s (Gen{}), not Gen{}: it plans "
                                         "{} link(s) at {} of their bandwidth",
                                         text, nccl, topo::pcie_gen(nccl), topo::pcie_gen(real), buses.size(),
                                         fmt::format("{:.0f}%", 100.0 * topo::pcie_bw(nccl, 16) / topo::pcie_bw(real, 16))));
    f.evidence.push_back("devices: " + join(buses, " "));
    f.expected = topo::pcie_bw(real, 16);
    f.measured = topo::pcie_bw(nccl, 16);
    f.unit = "GB/s per x16";
    out.push_back(std::move(f));
  }
}

// ---- checks over all hosts -------------------------------------------------------------------

struct PortRef {
  std::size_t host, nic, port;
};

/// The NIC's own model: its PCI function's vendor:device, never a parent bridge's. Without one
/// (virtual NICs, NICs under a virtual bridge), the transport and the device-name family.
std::string nic_model(const System& s, const topo::Nic& n) {
  const auto* d = n.bus_id.empty() || !n.own_pci ? nullptr : s.find_pci(n.bus_id);
  if (d && d->vendor) return fmt::format("{:04x}:{:04x}", d->vendor, d->device);
  std::string fam = n.ports.empty() ? n.name : n.ports.front().name;
  auto cut = fam.find_first_of("0123456789_");
  return fmt::format("?{}:{}", topo::to_string(n.kind), fam.substr(0, cut));
}

void check_ports(const std::vector<System>& hosts, const std::vector<std::size_t>& weight, std::vector<Finding>& out) {
  std::map<std::string, std::vector<PortRef>> by_model;   // rate groups
  std::map<std::string, std::vector<PortRef>> by_layer;   // MTU groups
  for (std::size_t h = 0; h < hosts.size(); ++h) {
    const System& s = hosts[h];
    for (std::size_t n = 0; n < s.nics.size(); ++n) {
      const auto& nic = s.nics[n];
      for (std::size_t p = 0; p < nic.ports.size(); ++p) {
        const auto& port = nic.ports[p];
        if (!nic.rdma) continue;
        if (!is_active(port)) {
          std::string subj = port.subject();
          Finding f = make_finding("nic.port_down", s.host, subj,
                                   fmt::format("{} is {}{}", subj, port.state.empty() ? "down" : port.state,
                                               port.phys_state.empty() ? "" : " (physical: " + port.phys_state + ")"));
          f.evidence.push_back(fmt::format("state \"{}\", phys_state \"{}\", link layer {}", port.state,
                                           port.phys_state, port.link_layer.empty() ? "?" : port.link_layer));
          out.push_back(std::move(f));
          continue;
        }
        if (port.rate_gbps > 0) by_model[nic_model(s, nic) + "|" + port.link_layer].push_back({h, n, p});
        if (port.mtu > 0) by_layer[port.link_layer].push_back({h, n, p});
      }
    }
  }
  auto port_of = [&](const PortRef& r) -> const topo::NicPort& { return hosts[r.host].nics[r.nic].ports[r.port]; };
  auto weights_of = [&](const std::vector<PortRef>& refs) {
    std::vector<std::size_t> w;
    std::size_t total = 0;
    for (const auto& r : refs) w.push_back(weight[r.host]), total += weight[r.host];
    return std::make_pair(w, total);
  };
  for (const auto& [model, refs] : by_model) {
    auto [w, total] = weights_of(refs);
    if (total < 2) continue;
    std::vector<double> rates;
    for (const auto& r : refs) rates.push_back(port_of(r).rate_gbps);
    double ref = reference_value(rates, w);
    for (const auto& r : refs) {
      const auto& p = port_of(r);
      if (p.rate_gbps >= ref - 0.001) continue;
      Finding f = make_finding("nic.rate_low", hosts[r.host].host, p.subject(),
                               fmt::format("{} links at {:g} Gb/s, its peers at {:g} Gb/s", p.subject(), p.rate_gbps, ref));
      if (!p.rate_text.empty()) f.evidence.push_back("rate: " + p.rate_text);
      f.evidence.push_back(fmt::format("{} port(s) of NIC model {} compared", total, model.substr(0, model.find('|'))));
      f.expected = ref;
      f.measured = p.rate_gbps;
      f.unit = "Gb/s";
      out.push_back(std::move(f));
    }
  }
  for (const auto& [layer, refs] : by_layer) {
    auto [w, total] = weights_of(refs);
    if (total < 2) continue;
    std::vector<int> mtus;
    for (const auto& r : refs) mtus.push_back(port_of(r).mtu);
    int ref = reference_value(mtus, w);
    std::size_t at_ref = 0;
    for (std::size_t i = 0; i < mtus.size(); ++i)
      if (mtus[i] == ref) at_ref += w[i];
    for (const auto& r : refs) {
      const auto& p = port_of(r);
      if (p.mtu == ref) continue;
      Finding f = make_finding("nic.mtu_mismatch", hosts[r.host].host, p.subject(),
                               fmt::format("{} ({}) has MTU {}, the other {} port(s) {}", p.subject(),
                                           p.netdev.empty() ? "?" : p.netdev, p.mtu,
                                           layer.empty() ? "RDMA" : layer, ref));
      f.evidence.push_back(fmt::format("MTU {} on {} of {} {} port(s)", ref, at_ref, total, layer.empty() ? "RDMA" : layer));
      out.push_back(std::move(f));
    }
  }
}

/// Same device (bus id, vendor:device) narrower on one host than on its peers: for NCCL dumps,
/// which carry max values only.
void check_widths_across_hosts(const std::vector<System>& hosts, const std::vector<std::size_t>& weight,
                               std::vector<Finding>& out) {
  std::size_t all = 0;
  for (std::size_t w : weight) all += w;
  if (all < 2) return;
  struct Entry {
    std::size_t host;
    int width;
  };
  std::map<std::string, std::vector<Entry>> by_dev;
  for (std::size_t h = 0; h < hosts.size(); ++h) {
    const System& s = hosts[h];
    auto rel = relevant_pci(s);
    for (const auto& bus : link_positions(s, rel)) {
      const auto* d = s.find_pci(bus);
      if (!d || !d->link_quirk.empty()) continue;
      int w = d->link.cur_width > 0 ? d->link.cur_width : d->link.max_width;
      if (w <= 0) continue;
      by_dev[fmt::format("{}|{:x}:{:x}", bus, d->vendor, d->device)].push_back({h, w});
    }
  }
  std::set<std::pair<std::string, std::string>> already;  // (host, subject) flagged live
  for (const auto& f : out)
    if (f.id == "pcie.link_degraded") already.insert({f.host, f.subject});
  for (const auto& [key, entries] : by_dev) {
    std::vector<int> widths;
    std::vector<std::size_t> w;
    std::size_t total = 0;
    for (const auto& e : entries) widths.push_back(e.width), w.push_back(weight[e.host]), total += weight[e.host];
    if (total < 2) continue;
    int ref = reference_value(widths, w);
    std::string bus = key.substr(0, key.find('|'));
    for (const auto& e : entries) {
      if (e.width >= ref) continue;
      const System& s = hosts[e.host];
      std::string subj = pci_subject(s, bus);
      if (already.count({s.host, subj})) continue;
      const auto* d = s.find_pci(bus);
      double gts = d->link.max_gts > 0 ? d->link.max_gts : d->link.cur_gts;
      std::vector<std::string> peers;
      std::size_t npeers = 0;
      for (const auto& o : entries)
        if (o.width >= ref) peers.push_back(hosts[o.host].host), npeers += weight[o.host];
      Finding f = make_finding("pcie.link_degraded", s.host, subj,
                               fmt::format("{} PCIe link is x{} on {} but x{} on {}: {} instead of {}", subj, e.width,
                                           s.host, ref, npeers > 3 ? fmt::format("{} other hosts", npeers) : join(peers, ", "),
                                           gbps(topo::pcie_bw(gts, e.width)), gbps(topo::pcie_bw(gts, ref))));
      f.evidence.push_back(fmt::format("same device {} at the same bus id on every host", key.substr(key.find('|') + 1)));
      if (topo::pcie_bw(gts, ref) > 0) {
        f.expected = topo::pcie_bw(gts, ref);
        f.measured = topo::pcie_bw(gts, e.width);
        f.unit = "GB/s";
      }
      out.push_back(std::move(f));
    }
  }
}

void check_hosts(const std::vector<System>& hosts, const std::vector<std::size_t>& weight, std::vector<Finding>& out) {
  std::size_t all = 0;
  for (std::size_t w : weight) all += w;
  if (all < 2) return;
  // GPU count.
  std::vector<std::size_t> counts;
  for (const auto& s : hosts) counts.push_back(s.gpus.size());
  std::size_t ref = reference_value(counts, weight);
  std::map<std::size_t, std::vector<std::string>> odd;
  for (const auto& s : hosts)
    if (s.gpus.size() != ref) odd[s.gpus.size()].push_back(s.host);
  std::set<std::string> count_hosts;
  for (const auto& [n, names] : odd) {
    Finding f = make_finding("gpu.count_mismatch", names.front(), join(names, ","),
                             fmt::format("{}: {} GPU{}, others {}", join(names, ","), n, n == 1 ? "" : "s", ref));
    f.expected = static_cast<double>(ref);
    f.measured = static_cast<double>(n);
    out.push_back(std::move(f));
    count_hosts.insert(names.begin(), names.end());
  }
  // Fingerprints.
  std::vector<topo::Fingerprint> fps;
  for (const auto& s : hosts) fps.push_back(topo::fingerprint(s));
  std::map<std::string, std::vector<std::size_t>> groups;
  for (std::size_t h = 0; h < hosts.size(); ++h) groups[fps[h].digest].push_back(h);
  if (groups.size() < 2) return;
  std::size_t major = 0;
  std::string major_key;
  for (const auto& [k, v] : groups) {
    std::size_t n = 0;
    for (std::size_t h : v) n += weight[h];
    if (n > major || (n == major && v.front() < groups[major_key].front())) major = n, major_key = k;
  }
  std::size_t ref_host = groups[major_key].front();
  for (const auto& [k, members] : groups) {
    if (k == major_key) continue;
    std::vector<std::string> names;
    std::vector<std::string> diff;
    for (std::size_t h : members) {
      if (count_hosts.count(hosts[h].host)) continue;
      // Differences another finding already names (same host, a bus id or port in its subject).
      std::vector<std::string> mine;
      for (const auto& d : topo::fingerprint_diff(fps[ref_host], fps[h])) {
        bool explained = false;
        for (const auto& f : out) {
          if (f.host != hosts[h].host && f.host != hosts[ref_host].host) continue;
          for (const auto& word : split(f.subject, ' '))
            if (word.size() >= 7 && d.find(word) != std::string::npos) explained = true;
        }
        if (!explained) mine.push_back(d);
      }
      if (mine.empty()) continue;
      names.push_back(hosts[h].host);
      if (diff.empty()) diff = mine;
    }
    if (names.empty()) continue;
    std::string gone, added;
    for (const auto& d : diff) {
      if (gone.empty() && d.rfind("- ", 0) == 0) gone = d.substr(2);
      if (added.empty() && d.rfind("+ ", 0) == 0) added = d.substr(2);
    }
    std::string what = !gone.empty() && !added.empty() ? fmt::format("\"{}\" there, \"{}\" here", gone, added)
                       : !gone.empty()                  ? fmt::format("lacks \"{}\"", gone)
                                                        : fmt::format("has extra \"{}\"", added);
    Finding f = make_finding("topo.differs", names.front(), join(names, ","),
                             fmt::format("{} topology differs from {} ({} of {} hosts alike) in {} item(s): {}",
                                         join(names, ","), hosts[ref_host].host, major, all, diff.size(), what));
    f.evidence = diff;
    out.push_back(std::move(f));
  }
}

}  // namespace

std::string pci_subject(const System& s, const std::string& bus_id) {
  int g = gpu_of_bus(s, bus_id);
  if (g >= 0) return s.gpu_subject(static_cast<std::size_t>(g));
  int n = nic_of_bus(s, bus_id);
  if (n >= 0) {
    const auto& nic = s.nics[static_cast<std::size_t>(n)];
    return nic.name == bus_id ? "NIC " + bus_id : nic.name + " " + bus_id;
  }
  const auto* d = s.find_pci(bus_id);
  if (d && d->kind == PciKind::kNvSwitch) return "NVSwitch " + bus_id;
  return "bridge " + bus_id;
}

std::vector<Finding> check_topology(const std::vector<System>& hosts) {
  return check_topology(hosts, std::vector<std::size_t>(hosts.size(), 1));
}

std::vector<Finding> check_rank_bindings(const System& host) {
  std::vector<Finding> out;
  check_bindings(host, out);
  return out;
}

std::vector<Finding> check_topology(const std::vector<System>& hosts, const std::vector<std::size_t>& weights) {
  std::vector<Finding> out;
  for (const auto& s : hosts) {
    check_links(s, out);
    check_sibling_widths(s, out);
    check_acs_iommu(s, out);
    check_nic_placement(s, out);
    check_nvlinks(s, out);
    check_gdr(s, out);
    check_bindings(s, out);
    check_file_consistency(s, out);
  }
  check_ports(hosts, weights, out);
  check_widths_across_hosts(hosts, weights, out);
  check_hosts(hosts, weights, out);
  sort_findings(out);
  return out;
}

std::vector<std::string> topology_notes(const std::vector<System>& hosts) {
  std::vector<std::string> notes;
  for (const auto& s : hosts) {
    std::string pre = hosts.size() > 1 ? s.host + ": " : "";
    auto rel = relevant_pci(s);
    int acs_unknown = 0;
    std::set<std::string> quirks;
    for (const auto& bus : rel) {
      const auto* d = s.find_pci(bus);
      if (!d) continue;
      if (d->kind == PciKind::kBridge && d->acs_redirect == Tri::kUnknown) ++acs_unknown;
      if (!d->link_quirk.empty()) quirks.insert(d->link_quirk);
    }
    if (s.source == "live" && acs_unknown > 0)
      notes.push_back(pre + fmt::format("ACS of {} bridge(s) above GPUs/NICs is unknown (reading PCI config "
                                        "space needs root)", acs_unknown));
    for (const auto& q : quirks) notes.push_back(pre + "link readings treated as unknown: " + q);
    if (s.max_only)
      notes.push_back(pre + "NCCL topology files carry max link values only: trained-down links show only "
                            "when hosts are compared");
    for (const auto& n : s.notes) notes.push_back(pre + n);
    std::size_t unknown_pairs = 0;
    for (const auto& row : s.paths.gpu_gpu)
      for (const auto& p : row) unknown_pairs += p.nvlink_unknown;
    if (unknown_pairs > 0)
      notes.push_back(pre + fmt::format("NVLink state unknown ({}): {} GPU pair(s) that could be NVLinked show \"?\" "
                                        "instead of a PCIe/SYS path; run live with NVML or give an NCCL topology dump",
                                        s.source == "live" ? "no NVML" : "the input has no NVLink data",
                                        unknown_pairs / 2));
    for (const auto& n : s.nics)
      if (n.kind == topo::NicKind::kUnknown)
        notes.push_back(pre + fmt::format("NIC {}: RDMA or socket transport unknown{}{}; not used by the RDMA checks",
                                          n.name, n.kind_why.empty() ? "" : " (signals: ", n.kind_why.empty() ? "" : n.kind_why + ")"));
  }
  return notes;
}

// The family: one topology model per node, each checked and the nodes compared.
std::vector<std::string> topology_check_ids() {
  return {"bind.", "gdr.", "gpu.", "iommu.", "nic.", "numa.", "nvlink.", "pcie.", "topo.differs"};
}

NCD_REGISTER_FAMILY({"topo.hosts", "topo", topology_check_ids(), "topology model",
                     [](const Evidence& ev) { return ev.systems && !ev.systems->empty(); },
                     [](const Evidence& ev, CheckRun& run) {
                       auto found = check_topology(*ev.systems);
                       run.findings.insert(run.findings.end(), found.begin(), found.end());
                       auto notes = topology_notes(*ev.systems);
                       run.notes.insert(run.notes.end(), notes.begin(), notes.end());
                     }});

}  // namespace ncd::checks
