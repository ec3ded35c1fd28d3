// SPDX-License-Identifier: Apache-2.0
#include "probe/local.hpp"

#include <sched.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/fs.hpp"
#include "core/text.hpp"
#include "dist/comm.hpp"
#include "nccl/topo_xml.hpp"
#include "probe/hwloc_probe.hpp"
#include "probe/nvml.hpp"
#include "probe/sysfs.hpp"
#include "probe/versions.hpp"
#include "topo/paths.hpp"

namespace ncd::probe {

namespace {

/// x86 vendor/family/model from /proc/cpuinfo when hwloc did not give them.
void fill_cpu_ids(topo::System& s) {
  std::ifstream in("/proc/cpuinfo");
  std::string line, vendor;
  int family = 0, model = 0;
  while (std::getline(in, line)) {
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string key(trim(std::string_view(line).substr(0, colon)));
    std::string val(trim(std::string_view(line).substr(colon + 1)));
    if (key == "vendor_id" && vendor.empty()) vendor = val;
    if (key == "cpu family" && !family) family = std::atoi(val.c_str());
    if (key == "model" && !model) model = std::atoi(val.c_str());
    if (key == "processor" && !vendor.empty() && family) break;
  }
  struct utsname u {};
  std::string arch = uname(&u) == 0 ? u.machine : "";
  if (arch == "aarch64") arch = "arm64";
  for (auto& c : s.cpus) {
    if (c.arch.empty()) c.arch = arch;
    if (c.vendor.empty()) c.vendor = vendor;
    if (!c.family) c.family = family;
    if (!c.model) c.model = model;
  }
  if (uname(&u) == 0) s.versions["kernel"] = u.release;
}

/// DMA-BUF registration of GPU memory needs Linux >= 5.12 and NVIDIA's open kernel modules
/// (NCCL 2.28 uses it when cuDeviceGetAttribute(DMA_BUF_SUPPORTED) says so). Without the driver
/// it stays unknown; with the proprietary module too (no cheap way to ask without CUDA).
void detect_dmabuf(topo::System& s) {
  struct utsname u {};
  if (uname(&u) != 0) return;
  int major = 0, minor = 0;
  if (std::sscanf(u.release, "%d.%d", &major, &minor) == 2 && (major < 5 || (major == 5 && minor < 12))) {
    s.dmabuf = topo::Tri::kNo;
    return;
  }
  auto v = read_attr("/proc/driver/nvidia/version");
  if (v && v->find("Open Kernel Module") != std::string::npos) s.dmabuf = topo::Tri::kYes;
}

}  // namespace

topo::System probe_local(const ProbeOptions& opts) {
  topo::System s;
  bool live = opts.sysfs_root.empty() || opts.sysfs_root == "/sys";
  std::string root = opts.sysfs_root.empty() ? "/sys" : opts.sysfs_root;
  if (!live) {
    s = sysfs_system(root);
  } else {
    bool done = false;
    if (opts.use_hwloc) {
      try {
        s = hwloc_live_system();
        enrich_from_sysfs(s, root);
        done = true;
      } catch (const Error& e) {
        s.notes.push_back(std::string("hwloc: ") + e.what() + "; using sysfs alone");
      }
    }
    if (!done) {
      auto notes = s.notes;
      s = sysfs_system(root);
      s.notes.insert(s.notes.begin(), notes.begin(), notes.end());
    }
    fill_cpu_ids(s);
    detect_dmabuf(s);
    s.nvlink_unknown = s.gpus.size() >= 2;  // until NVML says
    if (opts.use_nvml) {
      NvmlResult r = probe_nvml();
      if (r.available) merge_nvml(s, r), s.nvlink_unknown = false;
      else s.notes.push_back("NVML: " + r.why + "; GPUs from PCI class only, no NVLink state");
    }
    Versions v = probe_versions();
    if (!v.nccl.empty()) s.versions["nccl"] = v.nccl;
    if (!v.cuda_runtime.empty()) s.versions["cuda_runtime"] = v.cuda_runtime;
    if (!v.mpi.empty()) s.versions["mpi"] = v.mpi;
    if (!v.hwloc.empty()) s.versions["hwloc"] = v.hwloc;
    s.host = dist::local_hostname();
  }
  if (!live) s.nvlink_unknown = s.gpus.size() >= 2;  // a sysfs tree has no NVLink state
  s.source = live ? "live" : root;
  if (!live) {
    std::string base = root;
    while (base.size() > 1 && base.back() == '/') base.pop_back();
    s.host = base.substr(base.find_last_of('/') + 1);
  }
  topo::compute_paths(s);
  return s;
}

bool has_offline_input(const LoadOptions& o) {
  return !o.hwloc_xml.empty() || !o.nccl_topo.empty() || !o.sysfs_root.empty() || !o.load.empty();
}

std::vector<topo::System> load_systems(const LoadOptions& o) {
  std::vector<topo::System> out;
  if (!o.load.empty()) {
    if (!o.hwloc_xml.empty() || !o.nccl_topo.empty() || !o.sysfs_root.empty())
      throw UsageError("--load replays a saved topology: it does not combine with --hwloc-xml, --nccl-topo or --sysfs-root");
    return topo::systems_from_json(read_file(o.load), o.load);
  }
  bool sysfs_used = false;
  if (!o.hwloc_xml.empty()) {
    topo::System s = hwloc_xml_system(o.hwloc_xml);
    if (!o.sysfs_root.empty()) {
      enrich_from_sysfs(s, o.sysfs_root);
      sysfs_used = true;
    }
    topo::compute_paths(s);
    out.push_back(std::move(s));
  }
  for (const auto& f : o.nccl_topo) {
    topo::System s = nccl::load_topo_xml(f);
    if (!o.sysfs_root.empty() && o.nccl_topo.size() == 1 && o.hwloc_xml.empty()) {
      enrich_from_sysfs(s, o.sysfs_root);
      s.max_only = false;
      sysfs_used = true;
      topo::compute_paths(s);
    }
    out.push_back(std::move(s));
  }
  if (!o.sysfs_root.empty() && !sysfs_used) {
    if (!out.empty())
      throw UsageError("--sysfs-root combines with --hwloc-xml or a single --nccl-topo, not with several hosts");
    ProbeOptions p;
    p.sysfs_root = o.sysfs_root;
    out.push_back(probe_local(p));
  }
  // Two inputs named alike (host11.xml twice) would be indistinguishable in findings.
  std::set<std::string> names;
  for (auto& s : out) {
    std::string n = s.host;
    for (int i = 2; names.count(n); ++i) n = fmt::format("{}#{}", s.host, i);
    s.host = n;
    names.insert(n);
  }
  return out;
}

topo::System load_system_from_files(const LoadOptions& o) {
  auto all = load_systems(o);
  if (all.empty()) throw UsageError("no topology input given");
  return std::move(all.front());
}

topo::RankBinding probe_binding(int rank, int local_rank, const topo::System& local) {
  topo::RankBinding b;
  b.rank = rank;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0)
    for (int c = 0; c < CPU_SETSIZE; ++c)
      if (CPU_ISSET(c, &set)) b.cpus.push_back(c);
  long online = sysconf(_SC_NPROCESSORS_ONLN);
  b.total_cpus = online > 0 ? static_cast<int>(online) : 0;
  std::set<int> numas;
  for (int c : b.cpus)
    for (const auto& n : local.cpus)
      if (std::binary_search(n.cpus.begin(), n.cpus.end(), c)) numas.insert(n.numa);
  b.numa_nodes.assign(numas.begin(), numas.end());
  if (local.gpus.empty()) return b;
  const char* cvd = std::getenv("CUDA_VISIBLE_DEVICES");
  if (cvd && *cvd) {
    auto devs = split(cvd, ',');
    if (!devs.empty()) {
      // The rank drives the first visible device unless it picks by local rank among several.
      std::string pick = devs.size() == 1 ? devs[0] : devs[static_cast<std::size_t>(std::max(local_rank, 0)) % devs.size()];
      for (const auto& g : local.gpus)
        if ((!g.uuid.empty() && (g.uuid == pick || g.uuid.rfind(pick, 0) == 0)) ||
            (std::isdigit(static_cast<unsigned char>(pick[0])) && g.index == std::atoi(pick.c_str()))) {
          b.gpu_index = g.index;
          b.gpu_bus_id = g.bus_id;
        }
      return b;
    }
  }
  int lr = local_rank;
  for (const char* v : {"OMPI_COMM_WORLD_LOCAL_RANK", "SLURM_LOCALID", "MPI_LOCALRANKID", "LOCAL_RANK"})
    if (lr < 0)
      if (const char* e = std::getenv(v)) lr = std::atoi(e);
  if (lr < 0) lr = 0;
  const auto& g = local.gpus[static_cast<std::size_t>(lr) % local.gpus.size()];
  b.gpu_index = g.index;
  b.gpu_bus_id = g.bus_id;
  return b;
}

void resolve_bindings(topo::System& s, const std::vector<nlohmann::json>& ranks) {
  for (const auto& j : ranks) {
    topo::RankBinding b;
    b.rank = j.value("rank", 0);
    b.cpus = j.value("cpus", std::vector<int>{});
    b.total_cpus = j.value("total_cpus", 0);
    std::set<int> numas;
    for (int c : b.cpus)
      for (const auto& n : s.cpus)
        if (std::binary_search(n.cpus.begin(), n.cpus.end(), c)) numas.insert(n.numa);
    b.numa_nodes.assign(numas.begin(), numas.end());
    if (!s.gpus.empty()) {
      int local = std::max(0, j.value("local_rank", 0));
      auto devs = split(j.value("cuda_visible_devices", ""), ',');
      const topo::Gpu* g = nullptr;
      if (devs.empty()) {
        g = &s.gpus[static_cast<std::size_t>(local) % s.gpus.size()];
      } else {
        const std::string& pick = devs[static_cast<std::size_t>(local) % devs.size()];
        for (const auto& x : s.gpus)
          if ((!x.uuid.empty() && x.uuid.rfind(pick, 0) == 0) || std::to_string(x.index) == pick) g = &x;
      }
      if (g) {
        b.gpu_index = g->index;
        b.gpu_bus_id = g->bus_id;
      }
    }
    s.bindings.push_back(b);
  }
}

}  // namespace ncd::probe
