// SPDX-License-Identifier: Apache-2.0
#include "topo/nic_class.hpp"

#include <cctype>
#include <cstdlib>

#include <fmt/format.h>

#include "core/text.hpp"

namespace ncd::topo {

void NicSignals::add(bool rdma, bool strong, std::string why) {
  auto& v = rdma ? (strong ? rdma_strong : rdma_weak) : (strong ? socket_strong : socket_weak);
  for (const auto& w : v)
    if (w == why) return;
  v.push_back(std::move(why));
}

NicKind classify_nic(const NicSignals& s, std::string* why) {
  NicKind k = NicKind::kUnknown;
  const bool rs = !s.rdma_strong.empty(), ss = !s.socket_strong.empty();
  if (rs && !ss) k = NicKind::kRdma;
  else if (ss && !rs) k = NicKind::kSocket;
  else if (!rs && !ss) {
    const bool rw = !s.rdma_weak.empty(), sw = !s.socket_weak.empty();
    if (rw && !sw) k = NicKind::kRdma;
    else if (sw && !rw) k = NicKind::kSocket;
  }
  if (why) {
    std::vector<std::string> all;
    for (const auto& v : {s.rdma_strong, s.socket_strong, s.rdma_weak, s.socket_weak}) all.insert(all.end(), v.begin(), v.end());
    *why = join(all, "; ");
  }
  return k;
}

namespace {
bool starts(std::string_view n, std::string_view p) { return n.substr(0, p.size()) == p; }
}  // namespace

bool rdma_device_name(std::string_view n) {
  for (std::string_view p : {"mlx", "mthca", "irdma", "i40iw", "bnxt_re", "efa", "rdmap", "cxi", "hfi1", "qib", "qedr",
                             "erdma", "ionic", "rocep", "roceo", "hns", "ocrdma", "cxgb", "vmw_pvrdma", "mana_ib", "siw", "rxe"})
    if (starts(n, p)) return true;
  return false;
}

bool netdev_name(std::string_view n) {
  if (n == "lo") return true;
  for (std::string_view p : {"eth", "en", "em", "ib", "bond", "br", "veth", "docker", "virbr", "hsn", "wl", "tun", "tap", "cali",
                             "flannel", "cni", "vxlan", "team", "podman", "cilium", "weave", "gre", "macvlan", "ovs", "vlan", "net"})
    if (starts(n, p)) return true;
  // Biosdevname "p1p1".
  return n.size() >= 4 && n[0] == 'p' && std::isdigit(static_cast<unsigned char>(n[1])) && n.find('p', 1) != std::string_view::npos;
}

void pci_nic_signals(std::uint32_t class_code, std::uint32_t vendor, std::uint32_t device, NicSignals& s) {
  const std::uint32_t cls = class_code >> 8;
  if (cls == 0x0207) s.add(true, true, "PCI class 0x0207 (InfiniBand)");
  if (cls == 0x0208) s.add(true, true, "PCI class 0x0208 (Omni-Path fabric)");
  if (cls == 0x0c06) s.add(true, true, "PCI class 0x0c06 (InfiniBand serial bus)");
  if (vendor == 0x17db) s.add(true, true, "HPE Cassini (vendor 0x17db): Slingshot, libfabric cxi, GDR-capable");
  if (vendor == 0x1d0f && device >= 0xefa0 && device <= 0xefa3) s.add(true, true, fmt::format("AWS EFA (1d0f:{:04x})", device));
  if (vendor == 0x1d0f && device == 0xec20) s.add(false, false, "AWS ENA (1d0f:ec20), Ethernet only");
  if (vendor == 0x15b3 && cls == 0x0200) s.add(true, false, "Mellanox Ethernet (RoCE-capable)");
  if (cls == 0x0200) {
    // Vendors whose Ethernet functions have no RDMA engine NCCL uses (1 GbE/10 GbE, virtio).
    for (std::uint32_t v : {0x10ecu, 0x1af4u, 0x102bu, 0x1137u, 0x10dfu, 0x1924u, 0x19a2u})
      if (vendor == v) s.add(false, false, fmt::format("Ethernet vendor 0x{:04x} without an RDMA engine", vendor));
    if (vendor == 0x8086 && (device == 0x1521 || device == 0x1537 || device == 0x1533 || device == 0x10fb || device == 0x1563 ||
                             device == 0x1572 || device == 0x37d2 || device == 0x1528 || device == 0x1520))
      s.add(false, false, fmt::format("Intel Ethernet 8086:{:04x} (igb/ixgbe/i40e class)", device));
  }
}

void nccl_net_signals(std::string_view name, long port, long maxconn, long gdr, long dev, const std::string& guid,
                      NicSignals& s) {
  if (port == 0 && maxconn == 65536)
    s.add(false, true, "NCCL socket transport properties (port 0, maxconn 65536)");
  if (gdr == 1) s.add(true, true, "gdr=1 (NCCL's socket transport never offers GPUDirect)");
  if (rdma_device_name(name)) s.add(true, false, fmt::format("RDMA device name \"{}\"", name));
  else if (netdev_name(name)) s.add(false, false, fmt::format("netdev name \"{}\"", name));
  if (port >= 1) s.add(true, false, fmt::format("port {} (verbs ports count from 1)", port));
  if (maxconn > 0 && maxconn != 65536) s.add(true, false, fmt::format("maxconn {}", maxconn));
  if (!guid.empty()) {
    char* end = nullptr;
    unsigned long long g = std::strtoull(guid.c_str(), &end, 0);
    if (end != guid.c_str()) {
      if (g > 0xffffffffULL) s.add(true, false, "a hardware GUID");
      else if (dev >= 0 && static_cast<long long>(g) == dev && !rdma_device_name(name))
        s.add(false, false, fmt::format("guid {} = dev (NCCL's socket transport numbers its NICs)", guid));
    }
  }
}

}  // namespace ncd::topo
