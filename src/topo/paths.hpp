// SPDX-License-Identifier: Apache-2.0
#pragma once
/// NCCL's path classification (nccl-internals.md §1.3) for every GPU-GPU and GPU-NIC pair, with
/// the bottleneck link and the expected bandwidth (bandwidth.hpp). Pure.
#include <string>
#include <vector>

#include "topo/model.hpp"

namespace ncd::topo {

/// Fills `s.paths` (GPU x GPU, GPU x NIC, nearest NIC per GPU) with NCCL's rules:
/// breadth-first, fewest hops then highest bottleneck bandwidth; through a GPU only as one
/// NVLink hop (NVB); PCI-PCI hops PXB; PCI hops touching a CPU PHB; CPU-CPU SYS; NVSwitch
/// NVL; then for GPU-NIC the P2C, PXN and GDR-off rules. Also applies link quirks (Broadcom
/// switch uplink readings, VM virtual bridges) so that they count as unknown, not slow.
void compute_paths(System& s);

/// The bus id NCCL would use as the PCI parent of `bus_id` (two sysfs levels up: switch
/// upstream port; "" = the CPU). For an NCCL tree (nccl_tree), the model's parent.
[[nodiscard]] std::string nccl_parent(const System& s, const std::string& bus_id);

/// Bus ids from `bus_id` up to the root (the device itself first), following the model's tree.
[[nodiscard]] std::vector<std::string> pci_ancestry(const System& s, const std::string& bus_id);

/// Marks readings known to be meaningless (Broadcom PEX uplinks at 5.0 GT/s, VM virtual
/// bridges, Grace C2C GPUs' PCIe function) by setting PciDevice::link_quirk. Idempotent;
/// compute_paths calls it.
void apply_link_quirks(System& s);

/// Whether a GPU could have NVLink (or xGMI) peers: false for boards known to have none (T4,
/// L4, GeForce, pre-Pascal), true when the input does not say.
[[nodiscard]] bool gpu_could_nvlink(const System& s, const Gpu& g);

/// NCCL's NIC assignment (ncclTopoGetLocalNet, nccl-internals §4.9) for channel 0: the NIC
/// index (into s.nics) a GPU uses, or -1. Needs compute_paths.
[[nodiscard]] int nccl_local_nic(const System& s, std::size_t gpu);

/// NCCL's "what is local to this GPU" (ncclTopoGetLocal, nccl-internals §4.9): among `paths`
/// (one GPU to each NIC, or to each NET port), the indices of those with the highest bandwidth
/// (an unknown one counts as kLocBw, never slow), then the lowest path type; DIS paths are
/// skipped. Empty when nothing is reachable. The one query nccl_local_nic and the NIC
/// ownership of compute_paths (PXN) use.
[[nodiscard]] std::vector<std::size_t> nccl_local_paths(const std::vector<PathInfo>& paths);
/// Which of `n` local candidates a GPU with NVML index `gpu_index` starts from: its index,
/// bit-mirrored when `n` is a power of two (topo.cc); channel c takes (start + c) % n.
[[nodiscard]] unsigned nccl_local_start(int gpu_index, std::size_t n);

}  // namespace ncd::topo
