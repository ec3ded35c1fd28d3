// SPDX-License-Identifier: Apache-2.0
#include "nccl/graph_xml.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <pugixml.hpp>

#include "core/error.hpp"
#include "core/fs.hpp"
#include "core/text.hpp"
#include "core/xml_guard.hpp"

namespace ncd::nccl {
namespace {

// NCCL @2.30 allows 65536 nodes in a graph XML (4096 in 2.28); anything far beyond is not a
// dump, and bounding it keeps a hostile file from costing more than a few MB.
constexpr std::size_t kMaxFileBytes = std::size_t{64} << 20;
constexpr std::size_t kMaxChannelsPerGraph = 1024;
constexpr std::size_t kMaxGpusPerChannel = 4096;

/// Line numbers from byte offsets.
class LineIndex {
 public:
  explicit LineIndex(std::string_view text) {
    for (std::size_t i = 0; i < text.size(); ++i)
      if (text[i] == '\n') newlines_.push_back(i);
  }
  [[nodiscard]] int line_of(std::ptrdiff_t offset) const {
    if (offset < 0) return 0;
    auto it = std::lower_bound(newlines_.begin(), newlines_.end(), static_cast<std::size_t>(offset));
    return static_cast<int>(it - newlines_.begin()) + 1;
  }

 private:
  std::vector<std::size_t> newlines_;
};

struct Ctx {
  const std::string& source;
  const LineIndex& lines;
  [[noreturn]] void fail(const pugi::xml_node& n, const std::string& what) const {
    throw InputError(source, lines.line_of(n.offset_debug()), what);
  }
};

std::optional<std::int64_t> parse_int_text(std::string_view s) {
  s = trim(s);
  if (s.empty()) return std::nullopt;
  bool neg = false;
  if (s.front() == '-' || s.front() == '+') {
    neg = s.front() == '-';
    s.remove_prefix(1);
  }
  int base = 10;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    base = 16;
    s.remove_prefix(2);
  }
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
  if (ec != std::errc() || p != s.data() + s.size() || v > static_cast<std::uint64_t>(INT64_MAX))
    return std::nullopt;
  auto r = static_cast<std::int64_t>(v);
  return neg ? -r : r;
}

std::optional<double> parse_float_text(std::string_view s) {
  s = trim(s);
  if (s.empty()) return std::nullopt;
  // from_chars for double is in libstdc++ 11+; strtod would depend on the locale.
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

int req_int(const Ctx& c, const pugi::xml_node& n, const char* attr, int lo, int hi) {
  pugi::xml_attribute a = n.attribute(attr);
  if (!a) c.fail(n, fmt::format("<{}> has no '{}' attribute", n.name(), attr));
  auto v = parse_int_text(a.value());
  if (!v || *v < lo || *v > hi)
    c.fail(n, fmt::format("<{}> {}=\"{}\" is not an integer in [{}, {}]", n.name(), attr,
                          a.value(), lo, hi));
  return static_cast<int>(*v);
}

int opt_int(const Ctx& c, const pugi::xml_node& n, const char* attr, int lo, int hi, int dflt) {
  if (!n.attribute(attr)) return dflt;
  return req_int(c, n, attr, lo, hi);
}

double req_float(const Ctx& c, const pugi::xml_node& n, const char* attr) {
  pugi::xml_attribute a = n.attribute(attr);
  if (!a) c.fail(n, fmt::format("<{}> has no '{}' attribute", n.name(), attr));
  auto v = parse_float_text(a.value());
  if (!v || *v < 0) c.fail(n, fmt::format("<{}> {}=\"{}\" is not a non-negative number", n.name(), attr, a.value()));
  return *v;
}

std::string type_attr(const Ctx& c, const pugi::xml_node& n, const char* attr) {
  pugi::xml_attribute a = n.attribute(attr);
  // NCCL dereferences a missing typeintra/typeinter as NULL (search.cc:831-893); a dump
  // always has both.
  if (!a) c.fail(n, fmt::format("<graph> has no '{}' attribute", attr));
  std::string v{trim(a.value())};
  if (path_type_value(v) < 0)
    c.fail(n, fmt::format("<graph> {}=\"{}\" is not a path type (LOC NVL NVB C2C PIX PXB P2C PXN PHB SYS)",
                          attr, a.value()));
  return v;
}

GraphKind kind_of(int id, GraphPattern p) {
  switch (p) {
    case GraphPattern::kRing: return GraphKind::kRing;
    case GraphPattern::kNvls: return GraphKind::kNvls;
    case GraphPattern::kCollnetDirect: return GraphKind::kCollnetDirect;
    case GraphPattern::kBalancedTree:
    case GraphPattern::kSplitTree:
    case GraphPattern::kTree:
      // id 2 is the CollNet chain (a TREE-pattern graph over coll NETs); id 1 the tree.
      return id == 2 ? GraphKind::kCollnetChain : GraphKind::kTree;
    default: return GraphKind::kUnknown;
  }
}

TopoRef req_ref(const Ctx& c, const pugi::xml_node& n, bool& decimal_seen) {
  pugi::xml_attribute a = n.attribute("dev");
  if (!a) c.fail(n, fmt::format("<{}> in a channel has no 'dev' attribute", n.name()));
  auto r = parse_topo_ref(a.value());
  if (!r) c.fail(n, fmt::format("<{} dev=\"{}\"> is not a device number", n.name(), a.value()));
  std::string_view v = trim(a.value());
  if (!(v.size() > 2 && v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) && r->local >= 10)
    decimal_seen = true;
  return *r;
}

}  // namespace

std::string_view to_string(GraphPattern p) {
  switch (p) {
    case GraphPattern::kBalancedTree: return "balanced tree";
    case GraphPattern::kSplitTree: return "split tree";
    case GraphPattern::kTree: return "tree";
    case GraphPattern::kRing: return "ring";
    case GraphPattern::kNvls: return "NVLS";
    case GraphPattern::kCollnetDirect: return "CollNet direct";
    default: return "unknown";
  }
}

std::string_view to_string(GraphKind k) {
  switch (k) {
    case GraphKind::kRing: return "ring";
    case GraphKind::kTree: return "tree";
    case GraphKind::kCollnetChain: return "collnet_chain";
    case GraphKind::kCollnetDirect: return "collnet_direct";
    case GraphKind::kNvls: return "nvls";
    default: return "unknown";
  }
}

int path_type_value(std::string_view name) {
  static constexpr std::string_view kNames[] = {"LOC", "NVL", "NVB", "C2C", "PIX", "PXB",
                                                "P2C", "PXN", "PHB", "SYS", "NET", "DIS"};
  for (int i = 0; i < static_cast<int>(std::size(kNames)); ++i)
    if (name == kNames[i]) return i;
  return -1;
}

std::optional<TopoRef> parse_topo_ref(std::string_view text) {
  std::string_view s = trim(text);
  if (s.empty() || s.front() == '-' || s.front() == '+') return std::nullopt;
  auto v = parse_int_text(s);
  if (!v || *v < 0) return std::nullopt;
  TopoRef r;
  r.raw = std::string(s);
  r.system = static_cast<std::uint32_t>(static_cast<std::uint64_t>(*v) >> 56);
  r.local = *v & ((std::int64_t{1} << 56) - 1);
  return r;
}

bool Graph::inter_node() const {
  return std::any_of(channels.begin(), channels.end(),
                     [](const GraphChannel& c) { return c.net_in || c.net_out; });
}

std::size_t Graph::exit_index(const GraphChannel& c) const {
  if (c.gpus.empty()) return 0;
  switch (pattern) {
    case GraphPattern::kRing: return c.gpus.size() - 1;
    case GraphPattern::kSplitTree: return std::min<std::size_t>(1, c.gpus.size() - 1);
    default: return 0;
  }
}

const Graph* GraphFile::find(GraphKind kind) const {
  for (const auto& g : graphs)
    if (g.kind == kind && !g.channels.empty()) return &g;
  return nullptr;
}

GraphFile parse_graph_xml(std::string_view text, const std::string& source) {
  if (text.size() > kMaxFileBytes)
    throw InputError(source, fmt::format("{} bytes is too large for an NCCL graph dump", text.size()));
  check_xml_shape(text, source);
  LineIndex lines(text);
  Ctx c{source, lines};
  pugi::xml_document doc;
  pugi::xml_parse_result res = doc.load_buffer(text.data(), text.size(), pugi::parse_default,
                                               pugi::encoding_utf8);
  if (res.status == pugi::status_no_document_element)
    throw InputError(source, "empty or not XML: expected an NCCL graph dump <graphs version=\"1\">");
  if (!res) {
    throw InputError(source, lines.line_of(res.offset),
                     fmt::format("malformed or truncated XML ({})", res.description()));
  }
  pugi::xml_node root = doc.document_element();
  if (!root) throw InputError(source, "empty file: expected an NCCL graph dump <graphs version=\"1\">");
  std::string_view rname = root.name();
  if (rname == "system")
    throw InputError(source, "this is an NCCL topology (<system>), not a graph dump (<graphs>): "
                             "pass it with --topo-xml");
  if (rname != "graphs")
    c.fail(root, fmt::format("root element <{}>: expected an NCCL graph dump <graphs version=\"1\">", rname));

  GraphFile f;
  f.source = source;
  f.version = opt_int(c, root, "version", 0, 1 << 20, 0);
  if (f.version != 1 && root.attribute("version"))
    c.fail(root, fmt::format("<graphs version=\"{}\">: NCCL writes and reads version 1", f.version));
  if (!root.attribute("version"))
    f.notes.push_back("<graphs> has no version attribute (NCCL writes version=\"1\")");

  bool decimal_seen = false;
  for (pugi::xml_node gn : root.children("graph")) {
    Graph g;
    g.line = lines.line_of(gn.offset_debug());
    g.id = req_int(c, gn, "id", 0, 1 << 20);
    g.pattern_raw = req_int(c, gn, "pattern", 0, 1 << 20);
    g.pattern = g.pattern_raw >= 1 && g.pattern_raw <= 6 ? static_cast<GraphPattern>(g.pattern_raw)
                                                         : GraphPattern::kUnknown;
    g.kind = kind_of(g.id, g.pattern);
    g.crossnic = opt_int(c, gn, "crossnic", 0, 2, 0);
    g.nchannels = req_int(c, gn, "nchannels", 0, 1 << 20);
    g.speed_intra = req_float(c, gn, "speedintra");
    g.speed_inter = req_float(c, gn, "speedinter");
    if (gn.attribute("latencyinter")) g.latency_inter = req_float(c, gn, "latencyinter");
    g.type_intra = type_attr(c, gn, "typeintra");
    g.type_inter = type_attr(c, gn, "typeinter");
    g.same_channels = opt_int(c, gn, "samechannels", 0, 1, 0) == 1;

    for (pugi::xml_node cn : gn.children("channel")) {
      if (g.channels.size() >= kMaxChannelsPerGraph)
        c.fail(cn, fmt::format("more than {} channels in one graph", kMaxChannelsPerGraph));
      GraphChannel ch;
      ch.line = lines.line_of(cn.offset_debug());
      for (pugi::xml_node e : cn.children()) {
        if (e.type() != pugi::node_element) continue;
        std::string_view en = e.name();
        if (en == "gpu") {
          if (ch.net_out) c.fail(e, "<gpu> after the channel's exit <net>");
          if (ch.gpus.size() >= kMaxGpusPerChannel)
            c.fail(e, fmt::format("more than {} GPUs in one channel", kMaxGpusPerChannel));
          ch.gpus.push_back(req_ref(c, e, decimal_seen));
        } else if (en == "net") {
          TopoRef r = req_ref(c, e, decimal_seen);
          if (ch.gpus.empty()) {
            if (ch.net_in) c.fail(e, "two <net> before the first <gpu> of a channel");
            ch.net_in = std::move(r);
          } else {
            if (ch.net_out) c.fail(e, "more than one exit <net> in a channel");
            ch.net_out = std::move(r);
          }
        }
        // Other elements: NCCL ignores them (xml.cc:233), so do we.
      }
      if (ch.gpus.empty()) c.fail(cn, "<channel> without any <gpu>");
      g.channels.push_back(std::move(ch));
    }
    if (static_cast<std::size_t>(g.nchannels) != g.channels.size())
      f.notes.push_back(fmt::format("graph id {} (line {}) says nchannels=\"{}\" but lists {} channel(s)",
                                    g.id, g.line, g.nchannels, g.channels.size()));
    f.graphs.push_back(std::move(g));
  }
  if (f.graphs.empty()) c.fail(root, "<graphs> contains no <graph>");
  if (decimal_seen)
    f.notes.push_back("device ids of 10 or more are written in decimal (an NCCL older than 2.19 "
                      "wrote this file); read as decimal here, but NCCL 2.19+ reads NCCL_GRAPH_FILE "
                      "ids as hex, so this file imposes different devices on a newer NCCL");
  return f;
}

GraphFile load_graph_xml(const std::string& path) {
  return parse_graph_xml(read_file(path, kMaxFileBytes), path);
}

void to_json(nlohmann::json& j, const TopoRef& r) {
  j = nlohmann::json{{"system", r.system}, {"dev", r.local}, {"raw", r.raw}};
}

void to_json(nlohmann::json& j, const GraphChannel& c) {
  j = nlohmann::json::object();
  j["gpus"] = c.gpus;
  if (c.net_in) j["net_in"] = *c.net_in;
  if (c.net_out) j["net_out"] = *c.net_out;
}

void to_json(nlohmann::json& j, const Graph& g) {
  j = nlohmann::json{{"id", g.id},
                     {"kind", to_string(g.kind)},
                     {"pattern", g.pattern_raw},
                     {"pattern_name", to_string(g.pattern)},
                     {"crossnic", g.crossnic},
                     {"nchannels", g.nchannels},
                     {"speed_intra_gbps", g.speed_intra},
                     {"speed_inter_gbps", g.speed_inter},
                     {"type_intra", g.type_intra},
                     {"type_inter", g.type_inter},
                     {"same_channels", g.same_channels},
                     {"channels", g.channels}};
  if (g.latency_inter) j["latency_inter_us"] = *g.latency_inter;
}

void to_json(nlohmann::json& j, const GraphFile& f) {
  j = nlohmann::json{{"source", f.source}, {"version", f.version}, {"graphs", f.graphs}, {"notes", f.notes}};
}

}  // namespace ncd::nccl
