// SPDX-License-Identifier: Apache-2.0
#pragma once
/// The per-host topology model (ARCHITECTURE §4): CPUs/NUMA nodes, the PCI tree with each
/// link's current and max speed/width, GPUs with NVLinks, NICs with ports, NVSwitches, ACS,
/// IOMMU, peermem/dma-buf, versions, rank bindings, and the computed NCCL paths.
/// Unknown values are kept unknown (0, -1, "" or Tri::kUnknown), never read as "slow".
#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace ncd::topo {

/// A fact that may be unknown (ACS without root, dma-buf without CUDA, ...).
enum class Tri { kUnknown = 0, kNo = 1, kYes = 2 };
[[nodiscard]] std::string_view to_string(Tri t);

/// NCCL path types with NCCL 2.28's values (nccl-internals.md §1.2); order = worse.
enum class PathType { kLOC = 0, kNVL, kNVB, kC2C, kPIX, kPXB, kP2C, kPXN, kPHB, kSYS, kNET, kDIS };
[[nodiscard]] std::string_view to_string(PathType t);
/// Parses "NVL", "PIX", ... (case-insensitive); kDIS for anything else.
[[nodiscard]] PathType parse_path_type(std::string_view s);

/// What a PCI function is, from its class code and what hangs below it.
enum class PciKind { kBridge, kGpu, kNic, kNvSwitch, kOther };
[[nodiscard]] std::string_view to_string(PciKind k);

/// The link between a PCI function and its upstream port. Speeds in GT/s per lane (2.5, 5, 8,
/// 16, 32, 64); 0 = unknown. Width in lanes; 0 = unknown (VMs report 0).
struct PciLink {
  double cur_gts = 0;
  int cur_width = 0;
  double max_gts = 0;
  int max_width = 0;
};

/// One PCI function (endpoint or bridge/switch port).
struct PciDevice {
  std::string bus_id;   ///< "0000:1b:00.0", lower case
  std::string parent;   ///< bus id of the upstream bridge in this model; "" = below the CPU node
  int numa = -1;        ///< NUMA node (CPU node) the tree hangs from; -1 unknown
  PciKind kind = PciKind::kOther;
  std::uint32_t class_code = 0;  ///< 24-bit class, e.g. 0x030200; 0 unknown
  std::uint32_t vendor = 0, device = 0, subsystem_vendor = 0, subsystem_device = 0;
  PciLink link;
  double link_gbps = 0;    ///< current link bandwidth as hwloc reports it (raw GB/s, all lanes); 0 unknown
  std::string speed_text;  ///< the speed string as read (file or sysfs), for evidence
  /// Set when the reading is known to be meaningless (a vendor or VM quirk, named here):
  /// the link then counts as unknown for bandwidth and checks.
  std::string link_quirk;
  Tri acs_redirect = Tri::kUnknown;  ///< ACS P2P request/completion redirect enabled
  std::string acs_detail;            ///< e.g. "ACSCtl SrcValid+ ReqRedir+ CmpltRedir+"
  std::string iommu_group_type;      ///< "DMA", "DMA-FQ", "identity", "" unknown
};

/// Which device an NVLink lands on.
enum class LinkRemote { kUnknown, kGpu, kNvSwitch, kCpu };
[[nodiscard]] std::string_view to_string(LinkRemote r);

/// One NVLink (live: one per link index) or a group of links to one target (NCCL XML:
/// `<nvlink target count>`; then `link` is -1 and `count` the number of active links).
struct NvLink {
  int link = -1;
  std::string remote_bus_id;  ///< "" when unknown
  LinkRemote remote = LinkRemote::kUnknown;
  int count = 1;
  Tri active = Tri::kYes;  ///< NCCL XML lists active links only
  int version = 0;         ///< NVLink version (NVML), 0 unknown
  bool xgmi = false;       ///< AMD xGMI (RCCL dialect), not NVLink
};

struct Gpu {
  int index = -1;        ///< NVML / CUDA index (`dev` in NCCL XML); -1 unknown
  std::string bus_id;
  std::string name;      ///< "NVIDIA H100 80GB HBM3"
  std::string uuid;
  int sm = 0;            ///< compute capability major*10+minor; 0 unknown
  std::uint64_t memory_bytes = 0;
  int numa = -1;
  std::vector<int> local_cpus;
  Tri gdr = Tri::kUnknown;  ///< GPUDirect RDMA supported (NCCL XML `gdr`)
  int rank = -1;            ///< NCCL rank in a dump
  std::vector<NvLink> nvlinks;
  double c2c_gbps = 0;      ///< Grace C2C bandwidth, 0 none/unknown
  int pcie_gen_cur = 0, pcie_gen_max = 0, pcie_width_cur = 0, pcie_width_max = 0;  ///< NVML
  /// Active NVLinks (sum of counts of active entries).
  [[nodiscard]] int nvlinks_up() const;
  /// Known-inactive NVLinks (live NVML only).
  [[nodiscard]] int nvlinks_down() const;
};

/// One port of a NIC (an IB/RoCE port, or one NCCL `<net>`).
struct NicPort {
  std::string name;        ///< NCCL net / RDMA device name ("mlx5_0", "eth0")
  int port = 1;
  int net_dev = -1;        ///< NCCL net `dev`
  std::string state;       ///< "ACTIVE", "DOWN", "INIT", "" unknown
  std::string phys_state;  ///< "LinkUp", "Polling", "Disabled", "" unknown
  double rate_gbps = 0;    ///< Gb/s (IB rate, or NCCL speed/1000); 0 unknown
  std::string rate_text;   ///< "400 Gb/sec (4X NDR)"
  std::string link_layer;  ///< "InfiniBand", "Ethernet", ""
  std::string netdev;      ///< "ib0", "ens1f0np0"
  int mtu = 0;             ///< netdev MTU, 0 unknown
  std::string operstate;   ///< netdev operstate
  std::string guid;
  Tri gdr = Tri::kUnknown;
  [[nodiscard]] std::string subject() const;  ///< "mlx5_0/1"
};

/// How NCCL uses a NIC (nic_class.hpp): an RDMA transport, its socket transport, or unknown
/// when the input's signals disagree or say nothing.
enum class NicKind { kUnknown = 0, kRdma = 1, kSocket = 2 };
[[nodiscard]] std::string_view to_string(NicKind k);

struct Nic {
  std::string bus_id;  ///< "" for a virtual/non-PCI NIC
  std::string name;    ///< device name ("mlx5_0"), or the first port's name
  int numa = -1;
  bool rdma = false;   ///< kind == kRdma (kept for readers of older JSON)
  NicKind kind = NicKind::kUnknown;
  std::string kind_why;  ///< the signals behind `kind`
  /// The NIC's own PCI function is known (not a parent bridge or a virtual NIC): its
  /// vendor:device names the model.
  bool own_pci = true;
  std::vector<NicPort> ports;
};

struct CpuNode {
  int numa = -1;
  int package = -1;            ///< socket; -1 unknown (NCCL XML does not say)
  std::string affinity_text;   ///< cpumap text as read ("0000ffff,0000ffff")
  std::vector<int> cpus;
  std::string arch, vendor;    ///< "x86_64", "GenuineIntel"
  int family = 0, model = 0;
};

/// Where one rank runs and which GPU it drives.
struct RankBinding {
  int rank = 0;
  std::vector<int> cpus;         ///< sched_getaffinity
  std::vector<int> numa_nodes;   ///< NUMA nodes of those cores
  int gpu_index = -1;            ///< CUDA/NVML index of the rank's GPU (-1 unknown)
  std::string gpu_bus_id;
  int total_cpus = 0;            ///< online CPUs of the host (binding "none" = all of them)
};

/// One computed path (paths.hpp).
struct PathInfo {
  PathType type = PathType::kDIS;      ///< NCCL's effective type (after PXN/GDR rules)
  PathType pci_type = PathType::kDIS;  ///< type from the wiring alone (before PXN/GDR rules)
  double bw_gbps = 0;                  ///< expected GB/s; 0 unknown
  std::string bottleneck;              ///< the slowest known link, e.g. "PCIe 0000:1b:00.0 Gen4 x16"
  int hops = 0;
  std::string via;                     ///< PXN: bus id of the intermediate GPU
  /// GPU-GPU: the input cannot tell whether this pair is NVLinked (hwloc or sysfs without NVML,
  /// a PCI-only topology file): type and bandwidth are shown as "?", not as the PCIe path.
  bool nvlink_unknown = false;
};

/// Computed paths; rebuilt by compute_paths (also after loading JSON).
struct PathTable {
  std::vector<std::vector<PathInfo>> gpu_gpu;  ///< [gpu][gpu]
  std::vector<std::vector<PathInfo>> gpu_nic;  ///< [gpu][nic], best port
  std::vector<int> nearest_nic;                ///< [gpu] -> nic index, -1 none
};

/// One host's topology.
struct System {
  std::string host;
  std::string source;  ///< "live", or the file it came from
  /// True when the PCI tree is NCCL's (one node per switch, from NCCL XML); false for a full
  /// tree (hwloc, sysfs) that compute_paths collapses with NCCL's two-level rule.
  bool nccl_tree = false;
  /// True when link values are max-only (NCCL dumps): current values are unknown.
  bool max_only = false;
  std::vector<CpuNode> cpus;
  std::vector<PciDevice> pci;
  std::vector<Gpu> gpus;
  std::vector<Nic> nics;
  std::vector<std::string> nvswitches;  ///< NVSwitch bus ids (may be unknown ids from NVLink targets)
  std::string iommu_mode;               ///< "translated", "passthrough", "off", "" unknown
  Tri peermem = Tri::kUnknown;          ///< nvidia_peermem (or nv_peer_mem) loaded
  Tri dmabuf = Tri::kUnknown;           ///< DMA-BUF GPU memory registration possible
  std::map<std::string, std::string> versions;  ///< driver, cuda, nccl, mpi, hwloc, kernel
  std::vector<RankBinding> bindings;
  /// The input does not say which GPUs are NVLinked (hwloc/sysfs without NVML, PCI-only files).
  bool nvlink_unknown = false;
  std::vector<std::string> notes;       ///< what could not be read, quirks applied
  PathTable paths;                      ///< computed, not serialised as input

  [[nodiscard]] const PciDevice* find_pci(std::string_view bus_id) const;
  [[nodiscard]] PciDevice* find_pci(std::string_view bus_id);
  [[nodiscard]] const Gpu* find_gpu_by_bus(std::string_view bus_id) const;
  [[nodiscard]] const CpuNode* find_cpu(int numa) const;
  /// Path between two GPUs (indices into gpus); compute_paths must have run.
  [[nodiscard]] const PathInfo& gpu_path(std::size_t a, std::size_t b) const;
  /// Path from a GPU to a NIC (indices into gpus / nics), its best port.
  [[nodiscard]] const PathInfo& nic_path(std::size_t gpu, std::size_t nic) const;
  /// "GPU3 0000:1b:00.0"
  [[nodiscard]] std::string gpu_subject(std::size_t gpu) const;
};

/// Input text made safe for reports: printable ASCII kept, anything else (control bytes,
/// invalid or non-ASCII UTF-8 from a corrupt file) replaced by '?'. Capped at 256 characters.
[[nodiscard]] std::string printable(std::string_view s);
/// True for PCI functions that are RDMA NICs by class or id: InfiniBand class 0x0207, AWS EFA
/// (0x1d0f:0xefa0-0xefa3; the ENA 0x1d0f:0xec20 is not RDMA).
[[nodiscard]] bool is_rdma_pci(std::uint32_t class_code, std::uint32_t vendor, std::uint32_t device);
/// Normalises a PCI bus id to "dddd:bb:dd.f" lower case ("0000:1B:00.0", "1b:00.0",
/// "00000000:1B:00.0" from NVML). Returns the input lower-cased when it is not a bus id.
[[nodiscard]] std::string normalize_bus_id(std::string_view s);
/// Parses a Linux cpumap ("0000ffff,0000ffff": 32-bit hex words, most significant first) or a
/// cpulist ("0-15,32-47"). Returns the CPU numbers, sorted; empty on bad input.
[[nodiscard]] std::vector<int> parse_cpumap(std::string_view s);
[[nodiscard]] std::vector<int> parse_cpulist(std::string_view s);
/// Parses a PCIe speed string ("16.0 GT/s PCIe", "16 GT/s", "32 GT/s PCIe/s", "8.0 GT/s",
/// "Unknown"); 0 when unknown.
[[nodiscard]] double parse_pcie_speed(std::string_view s);
/// PCIe generation of a per-lane speed (2.5 -> 1 ... 64 -> 6); 0 unknown.
[[nodiscard]] int pcie_gen(double gts);
/// The PCI functions a topology keeps from a probe's full list (hwloc or sysfs): every GPU,
/// NIC and NVSwitch and each bridge above it, up to the root (a parent missing from `all`
/// ends the climb); other endpoints and bridges with nothing kept below are pruned. Bus ids,
/// in bus order.
[[nodiscard]] std::set<std::string> pci_functions_to_keep(const std::vector<const PciDevice*>& all);

void to_json(nlohmann::json& j, const System& s);
void from_json(const nlohmann::json& j, System& s);
/// Reads a model from a report written by another version, one part at a time: a part of an
/// unexpected type ("gpus": "x", a CPU whose numa is text) is left out and its key named in
/// `unread`, the rest is read (renderers draw what they can and say what they could not).
[[nodiscard]] System system_from_json_lenient(const nlohmann::json& j, std::vector<std::string>& unread);
/// The model as JSON (schema nccl-doctor/topology/v1), with computed paths for readers.
[[nodiscard]] nlohmann::json system_to_json(const System& s);
/// Reads system_to_json output (or a report with hosts[].topology: the first host). Recomputes
/// the paths. Throws InputError naming `source` on bad input.
[[nodiscard]] System system_from_json(const std::string& text, const std::string& source);
/// All hosts of a saved file (a single system or a report with several hosts).
[[nodiscard]] std::vector<System> systems_from_json(const std::string& text, const std::string& source);

}  // namespace ncd::topo
