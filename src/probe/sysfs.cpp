// SPDX-License-Identifier: Apache-2.0
#include "probe/sysfs.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <system_error>

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/fs.hpp"
#include "core/text.hpp"
#include "topo/nic_class.hpp"
#include "topo/paths.hpp"

namespace ncd::probe {

namespace fs = std::filesystem;

namespace {

std::optional<std::string> attr(const fs::path& p) {
  auto v = read_attr(p.string());
  if (v) *v = topo::printable(*v);
  return v;
}

long attr_long(const fs::path& p, long def) {
  auto v = attr(p);
  if (!v || v->empty()) return def;
  char* end = nullptr;
  long r = std::strtol(v->c_str(), &end, 0);
  return end == v->c_str() ? def : r;
}

bool is_bus_id(std::string_view s) {
  // dddd:bb:dd.f
  return s.size() >= 12 && s[s.size() - 2] == '.' && s[s.size() - 5] == ':' && s[s.size() - 8] == ':' &&
         topo::normalize_bus_id(s) == to_lower(s);
}

/// Resolves a symlink into the tree; returns "" when it does not resolve.
fs::path resolve(const fs::path& p) {
  std::error_code ec;
  fs::path r = fs::canonical(p, ec);
  return ec ? fs::path() : r;
}

std::string basename_of(const fs::path& p) { return p.filename().string(); }

/// The bus id of the PCI device a class/... entry belongs to (its `device` link).
std::string device_bus(const fs::path& entry) {
  fs::path r = resolve(entry / "device");
  // virtio and auxiliary devices sit one or two levels below their PCI function.
  for (int up = 0; up < 3 && !r.empty(); ++up, r = r.parent_path()) {
    std::string b = basename_of(r);
    if (is_bus_id(b)) return topo::normalize_bus_id(b);
  }
  return "";
}

void read_link(const fs::path& dev, topo::PciDevice& d) {
  auto cur_s = attr(dev / "current_link_speed");
  auto max_s = attr(dev / "max_link_speed");
  if (cur_s) d.link.cur_gts = topo::parse_pcie_speed(*cur_s);
  if (max_s) {
    d.link.max_gts = topo::parse_pcie_speed(*max_s);
    d.speed_text = *max_s;
  }
  long cw = attr_long(dev / "current_link_width", 0), mw = attr_long(dev / "max_link_width", 0);
  // 0 and 255 (all ones) are "unknown" (VMs, link down).
  d.link.cur_width = (cw > 0 && cw <= 32) ? static_cast<int>(cw) : 0;
  d.link.max_width = (mw > 0 && mw <= 32) ? static_cast<int>(mw) : 0;
}

topo::NicPort* find_port(topo::Nic& n, const std::string& name, int port) {
  for (auto& p : n.ports)
    if (p.name == name && p.port == port) return &p;
  return nullptr;
}

}  // namespace

double parse_ib_rate(std::string_view s) {
  s = trim(s);
  std::size_t i = 0;
  while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
  if (i == 0) return 0;
  double v = std::strtod(std::string(s.substr(0, i)).c_str(), nullptr);
  return v > 0 && v < 1e6 ? v : 0;
}

std::string ib_state_name(std::string_view s) {
  s = trim(s);
  auto colon = s.find(':');
  if (colon != std::string_view::npos) s = trim(s.substr(colon + 1));
  return std::string(s);
}

std::optional<bool> acs_redirect_from_config(std::string_view config, std::string* detail) {
  // PCIe extended capabilities start at 0x100; an unprivileged read returns 64 bytes only.
  if (config.size() < 0x108) return std::nullopt;
  auto u16 = [&](std::size_t off) {
    return static_cast<unsigned>(static_cast<unsigned char>(config[off])) |
           (static_cast<unsigned>(static_cast<unsigned char>(config[off + 1])) << 8);
  };
  auto u32 = [&](std::size_t off) { return u16(off) | (u16(off + 2) << 16); };
  std::size_t off = 0x100;
  for (int guard = 0; guard < 96 && off >= 0x100 && off + 8 <= config.size(); ++guard) {
    unsigned hdr = u32(off);
    if (hdr == 0 || hdr == 0xffffffffu) break;
    unsigned id = hdr & 0xffff;
    if (id == 0x000d) {  // ACS extended capability (PCIe base spec 7.7.8)
      unsigned ctl = u16(off + 6);
      bool rr = ctl & 0x4, cr = ctl & 0x8;
      if (detail)
        *detail = fmt::format("ACSCtl 0x{:04x}: SrcValid{} ReqRedir{} CmpltRedir{} UpstreamFwd{} DirectTrans{}", ctl,
                              ctl & 1 ? '+' : '-', rr ? '+' : '-', cr ? '+' : '-', ctl & 0x10 ? '+' : '-',
                              ctl & 0x40 ? '+' : '-');
      return rr || cr;
    }
    std::size_t next = (hdr >> 20) & 0xffc;
    if (next <= off) break;  // the list only moves forward; anything else is corrupt
    off = next;
  }
  if (detail) *detail = "no ACS capability";
  return false;
}

topo::System sysfs_system(const std::string& root) {
  fs::path base(root);
  fs::path devs = base / "bus/pci/devices";
  std::error_code ec;
  if (!fs::is_directory(devs, ec))
    throw InputError(root, "not a sysfs tree (no bus/pci/devices directory)");
  topo::System s;
  s.source = root == "/sys" ? "live" : root;
  // NUMA nodes.
  fs::path nodes = base / "devices/system/node";
  if (fs::is_directory(nodes, ec)) {
    for (const auto& e : fs::directory_iterator(nodes, ec)) {
      std::string n = basename_of(e.path());
      if (n.rfind("node", 0) != 0 || n.size() < 5 || !std::isdigit(static_cast<unsigned char>(n[4]))) continue;
      topo::CpuNode c;
      c.numa = std::atoi(n.c_str() + 4);
      if (auto l = attr(e.path() / "cpulist")) c.cpus = topo::parse_cpulist(*l);
      if (auto m = attr(e.path() / "cpumap")) c.affinity_text = *m;
      if (!c.cpus.empty()) {
        c.package = static_cast<int>(attr_long(
            base / fmt::format("devices/system/cpu/cpu{}/topology/physical_package_id", c.cpus.front()), -1));
      }
      s.cpus.push_back(c);
    }
  }
  std::sort(s.cpus.begin(), s.cpus.end(), [](const auto& a, const auto& b) { return a.numa < b.numa; });
  // PCI functions.
  struct Raw {
    topo::PciDevice d;
    fs::path dir;
  };
  std::map<std::string, Raw> all;
  for (const auto& e : fs::directory_iterator(devs, ec)) {
    std::string name = basename_of(e.path());
    if (!is_bus_id(name)) continue;
    fs::path real = resolve(e.path());
    if (real.empty()) real = e.path();
    Raw r;
    r.dir = real;
    r.d.bus_id = topo::normalize_bus_id(name);
    std::string parent = basename_of(real.parent_path());
    r.d.parent = is_bus_id(parent) ? topo::normalize_bus_id(parent) : "";
    r.d.class_code = static_cast<std::uint32_t>(attr_long(real / "class", 0));
    r.d.vendor = static_cast<std::uint32_t>(attr_long(real / "vendor", 0));
    r.d.device = static_cast<std::uint32_t>(attr_long(real / "device", 0));
    r.d.subsystem_vendor = static_cast<std::uint32_t>(attr_long(real / "subsystem_vendor", 0));
    r.d.subsystem_device = static_cast<std::uint32_t>(attr_long(real / "subsystem_device", 0));
    r.d.numa = static_cast<int>(attr_long(real / "numa_node", -1));
    std::uint32_t base_cls = r.d.class_code >> 16, sub = (r.d.class_code >> 8) & 0xff;
    if (base_cls == 0x06 && sub == 0x04) r.d.kind = topo::PciKind::kBridge;
    else if ((base_cls == 0x03 && (r.d.vendor == 0x10de || (r.d.vendor == 0x1002 && sub != 0x00))) ||
             (base_cls == 0x12 && r.d.vendor == 0x1002))  // AMD 0x0300 is often an onboard VGA
      r.d.kind = topo::PciKind::kGpu;
    else if (base_cls == 0x02) r.d.kind = topo::PciKind::kNic;
    else if (r.d.class_code == 0x068000 && r.d.vendor == 0x10de) r.d.kind = topo::PciKind::kNvSwitch;
    all.emplace(r.d.bus_id, std::move(r));
  }
  // Keep GPUs, NICs, NVSwitches and every bridge above them.
  std::vector<const topo::PciDevice*> found;
  for (const auto& [bus, r] : all) found.push_back(&r.d);
  const std::set<std::string> keep = topo::pci_functions_to_keep(found);
  int single_numa = s.cpus.size() == 1 ? s.cpus.front().numa : -1;
  for (const auto& bus : keep) {
    topo::PciDevice d = all.at(bus).d;
    // A device's NUMA node is its root's (bridges often say -1 where endpoints say 0).
    if (d.numa < 0) d.numa = single_numa;
    s.pci.push_back(d);
  }
  // NUMA of a tree = the first known NUMA below its root, propagated to the whole tree.
  std::map<std::string, int> root_numa;
  for (const auto& d : s.pci) {
    auto anc = topo::pci_ancestry(s, d.bus_id);
    if (d.numa >= 0 && !root_numa.count(anc.back())) root_numa[anc.back()] = d.numa;
  }
  for (auto& d : s.pci) {
    auto anc = topo::pci_ancestry(s, d.bus_id);
    if (root_numa.count(anc.back())) d.numa = root_numa[anc.back()];
  }
  int gpu_index = 0;
  for (const auto& d : s.pci) {  // s.pci is in bus order: NVML's default numbering
    if (d.kind == topo::PciKind::kGpu) {
      topo::Gpu g;
      g.index = gpu_index++;
      g.bus_id = d.bus_id;
      g.numa = d.numa;
      if (auto l = attr(all.at(d.bus_id).dir / "local_cpulist")) g.local_cpus = topo::parse_cpulist(*l);
      if (g.local_cpus.empty())
        if (const auto* c = s.find_cpu(d.numa)) g.local_cpus = c->cpus;
      s.gpus.push_back(g);
    } else if (d.kind == topo::PciKind::kNic) {
      topo::Nic n;
      n.bus_id = d.bus_id;
      n.name = d.bus_id;
      n.numa = d.numa;
      topo::NicSignals sig;
      topo::pci_nic_signals(d.class_code, d.vendor, d.device, sig);
      n.kind = topo::classify_nic(sig, &n.kind_why);
      n.rdma = n.kind == topo::NicKind::kRdma;
      s.nics.push_back(n);
    } else if (d.kind == topo::PciKind::kNvSwitch) {
      s.nvswitches.push_back(d.bus_id);
    }
  }
  for (const auto& c : s.cpus)
    if (c.numa < 0) s.notes.push_back("a NUMA node without an id");
  enrich_from_sysfs(s, root);
  return s;
}

namespace {

/// The entries of a directory, sorted (none when it is absent or unreadable).
std::vector<fs::path> sorted_entries(const fs::path& dir) {
  std::error_code ec;
  std::vector<fs::path> out;
  if (!fs::is_directory(dir, ec)) return out;
  for (const auto& e : fs::directory_iterator(dir, ec)) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

/// Link values, ACS and IOMMU group of every PCI function of the model, and the IOMMU mode.
void enrich_pci_functions(topo::System& s, const fs::path& base) {
  std::error_code ec;
  fs::path devs = base / "bus/pci/devices";
  bool any_group = false, translated = false, identity = false;
  for (auto& d : s.pci) {
    fs::path dir = devs / d.bus_id;
    if (!fs::exists(dir, ec)) continue;
    topo::PciDevice fresh = d;
    read_link(dir, fresh);
    if (fresh.link.cur_gts > 0 || fresh.link.max_gts > 0 || fresh.link.cur_width > 0 || fresh.link.max_width > 0) {
      d.link = fresh.link;
      d.speed_text = fresh.speed_text;
    }
    if (d.kind == topo::PciKind::kBridge) {
      try {
        std::string cfg = read_file((dir / "config").string(), 1 << 16);
        std::string detail;
        auto acs = acs_redirect_from_config(cfg, &detail);
        if (acs) {
          d.acs_redirect = *acs ? topo::Tri::kYes : topo::Tri::kNo;
          d.acs_detail = detail;
        }
      } catch (const Error&) {
        // unreadable config space: ACS stays unknown
      }
    }
    fs::path grp = resolve(dir / "iommu_group");
    if (!grp.empty()) {
      any_group = true;
      if (auto t = attr(grp / "type")) {
        d.iommu_group_type = *t;
        if (*t == "DMA" || *t == "DMA-FQ") translated = true;
        if (*t == "identity") identity = true;
      }
    }
  }
  if (translated) s.iommu_mode = "translated";
  else if (identity) s.iommu_mode = "passthrough";
  else if (!any_group && fs::is_directory(devs, ec)) {
    fs::path groups = base / "kernel/iommu_groups";
    bool none = !fs::is_directory(groups, ec) || fs::is_empty(groups, ec);
    if (none) s.iommu_mode = "off";
  }
}

/// The model's NIC of an RDMA device: by its PCI link first, then by name (an hwloc snapshot
/// names the RDMA device as sysfs does), else a new NIC when its PCI function is in the model.
topo::Nic* nic_of_rdma_device(topo::System& s, const std::string& dev, const std::string& bus) {
  topo::Nic* nic = nullptr;
  for (auto& n : s.nics)
    if (!bus.empty() && n.bus_id == bus) nic = &n;
  if (!nic && (bus.empty() || !s.find_pci(bus))) {
    for (auto& n : s.nics) {
      bool named = n.name == dev;
      for (const auto& p : n.ports) named = named || p.name == dev;
      if (named) nic = &n;
    }
    if (nic)
      s.notes.push_back(fmt::format("sysfs RDMA device {} matched to {} by name ({})", dev,
                                    nic->bus_id.empty() ? nic->name : nic->bus_id,
                                    bus.empty() ? "no device link" : "its PCI device " + bus + " is not in the model"));
  }
  if (nic) return nic;
  const topo::PciDevice* d = bus.empty() ? nullptr : s.find_pci(bus);
  if (!d) return nullptr;  // not part of the model (e.g. not under a kept tree)
  topo::Nic n;
  n.bus_id = bus;
  n.numa = d->numa;
  s.nics.push_back(n);
  return &s.nics.back();
}

/// An RDMA device's ports: state, physical state, rate, link layer; and its node GUID.
void read_ib_ports(const fs::path& e, const std::string& dev, topo::Nic& nic) {
  for (const auto& p : sorted_entries(e / "ports")) {
    int num = std::atoi(basename_of(p).c_str());
    if (num <= 0) continue;
    topo::NicPort* port = find_port(nic, dev, num);
    if (!port) {
      nic.ports.push_back(topo::NicPort{});
      port = &nic.ports.back();
      port->name = dev;
      port->port = num;
    }
    if (auto v = attr(p / "state")) port->state = ib_state_name(*v);
    if (auto v = attr(p / "phys_state")) port->phys_state = ib_state_name(*v);
    if (auto v = attr(p / "rate")) {
      port->rate_text = *v;
      port->rate_gbps = parse_ib_rate(*v);
    }
    if (auto v = attr(p / "link_layer")) port->link_layer = *v;
  }
  if (auto v = attr(e / "node_guid")) {
    for (auto& port : nic.ports)
      if (port.name == dev && port.guid.empty()) port.guid = *v;
  }
}

/// RDMA devices (class/infiniband) and their ports.
void enrich_rdma(topo::System& s, const fs::path& base) {
  for (const auto& e : sorted_entries(base / "class/infiniband")) {
    std::string dev = topo::printable(basename_of(e));
    topo::Nic* nic = nic_of_rdma_device(s, dev, device_bus(e));
    if (!nic) continue;
    nic->rdma = true;
    nic->kind = topo::NicKind::kRdma;
    nic->kind_why = "sysfs class/infiniband/" + dev + (nic->kind_why.empty() ? "" : "; " + nic->kind_why);
    if (nic->name.empty() || nic->name == nic->bus_id) nic->name = dev;
    read_ib_ports(e, dev, *nic);
  }
}

/// libfabric-only RDMA NICs: HPE Slingshot (class/cxi/cxiN, no verbs device), AWS EFA without
/// verbs. The device is named as libfabric and NCCL's OFI plugin name it ("cxi0"); the sysfs
/// entry is kept as evidence even when the PCI id already said RDMA.
void enrich_libfabric(topo::System& s, const fs::path& base) {
  for (const char* cls : {"class/cxi", "class/efa"}) {
    for (const auto& e : sorted_entries(base / cls)) {
      std::string bus = device_bus(e);
      std::string dev = topo::printable(basename_of(e));
      for (auto& n : s.nics) {
        if (bus.empty() || n.bus_id != bus) continue;
        std::string why = std::string("sysfs ") + cls + "/" + dev;
        if (n.kind != topo::NicKind::kRdma) n.kind_why = why;
        else if (n.kind_why.find(why) == std::string::npos) n.kind_why = why + (n.kind_why.empty() ? "" : "; " + n.kind_why);
        n.kind = topo::NicKind::kRdma;
        n.rdma = true;
        if (n.name.empty() || n.name == n.bus_id) n.name = dev;
      }
    }
  }
}

/// The port of `nic` a netdev belongs to; a new one for an Ethernet NIC's netdev; none for an
/// extra netdev of an RDMA NIC (VF representor, bond slave).
topo::NicPort* port_of_netdev(topo::Nic& nic, const fs::path& e, const std::string& ifname) {
  int port_num = static_cast<int>(attr_long(e / "dev_port", 0)) + 1;
  topo::NicPort* port = nullptr;
  for (auto& p : nic.ports)
    if (p.port == port_num && (p.netdev.empty() || p.netdev == ifname) && !p.link_layer.empty()) port = &p;
  if (!port)
    for (auto& p : nic.ports)
      if (p.netdev == ifname) port = &p;
  if (port) return port;
  if (nic.rdma && !nic.ports.empty()) return nullptr;
  nic.ports.push_back(topo::NicPort{});
  port = &nic.ports.back();
  port->name = ifname;
  port->port = port_num;
  if (nic.name.empty() || nic.name == nic.bus_id) nic.name = ifname;
  long speed = attr_long(e / "speed", -1);
  if (speed > 0) {
    port->rate_gbps = static_cast<double>(speed) / 1000.0;
    port->rate_text = fmt::format("{} Mb/s", speed);
  }
  return port;
}

/// Netdevs (class/net) of the model's NICs: MTU and operational state.
void enrich_netdevs(topo::System& s, const fs::path& base) {
  for (const auto& e : sorted_entries(base / "class/net")) {
    std::string ifname = topo::printable(basename_of(e));
    std::string bus = device_bus(e);
    if (bus.empty()) continue;
    topo::Nic* nic = nullptr;
    for (auto& n : s.nics)
      if (n.bus_id == bus) nic = &n;
    if (!nic) continue;
    topo::NicPort* port = port_of_netdev(*nic, e, ifname);
    if (!port) continue;
    port->netdev = ifname;
    port->mtu = static_cast<int>(attr_long(e / "mtu", 0));
    if (auto v = attr(e / "operstate")) port->operstate = *v;
  }
}

}  // namespace

void enrich_from_sysfs(topo::System& s, const std::string& root) {
  const fs::path base(root);
  enrich_pci_functions(s, base);
  enrich_rdma(s, base);
  enrich_libfabric(s, base);
  enrich_netdevs(s, base);
  // GPUDirect RDMA kernel side.
  std::error_code ec;
  if (fs::exists(base / "module/nvidia_peermem", ec) || fs::exists(base / "module/nv_peer_mem", ec))
    s.peermem = topo::Tri::kYes;
  else if (fs::exists(base / "module/nvidia", ec))
    s.peermem = topo::Tri::kNo;
}

}  // namespace ncd::probe
