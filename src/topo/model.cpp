// SPDX-License-Identifier: Apache-2.0
#include "topo/model.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <iterator>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/text.hpp"
#include "topo/paths.hpp"

namespace ncd::topo {

std::string_view to_string(Tri t) {
  switch (t) {
    case Tri::kYes: return "yes";
    case Tri::kNo: return "no";
    default: return "unknown";
  }
}

namespace {
constexpr std::string_view kPathNames[] = {"LOC", "NVL", "NVB", "C2C", "PIX", "PXB",
                                           "P2C", "PXN", "PHB", "SYS", "NET", "DIS"};
}

std::string_view to_string(PathType t) { return kPathNames[static_cast<int>(t)]; }

PathType parse_path_type(std::string_view s) {
  std::string u;
  for (char c : s) u += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (int i = 0; i < 12; ++i)
    if (u == kPathNames[i]) return static_cast<PathType>(i);
  return PathType::kDIS;
}

std::string_view to_string(PciKind k) {
  switch (k) {
    case PciKind::kBridge: return "bridge";
    case PciKind::kGpu: return "gpu";
    case PciKind::kNic: return "nic";
    case PciKind::kNvSwitch: return "nvswitch";
    default: return "other";
  }
}

std::string_view to_string(LinkRemote r) {
  switch (r) {
    case LinkRemote::kGpu: return "gpu";
    case LinkRemote::kNvSwitch: return "nvswitch";
    case LinkRemote::kCpu: return "cpu";
    default: return "unknown";
  }
}

int Gpu::nvlinks_up() const {
  int n = 0;
  for (const auto& l : nvlinks)
    if (l.active == Tri::kYes) n += l.count;
  return n;
}

int Gpu::nvlinks_down() const {
  int n = 0;
  for (const auto& l : nvlinks)
    if (l.active == Tri::kNo) n += l.count;
  return n;
}

std::string NicPort::subject() const { return fmt::format("{}/{}", name, port); }

const PciDevice* System::find_pci(std::string_view bus_id) const {
  for (const auto& p : pci)
    if (p.bus_id == bus_id) return &p;
  return nullptr;
}
PciDevice* System::find_pci(std::string_view bus_id) {
  for (auto& p : pci)
    if (p.bus_id == bus_id) return &p;
  return nullptr;
}
const Gpu* System::find_gpu_by_bus(std::string_view bus_id) const {
  for (const auto& g : gpus)
    if (g.bus_id == bus_id) return &g;
  return nullptr;
}
const CpuNode* System::find_cpu(int numa) const {
  for (const auto& c : cpus)
    if (c.numa == numa) return &c;
  return nullptr;
}

namespace {
const PathInfo kNoPath{};
}

const PathInfo& System::gpu_path(std::size_t a, std::size_t b) const {
  if (a >= paths.gpu_gpu.size() || b >= paths.gpu_gpu[a].size()) return kNoPath;
  return paths.gpu_gpu[a][b];
}
const PathInfo& System::nic_path(std::size_t gpu, std::size_t nic) const {
  if (gpu >= paths.gpu_nic.size() || nic >= paths.gpu_nic[gpu].size()) return kNoPath;
  return paths.gpu_nic[gpu][nic];
}
std::string System::gpu_subject(std::size_t gpu) const {
  const Gpu& g = gpus.at(gpu);
  int idx = g.index >= 0 ? g.index : static_cast<int>(gpu);
  return g.bus_id.empty() ? fmt::format("GPU{}", idx) : fmt::format("GPU{} {}", idx, g.bus_id);
}

std::string printable(std::string_view s) {
  std::string out;
  out.reserve(std::min<std::size_t>(s.size(), 256));
  for (char c : s.substr(0, 256)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  return out;
}

std::string_view to_string(NicKind k) {
  switch (k) {
    case NicKind::kRdma: return "RDMA";
    case NicKind::kSocket: return "socket";
    default: return "unknown";
  }
}

bool is_rdma_pci(std::uint32_t class_code, std::uint32_t vendor, std::uint32_t device) {
  if ((class_code >> 8) == 0x0207) return true;
  return vendor == 0x1d0f && device >= 0xefa0 && device <= 0xefa3;
}

// --- text helpers ---------------------------------------------------------------------------

namespace {
bool parse_hex(std::string_view s, unsigned long long& out) {
  if (s.empty() || s.size() > 16) return false;
  auto r = std::from_chars(s.data(), s.data() + s.size(), out, 16);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}
}  // namespace

std::string normalize_bus_id(std::string_view in) {
  std::string s = to_lower(trim(in));
  // dddd:bb:dd.f, with a domain of up to 8 hex digits (NVML prints 00000000:1B:00.0).
  auto dot = s.rfind('.');
  auto c2 = s.rfind(':');
  if (dot == std::string::npos || c2 == std::string::npos || c2 > dot) return s;
  auto c1 = s.rfind(':', c2 - 1 == std::string::npos ? 0 : c2 - 1);
  unsigned long long dom = 0, bus = 0, dev = 0, fn = 0;
  std::string_view sv(s);
  std::string_view bus_s, dom_s;
  if (c1 == std::string::npos || c1 >= c2) {
    bus_s = sv.substr(0, c2);
  } else {
    dom_s = sv.substr(0, c1);
    bus_s = sv.substr(c1 + 1, c2 - c1 - 1);
    if (!parse_hex(dom_s, dom) || dom > 0xffffffffULL) return s;
  }
  if (!parse_hex(bus_s, bus) || bus > 0xff) return s;
  if (!parse_hex(sv.substr(c2 + 1, dot - c2 - 1), dev) || dev > 0x1f) return s;
  if (!parse_hex(sv.substr(dot + 1), fn) || fn > 7) return s;
  if (dom > 0xffff) return fmt::format("{:08x}:{:02x}:{:02x}.{:x}", dom, bus, dev, fn);
  return fmt::format("{:04x}:{:02x}:{:02x}.{:x}", dom, bus, dev, fn);
}

std::vector<int> parse_cpumap(std::string_view s) {
  std::vector<int> cpus;
  auto words = split(trim(s), ',', false);
  if (words.empty()) return cpus;
  int bit = 0;
  for (auto it = words.rbegin(); it != words.rend(); ++it) {
    std::string w(trim(*it));
    if (w.rfind("0x", 0) == 0 || w.rfind("0X", 0) == 0) w = w.substr(2);
    unsigned long long v = 0;
    if (w.empty() || w.size() > 8 || !parse_hex(w, v)) return {};
    for (int b = 0; b < 32; ++b)
      if (v & (1ULL << b)) cpus.push_back(bit + b);
    bit += 32;
    if (bit > (1 << 16)) return {};
  }
  std::sort(cpus.begin(), cpus.end());
  return cpus;
}

std::vector<int> parse_cpulist(std::string_view s) {
  std::vector<int> cpus;
  for (const auto& part : split(trim(s), ',')) {
    auto dash = part.find('-');
    long a = 0, b = 0;
    auto pa = [](std::string_view t, long& v) {
      auto r = std::from_chars(t.data(), t.data() + t.size(), v);
      return r.ec == std::errc() && r.ptr == t.data() + t.size() && v >= 0 && v < (1 << 16);
    };
    if (dash == std::string::npos) {
      if (!pa(part, a)) return {};
      b = a;
    } else if (!pa(std::string_view(part).substr(0, dash), a) ||
               !pa(std::string_view(part).substr(dash + 1), b) || b < a) {
      return {};
    }
    for (long c = a; c <= b; ++c) cpus.push_back(static_cast<int>(c));
  }
  std::sort(cpus.begin(), cpus.end());
  cpus.erase(std::unique(cpus.begin(), cpus.end()), cpus.end());
  return cpus;
}

// The one table of PCIe per-lane speeds, GT/s, indexed by generation - 1 (Gen1 .. Gen6).
constexpr double kPcieGts[] = {2.5, 5.0, 8.0, 16.0, 32.0, 64.0};

double parse_pcie_speed(std::string_view in) {
  std::string_view s = trim(in);
  // A leading decimal number followed by "GT/s" (any suffix: "PCIe", "PCIe/s"). Old kernels
  // print "16 GT/s", new ones "16.0 GT/s PCIe"; "Unknown" or "" is unknown.
  std::size_t i = 0;
  while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
  if (i == 0) return 0;
  double v = std::strtod(std::string(s.substr(0, i)).c_str(), nullptr);
  std::string_view rest = trim(s.substr(i));
  if (rest.rfind("GT/s", 0) != 0) return 0;
  const int gen = pcie_gen(v);
  return gen > 0 ? kPcieGts[gen - 1] : 0;
}

int pcie_gen(double gts) {
  for (int i = 0; i < static_cast<int>(std::size(kPcieGts)); ++i)
    if (gts > kPcieGts[i] - 0.01 && gts < kPcieGts[i] + 0.01) return i + 1;
  return 0;
}

std::set<std::string> pci_functions_to_keep(const std::vector<const PciDevice*>& all) {
  std::map<std::string_view, const PciDevice*> by_bus;
  for (const PciDevice* d : all) by_bus.emplace(d->bus_id, d);
  std::set<std::string> keep;
  for (const auto& [bus, d] : by_bus) {
    if (d->kind == PciKind::kBridge || d->kind == PciKind::kOther) continue;
    std::string cur(bus);
    while (!cur.empty() && !keep.count(cur)) {
      auto it = by_bus.find(cur);
      if (it == by_bus.end()) break;
      keep.insert(cur);
      cur = it->second->parent;
    }
  }
  return keep;
}

// --- JSON ------------------------------------------------------------------------------------

NLOHMANN_JSON_SERIALIZE_ENUM(Tri, {{Tri::kUnknown, "unknown"}, {Tri::kNo, "no"}, {Tri::kYes, "yes"}})
NLOHMANN_JSON_SERIALIZE_ENUM(PciKind, {{PciKind::kOther, "other"},
                                       {PciKind::kBridge, "bridge"},
                                       {PciKind::kGpu, "gpu"},
                                       {PciKind::kNic, "nic"},
                                       {PciKind::kNvSwitch, "nvswitch"}})
NLOHMANN_JSON_SERIALIZE_ENUM(LinkRemote, {{LinkRemote::kUnknown, "unknown"},
                                          {LinkRemote::kGpu, "gpu"},
                                          {LinkRemote::kNvSwitch, "nvswitch"},
                                          {LinkRemote::kCpu, "cpu"}})

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(PciLink, cur_gts, cur_width, max_gts, max_width)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(PciDevice, bus_id, parent, numa, kind, class_code,
                                                vendor, device, subsystem_vendor, subsystem_device,
                                                link, link_gbps, speed_text, link_quirk, acs_redirect,
                                                acs_detail, iommu_group_type)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(NvLink, link, remote_bus_id, remote, count, active,
                                                version, xgmi)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Gpu, index, bus_id, name, uuid, sm, memory_bytes,
                                                numa, local_cpus, gdr, rank, nvlinks, c2c_gbps,
                                                pcie_gen_cur, pcie_gen_max, pcie_width_cur,
                                                pcie_width_max)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(NicPort, name, port, net_dev, state, phys_state,
                                                rate_gbps, rate_text, link_layer, netdev, mtu,
                                                operstate, guid, gdr)
NLOHMANN_JSON_SERIALIZE_ENUM(NicKind, {{NicKind::kUnknown, "unknown"}, {NicKind::kRdma, "rdma"}, {NicKind::kSocket, "socket"}})
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Nic, bus_id, name, numa, rdma, kind, kind_why, own_pci, ports)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(CpuNode, numa, package, affinity_text, cpus, arch,
                                                vendor, family, model)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(RankBinding, rank, cpus, numa_nodes, gpu_index,
                                                gpu_bus_id, total_cpus)

namespace {
nlohmann::json path_json(const PathInfo& p) {
  nlohmann::json j{{"type", p.nvlink_unknown ? std::string("?") : std::string(to_string(p.type))},
                   {"pci_type", to_string(p.pci_type)},
                   {"bw_gbps", p.nvlink_unknown ? 0.0 : p.bw_gbps}, {"hops", p.hops}};
  if (p.nvlink_unknown) j["nvlink"] = "unknown";
  if (!p.bottleneck.empty()) j["bottleneck"] = p.bottleneck;
  if (!p.via.empty()) j["via"] = p.via;
  return j;
}
}  // namespace

void to_json(nlohmann::json& j, const System& s) {
  j = nlohmann::json{{"host", s.host},         {"source", s.source},   {"nccl_tree", s.nccl_tree},
                     {"max_only", s.max_only}, {"cpus", s.cpus},       {"pci", s.pci},
                     {"gpus", s.gpus},         {"nics", s.nics},       {"nvswitches", s.nvswitches},
                     {"iommu_mode", s.iommu_mode}, {"peermem", s.peermem}, {"dmabuf", s.dmabuf},
                     {"versions", s.versions}, {"bindings", s.bindings}, {"notes", s.notes},
                     {"nvlink_unknown", s.nvlink_unknown}};
}

void from_json(const nlohmann::json& j, System& s) {
  System d;
  s.host = j.value("host", d.host);
  s.source = j.value("source", d.source);
  s.nccl_tree = j.value("nccl_tree", d.nccl_tree);
  s.max_only = j.value("max_only", d.max_only);
  s.cpus = j.value("cpus", d.cpus);
  s.pci = j.value("pci", d.pci);
  s.gpus = j.value("gpus", d.gpus);
  s.nics = j.value("nics", d.nics);
  s.nvswitches = j.value("nvswitches", d.nvswitches);
  s.iommu_mode = j.value("iommu_mode", d.iommu_mode);
  s.peermem = j.value("peermem", d.peermem);
  s.dmabuf = j.value("dmabuf", d.dmabuf);
  s.versions = j.value("versions", d.versions);
  s.bindings = j.value("bindings", d.bindings);
  s.notes = j.value("notes", d.notes);
  s.nvlink_unknown = j.value("nvlink_unknown", d.nvlink_unknown);
  // Older JSON has `rdma` only.
  for (auto& n : s.nics)
    if (n.kind == NicKind::kUnknown && n.rdma) n.kind = NicKind::kRdma;
}

System system_from_json_lenient(const nlohmann::json& j, std::vector<std::string>& unread) {
  System s;
  if (!j.is_object()) {
    if (!j.is_null()) unread.push_back("(not an object)");
    return s;
  }
  auto part = [&](const char* key, auto& field) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return;
    try {
      field = it->template get<std::decay_t<decltype(field)>>();
    } catch (const nlohmann::json::exception&) {
      // An array of parts: keep the ones that read (one odd GPU does not hide the others).
      if constexpr (requires { field.push_back(field.front()); }) {
        if (it->is_array()) {
          for (const auto& e : *it) {
            try {
              field.push_back(e.template get<typename std::decay_t<decltype(field)>::value_type>());
            } catch (const nlohmann::json::exception&) {
            }
          }
        }
      }
      unread.emplace_back(key);
    }
  };
  part("host", s.host);
  part("source", s.source);
  part("nccl_tree", s.nccl_tree);
  part("max_only", s.max_only);
  part("cpus", s.cpus);
  part("pci", s.pci);
  part("gpus", s.gpus);
  part("nics", s.nics);
  part("nvswitches", s.nvswitches);
  part("iommu_mode", s.iommu_mode);
  part("peermem", s.peermem);
  part("dmabuf", s.dmabuf);
  part("versions", s.versions);
  part("bindings", s.bindings);
  part("notes", s.notes);
  part("nvlink_unknown", s.nvlink_unknown);
  for (auto& n : s.nics)
    if (n.kind == NicKind::kUnknown && n.rdma) n.kind = NicKind::kRdma;
  return s;
}

nlohmann::json system_to_json(const System& s) {
  nlohmann::json j = s;
  j["schema"] = "nccl-doctor/topology/v1";
  nlohmann::json gg = nlohmann::json::array();
  for (std::size_t a = 0; a < s.paths.gpu_gpu.size(); ++a) {
    nlohmann::json row = nlohmann::json::array();
    for (const auto& p : s.paths.gpu_gpu[a]) row.push_back(path_json(p));
    gg.push_back(row);
  }
  nlohmann::json gn = nlohmann::json::array();
  for (std::size_t a = 0; a < s.paths.gpu_nic.size(); ++a) {
    nlohmann::json row = nlohmann::json::array();
    for (const auto& p : s.paths.gpu_nic[a]) row.push_back(path_json(p));
    gn.push_back(row);
  }
  j["paths"] = {{"gpu_gpu", gg}, {"gpu_nic", gn}, {"nearest_nic", s.paths.nearest_nic}};
  return j;
}

std::vector<System> systems_from_json(const std::string& text, const std::string& source) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw InputError(source, std::string("not JSON: ") + e.what());
  }
  std::vector<System> out;
  try {
    auto one = [&](const nlohmann::json& t) {
      if (!t.is_object() || !t.contains("gpus") || !t.contains("pci"))
        throw InputError(source, "not an nccl-doctor topology (no gpus/pci)");
      System s = t.get<System>();
      compute_paths(s);
      out.push_back(std::move(s));
    };
    if (j.is_object() && j.contains("hosts") && j["hosts"].is_array()) {
      for (const auto& h : j["hosts"])
        if (h.is_object() && h.contains("topology") && h["topology"].is_object()) one(h["topology"]);
      if (out.empty()) throw InputError(source, "report has no hosts[].topology");
    } else if (j.is_array()) {
      for (const auto& t : j) one(t);
    } else {
      one(j);
    }
  } catch (const nlohmann::json::exception& e) {
    throw InputError(source, std::string("bad topology JSON: ") + e.what());
  }
  return out;
}

System system_from_json(const std::string& text, const std::string& source) {
  auto all = systems_from_json(text, source);
  return std::move(all.front());
}

}  // namespace ncd::topo
