// SPDX-License-Identifier: Apache-2.0
#include "checks/baseline.hpp"
#include "checks/registry.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <map>
#include <set>
#include <tuple>

#include "core/catalogue.hpp"
#include "core/units.hpp"

namespace ncd::checks {

NCD_REGISTER_CHECK({"bench.regression", Severity::kWarn, "baseline",
                    "Bandwidth fell below the baseline",
                    "A collective's bus bandwidth (or a GPU's copy bandwidth) is lower than in the "
                    "baseline report by more than the measurement's own noise: something on the "
                    "path got slower since the baseline was taken (a link trained down, a setting "
                    "changed, a driver or NCCL update, a noisy neighbour).",
                    "With --baseline F (and in `diff`), every measurement of at least 1 MiB that "
                    "exists in both reports with the same op, algo, backend, type, size, host and "
                    "rank count is compared; it regressed when it dropped by more than the larger "
                    "of 5% and the per-iteration spread ((p90-p10)/median) of either run. One "
                    "finding per op/algo, with every regressed size as evidence; a drop of half "
                    "or more is an error.",
                    "Compare `nccl-doctor topo` and `env` between the two runs (nccl-doctor diff "
                    "OLD NEW lists what else changed); look for degraded PCIe links, NIC ports at a "
                    "lower rate, changed NCCL_* settings or versions."});
NCD_REGISTER_CHECK({"link.regression", Severity::kWarn, "baseline",
                    "A link is slower than in the baseline",
                    "The point-to-point bandwidth between two ranks dropped by more than 20% "
                    "since the baseline, or the pair stopped answering. When every link of one "
                    "host regressed, the host is named once.",
                    "With --baseline F (and in `diff`), links present in both reports are "
                    "matched by source and destination host and rank; a link regressed when it "
                    "lost more than 20% of its baseline bandwidth (links carry no per-iteration "
                    "spread, so the tolerance is fixed) or did not finish while it did before.",
                    "Check the named hosts' NICs (ibstat, ethtool), cables and switch ports; run "
                    "`nccl-doctor links --mode pairwise` to confirm and localise."});
NCD_REGISTER_CHECK({"topo.changed", Severity::kWarn, "baseline",
                    "A node's topology changed since the baseline",
                    "The topology fingerprint of a host (GPUs, NVLink layout, NICs and rates, PCIe "
                    "widths, versions) differs from the one recorded in the baseline: hardware was "
                    "swapped, a link trained down, a NIC or GPU disappeared, or software changed.",
                    "Hosts present in both reports are matched by name and their topology "
                    "fingerprints compared; the evidence lists the fields of the saved topology "
                    "that differ (JSON pointer, old -> new).",
                    "If the change was intended (new hardware, upgrade), save a new baseline with "
                    "--save; otherwise inspect the listed parts with `nccl-doctor topo`."});

namespace {

std::string finding_key(const Finding& f) { return f.id + "\x1f" + f.host + "\x1f" + f.subject; }

using RowKey = std::tuple<std::string, std::string, std::string, std::string, std::uint64_t,
                          std::string, int>;
RowKey row_key(const model::CollectiveResult& c) {
  return {c.op, c.algo, c.backend, c.dtype, c.bytes, c.host, c.nranks};
}

double row_bw(const model::CollectiveResult& c) {
  return c.busbw_gbps > 0 ? c.busbw_gbps : c.algbw_gbps;
}

std::string row_name(const model::CollectiveResult& c) {
  std::string s = c.op;
  if (!c.algo.empty()) s += " " + c.algo;
  if (!c.backend.empty()) s += " (" + c.backend + ")";
  if (!c.dtype.empty() && !is_copy_row(c)) s += " " + c.dtype;
  if (c.nranks > 0 && !is_copy_row(c)) s += fmt::format(" {} ranks", c.nranks);
  return s;
}

std::string pct(double rel) { return fmt::format("{:+.0f}%", rel * 100.0); }

std::string endpoint(const std::string& host, int rank) { return fmt::format("{}:{}", host, rank); }

struct LinkKey {
  std::string src_host, dst_host;
  int src_rank, dst_rank;
  auto operator<=>(const LinkKey&) const = default;
};

/// Values of a JSON patch operation, shortened for one evidence line.
std::string short_json(const nlohmann::json& j) {
  std::string s = j.dump();
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}

const nlohmann::json* at_pointer(const nlohmann::json& j, const std::string& ptr) {
  try {
    nlohmann::json::json_pointer p(ptr);
    if (!j.contains(p)) return nullptr;
    return &j.at(p);
  } catch (const nlohmann::json::exception&) {
    return nullptr;
  }
}

void compare_findings(const model::Report& o, const model::Report& n, Comparison& out) {
  std::map<std::string, const Finding*> old_f;
  std::map<std::string, const Finding*> new_f;
  for (const auto& f : o.findings) old_f.emplace(finding_key(f), &f);
  for (const auto& f : n.findings) new_f.emplace(finding_key(f), &f);
  for (const auto& [k, f] : new_f) {
    auto it = old_f.find(k);
    std::string where = f->host.empty() ? f->subject : f->subject.empty() ? f->host : f->host + " " + f->subject;
    if (it == old_f.end()) {
      Change c{Change::Kind::kFindingAdded, f->severity != Severity::kInfo, f->id + "  [" + where + "]",
               fmt::format("new {}: {}", to_string(f->severity), f->message)};
      out.changes.push_back(c);
      Finding copy = *f;
      copy.message = "new since the baseline: " + copy.message;
      out.findings.push_back(std::move(copy));
    } else if (static_cast<int>(f->severity) > static_cast<int>(it->second->severity)) {
      out.changes.push_back({Change::Kind::kFindingAdded, true, f->id + "  [" + where + "]",
                             fmt::format("severity {} -> {}: {}", to_string(it->second->severity),
                                         to_string(f->severity), f->message)});
      Finding copy = *f;
      copy.message = fmt::format("worse than the baseline (was {}): {}",
                                 to_string(it->second->severity), copy.message);
      out.findings.push_back(std::move(copy));
    }
  }
  for (const auto& [k, f] : old_f) {
    if (new_f.count(k)) continue;
    std::string where = f->host.empty() ? f->subject : f->subject.empty() ? f->host : f->host + " " + f->subject;
    out.changes.push_back({Change::Kind::kFindingRemoved, false, f->id + "  [" + where + "]",
                           fmt::format("gone (was {}): {}", to_string(f->severity), f->message)});
  }
}

/// Collective rows plus copy measurements held in sections.copies, as comparable rows.
std::vector<model::CollectiveResult> comparable_rows(const model::Report& r) {
  std::vector<model::CollectiveResult> rows;
  for (const auto& c : r.collectives)
    if (!is_copy_row(c)) rows.push_back(c);
  for (const auto& m : copy_measurements(r)) rows.push_back(m.row);
  return rows;
}

void compare_collectives(const model::Report& o_r, const model::Report& n_r, const CompareOptions& opt,
                         Comparison& out, std::vector<Finding>& findings) {
  const std::vector<model::CollectiveResult> o_rows = comparable_rows(o_r), n_rows = comparable_rows(n_r);
  std::map<RowKey, const model::CollectiveResult*> old_rows;
  for (const auto& c : o_rows) old_rows[row_key(c)] = &c;
  std::set<RowKey> seen;
  struct Reg {
    const model::CollectiveResult* old_c;
    const model::CollectiveResult* new_c;
    double rel;
    double tol;
  };
  // (op, algo, backend, dtype, host, nranks) -> regressed sizes, in size order.
  std::map<std::tuple<std::string, std::string, std::string, std::string, std::string, int>,
           std::vector<Reg>>
      groups;
  std::map<std::tuple<std::string, std::string, std::string, std::string, std::string, int>, int>
      compared;
  int only_new = 0;
  std::vector<const model::CollectiveResult*> new_sorted;
  for (const auto& c : n_rows) new_sorted.push_back(&c);
  std::stable_sort(new_sorted.begin(), new_sorted.end(),
                   [](auto* a, auto* b) { return a->bytes < b->bytes; });
  for (const auto* c : new_sorted) {
    RowKey k = row_key(*c);
    if (!seen.insert(k).second) continue;
    auto it = old_rows.find(k);
    if (it == old_rows.end()) {
      ++only_new;
      continue;
    }
    const auto* oc = it->second;
    double ob = row_bw(*oc), nb = row_bw(*c);
    bool copy = is_copy_row(*c);
    if (ob <= 0 || (!copy && c->bytes < opt.min_bytes)) continue;
    double tol = std::max({opt.min_bw_tolerance, oc->spread, c->spread});
    double rel = (nb - ob) / ob;
    auto gk = std::make_tuple(c->op, c->algo, c->backend, c->dtype, c->host, c->nranks);
    ++compared[gk];
    std::string subject = row_name(*c) + " " + format_size(c->bytes) + (c->host.empty() ? "" : " on " + c->host);
    std::string text = fmt::format("{:.3g} -> {:.3g} GB/s ({}, tolerance {:.0f}%)", ob, nb, pct(rel), tol * 100);
    if (rel < -tol) {
      out.changes.push_back({Change::Kind::kBandwidth, true, subject, text});
      groups[gk].push_back({oc, c, rel, tol});
    } else if (rel > tol) {
      out.changes.push_back({Change::Kind::kBandwidth, false, subject, text});
    }
  }
  int only_old = 0;
  for (const auto& [k, c] : old_rows)
    if (!seen.count(k)) ++only_old;
  if (only_new > 0 || only_old > 0)
    out.changes.push_back({Change::Kind::kBandwidth, false, "measurements",
                           fmt::format("{} row(s) only in the new report, {} only in the baseline "
                                       "(not compared)", only_new, only_old)});

  for (const auto& [gk, regs] : groups) {
    const Reg& big = regs.back();  // the largest regressed size carries the headline numbers
    const auto& c = *big.new_c;
    double worst = 0;
    for (const auto& r : regs) worst = std::min(worst, r.rel);
    bool copy = is_copy_row(c);
    Finding f = make_finding(
        "bench.regression", c.host, row_name(c),
        fmt::format("{} {} fell {:.0f}% below the baseline at {} ({:.3g} vs {:.3g} GB/s); {} of {} "
                    "compared size(s) regressed",
                    row_name(c), copy ? "copy bandwidth" : "busbw", -big.rel * 100,
                    format_size(c.bytes), row_bw(c), row_bw(*big.old_c), regs.size(),
                    compared[gk]));
    if (worst <= -0.5) f.severity = Severity::kError;
    f.expected = row_bw(*big.old_c);
    f.measured = row_bw(c);
    f.unit = "GB/s";
    for (const auto& r : regs)
      f.evidence.push_back(fmt::format("{:>6}: baseline {:.3g} GB/s, now {:.3g} GB/s ({}, tolerance "
                                       "{:.0f}% from spread {:.0f}%/{:.0f}%)",
                                       format_size(r.new_c->bytes), row_bw(*r.old_c), row_bw(*r.new_c),
                                       pct(r.rel), r.tol * 100, r.old_c->spread * 100,
                                       r.new_c->spread * 100));
    findings.push_back(std::move(f));
  }
}

void compare_links(const model::Report& o, const model::Report& n, const CompareOptions& opt,
                   Comparison& out, std::vector<Finding>& findings) {
  std::map<LinkKey, const model::LinkResult*> old_l;
  for (const auto& l : o.links) old_l[{l.src_host, l.dst_host, l.src_rank, l.dst_rank}] = &l;
  struct Reg {
    const model::LinkResult* old_l;
    const model::LinkResult* new_l;
  };
  std::vector<Reg> regs;
  std::map<std::string, int> endpoint_links;  // endpoint -> compared links touching it
  std::map<std::string, int> endpoint_regs;
  std::set<LinkKey> seen;
  for (const auto& l : n.links) {
    LinkKey k{l.src_host, l.dst_host, l.src_rank, l.dst_rank};
    if (!seen.insert(k).second) continue;
    auto it = old_l.find(k);
    if (it == old_l.end()) continue;
    const auto& ol = *it->second;
    if (!ol.ok || ol.gbps <= 0) continue;
    std::string a = endpoint(l.src_host, l.src_rank), b = endpoint(l.dst_host, l.dst_rank);
    ++endpoint_links[a];
    ++endpoint_links[b];
    double rel = (l.gbps - ol.gbps) / ol.gbps;
    std::string subject = a + "->" + b;
    if (!l.ok) {
      out.changes.push_back({Change::Kind::kLink, true, subject,
                             fmt::format("{:.3g} GB/s -> no answer", ol.gbps)});
    } else if (rel < -opt.link_tolerance) {
      out.changes.push_back({Change::Kind::kLink, true, subject,
                             fmt::format("{:.3g} -> {:.3g} GB/s ({})", ol.gbps, l.gbps, pct(rel))});
    } else {
      if (rel > opt.link_tolerance)
        out.changes.push_back({Change::Kind::kLink, false, subject,
                               fmt::format("{:.3g} -> {:.3g} GB/s ({})", ol.gbps, l.gbps, pct(rel))});
      continue;
    }
    regs.push_back({&ol, &l});
    ++endpoint_regs[a];
    ++endpoint_regs[b];
  }
  if (regs.empty()) return;

  auto line = [](const Reg& r) {
    return r.new_l->ok
               ? fmt::format("{}:{} -> {}:{}: baseline {:.3g} GB/s, now {:.3g} GB/s ({})",
                             r.new_l->src_host, r.new_l->src_rank, r.new_l->dst_host,
                             r.new_l->dst_rank, r.old_l->gbps, r.new_l->gbps,
                             pct((r.new_l->gbps - r.old_l->gbps) / r.old_l->gbps))
               : fmt::format("{}:{} -> {}:{}: baseline {:.3g} GB/s, now no answer", r.new_l->src_host,
                             r.new_l->src_rank, r.new_l->dst_host, r.new_l->dst_rank, r.old_l->gbps);
  };
  // An endpoint whose every compared link regressed (and that has more than one) is the cause:
  // name it once instead of each of its links.
  std::set<std::string> whole;
  for (const auto& [ep, cnt] : endpoint_links)
    if (cnt > 2 && endpoint_regs[ep] == cnt) whole.insert(ep);
  std::map<std::string, std::vector<const Reg*>> by_subject;
  for (const auto& r : regs) {
    std::string a = endpoint(r.new_l->src_host, r.new_l->src_rank);
    std::string b = endpoint(r.new_l->dst_host, r.new_l->dst_rank);
    std::string subject;
    if (whole.count(a)) subject = a;
    else if (whole.count(b)) subject = b;
    else subject = std::min(a, b) + "<->" + std::max(a, b);
    by_subject[subject].push_back(&r);
  }
  for (const auto& [subject, rs] : by_subject) {
    bool node = subject.find("<->") == std::string::npos;
    const Reg& first = *rs.front();
    double old_sum = 0, new_sum = 0;
    for (const auto* r : rs) {
      old_sum += r->old_l->gbps;
      new_sum += r->new_l->ok ? r->new_l->gbps : 0;
    }
    std::string host = node ? subject.substr(0, subject.rfind(':'))
                            : (first.new_l->src_host == first.new_l->dst_host
                                   ? first.new_l->src_host
                                   : std::min(first.new_l->src_host, first.new_l->dst_host) + "," +
                                         std::max(first.new_l->src_host, first.new_l->dst_host));
    Finding f = make_finding(
        "link.regression", host, subject,
        node ? fmt::format("all {} links of {} are slower than in the baseline (mean {:.3g} vs {:.3g} "
                           "GB/s): blame the endpoint, not each pair",
                           rs.size(), subject, new_sum / rs.size(), old_sum / rs.size())
             : fmt::format("link {} is slower than in the baseline ({:.3g} vs {:.3g} GB/s)", subject,
                           new_sum / rs.size(), old_sum / rs.size()));
    f.expected = old_sum / rs.size();
    f.measured = new_sum / rs.size();
    f.unit = "GB/s";
    for (const auto* r : rs) f.evidence.push_back(line(*r));
    findings.push_back(std::move(f));
  }
}

void compare_topology(const model::Report& o, const model::Report& n, Comparison& out,
                      std::vector<Finding>& findings) {
  std::map<std::string, const model::HostEntry*> old_h;
  std::map<std::string, const model::HostEntry*> new_h;
  for (const auto& h : o.hosts) old_h[h.name] = &h;
  for (const auto& h : n.hosts) new_h[h.name] = &h;
  for (const auto& [name, h] : new_h) {
    auto it = old_h.find(name);
    if (it == old_h.end()) {
      out.changes.push_back({Change::Kind::kHost, false, name, "host not in the baseline"});
      continue;
    }
    const auto& oh = *it->second;
    if (oh.fingerprint.empty() || h->fingerprint.empty() || oh.fingerprint == h->fingerprint) continue;
    Finding f = make_finding("topo.changed", name, name,
                             fmt::format("the topology of {} changed since the baseline (fingerprint "
                                         "{} -> {})",
                                         name, oh.fingerprint.substr(0, 12), h->fingerprint.substr(0, 12)));
    if (!oh.topology.is_null() && !h->topology.is_null()) {
      nlohmann::json patch = nlohmann::json::diff(oh.topology, h->topology);
      std::size_t shown = 0;
      for (const auto& op : patch) {
        if (shown == 16) {
          f.evidence.push_back(fmt::format("... {} more difference(s)", patch.size() - shown));
          break;
        }
        std::string path = op.value("path", "");
        std::string kind = op.value("op", "");
        const nlohmann::json* before = at_pointer(oh.topology, path);
        if (kind == "replace")
          f.evidence.push_back(fmt::format("{}: {} -> {}", path, before ? short_json(*before) : "?",
                                           short_json(op.value("value", nlohmann::json()))));
        else if (kind == "remove")
          f.evidence.push_back(fmt::format("{}: removed (was {})", path, before ? short_json(*before) : "?"));
        else
          f.evidence.push_back(fmt::format("{}: added {}", path, short_json(op.value("value", nlohmann::json()))));
        ++shown;
      }
    } else {
      f.evidence.push_back("baseline fingerprint: " + oh.fingerprint);
      f.evidence.push_back("current fingerprint:  " + h->fingerprint);
    }
    out.changes.push_back({Change::Kind::kTopology, true, name, f.message});
    findings.push_back(std::move(f));
  }
  for (const auto& [name, h] : old_h)
    if (!new_h.count(name))
      out.changes.push_back({Change::Kind::kHost, false, name, "host in the baseline but not in this report"});
}

}  // namespace

bool is_copy_row(const model::CollectiveResult& c) {
  static const std::set<std::string, std::less<>> kCopyOps = {"h2d", "d2h", "d2d", "p2p", "copy",
                                                              "memcpy"};
  if (kCopyOps.count(c.op)) return true;
  return c.op.rfind("copy", 0) == 0 || c.op.rfind("memcpy", 0) == 0;
}

std::vector<CopyMeasurement> copy_measurements(const model::Report& r) {
  std::vector<CopyMeasurement> out;
  for (const auto& c : r.collectives)
    if (is_copy_row(c)) out.push_back({c, 0, ""});
  if (!r.sections.is_object() || !r.sections.contains("copies") || !r.sections["copies"].is_array()) return out;
  for (const auto& j : r.sections["copies"]) {
    if (!j.is_object()) continue;
    auto str = [&](const char* k) { return j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : std::string(); };
    auto num = [&](const char* k) { return j.contains(k) && j[k].is_number() ? j[k].get<double>() : 0.0; };
    CopyMeasurement m;
    m.row.op = str("kind");
    if (m.row.op.empty()) continue;
    int src = static_cast<int>(num("src")), dst = static_cast<int>(num("dst"));
    if (j.contains("src") && !j["src"].is_number()) src = -1;
    if (m.row.op == "d2d") m.row.algo = fmt::format("GPU{}->GPU{}", src, dst);
    else m.row.algo = fmt::format("GPU{}", m.row.op == "h2d" ? dst : src);
    m.row.backend = "cuda";
    m.row.host = str("host");
    m.row.bytes = static_cast<std::uint64_t>(std::max(0.0, num("bytes")));
    m.row.algbw_gbps = m.row.busbw_gbps = num("gbps");
    m.row.nranks = 1;
    m.row.wrong = -1;
    m.expected_gbps = num("expected_gbps");
    m.expected_from = str("expected_from");
    if (!str("bus_id").empty()) m.expected_from += (m.expected_from.empty() ? "" : ", ") + str("bus_id");
    out.push_back(std::move(m));
  }
  return out;
}

bool Comparison::any_worse() const {
  return std::any_of(changes.begin(), changes.end(), [](const Change& c) { return c.worse; });
}

Comparison compare_reports(const model::Report& old_r, const model::Report& new_r,
                           const CompareOptions& opts) {
  Comparison out;
  compare_findings(old_r, new_r, out);
  std::vector<Finding> measured;
  compare_collectives(old_r, new_r, opts, out, measured);
  compare_links(old_r, new_r, opts, out, measured);
  compare_topology(old_r, new_r, out, measured);
  out.findings.insert(out.findings.end(), measured.begin(), measured.end());
  return out;
}

std::vector<Finding> baseline_findings(const model::Report& baseline, const model::Report& current,
                                       const CompareOptions& opts) {
  Comparison scratch;
  std::vector<Finding> out;
  compare_collectives(baseline, current, opts, scratch, out);
  compare_links(baseline, current, opts, scratch, out);
  compare_topology(baseline, current, scratch, out);
  return out;
}

// The family: this run's measurements and topology against a saved baseline.
NCD_REGISTER_FAMILY({"baseline.compare", "baseline", {"bench.regression", "link.regression", "topo.changed"},
                     "baseline report",
                     [](const Evidence& ev) { return ev.baseline && ev.current; },
                     [](const Evidence& ev, CheckRun& run) {
                       auto found = baseline_findings(*ev.baseline, *ev.current);
                       run.findings.insert(run.findings.end(), found.begin(), found.end());
                     }});

}  // namespace ncd::checks
