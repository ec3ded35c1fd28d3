// SPDX-License-Identifier: Apache-2.0
#include "nccl/log_model.hpp"

#include <array>
#include <charconv>
#include <nlohmann/json.hpp>

namespace ncd::nccl {

bool NcclVersion::at_least(int ma, int mi, int pa) const {
  if (!known()) return false;
  if (major != ma) return major > ma;
  if (minor != mi) return minor > mi;
  return patch >= pa;
}

std::optional<NcclVersion> NcclVersion::parse(std::string_view s) {
  NcclVersion v;
  const char* p = s.data();
  const char* end = s.data() + s.size();
  int* parts[3] = {&v.major, &v.minor, &v.patch};
  int got = 0;
  for (int i = 0; i < 3 && p < end; ++i) {
    auto [q, ec] = std::from_chars(p, end, *parts[i]);
    if (ec != std::errc()) break;
    ++got;
    p = q;
    if (i < 2) {
      if (p < end && *p == '.') ++p;
      else break;
    }
  }
  if (got < 2 || v.major < 1 || v.major > 9 || v.minor > 99) return std::nullopt;
  std::size_t len = 0;
  while (len < s.size() && s[len] != ' ' && s[len] != ',' && s[len] != ')' && s[len] != '\t') ++len;
  v.text = std::string(s.substr(0, len));
  return v;
}

std::string path_type_name(int value, const NcclVersion& v) {
  // Reference §1.2 (topoPathTypeStr per release).
  static const std::array<const char*, 7> k27 = {"LOC", "NVL", "PIX", "PXB", "PHB", "SYS", "NET"};
  static const std::array<const char*, 7> k28 = {"LOC", "NVL", "NVB", "PIX", "PXB", "PHB", "SYS"};
  static const std::array<const char*, 9> k212 = {"LOC", "NVL", "NVB", "PIX", "PXB", "PXN", "PHB", "SYS", "DIS"};
  static const std::array<const char*, 10> k221 = {"LOC", "NVL", "NVB", "PIX", "PXB", "PXN", "PHB", "SYS", "NET", "DIS"};
  static const std::array<const char*, 11> k226 = {"LOC", "NVL", "NVB", "C2C", "PIX", "PXB", "PXN", "PHB", "SYS", "NET", "DIS"};
  static const std::array<const char*, 12> k2273 = {"LOC", "NVL", "NVB", "C2C", "PIX", "PXB", "PXN", "P2C", "PHB", "SYS", "NET", "DIS"};
  static const std::array<const char*, 12> k2275 = {"LOC", "NVL", "NVB", "C2C", "PIX", "PXB", "P2C", "PXN", "PHB", "SYS", "NET", "DIS"};
  auto pick = [value](const auto& table) -> std::string {
    if (value < 0 || static_cast<std::size_t>(value) >= table.size()) return "?" + std::to_string(value);
    return table[static_cast<std::size_t>(value)];
  };
  if (!v.known()) return pick(k2275);
  if (v.before(2, 8)) return pick(k27);
  if (v.before(2, 12)) return pick(k28);
  if (v.before(2, 21)) return pick(k212);
  if (v.before(2, 26)) return pick(k221);
  if (v.before(2, 27)) return pick(k226);
  if (v.before(2, 27, 5)) return pick(k2273);
  return pick(k2275);
}

std::string_view to_string(TransportKind k) {
  switch (k) {
    case TransportKind::kP2P: return "P2P";
    case TransportKind::kShm: return "SHM";
    case TransportKind::kNet: return "NET";
    case TransportKind::kCollNet: return "COLLNET";
    case TransportKind::kUnknown: break;
  }
  return "?";
}

std::string_view to_string(Stage s) {
  switch (s) {
    case Stage::kNone: return "none";
    case Stage::kStarted: return "started";
    case Stage::kBootstrap: return "bootstrap";
    case Stage::kInitStart: return "init start";
    case Stage::kTopology: return "topology";
    case Stage::kConnecting: return "connecting";
    case Stage::kConnected: return "connected";
    case Stage::kInitComplete: return "init complete";
    case Stage::kRunning: return "running";
    case Stage::kFinished: return "finished";
  }
  return "?";
}

std::vector<std::string> RunLog::host_names() const {
  std::vector<std::string> out;
  for (const auto& [name, h] : hosts)
    if (!name.empty()) out.push_back(name);
  return out;
}

bool RunLog::multi_node() const {
  if (nnodes > 1 || host_names().size() > 1) return true;
  for (const auto& c : connections)
    if (c.kind == TransportKind::kNet) return true;
  return false;
}

bool RunLog::single_node() const {
  if (multi_node()) return false;
  if (nnodes == 1) return true;
  // One named host (or a single-process nccl-tests run) and nothing pointing elsewhere.
  return host_names().size() == 1 || (tests.headers > 0 && tests.ngpus_per_proc > 1);
}

std::string RunLog::file_name(const SourceRef& r) const {
  if (r.file < 0 || static_cast<std::size_t>(r.file) >= files.size()) return "?";
  return files[static_cast<std::size_t>(r.file)];
}

std::string RunLog::where(const SourceRef& r) const { return file_name(r) + ":" + std::to_string(r.line); }

void to_json(nlohmann::json& j, const Connection& c) {
  j = nlohmann::json{{"channel", c.channel},     {"conn", c.conn_index},   {"from", c.from_rank},
                     {"to", c.to_rank},          {"from_dev", c.from_dev}, {"to_dev", c.to_dev},
                     {"transport", c.transport}, {"kind", to_string(c.kind)}, {"host", c.host}};
  if (c.kind == TransportKind::kNet) {
    j["net"] = c.net;
    j["net_dev"] = c.net_dev;
    j["gdr"] = c.gdr;
    if (c.proxy_rank >= 0) j["proxy_rank"] = c.proxy_rank;
  }
  if (c.dir != ConnDir::kNone) j["dir"] = c.dir == ConnDir::kSend ? "send" : "receive";
}

namespace {
nlohmann::json iface_json(const std::vector<NetInterface>& v) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& i : v) {
    nlohmann::json o{{"name", i.name}, {"address", i.address}};
    if (i.loopback) o["loopback"] = true;
    if (i.link_local) o["link_local"] = true;
    if (i.ipoib) o["ipoib"] = true;
    if (i.virtual_if) o["virtual"] = true;
    a.push_back(std::move(o));
  }
  return a;
}
}  // namespace

void to_json(nlohmann::json& j, const RunLog& r) {
  j = nlohmann::json::object();
  j["files"] = r.files;
  j["lines"] = r.total_lines;
  j["nccl_lines"] = r.nccl_lines;
  j["warn_lines"] = r.warn_lines;
  j["bytes"] = r.bytes;
  j["nranks"] = r.nranks;
  j["nccl_version"] = r.version.text;
  if (!r.version_hint.empty()) j["version_hint"] = r.version_hint;
  j["multi_node"] = r.multi_node();
  nlohmann::json hosts = nlohmann::json::array();
  for (const auto& [name, h] : r.hosts) {
    nlohmann::json o{{"name", name},
                     {"pids", h.pids},
                     {"ranks", h.ranks},
                     {"versions", h.versions},
                     {"bootstrap", iface_json(h.bootstrap_ifs)},
                     {"socket_ifs", iface_json(h.socket_ifs)},
                     {"networks", h.networks},
                     {"net_connections", h.net_connections},
                     {"gdr_connections", h.gdr_connections},
                     {"stage", to_string(h.stage)},
                     {"least_stage", to_string(h.min_stage)},
                     {"lines", h.lines},
                     {"warns", h.warns}};
    if (!h.cuda_driver.empty()) o["cuda_driver"] = h.cuda_driver;
    if (!h.oob_ifs.empty()) o["oob"] = iface_json(h.oob_ifs);
    nlohmann::json devs = nlohmann::json::array();
    for (const auto& d : h.rdma_devs) devs.push_back({{"index", d.index}, {"name", d.name}, {"link_layer", d.link_layer}});
    if (!devs.empty()) o["rdma_devices"] = devs;
    if (h.plugin != PluginState::kUnknown)
      o["net_plugin"] = h.plugin == PluginState::kExternal ? h.plugin_text : "internal";
    if (!h.ofi_provider.empty()) o["ofi_provider"] = h.ofi_provider;
    if (!h.env.empty()) o["env"] = h.env;
    hosts.push_back(std::move(o));
  }
  j["hosts"] = std::move(hosts);
  nlohmann::json procs = nlohmann::json::array();
  for (const auto& [key, p] : r.processes) {
    procs.push_back({{"host", p.host}, {"pid", p.pid}, {"ranks", p.ranks}, {"cuda_devs", p.cuda_devs},
                     {"stage", to_string(p.stage)}, {"failed", p.failed},
                     {"last_line", p.last_line}, {"last_at", r.where(p.last_at)}});
  }
  j["processes"] = std::move(procs);
  nlohmann::json ranks = nlohmann::json::array();
  for (const auto& [n, k] : r.ranks) {
    nlohmann::json o{{"rank", k.rank}, {"nranks", k.nranks}, {"host", k.host}, {"pid", k.pid},
                     {"cuda_dev", k.cuda_dev}, {"stage", to_string(k.stage)}};
    if (!k.bus_id.empty()) o["bus_id"] = k.bus_id;
    ranks.push_back(std::move(o));
  }
  j["ranks"] = std::move(ranks);
  j["connections"] = r.connections;
  nlohmann::json rings = nlohmann::json::object();
  for (const auto& [ch, order] : r.rings) rings[std::to_string(ch)] = order;
  j["rings"] = std::move(rings);
  nlohmann::json trees = nlohmann::json::array();
  for (const auto& t : r.trees) trees.push_back({{"channel", t.channel}, {"rank", t.rank}, {"up", t.up}, {"down", t.down}});
  j["trees"] = std::move(trees);
  nlohmann::json env = nlohmann::json::object();
  for (const auto& [k, e] : r.env) env[k] = {{"value", e.value}, {"hosts", e.hosts}};
  j["env"] = std::move(env);
  nlohmann::json warns = nlohmann::json::array();
  for (const auto& e : r.events) {
    if (e.kind == EventKind::kTrace) continue;
    warns.push_back({{"at", r.where(e.at)}, {"host", e.host}, {"pid", e.pid}, {"src", e.src},
                     {"message", e.message},
                     {"kind", e.kind == EventKind::kWarn ? "warn" : e.kind == EventKind::kCarried ? "carried" : "info"}});
  }
  j["warnings"] = std::move(warns);
  if (!r.watchdog.empty()) {
    nlohmann::json w = nlohmann::json::array();
    for (const auto& e : r.watchdog)
      w.push_back({{"rank", e.rank}, {"seq", e.seq}, {"op", e.op_type}, {"numel_in", e.numel_in}, {"at", r.where(e.at)}});
    j["watchdog"] = std::move(w);
  }
  if (r.tests.headers > 0 || r.tests.rows > 0 || !r.tests.avg_busbw.empty()) {
    nlohmann::json t{{"runs", r.tests.headers}, {"rows", r.tests.rows}, {"wrong", r.tests.wrong_total}};
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& row : r.tests.peak_rows)
      rows.push_back({{"bytes", row.bytes}, {"busbw_gbps", row.busbw}, {"algbw_gbps", row.algbw}, {"time_us", row.time_us}});
    t["peak_by_size"] = std::move(rows);
    nlohmann::json avg = nlohmann::json::array();
    for (const auto& a : r.tests.avg_busbw) avg.push_back(a.first);
    t["avg_busbw_gbps"] = std::move(avg);
    j["nccl_tests"] = std::move(t);
  }
  j["truncated_lines"] = r.truncated_lines;
  j["split_records"] = r.split_records;
  j["dropped_events"] = r.dropped_events;
}

}  // namespace ncd::nccl
