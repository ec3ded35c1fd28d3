// SPDX-License-Identifier: Apache-2.0
#include "probe/nvml.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

namespace ncd::probe {

namespace {

// Our own declarations of the few NVML entry points we use (nvml.h is not installed here).
// Layouts from the NVML API reference (nvmlPciInfo_t v3, nvmlMemory_t v1).
using nvmlReturn_t = int;
using nvmlDevice_t = struct nvmlDevice_st*;
constexpr nvmlReturn_t kNvmlSuccess = 0;
constexpr nvmlReturn_t kNvmlInvalidArgument = 2;
struct nvmlPciInfo_t {
  char busIdLegacy[16];
  unsigned int domain;
  unsigned int bus;
  unsigned int device;
  unsigned int pciDeviceId;
  unsigned int pciSubSystemId;
  char busId[32];
};
struct nvmlMemory_t {
  unsigned long long total, free, used;
};
constexpr unsigned kNvlinkMaxLinks = 18;  // NVML_NVLINK_MAX_LINKS (NVML 12.x)

struct Api {
  void* lib = nullptr;
  nvmlReturn_t (*init)() = nullptr;
  nvmlReturn_t (*shutdown)() = nullptr;
  const char* (*error_string)(nvmlReturn_t) = nullptr;
  nvmlReturn_t (*count)(unsigned*) = nullptr;
  nvmlReturn_t (*by_index)(unsigned, nvmlDevice_t*) = nullptr;
  nvmlReturn_t (*pci)(nvmlDevice_t, nvmlPciInfo_t*) = nullptr;
  nvmlReturn_t (*name)(nvmlDevice_t, char*, unsigned) = nullptr;
  nvmlReturn_t (*uuid)(nvmlDevice_t, char*, unsigned) = nullptr;
  nvmlReturn_t (*cc)(nvmlDevice_t, int*, int*) = nullptr;
  nvmlReturn_t (*memory)(nvmlDevice_t, nvmlMemory_t*) = nullptr;
  nvmlReturn_t (*cur_gen)(nvmlDevice_t, unsigned*) = nullptr;
  nvmlReturn_t (*max_gen)(nvmlDevice_t, unsigned*) = nullptr;
  nvmlReturn_t (*cur_width)(nvmlDevice_t, unsigned*) = nullptr;
  nvmlReturn_t (*max_width)(nvmlDevice_t, unsigned*) = nullptr;
  nvmlReturn_t (*nvl_state)(nvmlDevice_t, unsigned, int*) = nullptr;
  nvmlReturn_t (*nvl_version)(nvmlDevice_t, unsigned, unsigned*) = nullptr;
  nvmlReturn_t (*nvl_remote_pci)(nvmlDevice_t, unsigned, nvmlPciInfo_t*) = nullptr;
  nvmlReturn_t (*nvl_remote_type)(nvmlDevice_t, unsigned, int*) = nullptr;
  nvmlReturn_t (*driver)(char*, unsigned) = nullptr;
};

template <typename F>
void sym(void* lib, F& f, const char* name) {
  f = reinterpret_cast<F>(dlsym(lib, name));
}

}  // namespace

NvmlResult probe_nvml(const std::string& library) {
  NvmlResult r;
  Api a;
  a.lib = dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!a.lib) {
    r.why = library + " not found (no NVIDIA driver)";
    return r;
  }
  sym(a.lib, a.init, "nvmlInit_v2");
  sym(a.lib, a.shutdown, "nvmlShutdown");
  sym(a.lib, a.error_string, "nvmlErrorString");
  sym(a.lib, a.count, "nvmlDeviceGetCount_v2");
  sym(a.lib, a.by_index, "nvmlDeviceGetHandleByIndex_v2");
  sym(a.lib, a.pci, "nvmlDeviceGetPciInfo_v3");
  sym(a.lib, a.name, "nvmlDeviceGetName");
  sym(a.lib, a.uuid, "nvmlDeviceGetUUID");
  sym(a.lib, a.cc, "nvmlDeviceGetCudaComputeCapability");
  sym(a.lib, a.memory, "nvmlDeviceGetMemoryInfo");
  sym(a.lib, a.cur_gen, "nvmlDeviceGetCurrPcieLinkGeneration");
  sym(a.lib, a.max_gen, "nvmlDeviceGetMaxPcieLinkGeneration");
  sym(a.lib, a.cur_width, "nvmlDeviceGetCurrPcieLinkWidth");
  sym(a.lib, a.max_width, "nvmlDeviceGetMaxPcieLinkWidth");
  sym(a.lib, a.nvl_state, "nvmlDeviceGetNvLinkState");
  sym(a.lib, a.nvl_version, "nvmlDeviceGetNvLinkVersion");
  sym(a.lib, a.nvl_remote_pci, "nvmlDeviceGetNvLinkRemotePciInfo_v2");
  sym(a.lib, a.nvl_remote_type, "nvmlDeviceGetNvLinkRemoteDeviceType");
  sym(a.lib, a.driver, "nvmlSystemGetDriverVersion");
  if (!a.init || !a.shutdown || !a.count || !a.by_index || !a.pci) {
    r.why = "libnvidia-ml.so.1 lacks nvmlInit_v2/nvmlDeviceGetPciInfo_v3 (driver too old)";
    dlclose(a.lib);
    return r;
  }
  nvmlReturn_t rc = a.init();
  if (rc != kNvmlSuccess) {
    r.why = fmt::format("nvmlInit failed: {}", a.error_string ? a.error_string(rc) : std::to_string(rc));
    dlclose(a.lib);
    return r;
  }
  r.available = true;
  char buf[256] = {};
  if (a.driver && a.driver(buf, sizeof buf) == kNvmlSuccess) r.driver_version = topo::printable(buf);
  unsigned n = 0;
  if (a.count(&n) != kNvmlSuccess) n = 0;
  for (unsigned i = 0; i < n && i < 1024; ++i) {
    nvmlDevice_t d = nullptr;
    if (a.by_index(i, &d) != kNvmlSuccess) continue;
    NvmlGpu g;
    g.index = static_cast<int>(i);
    nvmlPciInfo_t pci{};
    if (a.pci(d, &pci) == kNvmlSuccess) {
      pci.busId[sizeof pci.busId - 1] = 0;
      g.bus_id = topo::normalize_bus_id(pci.busId);
    }
    if (a.name && a.name(d, buf, sizeof buf) == kNvmlSuccess) g.name = topo::printable(buf);
    if (a.uuid && a.uuid(d, buf, sizeof buf) == kNvmlSuccess) g.uuid = topo::printable(buf);
    int major = 0, minor = 0;
    if (a.cc && a.cc(d, &major, &minor) == kNvmlSuccess) g.sm = major * 10 + minor;
    nvmlMemory_t mem{};
    if (a.memory && a.memory(d, &mem) == kNvmlSuccess) g.memory_bytes = mem.total;
    unsigned v = 0;
    if (a.cur_gen && a.cur_gen(d, &v) == kNvmlSuccess) g.pcie_gen_cur = static_cast<int>(v);
    if (a.max_gen && a.max_gen(d, &v) == kNvmlSuccess) g.pcie_gen_max = static_cast<int>(v);
    if (a.cur_width && a.cur_width(d, &v) == kNvmlSuccess) g.pcie_width_cur = static_cast<int>(v);
    if (a.max_width && a.max_width(d, &v) == kNvmlSuccess) g.pcie_width_max = static_cast<int>(v);
    if (a.nvl_state) {
      for (unsigned l = 0; l < kNvlinkMaxLinks; ++l) {
        int state = 0;
        nvmlReturn_t s = a.nvl_state(d, l, &state);
        if (s == kNvmlInvalidArgument) break;  // past the last link of this GPU
        if (s != kNvmlSuccess) continue;       // not supported: no NVLink on this board
        topo::NvLink link;
        link.link = static_cast<int>(l);
        link.active = state ? topo::Tri::kYes : topo::Tri::kNo;
        unsigned ver = 0;
        if (a.nvl_version && a.nvl_version(d, l, &ver) == kNvmlSuccess) link.version = static_cast<int>(ver);
        nvmlPciInfo_t rp{};
        if (state && a.nvl_remote_pci && a.nvl_remote_pci(d, l, &rp) == kNvmlSuccess) {
          rp.busId[sizeof rp.busId - 1] = 0;
          link.remote_bus_id = topo::normalize_bus_id(rp.busId);
        }
        int type = 255;
        if (state && a.nvl_remote_type && a.nvl_remote_type(d, l, &type) == kNvmlSuccess) {
          // nvmlIntNvLinkDeviceType_t: 0 GPU, 1 IBM NPU (the POWER9 CPU), 2 NVSwitch
          link.remote = type == 0 ? topo::LinkRemote::kGpu
                        : type == 1 ? topo::LinkRemote::kCpu
                        : type == 2 ? topo::LinkRemote::kNvSwitch
                                    : topo::LinkRemote::kUnknown;
        }
        g.nvlinks.push_back(link);
      }
    }
    r.gpus.push_back(std::move(g));
  }
  a.shutdown();
  // The library stays loaded: unloading NVML while CUDA may use it later is not worth the risk.
  return r;
}

void merge_nvml(topo::System& s, const NvmlResult& r) {
  if (!r.available) return;
  if (!r.driver_version.empty()) s.versions["driver"] = r.driver_version;
  for (const auto& n : r.gpus) {
    topo::Gpu* g = nullptr;
    for (auto& x : s.gpus)
      if (x.bus_id == n.bus_id) g = &x;
    if (!g) {
      s.gpus.push_back(topo::Gpu{});
      g = &s.gpus.back();
      g->bus_id = n.bus_id;
      if (const auto* d = s.find_pci(n.bus_id)) g->numa = d->numa;
    }
    g->index = n.index;
    g->name = n.name;
    g->uuid = n.uuid;
    if (n.sm > 0) g->sm = n.sm;
    g->memory_bytes = n.memory_bytes;
    g->pcie_gen_cur = n.pcie_gen_cur;
    g->pcie_gen_max = n.pcie_gen_max;
    g->pcie_width_cur = n.pcie_width_cur;
    g->pcie_width_max = n.pcie_width_max;
    g->nvlinks = n.nvlinks;
  }
  // Remote type where NVML could not say: a GPU of this host, else an NVSwitch.
  for (auto& g : s.gpus)
    for (auto& l : g.nvlinks)
      if (l.active == topo::Tri::kYes && l.remote == topo::LinkRemote::kUnknown)
        l.remote = s.find_gpu_by_bus(l.remote_bus_id) ? topo::LinkRemote::kGpu : topo::LinkRemote::kNvSwitch;
  for (const auto& g : s.gpus)
    for (const auto& l : g.nvlinks)
      if (l.remote == topo::LinkRemote::kNvSwitch && !l.remote_bus_id.empty() &&
          std::find(s.nvswitches.begin(), s.nvswitches.end(), l.remote_bus_id) == s.nvswitches.end())
        s.nvswitches.push_back(l.remote_bus_id);
  std::stable_sort(s.gpus.begin(), s.gpus.end(), [](const auto& a, const auto& b) { return a.index < b.index; });
}

}  // namespace ncd::probe
