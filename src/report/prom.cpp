// SPDX-License-Identifier: Apache-2.0
#include "report/prom.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <map>
#include <set>
#include <tuple>
#include <utility>
#include <vector>

#include "checks/baseline.hpp"
#include "core/build_info.hpp"
#include "core/catalogue.hpp"
#include "report/escape.hpp"
#include "ncd/config.hpp"

namespace ncd::report {
namespace {

using Labels = std::vector<std::pair<std::string, std::string>>;

constexpr double kGB = 1e9;  // the model's GB/s are decimal gigabytes

std::string prom_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", v);
}

/// A label value from one of the tool's own enumerations (op, algo, backend, dtype, class,
/// stage): kept when it looks like one, else "other", so a report read back from a file
/// cannot bring free text (or an unbounded set of values) into a label.
std::string enum_value(const std::string& v) {
  if (v.empty() || v.size() > 32) return "other";
  for (char c : v) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
              c == '-' || c == '+' || c == '>';
    if (!ok) return "other";
  }
  return v;
}

/// The message sizes that get their own `bytes` label value: powers of two from 1 KiB to
/// 16 GiB (25 values). Other sizes (-f 1.5, -b 1000000) are only in the *_largest_* series.
bool listed_size(std::uint64_t b) {
  return b >= (std::uint64_t{1} << 10) && b <= (std::uint64_t{1} << 34) && (b & (b - 1)) == 0;
}

/// One metric family: samples keyed by their rendered label set, so a repeated label set keeps
/// its first value and the output never holds duplicate series. Each sample has a home: the
/// host whose --prom-dir file carries it ("" = job-wide, the root host's file).
class Family {
 public:
  Family(std::string name, std::string help) : name_(std::move(name)), help_(std::move(help)) {}
  void add(const Labels& labels, double value, const std::string& home = "") {
    std::string l;
    for (const auto& [k, v] : labels) {
      l += l.empty() ? "{" : ",";
      l += k + "=\"" + prom_escape_label(v) + "\"";
    }
    if (!l.empty()) l += "}";
    if (!seen_.insert(l).second) return;
    samples_.push_back({home, name_ + l + " " + prom_value(value)});
  }
  /// home_filter: nullptr = every sample; else the samples of that home (and, when
  /// with_job_wide, those of the job).
  void render(std::string& out, const std::string* home_filter, bool with_job_wide) const {
    std::string body;
    for (const auto& [home, line] : samples_) {
      if (home_filter && home != *home_filter && !(with_job_wide && home.empty())) continue;
      body += line + "\n";
    }
    if (body.empty()) return;
    out += "# HELP " + name_ + " " + help_ + "\n";
    out += "# TYPE " + name_ + " gauge\n";
    out += body;
  }
  void homes(std::set<std::string>& out) const {
    for (const auto& s : samples_)
      if (!s.first.empty()) out.insert(s.first);
  }

 private:
  std::string name_;
  std::string help_;
  std::set<std::string> seen_;
  std::vector<std::pair<std::string, std::string>> samples_;
};

std::vector<std::string> split_hosts(const std::string& hosts) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= hosts.size()) {
    std::size_t end = hosts.find(',', start);
    if (end == std::string::npos) end = hosts.size();
    std::string h = hosts.substr(start, end - start);
    while (!h.empty() && h.front() == ' ') h.erase(h.begin());
    while (!h.empty() && h.back() == ' ') h.pop_back();
    if (!h.empty()) out.push_back(h);
    start = end + 1;
  }
  return out;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/// Every family of a report, filled.
class Metrics {
 public:
  Metrics(const Report& r, int code, const PromOptions& o) { fill(r, code, o); }

  void render(std::string& out, const std::string* home, bool with_job_wide) const {
    for (const Family* f : all()) f->render(out, home, with_job_wide);
  }
  std::set<std::string> homes() const {
    std::set<std::string> h;
    for (const Family* f : all()) f->homes(h);
    return h;
  }

 private:
  std::vector<const Family*> all() const {
    return {&info_,  &last_run_, &duration_, &exit_,      &incomplete_, &hosts_,   &ranks_,    &stage_s_,
            &stage_budget_, &findings_, &by_id_, &evaluated_, &host_findings_, &host_verdict_, &busbw_,
            &algbw_, &expected_, &time_, &spread_, &wrong_, &largest_busbw_, &largest_bytes_, &copy_,
            &link_min_, &link_median_, &link_lat_, &links_, &links_unresp_, &link_bw_, &link_ok_, &link_pair_lat_};
  }

  void fill(const Report& r, int code, const PromOptions& o);
  void fill_run(const Report& r, int code);
  void fill_stages(const Report& r);
  void fill_findings(const Report& r);
  void fill_copies(const Report& r);
  void fill_collectives(const Report& r);
  void fill_links(const Report& r, const PromOptions& o);

  Family info_{"nccl_doctor_info", "The nccl-doctor run that wrote this file (value 1)."};
  Family last_run_{"nccl_doctor_last_run_timestamp_seconds", "Unix time at which the last run started."};
  Family duration_{"nccl_doctor_duration_seconds", "Wall time of the last run."};
  Family exit_{"nccl_doctor_exit_code",
               "Exit code of the last run: 0 healthy, 1 warnings, 2 errors, 3 could not complete."};
  Family incomplete_{"nccl_doctor_incomplete", "1 when the last run could not complete, else 0."};
  Family hosts_{"nccl_doctor_hosts", "Hosts in the last run."};
  Family ranks_{"nccl_doctor_ranks", "Ranks in the last run."};
  Family stage_s_{"nccl_doctor_stage_duration_seconds", "Wall time of a sweep stage that ran (env, topo, bench, links, rings)."};
  Family stage_budget_{"nccl_doctor_stage_budget_seconds", "Time budget of a sweep stage that ran."};
  Family findings_{"nccl_doctor_findings", "Findings of the last run by severity."};
  Family by_id_{"nccl_doctor_findings_by_id",
                "Findings of the last run by catalogue id (0: evaluated and none found; no sample: not evaluated)."};
  Family evaluated_{"nccl_doctor_check_evaluated",
                    "1 when the check was evaluated in the last run, 0 when it was not applicable, excluded or could "
                    "not run (see the status label)."};
  Family host_findings_{"nccl_doctor_host_findings",
                        "Findings of the last run naming the host, by severity (a finding naming several hosts counts "
                        "for each)."};
  Family host_verdict_{"nccl_doctor_host_verdict",
                       "The last run's verdict on the host: 0 no warning or error names it, 1 a warning does, 2 an "
                       "error does."};
  Family busbw_{"nccl_doctor_busbw_bytes_per_second",
                "Collective bus bandwidth (nccl-tests busbw) in bytes per second, per listed message size."};
  Family algbw_{"nccl_doctor_algbw_bytes_per_second",
                "Collective algorithm bandwidth (message bytes / time) in bytes per second, per listed message size."};
  Family expected_{"nccl_doctor_expected_busbw_bytes_per_second",
                   "NCCL's model of the collective's busbw on this topology in bytes per second (no sample: no model)."};
  Family time_{"nccl_doctor_collective_time_seconds", "Median time of one collective call."};
  Family spread_{"nccl_doctor_collective_spread_ratio",
                 "Per-iteration time spread (p90-p10)/median of a collective measurement."};
  Family wrong_{"nccl_doctor_collective_wrong_elements",
                "Elements with wrong results in a collective's data check (no sample: not checked)."};
  Family largest_busbw_{"nccl_doctor_busbw_largest_bytes_per_second",
                        "Bus bandwidth at the largest message size measured for the collective (what health "
                        "decisions use), in bytes per second."};
  Family largest_bytes_{"nccl_doctor_busbw_largest_message_bytes",
                        "The largest message size measured for the collective, in bytes."};
  Family copy_{"nccl_doctor_copy_bandwidth_bytes_per_second",
               "GPU copy bandwidth (host<->device, device<->device) in bytes per second."};
  Family link_min_{"nccl_doctor_link_min_bytes_per_second",
                   "Slowest answered directed link with this host at one end, per link class, in bytes per second."};
  Family link_median_{"nccl_doctor_link_median_bytes_per_second",
                      "Median of the answered directed links with this host at one end, per link class, in bytes "
                      "per second."};
  Family link_lat_{"nccl_doctor_link_latency_median_seconds",
                   "Median small-message one-way latency of the links with this host at one end, per link class."};
  Family links_{"nccl_doctor_links", "Directed links measured with this host at one end, per link class."};
  Family links_unresp_{"nccl_doctor_links_unresponsive",
                       "Directed links with this host at one end that did not finish within their deadline."};
  Family link_bw_{"nccl_doctor_link_bandwidth_bytes_per_second",
                  "Bandwidth of the slowest answered rank pair between two hosts (--prom-link-matrix only)."};
  Family link_ok_{"nccl_doctor_link_ok",
                  "1 when every rank pair between the two hosts answered within its deadline (--prom-link-matrix "
                  "only)."};
  Family link_pair_lat_{"nccl_doctor_link_latency_seconds",
                        "Highest small-message latency of the rank pairs between two hosts (--prom-link-matrix only)."};
};

void Metrics::fill(const Report& r, int code, const PromOptions& o) {
  fill_run(r, code);
  fill_stages(r);
  fill_findings(r);
  fill_copies(r);
  fill_collectives(r);
  fill_links(r, o);
}

/// The run: version, time, exit code, hosts and ranks.
void Metrics::fill_run(const Report& r, int code) {
  info_.add({{"version", NCD_VERSION}, {"command", enum_value(r.command)}, {"nccl_backend", build_info().nccl ? "on" : "off"}},
            1);
  last_run_.add({}, r.started_unix);
  duration_.add({}, r.duration_s);
  exit_.add({}, code);
  incomplete_.add({}, r.incomplete ? 1 : 0);
  hosts_.add({}, static_cast<double>(r.hosts.size()));
  std::size_t nranks = 0;
  for (const auto& h : r.hosts) nranks += h.ranks.size();
  ranks_.add({}, static_cast<double>(nranks));
}

/// Each sweep stage that ran: its time and budget.
void Metrics::fill_stages(const Report& r) {
  static const std::set<std::string> kStages = {"env", "topo", "bench", "links", "rings"};
  for (const auto& s : model::stages_of(r).value_or(std::vector<model::StageRecord>{})) {
    if (!kStages.count(s.name) || s.status != "ran") continue;
    if (s.elapsed_s) stage_s_.add({{"stage", s.name}}, *s.elapsed_s);
    if (s.budget_s) stage_budget_.add({{"stage", s.name}}, *s.budget_s);
  }
}

/// Findings by severity, id and host; each check's outcome; each host's verdict.
void Metrics::fill_findings(const Report& r) {
  int counts[3] = {0, 0, 0};
  std::map<std::pair<std::string, std::string>, int> id_counts;  // (id, severity)
  std::map<std::pair<std::string, int>, int> host_counts;         // (host, severity)
  std::map<std::string, int> worst;                               // host -> 0/1/2
  for (const auto& h : r.hosts) worst.emplace(h.name, 0);
  for (const auto& f : r.findings) {
    int sev = static_cast<int>(f.severity);
    ++counts[sev];
    ++id_counts[{f.id, std::string(to_string(f.severity))}];
    for (const auto& h : split_hosts(f.host)) {
      ++host_counts[{h, sev}];
      int v = f.severity == Severity::kError ? 2 : f.severity == Severity::kWarn ? 1 : 0;
      worst[h] = std::max(worst[h], v);
    }
  }
  for (Severity s : {Severity::kError, Severity::kWarn, Severity::kInfo})
    findings_.add({{"severity", std::string(to_string(s))}}, counts[static_cast<int>(s)]);
  std::set<std::string> raised;
  for (const auto& [k, n] : id_counts) {
    by_id_.add({{"id", k.first}, {"severity", k.second}}, n);
    raised.insert(k.first);
  }
  // 0 only for checks that looked and found nothing: a check that did not run has no sample.
  // Reports without outcomes (read back from v1) say nothing about unraised ids.
  for (const auto& c : r.checks) {
    const CheckInfo* ci = Catalogue::instance().find(c.id);
    evaluated_.add({{"id", c.id}, {"status", std::string(to_string(c.status))}},
                   c.status == CheckStatus::kEvaluated ? 1 : 0);
    if (c.status == CheckStatus::kEvaluated && !raised.count(c.id) && ci)
      by_id_.add({{"id", c.id}, {"severity", std::string(to_string(ci->severity))}}, 0);
  }
  // The job's judgement of each host is job-wide (the root host's file): a host that was cut
  // off writes no file of its own, and is still named here.
  for (const auto& [h, v] : worst) {
    for (Severity s : {Severity::kError, Severity::kWarn, Severity::kInfo}) {
      auto it = host_counts.find({h, static_cast<int>(s)});
      host_findings_.add({{"host", h}, {"severity", std::string(to_string(s))}}, it == host_counts.end() ? 0 : it->second);
    }
    host_verdict_.add({{"host", h}}, v);
  }
}

/// GPU copy bandwidth.
void Metrics::fill_copies(const Report& r) {
  for (const auto& m : checks::copy_measurements(r))
    if (m.row.busbw_gbps > 0 || m.row.algbw_gbps > 0)  // a copy that did not run has no sample
    {
      Labels l = {{"host", m.row.host}, {"op", enum_value(m.row.op)}, {"gpu", enum_value(m.row.algo)}};
      if (listed_size(m.row.bytes)) l.emplace_back("bytes", std::to_string(m.row.bytes));
      copy_.add(l, (m.row.busbw_gbps > 0 ? m.row.busbw_gbps : m.row.algbw_gbps) * kGB, m.row.host);
    }
}

/// Collectives: per listed size, and the largest size of each (host, op, algo, backend, dtype).
void Metrics::fill_collectives(const Report& r) {
  using Key = std::tuple<std::string, std::string, std::string, std::string, std::string>;
  std::map<Key, const CollectiveResult*> largest;
  for (const auto& c : r.collectives) {
    if (checks::is_copy_row(c)) continue;
    if (!(c.time_us > 0)) continue;  // not measured: no sample (never a 0)
    Key k{c.host, enum_value(c.op), enum_value(c.algo), enum_value(c.backend), enum_value(c.dtype)};
    auto [it, fresh] = largest.emplace(k, &c);
    if (!fresh && c.bytes > it->second->bytes) it->second = &c;
    if (!listed_size(c.bytes)) continue;
    Labels l = {{"host", c.host},          {"op", std::get<1>(k)},   {"algo", std::get<2>(k)},
                {"backend", std::get<3>(k)}, {"dtype", std::get<4>(k)}, {"bytes", std::to_string(c.bytes)}};
    busbw_.add(l, c.busbw_gbps * kGB, c.host);
    algbw_.add(l, c.algbw_gbps * kGB, c.host);
    time_.add(l, c.time_us * 1e-6, c.host);
    if (c.iters >= 2 && c.spread >= 0) spread_.add(l, c.spread, c.host);
    if (c.wrong >= 0) wrong_.add(l, static_cast<double>(c.wrong), c.host);
    if (c.expected_busbw_gbps) expected_.add(l, *c.expected_busbw_gbps * kGB, c.host);
  }
  for (const auto& [k, c] : largest) {
    Labels l = {{"host", std::get<0>(k)},
                {"op", std::get<1>(k)},
                {"algo", std::get<2>(k)},
                {"backend", std::get<3>(k)},
                {"dtype", std::get<4>(k)}};
    largest_busbw_.add(l, c->busbw_gbps * kGB, c->host);
    largest_bytes_.add(l, static_cast<double>(c->bytes), c->host);
  }
}

/// Links: per host and link class (bounded by hosts x classes); the host-pair matrix only on request. Rank numbers are never labels (they change from run to run).
void Metrics::fill_links(const Report& r, const PromOptions& o) {
  struct Agg {
    std::vector<double> bw, lat;
    int total = 0, unanswered = 0;
  };
  std::map<std::pair<std::string, std::string>, Agg> per_host;  // (host, class)
  struct Pair {
    double min_bw = -1, max_lat = -1;
    bool all_ok = true;
  };
  std::map<std::tuple<std::string, std::string, std::string>, Pair> pairs;  // (src, dst, class)
  for (const auto& k : r.links) {
    std::string cls = enum_value(k.cls);
    std::set<std::string> ends = {k.src_host, k.dst_host};
    for (const auto& h : ends) {
      Agg& a = per_host[{h, cls}];
      ++a.total;
      if (!k.ok) {
        ++a.unanswered;
        continue;
      }
      a.bw.push_back(k.gbps * kGB);
      if (k.latency_us > 0) a.lat.push_back(k.latency_us * 1e-6);
    }
    Pair& p = pairs[{k.src_host, k.dst_host, cls}];
    if (!k.ok) {
      p.all_ok = false;
      continue;
    }
    if (p.min_bw < 0 || k.gbps * kGB < p.min_bw) p.min_bw = k.gbps * kGB;
    if (k.latency_us > 0) p.max_lat = std::max(p.max_lat, k.latency_us * 1e-6);
  }
  for (const auto& [hk, a] : per_host) {
    Labels l = {{"host", hk.first}, {"class", hk.second}};
    links_.add(l, a.total, hk.first);
    links_unresp_.add(l, a.unanswered, hk.first);
    if (!a.bw.empty()) {
      link_min_.add(l, *std::min_element(a.bw.begin(), a.bw.end()), hk.first);
      link_median_.add(l, median(a.bw), hk.first);
    }
    if (!a.lat.empty()) link_lat_.add(l, median(a.lat), hk.first);
  }
  if (o.link_matrix)
    for (const auto& [pk, p] : pairs) {
      Labels l = {{"src", std::get<0>(pk)}, {"dst", std::get<1>(pk)}, {"class", std::get<2>(pk)}};
      const std::string& home = std::get<0>(pk);
      link_ok_.add(l, p.all_ok ? 1 : 0, home);
      if (p.min_bw >= 0) link_bw_.add(l, p.min_bw, home);
      if (p.max_lat >= 0) link_pair_lat_.add(l, p.max_lat, home);
    }
}

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

std::string prom_dir_file_name(std::string_view host) {
  std::string h;
  for (char c : host) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-';
    h += ok ? c : '_';
  }
  if (h.empty() || h.front() == '.') h = "_" + h;
  if (h.size() > 128) h.resize(128);
  return "nccl-doctor-" + h + ".prom";
}

std::string render_prometheus(const Report& r, int code, const PromOptions& o) {
  Metrics m(r, code, o);
  std::string out;
  m.render(out, nullptr, true);
  return out;
}

std::map<std::string, std::string> render_prometheus_per_host(const Report& r, int code, const PromOptions& o,
                                                              const std::string& root_host) {
  Metrics m(r, code, o);
  std::map<std::string, std::string> files;
  std::set<std::string> homes = m.homes();
  homes.insert(root_host);
  for (const auto& h : homes) {
    std::string out;
    m.render(out, &h, h == root_host);
    files[h] = std::move(out);
  }
  return files;
}

}  // namespace ncd::report
