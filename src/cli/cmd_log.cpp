// SPDX-License-Identifier: Apache-2.0
#include "cli/cmd_log.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "core/catalogue.hpp"
#include "core/error.hpp"
#include "core/text.hpp"
#include "checks/log_rules.hpp"
#include "checks/registry.hpp"

namespace ncd::cli {

namespace {

std::string wrap(const std::string& text, std::size_t width) {
  std::string out, line;
  for (const auto& word : split(text, ' ')) {
    if (!line.empty() && line.size() + 1 + word.size() > width) {
      out += line + '\n';
      line.clear();
    }
    if (!line.empty()) line += ' ';
    line += word;
  }
  if (!line.empty()) out += line + '\n';
  return out;
}

struct HostRow {
  std::string version, iface, transport, gdr, stage;
  long warns = 0;
  [[nodiscard]] std::string key() const {
    return version + "|" + iface + "|" + transport + "|" + gdr + "|" + stage + "|" + std::to_string(warns);
  }
};

HostRow host_row(const nccl::RunLog& log, const nccl::HostInfo& h) {
  HostRow r;
  r.version = h.versions.empty() ? "-" : join({h.versions.begin(), h.versions.end()}, ",");
  const nccl::NetInterface* i = !h.bootstrap_ifs.empty() ? &h.bootstrap_ifs.front()
                                : !h.socket_ifs.empty()   ? &h.socket_ifs.front()
                                                          : nullptr;
  r.iface = i ? i->name + ":" + i->address : "-";
  std::set<std::string> kinds;
  for (const auto& c : log.connections) {
    if (c.host != h.name) continue;
    if (c.kind == nccl::TransportKind::kNet) {
      kinds.insert("NET/" + c.net);
    } else if (c.kind == nccl::TransportKind::kP2P) {
      std::string t = c.transport;
      std::size_t s1 = t.find('/');
      std::size_t s2 = s1 == std::string::npos ? s1 : t.find('/', s1 + 1);
      kinds.insert(t.substr(0, s2));
    } else if (c.kind == nccl::TransportKind::kShm) {
      kinds.insert("SHM");
    } else if (c.kind == nccl::TransportKind::kCollNet) {
      kinds.insert("CollNet");
    }
  }
  if (kinds.empty())
    for (const auto& n : h.networks) kinds.insert("net " + n);
  if (!h.ofi_provider.empty()) kinds.insert("OFI:" + h.ofi_provider);
  r.transport = kinds.empty() ? "-" : join({kinds.begin(), kinds.end()}, " ");
  if (h.net_connections == 0) r.gdr = "-";
  else if (h.gdr_connections == h.net_connections) r.gdr = "yes";
  else if (h.gdr_connections == 0) r.gdr = "no";
  else r.gdr = fmt::format("{}/{}", h.gdr_connections, h.net_connections);
  std::string lo(nccl::to_string(h.min_stage)), hi(nccl::to_string(h.stage));
  r.stage = lo == hi ? hi : lo + " .. " + hi;
  r.warns = h.warns;
  return r;
}

}  // namespace

int run_log(const LogOptions& opts_in, Context& ctx) {
  if (opts_in.files.empty()) throw UsageError("log: give one or more log files, or - for standard input");
  // Evidence names files as the user would type them: an absolute path below the working
  // directory becomes relative to it (job-1234/rank0.log:17, not /home/.../job-1234/rank0.log:17).
  LogOptions opts = opts_in;
  std::error_code ec;
  const std::filesystem::path cwd = std::filesystem::current_path(ec);
  for (auto& f : opts.files) {
    const std::filesystem::path p(f);
    if (ec || f == "-" || !p.is_absolute()) continue;
    const std::filesystem::path rel = p.lexically_normal().lexically_relative(cwd);
    if (!rel.empty() && *rel.begin() != "..") f = rel.string();
  }
  const nccl::RunLog model = checks::read_logs(opts.files);
  checks::Evidence ev;
  ev.log = &model;
  checks::CheckRun d = checks::run_checks("log", ev);

  report::Report r;
  r.command = "log";
  r.args = opts.files;
  r.findings = d.findings;
  for (const auto& [name, h] : model.hosts) {
    if (name.empty()) continue;
    r.hosts.push_back({name, std::vector<int>(h.ranks.begin(), h.ranks.end()), "", nullptr});
  }
  nlohmann::json section = model;
  section["verdict"] = d.verdict;
  section["root_cause"] = d.root;
  r.sections["log"] = std::move(section);
  if (!d.incomplete.empty()) {
    r.incomplete = true;
    r.incomplete_reason = d.incomplete;
  }
  if (model.truncated_lines > 0)
    r.notes.push_back(fmt::format("{} line(s) longer than 64 KiB were cut", model.truncated_lines));
  if (model.dropped_events > 0)
    r.notes.push_back(fmt::format("{} repeated warning/trace line(s) counted but not quoted", model.dropped_events));

  return ctx.finish(r, [&](std::ostream& out) {
    out << "# nccl-doctor log: " << join(opts.files, " ") << "\n\n";
    out << wrap(d.verdict, 100) << '\n';
    // Per-host table; identical rows (other than the name) are grouped so 1,000 hosts stay short.
    std::vector<std::pair<std::vector<std::string>, HostRow>> rows;
    std::map<std::string, std::size_t> index;
    for (const auto& [name, h] : model.hosts) {
      if (h.lines == 0 && h.ranks.empty()) continue;
      HostRow row = host_row(model, h);
      std::string shown = name.empty() ? "(no host prefix)" : name;
      auto it = index.find(row.key());
      if (it == index.end()) {
        index[row.key()] = rows.size();
        rows.push_back({{shown}, row});
      } else {
        rows[it->second].first.push_back(shown);
      }
    }
    if (rows.empty()) return;
    std::size_t wh = 4, wv = 7, wi = 9, wt = 9;
    std::vector<std::string> names;
    for (const auto& [ns, row] : rows) {
      std::string n = ns.size() == 1 ? ns.front() : fmt::format("{} (+{})", ns.front(), ns.size() - 1);
      names.push_back(n);
      wh = std::max(wh, n.size());
      wv = std::max(wv, row.version.size());
      wi = std::max(wi, row.iface.size());
      wt = std::max(wt, row.transport.size());
    }
    wi = std::min<std::size_t>(wi, 40);
    wt = std::min<std::size_t>(wt, 48);
    out << fmt::format("{:<{}}  {:<{}}  {:<{}}  {:<{}}  {:<5}  {:<24}  {}\n", "host", wh, "version", wv, "interface",
                       wi, "transport", wt, "GDR", "last stage", "warn");
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const HostRow& row = rows[i].second;
      out << fmt::format("{:<{}}  {:<{}}  {:<{}}  {:<{}}  {:<5}  {:<24}  {}\n", names[i], wh, row.version, wv,
                         row.iface.substr(0, 40), wi, row.transport.substr(0, 48), wt, row.gdr, row.stage, row.warns);
    }
  });
}

}  // namespace ncd::cli
