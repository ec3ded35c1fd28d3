// SPDX-License-Identifier: Apache-2.0
#include "checks/link_checks.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "core/catalogue.hpp"
#include "core/error.hpp"
#include "core/text.hpp"
#include "core/units.hpp"

namespace ncd::checks {

NCD_REGISTER_CHECK({"link.slow", Severity::kWarn, "links",
                    "A link between two endpoints is slow in both directions",
                    "The pair moves data far slower than other links of its class (or than its "
                    "expected bandwidth) while both ends are fast with their other peers: the "
                    "fault is on the path between them (cable, transceiver, switch port, route).",
                    "Pairwise sweep, both directions; within each link class (net: different "
                    "hosts, shm: same host) a direction is slow below both half the class median "
                    "and median - 3 robust sigmas (1.4826 MAD), always below a quarter of the "
                    "median, or below half the expected bandwidth where known. Pairs of a node already reported as node.slow are "
                    "not repeated.",
                    "Check the path between the two ends: switch port counters and errors, "
                    "cable or transceiver, routing/adaptive routing, link speed negotiated."});
NCD_REGISTER_CHECK({"node.slow", Severity::kWarn, "links",
                    "One node is slow with every peer: the node, not each link, is at fault",
                    "More than half of a node's links are slow while its peers are fast with "
                    "each other: its NIC, its port, its PCIe slot, its CPU load or its "
                    "configuration is the cause, so it is reported once instead of N-1 links.",
                    "Per node, the upper median of its pairs' bandwidth (slower direction) is "
                    "compared with the median over nodes of the same class, with the same "
                    "robust thresholds as link.slow.",
                    "Look at that node: NIC link rate and errors (ethtool/ibstat), PCIe link "
                    "width and speed, CPU frequency and load, NUMA binding of the ranks; drain "
                    "it if the fault cannot be fixed."});
NCD_REGISTER_CHECK({"link.asymmetric", Severity::kWarn, "links",
                    "A link is fast one way and slow the other",
                    "One direction of a pair moves data at less than a third of the other and "
                    "below the class's slow threshold: a duplex mismatch, a one-way error "
                    "rate (retransmissions), congestion or a policer in one direction.",
                    "Both directions of every pair are timed separately; the slow direction "
                    "must be slow by the link.slow rule and under a third of the reverse.",
                    "Check error counters and pause frames on both ports of the slow "
                    "direction, and any rate limit or QoS policy on it."});
NCD_REGISTER_CHECK({"link.latency_high", Severity::kWarn, "links",
                    "Small-message latency between endpoints is far above their class",
                    "Small messages take much longer than on other links of the same class: "
                    "latency-bound collectives (small allreduces, barriers) slow down.",
                    "8-byte ping-pong per pair (the best of 100 round trips, halved: robust to descheduling); "
                    "high above both 4x the class median and the median + 50 us, and 3 "
                    "robust sigmas above it. A node late with most peers is named once.",
                    "Check for CPU contention or power saving on the ends, interrupt "
                    "moderation, a congested or misrouted path, or a fallback transport."});
NCD_REGISTER_CHECK({"link.unresponsive", Severity::kError, "links",
                    "A pair of endpoints did not complete its exchange before the deadline",
                    "The two ends could not move a message in time: a cut or flapping link, a "
                    "dead port, a firewall, or a hung process. The run stops after the round, "
                    "writes everything measured so far, and ends the job.",
                    "Every round has a deadline (from --timeout); a pair whose transfers did not "
                    "finish is reported naming both ends, and an end that also sent nothing "
                    "to rank 0 is named as the likely culprit.",
                    "Check the named node's link (carrier, switch port, cable) and processes; "
                    "rerun the sweep once it is fixed."});

namespace {

double median_of(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t h = v.size() / 2;
  return v.size() % 2 ? v[h] : (v[h - 1] + v[h]) / 2;
}

/// The upper median: low only when more than half of the values are low.
double upper_median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

/// The lower median: high only when more than half of the values are high.
double lower_median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[(v.size() - 1) / 2];
}

double robust_sigma(const std::vector<double>& v, double med) {
  std::vector<double> dev;
  dev.reserve(v.size());
  for (double x : v) dev.push_back(std::fabs(x - med));
  return 1.4826 * median_of(std::move(dev));
}

/// Bandwidth threshold of a set of values: slow below it.
double slow_threshold(const std::vector<double>& values, double expected, const LinkCheckOptions& o,
                      double* med_out = nullptr, double* sigma_out = nullptr) {
  double thr = 0;
  double med = median_of(values);
  double sigma = robust_sigma(values, med);
  if (values.size() >= 3)
    thr = std::max(o.always_slow_ratio * med, std::min(o.slow_ratio * med, med - o.z * sigma));
  if (expected > 0) thr = std::max(thr, o.expected_fraction * expected);
  if (med_out) *med_out = med;
  if (sigma_out) *sigma_out = sigma;
  return thr;
}

/// Latency threshold: high above it (infinity when there are too few values to judge).
double high_latency_threshold(const std::vector<double>& values, const LinkCheckOptions& o) {
  if (values.size() < 3) return std::numeric_limits<double>::infinity();
  double med = median_of(values);
  double sigma = robust_sigma(values, med);
  return std::max({o.latency_ratio * med, med + o.latency_floor_us, med + o.z * sigma});
}

struct PairAgg {
  std::string cls;
  std::string a, b;  // endpoint labels, a < b
  std::string host_a, host_b;
  std::vector<double> ab, ba, lat;
  std::uint64_t bytes = 0;
  std::set<std::pair<int, int>> rank_pairs;  // (lower, higher) ranks measured for this pair

  [[nodiscard]] double gbps_ab() const { return ab.empty() ? -1 : median_of(ab); }
  [[nodiscard]] double gbps_ba() const { return ba.empty() ? -1 : median_of(ba); }
  /// The slower direction (the pair is as good as its worse way).
  [[nodiscard]] double bw() const {
    double x = gbps_ab(), y = gbps_ba();
    if (x < 0) return y;
    if (y < 0) return x;
    return std::min(x, y);
  }
  [[nodiscard]] double latency() const { return lat.empty() ? -1 : median_of(lat); }
  [[nodiscard]] std::string subject() const { return a + "<->" + b; }
  [[nodiscard]] std::string hosts() const { return host_a == host_b ? host_a : host_a + "," + host_b; }
  [[nodiscard]] std::string describe() const {
    auto f = [](double g) { return g < 0 ? std::string("n/a") : fmt::format("{:.3f}", g); };
    return fmt::format("{} -> {}: {} GB/s, {} -> {}: {} GB/s, latency {}", a, b, f(gbps_ab()), b,
                       a, f(gbps_ba()),
                       latency() < 0 ? std::string("n/a") : fmt::format("{:.1f} us", latency()));
  }
  [[nodiscard]] const std::string& other(const std::string& label) const { return label == a ? b : a; }
};

std::string endpoint_label(const std::string& cls, const std::string& host, int rank) {
  if (cls == "net") return host;
  return fmt::format("{}/rank{}", host, rank);
}

std::string host_of_label(const std::string& label) {
  auto slash = label.find('/');
  return slash == std::string::npos ? label : label.substr(0, slash);
}

std::string rank_label(const LinkSweepData& d, int rank) {
  std::string host = rank >= 0 && rank < static_cast<int>(d.rank_host.size()) ? d.rank_host[rank] : "?";
  return fmt::format("{} (rank {})", host, rank);
}

void check_unresponsive(const LinkSweepData& d, std::vector<Finding>& out) {
  std::set<int> silent(d.silent_ranks.begin(), d.silent_ranks.end());
  std::map<std::pair<int, int>, std::vector<const report::LinkResult*>> failed;
  for (const auto& l : d.links)
    if (!l.ok) failed[{std::min(l.src_rank, l.dst_rank), std::max(l.src_rank, l.dst_rank)}].push_back(&l);
  std::set<int> named;
  auto host_of = [&](int r) {
    return r >= 0 && r < static_cast<int>(d.rank_host.size()) ? d.rank_host[r] : std::string("?");
  };
  for (const auto& [pair, dirs] : failed) {
    const auto [ra, rb] = pair;
    const std::string ha = host_of(ra), hb = host_of(rb);
    const std::string la = ha == hb ? fmt::format("{}/rank{}", ha, ra) : ha;
    const std::string lb = ha == hb ? fmt::format("{}/rank{}", hb, rb) : hb;
    std::vector<std::string> culprits;
    for (int r : {ra, rb})
      if (silent.count(r)) culprits.push_back(host_of(r));
    std::string msg = fmt::format("{} and {} did not complete their exchange within the {:.0f} s "
                                  "round deadline",
                                  rank_label(d, ra), rank_label(d, rb), d.round_timeout_s);
    if (!culprits.empty())
      msg += fmt::format("; {} also sent nothing to rank 0, so {} or its link is the likely cause",
                         join(culprits, " and "), culprits.size() == 1 ? "that node" : "they");
    Finding f = make_finding("link.unresponsive", culprits.empty() ? (ha == hb ? ha : ha + "," + hb)
                                                                   : join(culprits, ","),
                             la + "<->" + lb, msg);
    for (const auto* l : dirs) {
      f.evidence.push_back(fmt::format("{} -> {}: {}", rank_label(d, l->src_rank),
                                       rank_label(d, l->dst_rank),
                                       l->bytes ? fmt::format("no {} transfer completed", format_size(l->bytes))
                                                : std::string("no small-message answer")));
    }
    out.push_back(std::move(f));
    named.insert(ra);
    named.insert(rb);
  }
  // Rank 0 heard from (almost) nobody: its own link is the common factor, not every other node.
  const int others = static_cast<int>(d.rank_host.size()) - 1;
  if (d.silent_ranks.size() >= 2 && static_cast<int>(d.silent_ranks.size()) * 2 > others) {
    std::vector<std::string> hosts;
    for (int r : d.silent_ranks) hosts.push_back(host_of(r));
    Finding f = make_finding("link.unresponsive", host_of(0), fmt::format("{} (rank 0)<->others", host_of(0)),
                             fmt::format("rank 0 ({}) heard from {} of the other {} ranks within the "
                                         "deadline: {}'s own link is the likely cause",
                                         host_of(0), others - static_cast<int>(d.silent_ranks.size()),
                                         others, host_of(0)));
    f.evidence.push_back("silent: " + join(hosts, ", "));
    out.push_back(std::move(f));
    return;
  }
  // A rank that went silent without a failed pair (cut between rounds): rank 0 could not hear it.
  for (int r : d.silent_ranks) {
    if (named.count(r) || r == 0) continue;
    Finding f = make_finding("link.unresponsive", host_of(r),
                             fmt::format("{}<->{}", host_of(0), host_of(r)),
                             fmt::format("{} sent no results to rank 0 ({}) within the deadline: "
                                         "its link or the node is down",
                                         rank_label(d, r), host_of(0)));
    f.evidence.push_back(fmt::format("{}: results missing at rank 0", rank_label(d, r)));
    out.push_back(std::move(f));
  }
}

struct ClassData {
  std::vector<PairAgg*> pairs;
  std::map<std::string, std::vector<PairAgg*>> by_label;
};

void check_class(const std::string& cls, ClassData& cd, const LinkCheckOptions& o,
                 std::vector<Finding>& out, ClassSummary& summary,
                 std::set<std::pair<int, int>>& suspects) {
  const double expected = o.expected_gbps.count(cls) ? o.expected_gbps.at(cls) : 0.0;
  summary.expected_gbps = expected;
  const std::string expect_text =
      expected > 0 ? fmt::format(", expected {:.3g} GB/s", expected) : std::string();

  // Stage 1: nodes slow with more than half of their peers.
  std::set<std::string> slow_nodes;
  if (cd.by_label.size() >= 3) {
    std::map<std::string, double> score;
    std::vector<double> scores;
    for (auto& [label, pairs] : cd.by_label) {
      std::vector<double> bws;
      for (auto* p : pairs)
        if (p->bw() > 0) bws.push_back(p->bw());
      if (bws.empty()) continue;
      score[label] = upper_median(bws);
      scores.push_back(score[label]);
    }
    double med = 0;
    const double thr = slow_threshold(scores, expected, o, &med);
    std::vector<std::string> flagged;
    for (const auto& [label, s] : score)
      if (s < thr) flagged.push_back(label);
    if (flagged.size() * 2 > score.size()) {
      // Everyone is below expectation: one finding for the class, not one per node.
      std::vector<double> all;
      for (auto* p : cd.pairs)
        if (p->bw() > 0) all.push_back(p->bw());
      Finding f = make_finding("link.slow", "", fmt::format("all {} links", cls),
                               fmt::format("{} of {} endpoints' {} links are below {:.0f}% of the "
                                           "expected {:.3g} GB/s (median {:.3f} GB/s)",
                                           flagged.size(), score.size(), cls,
                                           100 * o.expected_fraction, expected, median_of(all)));
      f.expected = expected;
      f.measured = median_of(all);
      f.unit = "GB/s";
      out.push_back(std::move(f));
      summary.slow_below_gbps = thr;
      return;
    }
    const double reference = expected > 0 ? expected : med;
    for (const auto& label : flagged) {
      const auto& pairs = cd.by_label[label];
      int slow_with = 0;
      std::vector<double> out_dir, in_dir;
      std::vector<std::string> evidence;
      for (auto* p : pairs) {
        if (p->bw() >= 0 && p->bw() < thr) ++slow_with;
        const bool first = p->a == label;
        double o_ = first ? p->gbps_ab() : p->gbps_ba();
        double i_ = first ? p->gbps_ba() : p->gbps_ab();
        if (o_ >= 0) out_dir.push_back(o_);
        if (i_ >= 0) in_dir.push_back(i_);
        evidence.push_back(p->describe());
      }
      std::string way;
      const double mo = median_of(out_dir), mi = median_of(in_dir);
      if (!out_dir.empty() && !in_dir.empty()) {
        if (mo < thr && mi >= thr) way = " (sending only; receiving is normal)";
        else if (mi < thr && mo >= thr) way = " (receiving only; sending is normal)";
      }
      Finding f = make_finding(
          "node.slow", host_of_label(label), label + " (all links)",
          fmt::format("{} is slow with {} of its {} peers{}: {:.3f} GB/s against a typical "
                      "{:.3f} GB/s for {} links{}; the peers are fast with each other, so the "
                      "node is at fault",
                      label, slow_with, pairs.size(), way, score[label], med, cls, expect_text));
      if (score[label] < 0.1 * reference) f.severity = Severity::kError;
      f.expected = reference;
      f.measured = score[label];
      f.unit = "GB/s";
      f.evidence = std::move(evidence);
      out.push_back(std::move(f));
      slow_nodes.insert(label);
    }
  }

  // Stage 2: the remaining pairs, judged against the remaining links of the class.
  std::vector<PairAgg*> rest;
  std::vector<double> directed;
  for (auto* p : cd.pairs) {
    if (slow_nodes.count(p->a) || slow_nodes.count(p->b)) continue;
    rest.push_back(p);
    if (p->gbps_ab() > 0) directed.push_back(p->gbps_ab());
    if (p->gbps_ba() > 0) directed.push_back(p->gbps_ba());
  }
  double med = 0, sigma = 0;
  const double thr = slow_threshold(directed, expected, o, &med, &sigma);
  summary.median_gbps = med;
  summary.sigma_gbps = sigma;
  summary.slow_below_gbps = thr;
  const double reference = expected > 0 ? expected : med;
  for (auto* p : rest) {
    const double x = p->gbps_ab(), y = p->gbps_ba();
    const bool xs = x >= 0 && x < thr, ys = y >= 0 && y < thr;
    if ((xs && ys) || (xs && y < 0) || (ys && x < 0)) {
      Finding f = make_finding("link.slow", p->hosts(), p->subject(),
                               fmt::format("{} is slow both ways: {:.3f} GB/s against a typical "
                                           "{:.3f} GB/s for {} links{}, while both ends are fast "
                                           "with their other peers",
                                           p->subject(), p->bw(), med, cls, expect_text));
      if (p->bw() < 0.1 * reference) f.severity = Severity::kError;
      f.expected = reference;
      f.measured = p->bw();
      f.unit = "GB/s";
      f.evidence.push_back(p->describe());
      out.push_back(std::move(f));
      suspects.insert(p->rank_pairs.begin(), p->rank_pairs.end());
    } else if (xs != ys && x > 0 && y > 0 && std::min(x, y) < o.asymmetry_ratio * std::max(x, y)) {
      const bool ab_slow = xs;
      const std::string from = ab_slow ? p->a : p->b, to = ab_slow ? p->b : p->a;
      Finding f = make_finding("link.asymmetric", p->hosts(), from + "->" + to,
                               fmt::format("{} -> {} moves {:.3f} GB/s but the reverse moves "
                                           "{:.3f} GB/s (typical {:.3f} GB/s for {} links)",
                                           from, to, std::min(x, y), std::max(x, y), med, cls));
      f.expected = std::max(x, y);
      f.measured = std::min(x, y);
      f.unit = "GB/s";
      f.evidence.push_back(p->describe());
      out.push_back(std::move(f));
      suspects.insert(p->rank_pairs.begin(), p->rank_pairs.end());
    }
  }

  // Latency: nodes late with most peers, then single pairs.
  std::vector<double> lats;
  for (auto* p : cd.pairs)
    if (p->latency() > 0) lats.push_back(p->latency());
  summary.median_latency_us = median_of(lats);
  const double lthr = high_latency_threshold(lats, o);
  std::set<std::string> late_nodes;
  if (cd.by_label.size() >= 3) {
    for (auto& [label, pairs] : cd.by_label) {
      std::vector<double> l;
      for (auto* p : pairs)
        if (p->latency() > 0) l.push_back(p->latency());
      if (l.size() < 2) continue;
      const double score = lower_median(l);
      if (score <= lthr) continue;
      Finding f = make_finding("link.latency_high", host_of_label(label), label + " (all links)",
                               fmt::format("{} answers small messages late with most of its {} "
                                           "peers: {:.1f} us against a typical {:.1f} us for {} links",
                                           label, pairs.size(), score, summary.median_latency_us, cls));
      f.expected = summary.median_latency_us;
      f.measured = score;
      f.unit = "us";
      for (auto* p : pairs) f.evidence.push_back(p->describe());
      out.push_back(std::move(f));
      late_nodes.insert(label);
    }
  }
  for (auto* p : cd.pairs) {
    if (late_nodes.count(p->a) || late_nodes.count(p->b)) continue;
    if (p->latency() <= lthr) continue;
    Finding f = make_finding("link.latency_high", p->hosts(), p->subject(),
                             fmt::format("{} small-message latency is {:.1f} us against a typical "
                                         "{:.1f} us for {} links",
                                         p->subject(), p->latency(), summary.median_latency_us, cls));
    f.expected = summary.median_latency_us;
    f.measured = p->latency();
    f.unit = "us";
    f.evidence.push_back(p->describe());
    out.push_back(std::move(f));
    suspects.insert(p->rank_pairs.begin(), p->rank_pairs.end());
  }
}

}  // namespace

LinkAnalysis check_links(const LinkSweepData& data, const LinkCheckOptions& opts) {
  LinkAnalysis result;
  check_unresponsive(data, result.findings);

  std::map<std::tuple<std::string, std::string, std::string>, PairAgg> pairs;
  for (const auto& l : data.links) {
    if (!l.ok) continue;
    const std::string cls = l.cls.empty() ? "net" : l.cls;
    std::string s = endpoint_label(cls, l.src_host, l.src_rank);
    std::string t = endpoint_label(cls, l.dst_host, l.dst_rank);
    if (s == t) continue;
    const bool forward = s < t;
    auto key = std::make_tuple(cls, forward ? s : t, forward ? t : s);
    PairAgg& p = pairs[key];
    if (p.a.empty()) {
      p.cls = cls;
      p.a = forward ? s : t;
      p.b = forward ? t : s;
      p.host_a = forward ? l.src_host : l.dst_host;
      p.host_b = forward ? l.dst_host : l.src_host;
    }
    p.bytes = std::max(p.bytes, l.bytes);
    p.rank_pairs.insert({std::min(l.src_rank, l.dst_rank), std::max(l.src_rank, l.dst_rank)});
    if (l.gbps > 0) (forward ? p.ab : p.ba).push_back(l.gbps);
    if (l.latency_us > 0) p.lat.push_back(l.latency_us);
  }
  std::map<std::string, ClassData> classes;
  for (auto& [key, p] : pairs) {
    ClassData& cd = classes[p.cls];
    cd.pairs.push_back(&p);
    cd.by_label[p.a].push_back(&p);
    cd.by_label[p.b].push_back(&p);
  }
  for (auto& [cls, cd] : classes) {
    ClassSummary& s = result.classes[cls];
    for (auto* p : cd.pairs) s.links += static_cast<int>(p->ab.size() + p->ba.size());
    std::set<std::pair<int, int>> suspects;
    check_class(cls, cd, opts, result.findings, s, suspects);
    result.suspect_rank_pairs.insert(result.suspect_rank_pairs.end(), suspects.begin(), suspects.end());
  }
  return result;
}

std::vector<Finding> check_bisect(const BisectFindingsInput& in) {
  std::vector<Finding> out;
  auto host = [&](int r) {
    return r >= 0 && r < static_cast<int>(in.rank_host.size()) ? in.rank_host[r] : std::string("?");
  };
  for (std::size_t i = 0; i < in.slow.size(); ++i) {
    const int r = in.slow[i];
    const double g = i < in.slow_gbps.size() ? in.slow_gbps[i] : 0;
    Finding f = make_finding("node.slow", host(r), fmt::format("{} (rank {})", host(r), r),
                             fmt::format("{} (rank {}) slows every group it is in: {:.3f} GB/s with a "
                                         "healthy partner against a reference of {:.3f} GB/s "
                                         "(bisection)",
                                         host(r), r, g, in.reference_gbps));
    if (g < 0.1 * in.reference_gbps) f.severity = Severity::kError;
    f.expected = in.reference_gbps;
    f.measured = g;
    f.unit = "GB/s";
    out.push_back(std::move(f));
  }
  for (const auto& group : in.inconclusive) {
    if (group.size() < 2) continue;  // a suspect with no healthy partner left: not a finding
    std::vector<std::string> names;
    std::set<std::string> hosts;
    for (int r : group) {
      names.push_back(fmt::format("{}(rank {})", host(r), r));
      hosts.insert(host(r));
    }
    Finding f = make_finding("link.slow", join({hosts.begin(), hosts.end()}, ","), join(names, "<->"),
                             fmt::format("the group {} is slow as a whole while each part of it is "
                                         "fast: a link between its parts is slow (or the fault is "
                                         "intermittent); --mode pairwise over these ranks names it",
                                         join(names, ", ")));
    out.push_back(std::move(f));
  }
  return out;
}

std::map<std::string, double> parse_expected_gbps(const std::string& text, const std::string& what) {
  std::map<std::string, double> out;
  for (const auto& item : split(text, ',')) {
    auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0)
      throw UsageError(what + ": '" + item + "' is not CLASS=GBPS (e.g. net=12.5)");
    std::string cls(trim(item.substr(0, eq)));
    double v = parse_double(trim(item.substr(eq + 1)), what);
    if (v <= 0) throw UsageError(what + ": bandwidth of '" + cls + "' must be positive");
    out[cls] = v;
  }
  return out;
}

}  // namespace ncd::checks
