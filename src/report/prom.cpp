// SPDX-License-Identifier: Apache-2.0
#include "report/prom.hpp"

#include <cmath>
#include <fmt/format.h>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include "checks/baseline.hpp"
#include "core/catalogue.hpp"
#include "report/escape.hpp"
#include "ncd/config.hpp"

namespace ncd::report {
namespace {

using Labels = std::vector<std::pair<std::string, std::string>>;

std::string prom_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", v);
}

/// One metric family: samples keyed by their rendered label set, so a repeated label set keeps
/// its first value and the output never holds duplicate series.
class Family {
 public:
  Family(std::string name, std::string help) : name_(std::move(name)), help_(std::move(help)) {}
  void add(const Labels& labels, double value) {
    std::string l;
    for (const auto& [k, v] : labels) {
      l += l.empty() ? "{" : ",";
      l += k + "=\"" + prom_escape_label(v) + "\"";
    }
    if (!l.empty()) l += "}";
    if (!seen_.insert(l).second) return;
    samples_.push_back(name_ + l + " " + prom_value(value));
  }
  void render(std::string& out) const {
    if (samples_.empty()) return;
    out += "# HELP " + name_ + " " + help_ + "\n";
    out += "# TYPE " + name_ + " gauge\n";
    for (const auto& s : samples_) out += s + "\n";
  }

 private:
  std::string name_;
  std::string help_;
  std::set<std::string> seen_;
  std::vector<std::string> samples_;
};

}  // namespace

std::string prom_escape_label(std::string_view value) {
  std::string clean = clean_text(value);
  std::string out;
  out.reserve(clean.size());
  for (char c : clean) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string render_prometheus(const Report& r, int code) {
  Family info("nccl_doctor_info", "The nccl-doctor run that wrote this file (value 1).");
  Family last_run("nccl_doctor_last_run_timestamp_seconds",
                  "Unix time at which the last run started.");
  Family duration("nccl_doctor_duration_seconds", "Wall time of the last run.");
  Family exit_f("nccl_doctor_exit_code",
                "Exit code of the last run: 0 healthy, 1 warnings, 2 errors, 3 could not complete.");
  Family incomplete("nccl_doctor_incomplete", "1 when the last run could not complete.");
  Family hosts_f("nccl_doctor_hosts", "Hosts in the last run.");
  Family ranks_f("nccl_doctor_ranks", "Ranks in the last run.");
  Family findings("nccl_doctor_findings", "Findings of the last run by severity.");
  Family by_id("nccl_doctor_findings_by_id",
               "Findings of the last run by catalogue id (0: evaluated and none found; no sample: not evaluated).");
  Family evaluated("nccl_doctor_check_evaluated",
                   "1 when the check was evaluated in the last run, 0 when it was not applicable, excluded or could "
                   "not run (see the status label).");
  Family by_host("nccl_doctor_host_findings", "Findings of the last run by host and severity.");
  Family busbw("nccl_doctor_busbw_gbps", "Collective bus bandwidth in GB/s (nccl-tests busbw).");
  Family algbw("nccl_doctor_algbw_gbps", "Collective algorithm bandwidth in GB/s (bytes / time).");
  Family spread("nccl_doctor_busbw_spread_ratio",
                "Per-iteration time spread (p90-p10)/median of a collective measurement.");
  Family wrong("nccl_doctor_collective_wrong_elements",
               "Elements with wrong results in a collective's data check (no sample: not checked).");
  Family expected_f("nccl_doctor_expected_busbw_gbps",
                    "NCCL's model of a collective's busbw for this topology in GB/s (no sample: no model).");
  Family copy("nccl_doctor_copy_gbps", "GPU copy bandwidth in GB/s (host<->device, device<->device).");
  Family link("nccl_doctor_link_gbps", "Point-to-point bandwidth of a directed link in GB/s (no sample: no answer).");
  Family link_ok("nccl_doctor_link_ok", "1 when the link's measurement finished within its deadline.");
  Family link_lat("nccl_doctor_link_latency_seconds", "Small-message one-way latency of a directed link.");

  info.add({{"version", NCD_VERSION}, {"command", r.command}, {"nccl_backend", NCD_HAVE_NCCL ? "on" : "off"}}, 1);
  last_run.add({}, r.started_unix);
  duration.add({}, r.duration_s);
  exit_f.add({}, code);
  incomplete.add({}, r.incomplete ? 1 : 0);
  hosts_f.add({}, static_cast<double>(r.hosts.size()));
  std::size_t nranks = 0;
  for (const auto& h : r.hosts) nranks += h.ranks.size();
  ranks_f.add({}, static_cast<double>(nranks));

  int counts[3] = {0, 0, 0};
  std::map<std::pair<std::string, std::string>, int> id_counts;   // (id, severity)
  std::map<std::pair<std::string, std::string>, int> host_counts; // (host, severity)
  for (const auto& f : r.findings) {
    ++counts[static_cast<int>(f.severity)];
    ++id_counts[{f.id, std::string(to_string(f.severity))}];
    if (!f.host.empty()) ++host_counts[{f.host, std::string(to_string(f.severity))}];
  }
  for (Severity s : {Severity::kError, Severity::kWarn, Severity::kInfo})
    findings.add({{"severity", std::string(to_string(s))}}, counts[static_cast<int>(s)]);
  std::set<std::string> raised;
  for (const auto& [k, n] : id_counts) {
    by_id.add({{"id", k.first}, {"severity", k.second}}, n);
    raised.insert(k.first);
  }
  // 0 only for checks that looked and found nothing: a check that did not run has no sample.
  // Reports without outcomes (read back from v1) say nothing about unraised ids.
  for (const auto& c : r.checks) {
    const CheckInfo* info = Catalogue::instance().find(c.id);
    evaluated.add({{"id", c.id}, {"status", std::string(to_string(c.status))}},
                  c.status == CheckStatus::kEvaluated ? 1 : 0);
    if (c.status == CheckStatus::kEvaluated && !raised.count(c.id) && info)
      by_id.add({{"id", c.id}, {"severity", std::string(to_string(info->severity))}}, 0);
  }
  for (const auto& h : r.hosts)
    for (Severity s : {Severity::kError, Severity::kWarn, Severity::kInfo})
      host_counts.emplace(std::make_pair(h.name, std::string(to_string(s))), 0);
  for (const auto& [k, n] : host_counts) by_host.add({{"host", k.first}, {"severity", k.second}}, n);

  for (const auto& m : checks::copy_measurements(r))
    if (m.row.busbw_gbps > 0 || m.row.algbw_gbps > 0)  // a copy that did not run has no sample
    copy.add({{"host", m.row.host}, {"op", m.row.op}, {"algo", m.row.algo}, {"bytes", std::to_string(m.row.bytes)}},
             m.row.busbw_gbps > 0 ? m.row.busbw_gbps : m.row.algbw_gbps);
  for (const auto& c : r.collectives) {
    if (checks::is_copy_row(c)) continue;
    Labels l = {{"host", c.host},     {"op", c.op},       {"algo", c.algo},
                {"backend", c.backend}, {"dtype", c.dtype}, {"bytes", std::to_string(c.bytes)},
                {"nranks", std::to_string(c.nranks)}};
    busbw.add(l, c.busbw_gbps);
    algbw.add(l, c.algbw_gbps);
    spread.add(l, c.spread);
    if (c.wrong >= 0) wrong.add(l, static_cast<double>(c.wrong));
    if (c.expected_busbw_gbps) expected_f.add(l, *c.expected_busbw_gbps);
  }
  for (const auto& k : r.links) {
    Labels l = {{"src", k.src_host}, {"dst", k.dst_host}, {"src_rank", std::to_string(k.src_rank)},
                {"dst_rank", std::to_string(k.dst_rank)}, {"class", k.cls}};
    if (k.ok) link.add(l, k.gbps);
    link_ok.add(l, k.ok ? 1 : 0);
    if (k.ok && k.latency_us > 0) link_lat.add(l, k.latency_us * 1e-6);
  }

  std::string out;
  for (const Family* f : {&info, &last_run, &duration, &exit_f, &incomplete, &hosts_f, &ranks_f,
                          &findings, &by_id, &evaluated, &by_host, &busbw, &algbw, &expected_f, &spread, &wrong, &copy,
                          &link, &link_ok, &link_lat})
    f->render(out);
  return out;
}

}  // namespace ncd::report
