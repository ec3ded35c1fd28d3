// SPDX-License-Identifier: Apache-2.0
#pragma once
/// The topology as NCCL's graph search sees it (nccl-internals.md §1, §4): typed nodes (GPU,
/// PCI, NVS, CPU, NIC, NET) joined by directional links whose bandwidth the search spends,
/// and NCCL's paths (lists of links) between them, with the P2P, GDR and PXN rules of
/// ncclTopoComputePaths. Written from the reference and NCCL 2.28's graph/paths.cc, topo.cc as
/// reading material. Pure; built from a topo::System.
#include <cstdint>
#include <string>
#include <vector>

#include "topo/model.hpp"

namespace ncd::nccl::search {

/// NCCL node types (topo.h): the numbers index SearchSystem::of.
enum NodeKind : int { kGpu = 0, kPci = 1, kNvs = 2, kCpu = 3, kNic = 4, kNet = 5, kNodeKinds = 6 };
/// Link types; values equal the path types they produce (topo.h:47-58).
enum LinkKind : int { kLinkLoc = 0, kLinkNvl = 1, kLinkC2c = 3, kLinkPci = 4, kLinkSys = 9, kLinkNet = 10 };
/// Path types with NCCL 2.28 values (topo::PathType's numbering).
enum PathKind : int {
  kPathLoc = 0, kPathNvl = 1, kPathNvb = 2, kPathC2c = 3, kPathPix = 4, kPathPxb = 5,
  kPathP2c = 6, kPathPxn = 7, kPathPhb = 8, kPathSys = 9, kPathNet = 10, kPathDis = 11
};

struct Link {
  int to = 0;     ///< node id
  int type = kLinkPci;
  double bw = 0;  ///< GB/s left; the search subtracts from it
};

struct Node {
  NodeKind kind = kPci;
  int index = 0;      ///< index among nodes of its kind (NCCL's order)
  std::vector<Link> links;
  // GPU
  int dev = -1, sm = 0, rank = -1;
  bool gdr = false;
  bool p2p_blocked = false;  ///< NVML would refuse P2P over PCIe (GeForce board)
  // CPU
  bool intel = false, amd = false, x86 = false, power = false;
  // NET
  std::int64_t net_dev = -1;
  std::string asic;  ///< guid: NETs of one asic share bandwidth
  int port = 0;
  double net_bw = 0;
  int local_gpu = -1;
  std::string name;  ///< "GPU3", "mlx5_0/1", "CPU0", ...
};

/// A path: the links (node id, link index) walked from `from` to `to`.
struct Path {
  std::vector<std::pair<int, int>> hops;
  int type = kPathDis;
  double bw = 0;
  [[nodiscard]] int count() const { return static_cast<int>(hops.size()); }
};

struct SearchOptions {
  bool inter = false;           ///< the job spans nodes: channels go NET -> GPUs -> NET
  int p2p_level = -1;           ///< NCCL_P2P_LEVEL as a path type; -1 default
  int gdr_level = -1;           ///< NCCL_NET_GDR_LEVEL; -1 default (PXB)
  bool pxn_disable = false;     ///< NCCL_PXN_DISABLE=1
  bool assume_p2p_ok = false;   ///< ignore the GeForce P2P rule (the NVML answer is not in a dump)
  int version = 228;            ///< 218: NCCL 2.18's bandwidth constants
};

struct SearchSystem {
  std::vector<Node> nodes;
  std::vector<int> of[kNodeKinds];          ///< node ids per kind, in NCCL's order
  std::vector<std::vector<Path>> to_base;   ///< [base node][node]: path node -> base
  bool inter = false;
  double max_bw = 0, total_bw = 0;
  bool cpu_x86 = false, cpu_intel = false, cpu_amd = false;
  std::vector<std::string> notes;
  std::vector<std::vector<int>> net_of_channel;  ///< [gpu][channel]: local_net, once paths are final

  [[nodiscard]] const Path& path(int from, int to) const { return to_base[static_cast<std::size_t>(to)][static_cast<std::size_t>(from)]; }
  [[nodiscard]] Path& path(int from, int to) { return to_base[static_cast<std::size_t>(to)][static_cast<std::size_t>(from)]; }
  [[nodiscard]] int gpu(int i) const { return of[kGpu][static_cast<std::size_t>(i)]; }
  [[nodiscard]] int net(int i) const { return of[kNet][static_cast<std::size_t>(i)]; }
  [[nodiscard]] int count(NodeKind k) const { return static_cast<int>(of[k].size()); }
  /// ncclTopoGetLocal: indices of `result` nodes with the best path (bw, then type) from node.
  [[nodiscard]] std::vector<int> local(int node, NodeKind result, int* type = nullptr) const;
  /// ncclTopoGetLocalNet: NET index a GPU uses on channel c (NETDEVS_POLICY=AUTO).
  [[nodiscard]] int local_net(int gpu_index, int channel) const;
  /// ncclTopoGetLocalGpu: GPU index owning a NET, or -1.
  [[nodiscard]] int local_gpu(int net_index) const;
  /// Lowest / highest GPU->kind path type (ncclTopoGetGpuMinPath / MaxPath).
  [[nodiscard]] int gpu_min_path(NodeKind k) const;
  [[nodiscard]] int gpu_max_path(NodeKind k) const;
  /// Two NVLink islands joined by a slower link (ncclTopoSplitNvLink).
  [[nodiscard]] bool split_nvlink() const;
  [[nodiscard]] int cc_min() const;
};

/// Builds NCCL's search system from a topology (paths computed inside).
[[nodiscard]] SearchSystem build_search_system(const topo::System& s, const SearchOptions& o);

/// True for GeForce boards on which the driver refuses PCIe P2P (NVML reports it unsupported):
/// RTX 3090/3080/4090/5090 ... (a topology dump does not carry NVML's answer).
[[nodiscard]] bool geforce_p2p_blocked(std::uint32_t vendor, std::uint32_t device);

}  // namespace ncd::nccl::search
