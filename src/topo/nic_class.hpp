// SPDX-License-Identifier: Apache-2.0
#pragma once
/// How NCCL uses a NIC, from every signal an input has: an RDMA transport (IB verbs, RoCE, EFA,
/// HPE Slingshot cxi and other GDR-capable libfabric NICs, Omni-Path) or NCCL's socket transport.
/// Signals that disagree give kUnknown, never a guess.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "topo/model.hpp"

namespace ncd::topo {

/// Evidence for one NIC, gathered by a probe. "Strong" signals are facts about the transport
/// (NCCL's socket transport properties, gdr=1, an RDMA device in sysfs/hwloc, an RDMA PCI class
/// or id); "weak" ones are hints (names, port numbers, guid size, a plain Ethernet vendor).
struct NicSignals {
  std::vector<std::string> rdma_strong, rdma_weak, socket_strong, socket_weak;
  void add(bool rdma, bool strong, std::string why);
};

/// Decides from the signals; `why` receives the reasons behind the answer.
[[nodiscard]] NicKind classify_nic(const NicSignals& s, std::string* why = nullptr);

/// RDMA device names (ibverbs/libfabric): mlx5_0, irdma0, bnxt_re0, efa_0, rdmap16s27, cxi0,
/// hfi1_0, qedr0, erdma_0, ionic_0, rocep1s0f0, hns_0. Not IPoIB netdevs (ib0, ibp1s0).
[[nodiscard]] bool rdma_device_name(std::string_view n);
/// Linux netdev names NCCL's socket transport uses: eth*, en*, ib* (IPoIB), bond*, br*, veth*,
/// docker*, lo, hsn* (Slingshot's netdev), ... .
[[nodiscard]] bool netdev_name(std::string_view n);
/// Signals of a PCI function's ids: InfiniBand (0x0207) and Omni-Path (0x0208) classes, EFA,
/// HPE Cassini (Slingshot, vendor 0x17db) are RDMA hardware; plain Ethernet vendors are hints
/// of a socket NIC.
void pci_nic_signals(std::uint32_t class_code, std::uint32_t vendor, std::uint32_t device, NicSignals& s);
/// Signals of one NCCL `<net>`: NCCL's socket transport reports port 0, maxconn 65536, gdr 0 and
/// numbers its devices' guids 0..N-1 (dev = guid); gdr=1 only comes from a GDR-capable net.
/// Values < 0 are absent.
void nccl_net_signals(std::string_view name, long port, long maxconn, long gdr, long dev, const std::string& guid,
                      NicSignals& s);

}  // namespace ncd::topo
