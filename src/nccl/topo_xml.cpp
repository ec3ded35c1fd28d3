// SPDX-License-Identifier: Apache-2.0
#include "nccl/topo_xml.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <set>
#include <vector>

#include <fmt/format.h>
#include <pugixml.hpp>

#include "core/error.hpp"
#include "core/fs.hpp"
#include "core/text.hpp"
#include "core/xml_guard.hpp"
#include "topo/nic_class.hpp"
#include "topo/paths.hpp"

namespace ncd::nccl {

namespace {

using topo::LinkRemote;
using topo::PciKind;
using topo::Tri;

// NCCL allows 256 nodes per rank topology; a fused host dump is bigger. Anything past this is
// not a topology file.
constexpr std::size_t kMaxElements = 200000;
constexpr std::size_t kNoCpu = static_cast<std::size_t>(-1);

/// NCCL reads integers with strtol(..., 0): decimal or 0x hex. nullopt when absent or bad.
bool attr_long(const pugi::xml_node& n, const char* name, long& out) {
  pugi::xml_attribute a = n.attribute(name);
  if (!a) return false;
  std::string v(trim(a.value()));
  if (v.empty()) return false;
  char* end = nullptr;
  errno = 0;
  long r = std::strtol(v.c_str(), &end, 0);
  if (errno != 0 || end == v.c_str()) {
    // Floats where an int is expected ("latency=0.0", "speed=100000.0"): take the integer part.
    double d = std::strtod(v.c_str(), &end);
    if (end == v.c_str() || !(d > -1e15 && d < 1e15)) return false;
    r = static_cast<long>(d);
  }
  out = r;
  return true;
}

/// A string attribute, made printable (a corrupt file must not corrupt the report).
std::string attr_text(const pugi::xml_node& n, const char* name) { return topo::printable(n.attribute(name).value()); }

long attr_or(const pugi::xml_node& n, const char* name, long def) {
  long v = 0;
  return attr_long(n, name, v) ? v : def;
}

double attr_double(const pugi::xml_node& n, const char* name, double def) {
  pugi::xml_attribute a = n.attribute(name);
  if (!a) return def;
  char* end = nullptr;
  double d = std::strtod(a.value(), &end);
  if (end == a.value() || !(d > -1e18 && d < 1e18)) return def;
  return d;
}

Tri attr_tri(const pugi::xml_node& n, const char* name) {
  long v = 0;
  if (!attr_long(n, name, v)) return Tri::kUnknown;
  return v ? Tri::kYes : Tri::kNo;
}

std::uint32_t attr_hex(const pugi::xml_node& n, const char* name) {
  long v = 0;
  if (!attr_long(n, name, v) || v < 0) return 0;
  return static_cast<std::uint32_t>(v & 0xffffffff);
}

PciKind kind_of_class(std::uint32_t cls) {
  std::uint32_t base = cls >> 16, sub = (cls >> 8) & 0xff;
  if (base == 0x06 && sub == 0x04) return PciKind::kBridge;
  if (base == 0x03) return PciKind::kGpu;
  if (base == 0x02) return PciKind::kNic;
  if (base == 0x06 && sub == 0x80 && (cls & 0xff) == 0x00) return PciKind::kNvSwitch;
  return PciKind::kOther;
}

LinkRemote remote_of_class(std::uint32_t tclass) {
  std::uint32_t base = tclass >> 16;
  if (base == 0x03 || base == 0x12) return LinkRemote::kGpu;  // display / processing accelerator
  if (tclass == 0x068001) return LinkRemote::kCpu;              // POWER9 NVLink to the CPU
  if (tclass == 0x068000) return LinkRemote::kNvSwitch;
  return LinkRemote::kNvSwitch;  // NCCL: anything else joins the single NVS node
}


struct Frame {
  pugi::xml_node node;
  int numa;
  std::string pci;  // enclosing pci bus id
  std::size_t cpu;  // index into System::cpus, kNoCpu when outside any <cpu>
};


// --- strict attribute screen ------------------------------------------------------------------
// The loader above is lenient about what real dumps get wrong (speed "Unknown", width 0 in VMs,
// missing attributes); this pass rejects what no NCCL or RCCL ever wrote: numbers that are not
// numbers or are absurd (1e999, NaN, negative counts, 10^23 lanes) and unknown enum strings.

class AttrScreen {
 public:
  /// A value as quoted in an error: printable ASCII, at most 40 characters.
  static std::string shown(std::string_view v) {
    std::string out;
    for (char c : v.substr(0, 40)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
    return v.size() > 40 ? out + "..." : out;
  }

  AttrScreen(std::string_view text, const std::string& source) : text_(text), source_(source) {}

  [[noreturn]] void fail(const pugi::xml_node& n, const std::string& what) const {
    throw InputError(source_, line_at(text_, n.offset_debug()), what);
  }

  /// An integer (decimal, 0x hex, or a float with an integral value, as NCCL's strtol/strtod
  /// accept) in [lo, hi] when present.
  void integer(const pugi::xml_node& n, const char* name, double lo, double hi) const {
    pugi::xml_attribute a = n.attribute(name);
    if (!a) return;
    std::string v(trim(a.value()));
    if (v.empty()) return;
    double d = 0;
    char* end = nullptr;
    errno = 0;
    const bool neg = v[0] == '-';
    const char* digits = neg || v[0] == '+' ? v.c_str() + 1 : v.c_str();
    if (digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X')) {
      unsigned long long u = std::strtoull(digits, &end, 16);
      if (errno == ERANGE || end == digits + 2 || *end != '\0') bad(n, name, v, lo, hi);
      d = static_cast<double>(u) * (neg ? -1 : 1);
    } else {
      d = std::strtod(v.c_str(), &end);
      if (end == v.c_str() || *end != '\0' || !std::isfinite(d) || std::isalpha(static_cast<unsigned char>(digits[0])))
        bad(n, name, v, lo, hi);
    }
    if (d < lo || d > hi) bad(n, name, v, lo, hi);
  }

  /// A non-negative finite number when present.
  void number(const pugi::xml_node& n, const char* name) const {
    pugi::xml_attribute a = n.attribute(name);
    if (!a || trim(a.value()).empty()) return;
    std::string v(trim(a.value()));
    char* end = nullptr;
    double d = std::strtod(v.c_str(), &end);
    if (end == v.c_str() || *end != '\0' || !std::isfinite(d) || d < 0 || std::isalpha(static_cast<unsigned char>(v[0])))
      fail(n, fmt::format("<{}> {}=\"{}\" is not a non-negative number", n.name(), name, shown(v)));
  }

  /// One of `allowed` when present and non-empty.
  void one_of(const pugi::xml_node& n, const char* name, std::initializer_list<std::string_view> allowed) const {
    pugi::xml_attribute a = n.attribute(name);
    if (!a) return;
    std::string_view v = trim(a.value());
    if (v.empty()) return;
    for (auto ok : allowed)
      if (v == ok) return;
    std::string list;
    for (auto ok : allowed) list += (list.empty() ? "" : ", ") + std::string(ok);
    fail(n, fmt::format("<{}> {}=\"{}\" is not one of {}", n.name(), name, shown(v), list));
  }

  /// Checks one element's attributes by element name; unknown elements are NCCL's to ignore.
  void element(const pugi::xml_node& n) const {
    std::string_view name = n.name();
    constexpr double kU32 = 4294967295.0;
    if (name == "cpu") {
      integer(n, "numaid", -1, 65535);
      integer(n, "familyid", 0, kU32);
      integer(n, "modelid", 0, kU32);
      // NCCL's kvDictCpuArch; Linux's uname spellings of the same.
      one_of(n, "arch", {"x86_64", "arm64", "aarch64", "ppc64", "ppc64le"});
      std::string_view aff = trim(n.attribute("affinity").value());
      if (aff.find_first_not_of("0123456789abcdefABCDEFxX,") != std::string_view::npos)
        fail(n, fmt::format("<cpu> affinity=\"{}\" is not a hex CPU mask", shown(aff)));
    } else if (name == "pci") {
      std::string bus(trim(n.attribute("busid").value()));
      if (!bus.empty()) {
        std::string norm = topo::normalize_bus_id(bus);
        // normalize_bus_id returns its input unchanged (lower-cased) when it is not dddd:bb:dd.f.
        if (norm.find(':') == std::string::npos || norm.find('.') == std::string::npos ||
            norm.size() < 10 || norm.find_first_not_of("0123456789abcdef:.") != std::string::npos ||
            norm.size() > 16)
          fail(n, fmt::format("<pci> busid=\"{}\" is not a PCI bus id (dddd:bb:dd.f)", shown(bus)));
      }
      for (const char* a : {"class", "vendor", "device", "subsystem_vendor", "subsystem_device"}) integer(n, a, 0, kU32);
      integer(n, "link_width", 0, 255);
      // "Unknown" or "" is a real quirk; a number that is not a speed is not.
      std::string speed(trim(n.attribute("link_speed").value()));
      char* end = nullptr;
      double gts = std::strtod(speed.c_str(), &end);
      if (end != speed.c_str() && (!std::isfinite(gts) || gts < 0 || gts > 1000))
        fail(n, fmt::format("<pci> link_speed=\"{}\" is not a PCIe speed", shown(speed)));
    } else if (name == "gpu") {
      integer(n, "dev", 0, 65535);
      integer(n, "sm", 0, 10000);
      integer(n, "rank", -1, 1 << 24);
      one_of(n, "gdr", {"0", "1"});
    } else if (name == "nvlink" || name == "xgmi") {
      integer(n, "count", 0, 1024);
      integer(n, "tclass", 0, kU32);
    } else if (name == "net") {
      integer(n, "dev", -1, 65535);
      integer(n, "port", 0, 255);
      integer(n, "speed", 0, 1e9);  // Mb/s
      integer(n, "maxconn", 0, kU32);
      one_of(n, "gdr", {"0", "1"});
      number(n, "latency");
    } else if (name == "c2c") {
      number(n, "bw");
      number(n, "count");
    }
  }

  /// Every element below `root`, in document order, without recursion.
  void tree(const pugi::xml_node& root) const {
    pugi::xml_node n = root.first_child();
    while (n && n != root) {
      if (n.type() == pugi::node_element) element(n);
      if (n.first_child()) {
        n = n.first_child();
        continue;
      }
      while (n && n != root && !n.next_sibling()) n = n.parent();
      if (n && n != root) n = n.next_sibling();
    }
  }

 private:
  [[noreturn]] void bad(const pugi::xml_node& n, const char* name, const std::string& v, double lo, double hi) const {
    fail(n, fmt::format("<{}> {}=\"{}\" is not an integer in [{}, {}]", n.name(), name, shown(v), lo, hi));
  }
  std::string_view text_;
  const std::string& source_;
};

/// Reads NCCL's topology grammar into a System: one method per element kind, walked with an
/// explicit stack (the input's depth must not drive our recursion).
class TopoXmlReader {
 public:
  TopoXmlReader(std::string_view text, const std::string& source) : text_(text), source_(source) {}

  topo::System read() {
    pugi::xml_document doc;
    const pugi::xml_node root = load_root(doc);
    AttrScreen(text_, source_).tree(root);
    std::vector<Frame> stack;
    for (pugi::xml_node c = root.last_child(); c; c = c.previous_sibling())
      if (c.type() == pugi::node_element) stack.push_back({c, -1, "", kNoCpu});
    while (!stack.empty()) {
      Frame f = stack.back();
      stack.pop_back();
      if (++elements_ > kMaxElements)
        throw InputError(source_, fmt::format("more than {} elements: not a topology file", kMaxElements));
      const std::string name = f.node.name();
      Frame child = f;
      bool descend = false;
      if (name == "cpu") descend = on_cpu(f, child);
      else if (name == "pci") descend = on_pci(f, child);
      else if (name == "gpu") on_gpu(f);
      else if (name == "nic") on_nic(f);
      // pcilink, unknown elements: NCCL skips them ("Ignoring element").
      if (descend) {
        for (pugi::xml_node c = f.node.last_child(); c; c = c.previous_sibling())
          if (c.type() == pugi::node_element) stack.push_back({c, child.numa, child.pci, child.cpu});
      }
    }
    note_empty_speeds();
    number_gpus();
    return std::move(s_);
  }

 private:
  /// Parses the document and checks its root: <system version="1"> (NCCL) or 2 (RCCL).
  pugi::xml_node load_root(pugi::xml_document& doc) {
    check_xml_shape(text_, source_);
    pugi::xml_parse_result res = doc.load_buffer(text_.data(), text_.size(), pugi::parse_default | pugi::parse_comments,
                                                 pugi::encoding_utf8);
    if (!res) {
      long line = 1 + static_cast<long>(std::count(
                          text_.begin(),
                          text_.begin() + std::min<std::ptrdiff_t>(res.offset, static_cast<std::ptrdiff_t>(text_.size())),
                          '\n'));
      throw InputError(source_, line, std::string("not valid XML: ") + res.description());
    }
    pugi::xml_node root;
    for (pugi::xml_node c = doc.first_child(); c; c = c.next_sibling())
      if (c.type() == pugi::node_element) {
        root = c;
        break;
      }
    if (!root) throw InputError(source_, "no XML element (empty file?)");
    if (std::string(root.name()) != "system")
      throw InputError(source_, fmt::format("not an NCCL topology: root element <{}>, expected <system>",
                                            topo::printable(root.name())));
    s_.source = source_;
    s_.nccl_tree = true;
    s_.max_only = true;
    long version = attr_or(root, "version", -1);
    if (version == 2) {
      s_.notes.push_back("RCCL topology dialect (system version 2)");
    } else if (version != 1) {
      // NCCL itself refuses anything but version 1 ("XML Topology has wrong version").
      throw InputError(source_, version < 0 ? std::string("<system> has no version attribute")
                                            : fmt::format("unsupported topology version {} (NCCL needs 1, RCCL writes 2)",
                                                          version));
    }
    return root;
  }

  bool on_cpu(const Frame& f, Frame& child) {
    if (f.cpu != kNoCpu) {  // a cpu inside a cpu is not NCCL's grammar: skip it
      s_.notes.push_back(fmt::format("ignored a <cpu> nested in another <cpu>"));
      return false;
    }
    topo::CpuNode c;
    c.numa = static_cast<int>(attr_or(f.node, "numaid", -1));
    c.affinity_text = attr_text(f.node, "affinity");
    c.cpus = topo::parse_cpumap(c.affinity_text);
    c.arch = attr_text(f.node, "arch");
    c.vendor = std::string(trim(attr_text(f.node, "vendor")));
    c.family = static_cast<int>(attr_or(f.node, "familyid", 0));
    c.model = static_cast<int>(attr_or(f.node, "modelid", 0));
    s_.cpus.push_back(c);
    child.cpu = s_.cpus.size() - 1;
    child.numa = c.numa;
    child.pci.clear();
    return true;
  }

  /// The bus id of a <pci>, normalised; a second device with the same id gets a marked one.
  std::string pci_bus_id(const pugi::xml_node& node) {
    std::string bus = attr_text(node, "busid");
    bus = bus.empty() ? fmt::format("unknown:{}", unnamed_++) : topo::normalize_bus_id(bus);
    if (seen_bus_.count(bus)) {
      // Two functions with one bus id (a multi-segment machine exported without PCI domains):
      // both are kept, the second under a marked id, so that neither the HCA nor the GPU is lost.
      std::string orig = bus;
      for (int k = 2; seen_bus_.count(bus); ++k) bus = fmt::format("{}#{}", orig, k);
      s_.notes.push_back(fmt::format("two PCI devices share bus id {} (PCI domains missing from the file?): both kept, "
                                     "the second as {}",
                                     orig, bus));
    }
    seen_bus_.insert(bus);
    return bus;
  }

  bool on_pci(const Frame& f, Frame& child) {
    const std::string bus = pci_bus_id(f.node);
    topo::PciDevice d;
    d.bus_id = bus;
    d.parent = f.pci;
    d.numa = f.numa;
    d.class_code = attr_hex(f.node, "class");
    d.kind = kind_of_class(d.class_code);
    d.vendor = attr_hex(f.node, "vendor");
    d.device = attr_hex(f.node, "device");
    d.subsystem_vendor = attr_hex(f.node, "subsystem_vendor");
    d.subsystem_device = attr_hex(f.node, "subsystem_device");
    d.speed_text = attr_text(f.node, "link_speed");
    d.link.max_gts = topo::parse_pcie_speed(d.speed_text);
    long w = attr_or(f.node, "link_width", 0);
    d.link.max_width = (w > 0 && w <= 64) ? static_cast<int>(w) : 0;  // VMs report 0: unknown
    if (!d.speed_text.empty() && d.link.max_gts == 0)
      s_.notes.push_back(fmt::format("{}: link_speed \"{}\" is not a PCIe speed NCCL knows (NCCL assumes Gen3); treated as unknown",
                                     bus, d.speed_text));
    // Children decide the role: a <gpu> or <nic> below makes it one.
    for (pugi::xml_node c : f.node.children()) {
      std::string cn = c.name();
      if (cn == "gpu") d.kind = PciKind::kGpu;
      if (cn == "nic" && d.kind != PciKind::kGpu) d.kind = PciKind::kNic;
    }
    if (d.kind == PciKind::kGpu && !f.node.child("gpu")) {
      // Hand-made files list the GPU's pci function only.
      topo::Gpu g;
      g.bus_id = bus;
      g.numa = f.numa;
      if (f.cpu != kNoCpu) g.local_cpus = s_.cpus[f.cpu].cpus;
      s_.gpus.push_back(g);
    } else if (d.kind == PciKind::kNic && !f.node.child("nic")) {
      topo::Nic n;
      n.bus_id = bus;
      n.name = bus;
      n.numa = f.numa;
      topo::NicSignals sig;
      topo::pci_nic_signals(d.class_code, d.vendor, d.device, sig);
      n.kind = topo::classify_nic(sig, &n.kind_why);
      n.rdma = n.kind == topo::NicKind::kRdma;
      s_.nics.push_back(n);
    } else if (d.kind == PciKind::kNvSwitch) {
      s_.nvswitches.push_back(bus);
    }
    s_.pci.push_back(d);
    child.pci = bus;
    return true;
  }

  void on_gpu(const Frame& f) {
    topo::Gpu g;
    g.bus_id = f.pci;
    g.numa = f.numa;
    if (f.cpu != kNoCpu) g.local_cpus = s_.cpus[f.cpu].cpus;
    g.index = static_cast<int>(attr_or(f.node, "dev", -1));
    g.sm = static_cast<int>(attr_or(f.node, "sm", 0));
    g.rank = static_cast<int>(attr_or(f.node, "rank", -1));
    g.gdr = attr_tri(f.node, "gdr");
    if (f.node.attribute("gcn") || f.node.attribute("arch")) g.name = "AMD/Hygon GPU";
    for (pugi::xml_node c : f.node.children()) {
      std::string cn = c.name();
      if (cn == "nvlink" || cn == "xgmi") {
        g.nvlinks.push_back(gpu_link(c, cn == "xgmi"));
      } else if (cn == "c2c") {
        double bw = attr_double(c, "bw", 0), count = attr_double(c, "count", 0);
        if (bw > 0 && count > 0) g.c2c_gbps = bw * count / 1000.0;
      }
    }
    s_.gpus.push_back(g);
  }

  /// One <nvlink> or <xgmi> of a GPU; an NVSwitch it reaches is recorded once.
  topo::NvLink gpu_link(const pugi::xml_node& c, bool xgmi) {
    topo::NvLink l;
    l.xgmi = xgmi;
    std::string target = attr_text(c, "target");
    l.remote_bus_id = topo::normalize_bus_id(target);
    if (l.remote_bus_id.rfind("fffffff", 0) == 0) l.remote_bus_id.clear();  // unknown remote
    l.remote = remote_of_class(attr_hex(c, "tclass"));
    long cnt = attr_or(c, "count", 1);
    l.count = static_cast<int>(std::clamp<long>(cnt, 0, 1024));
    if (l.remote == LinkRemote::kNvSwitch && !l.remote_bus_id.empty() &&
        std::find(s_.nvswitches.begin(), s_.nvswitches.end(), l.remote_bus_id) == s_.nvswitches.end())
      s_.nvswitches.push_back(l.remote_bus_id);
    if (++elements_ > kMaxElements) throw InputError(source_, "too many elements");
    return l;
  }

  void on_nic(const Frame& f) {
    topo::Nic n;
    n.bus_id = f.pci;  // "" when directly under <cpu>: a virtual NIC
    n.numa = f.numa;
    topo::NicSignals sig;
    const topo::PciDevice* d = s_.find_pci(f.pci);
    // The <pci> holding the <nic> is the NIC's own function only when its class says so; in
    // virtualised views NICs hang under a (virtual) bridge, whose ids say nothing of them.
    std::uint32_t cls = d ? d->class_code >> 8 : 0;
    n.own_pci = d && ((cls >> 8) == 0x02 || cls == 0x0c06);
    if (n.own_pci) topo::pci_nic_signals(d->class_code, d->vendor, d->device, sig);
    for (pugi::xml_node c : f.node.children("net")) {
      if (++elements_ > kMaxElements) throw InputError(source_, "too many elements");
      topo::NicPort p;
      p.name = attr_text(c, "name");
      p.net_dev = static_cast<int>(attr_or(c, "dev", -1));
      long port = attr_or(c, "port", -1);
      p.port = port >= 0 ? static_cast<int>(port) : 1;
      long speed = attr_or(c, "speed", 0);
      if (speed > 0) {
        p.rate_gbps = static_cast<double>(speed) / 1000.0;
        p.rate_text = fmt::format("{} Mb/s (NCCL speed)", speed);
      }
      p.guid = attr_text(c, "guid");
      p.gdr = attr_tri(c, "gdr");
      topo::nccl_net_signals(p.name, port, attr_or(c, "maxconn", -1), attr_or(c, "gdr", -1), p.net_dev, p.guid, sig);
      n.ports.push_back(p);
    }
    n.kind = topo::classify_nic(sig, &n.kind_why);
    n.rdma = n.kind == topo::NicKind::kRdma;
    n.name = n.ports.empty() ? (n.bus_id.empty() ? "nic" : n.bus_id) : n.ports.front().name;
    if (listed_already(n)) {
      s_.notes.push_back(fmt::format("NIC {} (no PCI function) is listed under several CPUs; counted once", n.name));
      return;
    }
    s_.nics.push_back(n);
  }

  /// A PCI-less NIC written again under another <cpu> (the same nets): one NIC, listed once.
  bool listed_already(const topo::Nic& n) const {
    if (!n.bus_id.empty() || n.ports.empty()) return false;
    for (const auto& o : s_.nics) {
      if (!o.bus_id.empty() || o.ports.size() != n.ports.size()) continue;
      bool same = true;
      for (std::size_t i = 0; i < o.ports.size(); ++i)
        same = same && o.ports[i].name == n.ports[i].name && o.ports[i].net_dev == n.ports[i].net_dev;
      if (same) return true;
    }
    return false;
  }

  /// NCCL reads an empty link_speed as its dictionary default, Gen3, and width 0 as x16
  /// (topo.cc kvDictPciGen): say what NCCL plans, while the real value stays unknown here.
  void note_empty_speeds() {
    std::vector<std::string> empty_speed;
    for (const auto& d : s_.pci)
      if (d.speed_text.empty() && d.bus_id.rfind("unknown:", 0) != 0) empty_speed.push_back(d.bus_id);
    if (empty_speed.empty()) return;
    const bool zero_width = std::any_of(s_.pci.begin(), s_.pci.end(), [](const topo::PciDevice& d) {
      return d.speed_text.empty() && d.link.max_width == 0;
    });
    s_.notes.push_back(fmt::format("{} PCI element(s) with an empty or missing link_speed ({}{}): NCCL plans them as Gen3 "
                                   "(its default){}; their real bandwidth is unknown here",
                                   empty_speed.size(), empty_speed.front(), empty_speed.size() > 1 ? ", ..." : "",
                                   zero_width ? " and width 0 as x16 (12 GB/s)" : ""));
  }

  /// GPUs listed as PCI functions only are said; GPUs without a `dev` (hand-made files) are
  /// numbered in bus order, as NVML does by default.
  void number_gpus() {
    std::size_t bare = 0;
    for (const auto& g : s_.gpus) bare += g.index < 0 && g.sm == 0;
    s_.nvlink_unknown = bare >= 2;
    if (bare > 0)
      s_.notes.push_back(fmt::format("{} GPU(s) listed as PCI functions only (no <gpu>): NVLinks and SM come from "
                                     "NCCL's detection at run time, not from this file",
                                     bare));
    std::set<int> used;
    for (const auto& g : s_.gpus)
      if (g.index >= 0) used.insert(g.index);
    std::vector<topo::Gpu*> unnumbered;
    for (auto& g : s_.gpus)
      if (g.index < 0) unnumbered.push_back(&g);
    std::sort(unnumbered.begin(), unnumbered.end(), [](auto* a, auto* b) { return a->bus_id < b->bus_id; });
    int next = 0;
    for (auto* g : unnumbered) {
      while (used.count(next)) ++next;
      g->index = next++;
    }
    std::stable_sort(s_.gpus.begin(), s_.gpus.end(),
                     [](const topo::Gpu& a, const topo::Gpu& b) { return a.index < b.index; });
  }

  std::string_view text_;
  const std::string& source_;
  topo::System s_;
  std::size_t elements_ = 0;
  std::size_t unnamed_ = 0;
  std::set<std::string> seen_bus_;
};

}  // namespace

topo::System parse_topo_xml(std::string_view text, const std::string& source) {
  return TopoXmlReader(text, source).read();
}

topo::System load_topo_xml(const std::string& path) {
  std::string text = read_file(path, std::size_t{64} << 20);
  topo::System s = parse_topo_xml(text, path);
  std::string base = path.substr(path.find_last_of('/') + 1);
  auto dot = base.rfind('.');
  s.host = dot == std::string::npos || dot == 0 ? base : base.substr(0, dot);
  topo::compute_paths(s);
  return s;
}

}  // namespace ncd::nccl
