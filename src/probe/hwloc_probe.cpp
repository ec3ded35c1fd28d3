// SPDX-License-Identifier: Apache-2.0
#include "probe/hwloc_probe.hpp"

#include <hwloc.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <ctime>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string_view>
#include <vector>

#include <pugixml.hpp>

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/fs.hpp"
#include "core/text.hpp"
#include "core/xml_guard.hpp"
#include "topo/nic_class.hpp"
#include "topo/paths.hpp"

namespace ncd::probe {

namespace {

struct TopologyDeleter {
  void operator()(hwloc_topology* t) const { hwloc_topology_destroy(t); }
};
using Topology = std::unique_ptr<hwloc_topology, TopologyDeleter>;

std::string bus_of(const hwloc_obj_t o) {
  const hwloc_obj_attr_u::hwloc_pcidev_attr_s* p = nullptr;
  if (o->type == HWLOC_OBJ_PCI_DEVICE) p = &o->attr->pcidev;
  else if (o->type == HWLOC_OBJ_BRIDGE && o->attr->bridge.upstream_type == HWLOC_OBJ_BRIDGE_PCI)
    p = &o->attr->bridge.upstream.pci;
  if (!p) return "";
  return fmt::format("{:04x}:{:02x}:{:02x}.{:x}", p->domain, p->bus, p->dev, p->func);
}

std::string info(hwloc_obj_t o, const char* name) {
  const char* v = hwloc_obj_get_info_by_name(o, name);
  return v ? topo::printable(v) : "";
}

int numa_of(hwloc_topology_t t, hwloc_obj_t o) {
  hwloc_obj_t anc = hwloc_get_non_io_ancestor_obj(t, o);
  for (hwloc_obj_t up = anc; up; up = up->parent)
    if (up->memory_arity > 0 && up->memory_first_child) return static_cast<int>(up->memory_first_child->os_index);
  // I/O attached to the Machine while the NUMA node hangs below a Package: local to all of
  // the ancestor's NUMA nodes, which is one only on a single-node machine.
  if (anc && anc->nodeset && hwloc_bitmap_weight(anc->nodeset) == 1) return hwloc_bitmap_first(anc->nodeset);
  return -1;
}

std::vector<int> cpus_of(hwloc_const_bitmap_t set) {
  std::vector<int> out;
  if (!set) return out;
  for (int i = hwloc_bitmap_first(set); i >= 0; i = hwloc_bitmap_next(set, i)) {
    out.push_back(i);
    if (out.size() > (1u << 16)) break;
  }
  return out;
}

std::string port_state_name(long v) {
  switch (v) {  // IB port states (ibv_port_state)
    case 1: return "DOWN";
    case 2: return "INIT";
    case 3: return "ARMED";
    case 4: return "ACTIVE";
    case 5: return "ACTIVE_DEFER";
    default: return "";
  }
}

void add_numa_nodes(hwloc_topology_t t, topo::System& s) {
  std::string arch = info(hwloc_get_root_obj(t), "Architecture");
  for (hwloc_obj_t n = nullptr; (n = hwloc_get_next_obj_by_type(t, HWLOC_OBJ_NUMANODE, n));) {
    topo::CpuNode c;
    c.numa = static_cast<int>(n->os_index);
    c.cpus = cpus_of(n->cpuset);
    c.arch = arch;
    if (hwloc_obj_t pkg = hwloc_get_ancestor_obj_by_type(t, HWLOC_OBJ_PACKAGE, n)) {
      c.package = static_cast<int>(pkg->os_index == HWLOC_UNKNOWN_INDEX ? pkg->logical_index : pkg->os_index);
      c.vendor = info(pkg, "CPUVendor");
      c.family = std::atoi(info(pkg, "CPUFamilyNumber").c_str());
      c.model = std::atoi(info(pkg, "CPUModelNumber").c_str());
    }
    s.cpus.push_back(c);
  }
}

/// All PCI functions and bridges of an hwloc topology with their parents, by bus id.
struct PciScan {
  struct Raw {
    topo::PciDevice d;
    hwloc_obj_t obj;
  };
  std::map<std::string, Raw> all;
  std::map<hwloc_obj_t, std::string> key_of;  // object -> its key in `all`

  /// A PCI function's ids and link speed (a bridge's upstream side, or a device).
  static void copy_ids(const hwloc_obj_attr_u::hwloc_pcidev_attr_s& p, topo::PciDevice& d) {
    d.class_code = static_cast<std::uint32_t>(p.class_id) << 8;
    d.vendor = p.vendor_id;
    d.device = p.device_id;
    d.subsystem_vendor = p.subvendor_id;
    d.subsystem_device = p.subdevice_id;
    d.link_gbps = p.linkspeed;
  }

  /// Two functions with one bus id (multi-segment machines exported without domains): keep both.
  void insert(const std::string& bus, Raw r, std::vector<std::string>& notes) {
    std::string key = bus;
    for (int k = 2; all.count(key); ++k) key = fmt::format("{}#{}", bus, k);
    if (key != bus)
      notes.push_back(fmt::format("two PCI devices share bus id {} (PCI domains missing?): both kept, the second as {}",
                                  bus, key));
    r.d.bus_id = key;
    key_of[r.obj] = key;
    all.emplace(key, std::move(r));
  }

  void add_bridges(hwloc_topology_t t, std::vector<std::string>& notes) {
    for (hwloc_obj_t o = nullptr; (o = hwloc_get_next_obj_by_type(t, HWLOC_OBJ_BRIDGE, o));) {
      std::string bus = bus_of(o);
      if (bus.empty()) continue;  // host bridge: the CPU side
      Raw r{{}, o};
      r.d.bus_id = bus;
      r.d.kind = topo::PciKind::kBridge;
      copy_ids(o->attr->bridge.upstream.pci, r.d);
      insert(bus, r, notes);
    }
  }

  /// What a PCI function is, from its class, vendor and OS devices.
  static topo::PciKind kind_of(hwloc_obj_t o) {
    const auto& p = o->attr->pcidev;
    std::uint32_t base = p.class_id >> 8;
    bool gpu_osdev = false, rdma_osdev = false, net_osdev = false;
    for (hwloc_obj_t c = o->io_first_child; c; c = c->next_sibling) {
      if (c->type != HWLOC_OBJ_OS_DEVICE) continue;
      auto ot = c->attr->osdev.type;
      // A compute OS device (cudaN, nvmlN, rsmiN, openclXdY) marks a GPU; a DRM "cardN" alone is
      // also what an onboard VGA controller has.
      std::string_view on = c->name ? c->name : "";
      if ((ot == HWLOC_OBJ_OSDEV_GPU || ot == HWLOC_OBJ_OSDEV_COPROC) &&
          (on.rfind("cuda", 0) == 0 || on.rfind("nvml", 0) == 0 || on.rfind("rsmi", 0) == 0 || on.rfind("opencl", 0) == 0))
        gpu_osdev = true;
      if (ot == HWLOC_OBJ_OSDEV_OPENFABRICS) rdma_osdev = true;
      if (ot == HWLOC_OBJ_OSDEV_NETWORK) net_osdev = true;
    }
    // NVIDIA display/3D controllers are GPUs; AMD Instinct parts are class 0x0380 or 0x12xx,
    // while AMD class 0x0300 is as often an onboard VGA (ATI ES1000) unless it computes.
    if (base == 0x03 && (p.vendor_id == 0x10de || (p.vendor_id == 0x1002 && p.class_id != 0x0300) || gpu_osdev))
      return topo::PciKind::kGpu;
    if (base == 0x12 && p.vendor_id == 0x1002) return topo::PciKind::kGpu;
    if (base == 0x02 || rdma_osdev || net_osdev) return topo::PciKind::kNic;
    if (p.class_id == 0x0680 && p.vendor_id == 0x10de) return topo::PciKind::kNvSwitch;
    return topo::PciKind::kOther;
  }

  void add_functions(hwloc_topology_t t, std::vector<std::string>& notes) {
    for (hwloc_obj_t o = nullptr; (o = hwloc_get_next_pcidev(t, o));) {
      std::string bus = bus_of(o);
      Raw r{{}, o};
      r.d.bus_id = bus;
      copy_ids(o->attr->pcidev, r.d);
      r.d.kind = kind_of(o);
      insert(bus, r, notes);
    }
  }

  /// Each device's parent (the nearest bridge; a host bridge leaves "", the CPU) and NUMA node.
  void link_parents(hwloc_topology_t t) {
    for (auto& [bus, r] : all) {
      for (hwloc_obj_t up = r.obj->parent; up; up = up->parent) {
        if (up->type != HWLOC_OBJ_BRIDGE) break;
        auto it = key_of.find(up);
        if (it != key_of.end()) r.d.parent = it->second;
        break;
      }
      r.d.numa = numa_of(t, r.obj);
    }
  }
};

topo::Gpu gpu_of(hwloc_topology_t t, const PciScan::Raw& r, const std::string& bus) {
  topo::Gpu g;
  g.bus_id = bus;
  g.numa = r.d.numa;
  g.local_cpus = cpus_of(hwloc_get_non_io_ancestor_obj(t, r.obj)->cpuset);
  int idx = -1;
  for (hwloc_obj_t c = r.obj->io_first_child; c; c = c->next_sibling) {
    if (c->type != HWLOC_OBJ_OS_DEVICE || !c->name) continue;
    std::string name = topo::printable(c->name);
    for (const char* pre : {"nvml", "cuda"})
      if (name.rfind(pre, 0) == 0 && name.size() > 4 && std::isdigit(static_cast<unsigned char>(name[4])))
        idx = std::atoi(name.c_str() + 4);
    if (g.name.empty()) g.name = info(c, "GPUModel");
    if (g.uuid.empty()) g.uuid = info(c, "NVIDIAUUID");
    if (const char* mem = hwloc_obj_get_info_by_name(c, "CUDAGlobalMemorySize"))
      g.memory_bytes = std::strtoull(mem, nullptr, 10) * 1024ULL;
  }
  g.index = idx;
  return g;
}

/// The IB ports of an OpenFabrics OS device (Port1State ... Port8State).
void add_ib_ports(hwloc_obj_t c, topo::Nic& n) {
  for (int port = 1; port <= 8; ++port) {
    const char* st = hwloc_obj_get_info_by_name(c, fmt::format("Port{}State", port).c_str());
    if (!st) continue;
    topo::NicPort p;
    p.name = topo::printable(c->name);
    p.port = port;
    p.state = port_state_name(std::atol(st));
    p.guid = info(c, "NodeGUID");
    n.ports.push_back(p);
  }
}

topo::Nic nic_of(const PciScan::Raw& r, const std::string& bus) {
  topo::Nic n;
  n.bus_id = bus;
  n.numa = r.d.numa;
  topo::NicSignals sig;
  topo::pci_nic_signals(r.d.class_code, r.d.vendor, r.d.device, sig);
  std::vector<std::string> netdevs;
  for (hwloc_obj_t c = r.obj->io_first_child; c; c = c->next_sibling) {
    if (c->type != HWLOC_OBJ_OS_DEVICE || !c->name) continue;
    std::string on = topo::printable(c->name);
    if (topo::rdma_device_name(on)) sig.add(true, true, "RDMA device " + on);
    if (c->attr->osdev.type == HWLOC_OBJ_OSDEV_NETWORK && !topo::rdma_device_name(on))
      sig.add(false, false, "netdev " + on + " only");
    if (c->attr->osdev.type == HWLOC_OBJ_OSDEV_OPENFABRICS) {
      sig.add(true, true, "OpenFabrics device " + on);
      if (n.name.empty()) n.name = topo::printable(c->name);
      add_ib_ports(c, n);
    } else if (c->attr->osdev.type == HWLOC_OBJ_OSDEV_NETWORK) {
      netdevs.push_back(topo::printable(c->name));
    }
  }
  if (n.ports.empty())
    for (const auto& nd : netdevs) {
      topo::NicPort p;
      p.name = nd;
      p.netdev = nd;
      n.ports.push_back(p);
    }
  else if (netdevs.size() == 1 && n.ports.size() == 1)
    n.ports.front().netdev = netdevs.front();
  if (n.name.empty()) n.name = netdevs.empty() ? bus : netdevs.front();
  // An RDMA device's own netdev (IPoIB, RoCE) says nothing against it.
  if (!sig.rdma_strong.empty()) sig.socket_weak.clear();
  n.kind = topo::classify_nic(sig, &n.kind_why);
  n.rdma = n.kind == topo::NicKind::kRdma;
  return n;
}

topo::System from_hwloc(hwloc_topology_t t, const std::string& source) {
  topo::System s;
  s.source = source;
  add_numa_nodes(t, s);
  PciScan scan;
  scan.add_bridges(t, s.notes);
  scan.add_functions(t, s.notes);
  scan.link_parents(t);
  std::vector<const topo::PciDevice*> found;
  for (const auto& [bus, r] : scan.all) found.push_back(&r.d);
  const std::set<std::string> keep = topo::pci_functions_to_keep(found);
  for (const auto& bus : keep) {
    const PciScan::Raw& r = scan.all.at(bus);
    s.pci.push_back(r.d);
    if (r.d.kind == topo::PciKind::kGpu) s.gpus.push_back(gpu_of(t, r, bus));
    else if (r.d.kind == topo::PciKind::kNic) s.nics.push_back(nic_of(r, bus));
    else if (r.d.kind == topo::PciKind::kNvSwitch) s.nvswitches.push_back(bus);
  }
  // GPUs without an nvml/cuda OS device: bus order, as NVML numbers them by default.
  std::set<int> used;
  for (const auto& g : s.gpus)
    if (g.index >= 0) used.insert(g.index);
  int next = 0;
  for (auto& g : s.gpus)
    if (g.index < 0) {
      while (used.count(next)) ++next;
      g.index = next++;
    }
  std::stable_sort(s.gpus.begin(), s.gpus.end(), [](const auto& a, const auto& b) { return a.index < b.index; });
  // hwloc does not export which GPUs are NVLinked (NVML's link state is not in it).
  s.nvlink_unknown = s.gpus.size() >= 2;
  return s;
}

/// hwloc 2.x refuses XML version 3 ("cannot import XML version 3.0 > 2"). The differences
/// that matter here are few (shared/reference/build-and-cluster-sim.md §3): the version, the
/// OS device type (a bitmask in v3, an enum in v2) and two top-level v3-only elements.
std::string hwloc_v3_to_v2(const std::string& text, const std::string& path) {
  pugi::xml_document doc;
  if (!doc.load_buffer(text.data(), text.size())) throw InputError(path, "not valid XML");
  pugi::xml_node top = doc.child("topology");
  if (!top) throw InputError(path, "not an hwloc XML export (no <topology> element)");
  top.attribute("version").set_value("2.0");
  for (const char* name : {"info", "pci_locality"})
    while (pugi::xml_node n = top.child(name)) top.remove_child(n);
  // v3 osdev_type bits -> v2 enum (BLOCK 0, GPU 1, NETWORK 2, OPENFABRICS 3, DMA 4, COPROC 5).
  constexpr unsigned kStorage = 1, kMemory = 2, kGpu = 4, kCoproc = 8, kNet = 16, kOfed = 32, kDma = 64;
  std::vector<pugi::xml_node> stack{top};
  std::size_t visited = 0;
  while (!stack.empty()) {
    pugi::xml_node n = stack.back();
    stack.pop_back();
    if (++visited > 2000000) throw InputError(path, "too many XML elements");
    if (std::string_view(n.attribute("type").value()) == "OSDev") {
      pugi::xml_attribute t = n.attribute("osdev_type");
      unsigned v = static_cast<unsigned>(t.as_uint());
      std::string_view name = n.attribute("name").value(), sub = n.attribute("subtype").value();
      int v2 = 0;
      if (v & (kStorage | kMemory)) v2 = 0;
      else if (v & kOfed) v2 = 3;
      else if (v & kNet) v2 = sub == "BXI" ? 3 : 2;
      else if (v & kDma) v2 = 4;
      else if (v & kCoproc) v2 = (name.rfind("nvml", 0) == 0 || name.rfind("rsmi", 0) == 0) ? 1 : 5;
      else if (v & kGpu) v2 = 1;
      if (t) t.set_value(v2);
    }
    for (pugi::xml_node c = n.first_child(); c; c = c.next_sibling())
      if (c.type() == pugi::node_element) stack.push_back(c);
  }
  std::ostringstream out;
  doc.save(out, "", pugi::format_raw);
  return out.str();
}

Topology new_topology() {
  hwloc_topology_t t = nullptr;
  if (hwloc_topology_init(&t) != 0) throw UnavailableError("hwloc: cannot initialise a topology");
  Topology topo(t);
  // Without this, hwloc keeps no bridge, PCI device or OS device, even from an XML file.
  hwloc_topology_set_io_types_filter(t, HWLOC_TYPE_FILTER_KEEP_ALL);
  return topo;
}

/// hwloc 2.9 dereferences a NULL cpuset inside hwloc_topology_load (hwloc_bitmap_compare_first)
/// on some malformed exports (found by tests/fuzz/fuzz_hwloc_xml; regression input in
/// tests/fuzz/regressions/). A crash or hang inside the library cannot be caught, so the load is
/// tried first in a forked child, bounded in time: only text that hwloc survives reaches this
/// process's hwloc. Costs one extra load (milliseconds for real exports).
void trial_load(std::string_view text, const std::string& source) {
  constexpr int kTrialSeconds = 30;
  constexpr int kRefused = 42;  // hwloc returned an error; any other end (signal, a sanitizer's exit 1) is a crash
  std::fflush(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) return;  // no child: load in-process, as before
  if (pid == 0) {
    hwloc_topology_t t = nullptr;
    int ok = hwloc_topology_init(&t) == 0;
    if (ok) hwloc_topology_set_io_types_filter(t, HWLOC_TYPE_FILTER_KEEP_ALL);
    ok = ok && hwloc_topology_set_xmlbuffer(t, text.data(), static_cast<int>(text.size())) == 0 &&
         hwloc_topology_load(t) == 0;
    ::_exit(ok ? 0 : kRefused);  // no destructors, no atexit handlers in the child
  }
  int status = 0;
  for (int waited_ms = 0;; waited_ms += 5) {
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (r < 0 && errno != EINTR) return;
    if (waited_ms >= kTrialSeconds * 1000) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      throw InputError(source, fmt::format("hwloc did not finish loading it within {} s (malformed hwloc XML)", kTrialSeconds));
    }
    timespec ts{0, 5000000};
    nanosleep(&ts, nullptr);
  }
  if (WIFEXITED(status) && (WEXITSTATUS(status) == 0 || WEXITSTATUS(status) == kRefused)) return;
  throw InputError(source, WIFSIGNALED(status)
                               ? fmt::format("hwloc crashed loading it (signal {}): malformed hwloc XML", WTERMSIG(status))
                               : fmt::format("hwloc crashed loading it (exit {}): malformed hwloc XML", WEXITSTATUS(status)));
}

}  // namespace

topo::System parse_hwloc_xml(std::string_view text, const std::string& source) {
  if (text.find("<topology") == std::string_view::npos)
    throw InputError(source, "not an hwloc XML export (no <topology> element)");
  // hwloc's importer recurses once per nesting level and libxml2 would parse a DTD: screen
  // depth and entity declarations before it (or the v3 converter) sees the text.
  check_xml_shape(text, source);
  std::string v2;
  if (text.find("<topology version=\"3.") != std::string_view::npos) {
    v2 = hwloc_v3_to_v2(std::string(text), source);
    text = v2;
  }
  if (text.size() > static_cast<std::size_t>(INT32_MAX - 1)) throw InputError(source, "too large for hwloc");
  trial_load(text, source);
  Topology t = new_topology();
  if (hwloc_topology_set_xmlbuffer(t.get(), text.data(), static_cast<int>(text.size())) != 0)
    throw InputError(source, "hwloc refused the XML buffer");
  if (hwloc_topology_load(t.get()) != 0)
    throw InputError(source, "hwloc could not load it (malformed hwloc XML; HWLOC_XML_VERBOSE=1 tells why)");
  return from_hwloc(t.get(), source);
}

topo::System hwloc_xml_system(const std::string& path) {
  std::string text = read_file(path, std::size_t{256} << 20);  // missing file: InputError
  topo::System s = parse_hwloc_xml(text, path);
  std::string base = path.substr(path.find_last_of('/') + 1);
  auto dot = base.rfind('.');
  s.host = dot == std::string::npos || dot == 0 ? base : base.substr(0, dot);
  s.notes.push_back("hwloc XML: current link bandwidth only (no max); ports without rate/MTU");
  return s;
}

topo::System hwloc_live_system() {
  Topology t = new_topology();
  if (hwloc_topology_load(t.get()) != 0) throw UnavailableError("hwloc could not load this machine's topology");
  return from_hwloc(t.get(), "live");
}

}  // namespace ncd::probe
