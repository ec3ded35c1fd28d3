// SPDX-License-Identifier: Apache-2.0
#include "checks/link_checks.hpp"
#include "checks/registry.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <set>
#include <tuple>

#include "core/catalogue.hpp"
#include "core/error.hpp"
#include "core/text.hpp"
#include "core/units.hpp"
#include "topo/bandwidth.hpp"

namespace ncd::checks {

NCD_REGISTER_CHECK({"link.slow", Severity::kWarn, "links",
                    "A link between two endpoints is slow in both directions",
                    "The pair moves data far slower than other links of its class (or than its "
                    "expected bandwidth) while both ends are fast with their other peers: the "
                    "fault is on the path between them (cable, transceiver, switch port, route).",
                    "Pairwise sweep, both directions, repeated passes where the time allows; within "
                    "each link class (net: different hosts, shm: same host) a link's log-bandwidth "
                    "is compared with its two ends' other links: slow when below 3/4 of them and "
                    "4.5 robust sigmas below (the noise estimated from the healthy links of the "
                    "same run, at least 2%); an error at or below 0.35 of them. A class whose "
                    "healthy links are below half the expected bandwidth (NIC rate from the "
                    "topology, or --expect) is reported once as 'all <class> links'. With 2 nodes "
                    "only the expectation can judge. Pairs of a node already reported as "
                    "node.slow are not repeated; suspect pairs are measured again first (the "
                    "better median of each direction is kept).",
                    "Check the path between the two ends: switch port counters and errors, "
                    "cable or transceiver, routing/adaptive routing, link speed negotiated."});
NCD_REGISTER_CHECK({"node.slow", Severity::kWarn, "links",
                    "One node is slow with every peer: the node, not each link, is at fault",
                    "More than half of a node's links are slow while its peers are fast with "
                    "each other: its NIC, its port, its PCIe slot, its CPU load or its "
                    "configuration is the cause, so it is reported once instead of N-1 links.",
                    "Leave-one-out: per node, the upper median of its links' log-bandwidth "
                    "(slower direction) against the median of the links that do not touch it "
                    "(nor another slow node); slow below 3/4 and 4 robust sigmas (of the "
                    "median) below; an error at or below 0.35. A link to another slow node is "
                    "left out unless it is fast (then it clears both ends). A node slow in "
                    "fewer than 3 links (3 rounds) has those pairs measured again first. With 3 "
                    "nodes this is a triangulation: a node's two links against the third.",
                    "Look at that node: NIC link rate and errors (ethtool/ibstat), PCIe link "
                    "width and speed, CPU frequency and load, NUMA binding of the ranks; drain "
                    "it if the fault cannot be fixed."});
NCD_REGISTER_CHECK({"link.not_judged", Severity::kInfo, "links",
                    "Links were measured but there was nothing to judge them against",
                    "With two endpoints there are no other links to compare with, so a slow link "
                    "or node can only be recognised against the bandwidth the hardware should "
                    "give; without a known NIC rate (or --expect) the measured figure is reported "
                    "but not judged.",
                    "A class of links with 2 endpoints and no expected bandwidth from the "
                    "topology (RDMA port rate) or --expect.",
                    "Give the expected bandwidth (--expect net=GBPS), or sweep 3 or more nodes "
                    "so that links can be compared with each other."});
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
  std::map<std::pair<int, int>, std::vector<const model::LinkResult*>> failed;
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

/// In place: the median (mean of the middle two).
double median_inplace(std::vector<double>& v) {
  if (v.empty()) return 0;
  const std::size_t h = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(h), v.end());
  const double hi = v[h];
  if (v.size() % 2) return hi;
  return (*std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(h)) + hi) / 2;
}

/// The upper median: low only when more than half of the values are low.
double upper_median_inplace(std::vector<double>& v) {
  const std::size_t h = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(h), v.end());
  return v[h];
}

/// The median of the multiset (union of the sorted lists `plus`) minus (union of the sorted
/// lists `minus`, a sub-multiset of it), by order statistics: O(log^2) instead of a copy, so
/// leave-one-out stays cheap at 512 nodes (130,816 links). Returns false when nothing is left.
bool median_of_difference(const std::vector<const std::vector<double>*>& plus,
                          const std::vector<const std::vector<double>*>& minus, double& out) {
  std::size_t total = 0;
  for (const auto* v : plus) total += v->size();
  for (const auto* v : minus) total -= std::min(total, v->size());
  if (total == 0) return false;
  auto count_le = [&](double t) {
    std::size_t c = 0;
    for (const auto* v : plus) c += static_cast<std::size_t>(std::upper_bound(v->begin(), v->end(), t) - v->begin());
    for (const auto* v : minus) c -= static_cast<std::size_t>(std::upper_bound(v->begin(), v->end(), t) - v->begin());
    return c;
  };
  auto kth = [&](std::size_t k) {  // 0-based
    double best = std::numeric_limits<double>::infinity();
    for (const auto* v : plus) {
      std::size_t lo = 0, hi = v->size();  // first index whose value has count_le >= k + 1
      while (lo < hi) {
        const std::size_t mid = (lo + hi) / 2;
        if (count_le((*v)[mid]) >= k + 1) hi = mid;
        else lo = mid + 1;
      }
      if (lo < v->size()) best = std::min(best, (*v)[lo]);
    }
    return best;
  };
  out = total % 2 ? kth(total / 2) : (kth(total / 2 - 1) + kth(total / 2)) / 2;
  return true;
}

/// The k-th smallest (0-based) of the union of two sorted lists, O(log).
double kth_of_two(const std::vector<double>& a, const std::vector<double>& b, std::size_t k) {
  std::size_t lo = k + 1 > b.size() ? k + 1 - b.size() : 0, hi = std::min(k + 1, a.size());
  while (lo < hi) {  // take i from a and k + 1 - i from b
    const std::size_t i = (lo + hi) / 2, j = k + 1 - i;
    if (j > 0 && i < a.size() && b[j - 1] > a[i]) lo = i + 1;
    else hi = i;
  }
  const std::size_t i = lo, j = k + 1 - lo;
  const double inf = std::numeric_limits<double>::infinity();
  return std::max(i > 0 ? a[i - 1] : -inf, j > 0 ? b[j - 1] : -inf);
}

/// The median of the union of sorted lists a and b, less two copies of x (a link is in both of
/// its ends' lists) when `drop`. False when nothing is left.
bool median_of_two_without(const std::vector<double>& a, const std::vector<double>& b, double x, bool drop,
                           double& out) {
  const std::size_t all = a.size() + b.size();
  const std::size_t removed = drop ? 2 : 0;
  if (all <= removed) return false;
  const std::size_t total = all - removed;
  // The two copies of x sit at positions below..below+1 of the union.
  const std::size_t below = drop ? static_cast<std::size_t>(std::lower_bound(a.begin(), a.end(), x) - a.begin()) +
                                       static_cast<std::size_t>(std::lower_bound(b.begin(), b.end(), x) - b.begin())
                                 : all;
  auto kth = [&](std::size_t k) { return kth_of_two(a, b, k < below ? k : k + removed); };
  out = total % 2 ? kth(total / 2) : (kth(total / 2 - 1) + kth(total / 2)) / 2;
  return true;
}

/// A node slow in at least this many of its links (each measured in its own round) is slow in
/// several rounds already; fewer, and its slow pairs are measured again before blaming it.
constexpr int kNodeRounds = 3;

/// Standard error factor of a median of k values (relative to one value's sigma).
double median_factor(std::size_t k) {
  if (k <= 1) return 1.0;
  return std::min(1.0, 1.2533 / std::sqrt(static_cast<double>(k)));
}

std::string confidence_word(double z) {
  const double a = std::fabs(z);
  return a >= 10 ? "high" : a >= 6 ? "good" : "moderate";
}

std::string pct(double ratio) { return fmt::format("{:.0f}%", 100 * ratio); }

/// Bandwidth attribution of one class. See LinkCheckOptions.
void judge_bandwidth(const std::string& cls, ClassData& cd, const LinkCheckOptions& o,
                     const std::map<std::pair<int, int>, std::vector<double>>& samples,
                     std::vector<Finding>& out, ClassSummary& summary,
                     std::set<std::pair<int, int>>& suspects, std::set<std::string>& slow_nodes,
                     std::vector<std::string>& notes) {
  const double expected = o.expected_gbps.count(cls) ? o.expected_gbps.at(cls) : 0.0;
  const std::string expected_from = o.expected_from.count(cls) ? o.expected_from.at(cls) : "--expect";
  summary.expected_gbps = expected;
  const std::string expect_text =
      expected > 0 ? fmt::format("; the hardware should give {:.3g} GB/s ({})", expected, expected_from)
                   : std::string();

  // Endpoints and usable pairs (both ends answered, some bandwidth).
  std::vector<std::string> labels;
  std::map<std::string, int> index;
  for (const auto& [label, ps] : cd.by_label) {
    index[label] = static_cast<int>(labels.size());
    labels.push_back(label);
  }
  const int n = static_cast<int>(labels.size());
  struct P {
    PairAgg* agg;
    int a, b;
    double x;  // log of the slower direction
  };
  std::vector<P> ps;
  for (auto* p : cd.pairs)
    if (p->bw() > 0) ps.push_back({p, index[p->a], index[p->b], std::log(p->bw())});
  std::vector<std::vector<int>> incident(static_cast<std::size_t>(n));
  for (std::size_t i = 0; i < ps.size(); ++i) {
    incident[static_cast<std::size_t>(ps[i].a)].push_back(static_cast<int>(i));
    incident[static_cast<std::size_t>(ps[i].b)].push_back(static_cast<int>(i));
  }

  // Repeatability: every sample of a direction against that direction's median.
  std::vector<double> rep_dev;
  std::size_t passes = 1;
  for (const auto& p : ps)
    for (const auto& rp : p.agg->rank_pairs)
      for (auto key : {rp, std::make_pair(rp.second, rp.first)}) {
        auto it = samples.find(key);
        if (it == samples.end() || it->second.size() < 2) continue;
        passes = std::max(passes, it->second.size());
        std::vector<double> lv;
        for (double g : it->second)
          if (g > 0) lv.push_back(std::log(g));
        if (lv.size() < 2) continue;
        const double m = median_of(lv);
        std::vector<double> d;
        for (double v : lv) d.push_back(std::fabs(v - m));
        std::sort(d.begin(), d.end());
        // With an odd count one sample is the median itself: its zero says nothing.
        rep_dev.insert(rep_dev.end(), d.begin() + (d.size() % 2 ? 1 : 0), d.end());
      }
  // The noise of one direction's value (a median of `passes` samples).
  double noise_repeat = rep_dev.empty() ? 0 : 1.4826 * median_of(rep_dev) * median_factor(passes);
  // The two directions of a pair should agree (slow pairs too: a slow node is slow both ways):
  // their disagreement is measurement noise that one pass shows, whatever the attribution.
  {
    std::vector<double> dd;
    for (const auto& p : ps)
      if (p.agg->gbps_ab() > 0 && p.agg->gbps_ba() > 0)
        dd.push_back(std::fabs(std::log(p.agg->gbps_ab()) - std::log(p.agg->gbps_ba())) / std::sqrt(2.0));
    if (dd.size() >= 2) noise_repeat = std::max(noise_repeat, 1.4826 * median_of(dd));
  }
  summary.noise_repeat = noise_repeat;
  double sigma_all = 0;
  {
    std::vector<double> all;
    for (const auto& p : ps)
      for (double g : {p.agg->gbps_ab(), p.agg->gbps_ba()})
        if (g > 0) all.push_back(std::log(g));
    const double m = median_of(all);
    std::vector<double> dev;
    for (double v : all) dev.push_back(std::fabs(v - m));
    sigma_all = 1.4826 * median_of(dev);
  }

  if (ps.empty()) return;
  if (n == 2) {
    // One pair: nothing to compare with but the hardware.
    summary.method = "expectation only (2 endpoints)";
    P& p = ps.front();
    const double g = p.agg->bw();
    summary.median_gbps = g;
    if (expected > 0) {
      const double ratio = g / expected;
      summary.slow_below_gbps = o.expected_fraction * expected;
      if (ratio < o.expected_fraction) {
        Finding f = make_finding(
            "link.slow", p.agg->hosts(), p.agg->subject(),
            fmt::format("{} moves {:.3f} GB/s, {:.2f}x the {:.3g} GB/s its hardware should give ({}); "
                        "2 endpoints: compared against the expectation only, there are no other "
                        "links to compare with",
                        p.agg->subject(), g, ratio, expected, expected_from));
        f.severity = ratio <= o.error_ratio ? Severity::kError : Severity::kWarn;
        f.expected = expected;
        f.measured = g;
        f.unit = "GB/s";
        f.evidence.push_back(p.agg->describe());
        f.evidence.push_back(fmt::format("ratio {:.3f} of the expected {:.3g} GB/s ({}); slow below {}",
                                         ratio, expected, expected_from, pct(o.expected_fraction)));
        out.push_back(std::move(f));
        suspects.insert(p.agg->rank_pairs.begin(), p.agg->rank_pairs.end());
      } else {
        notes.push_back(fmt::format("links: {} {} link(s) between 2 endpoints compared against the "
                                    "expected {:.3g} GB/s ({}) only: {:.2f}x of it",
                                    cd.pairs.size(), cls, expected, expected_from, ratio));
      }
    } else {
      const std::string why = o.no_expectation_reason.count(cls) ? o.no_expectation_reason.at(cls)
                                                                  : "no expected bandwidth is known";
      Finding f = make_finding(
          "link.not_judged", p.agg->hosts(), p.agg->subject(),
          fmt::format("{} moves {:.3f} GB/s, but with 2 endpoints there are no other links to "
                      "compare it with and {}: could not judge whether it is slow",
                      p.agg->subject(), g, why));
      f.measured = g;
      f.unit = "GB/s";
      f.evidence.push_back(p.agg->describe());
      out.push_back(std::move(f));
      summary.not_judged = "2 endpoints and " + why;
    }
    return;
  }
  summary.method = n == 3 ? "triangulation (3 endpoints)" : "leave-one-out";
  if (expected <= 0 && o.no_expectation_reason.count(cls))
    notes.push_back(fmt::format("links: no hardware expectation for {} links ({}): they are judged "
                                "against each other only, so a fabric slow everywhere alike is not seen",
                                cls, o.no_expectation_reason.at(cls)));

  // First guess of slow nodes from capacities: a node's best link shows what it can do (a slow
  // node caps every link it is on; a healthy one has at least one healthy peer). Robust to half
  // of the nodes being slow, where a median over all links would sink.
  std::vector<char> node_slow(static_cast<std::size_t>(n), 0);
  {
    std::vector<double> cap(static_cast<std::size_t>(n), -1e300);
    for (const auto& p : ps) {
      cap[static_cast<std::size_t>(p.a)] = std::max(cap[static_cast<std::size_t>(p.a)], p.x);
      cap[static_cast<std::size_t>(p.b)] = std::max(cap[static_cast<std::size_t>(p.b)], p.x);
    }
    std::vector<double> sorted_cap;
    for (double c : cap)
      if (c > -1e299) sorted_cap.push_back(c);
    std::sort(sorted_cap.begin(), sorted_cap.end());
    int flagged = 0;
    for (int v = 0; v < n; ++v) {
      const double c = cap[static_cast<std::size_t>(v)];
      if (c < -1e299) continue;
      // The median capacity of the others (v removed once).
      std::vector<double> others = sorted_cap;
      auto self = std::find(others.begin(), others.end(), c);
      if (self == others.end()) continue;
      others.erase(self);
      if (others.empty()) continue;
      const double ref = median_of(others);
      if (c - ref < std::log(o.max_ratio)) {
        node_slow[static_cast<std::size_t>(v)] = 1;
        ++flagged;
      }
    }
    if (flagged * 2 > n) std::fill(node_slow.begin(), node_slow.end(), 0);
  }
  std::vector<char> link_slow(ps.size(), 0);
  auto touches_slow = [&](const P& p) {
    return node_slow[static_cast<std::size_t>(p.a)] || node_slow[static_cast<std::size_t>(p.b)];
  };
  auto healthy = [&](std::size_t i) { return !link_slow[i] && !touches_slow(ps[i]); };

  struct NodeScore {
    double s = 0, z = 0, ref = 0, value = 0;
    std::size_t k = 0;
  };
  struct LinkScore {
    double s = 0, z = 0, ref = 0;
  };
  std::vector<NodeScore> node_score(static_cast<std::size_t>(n));
  std::vector<LinkScore> link_score(ps.size());
  double ref_all = 0, sigma = o.sigma_floor, sigma_between = 0;
  std::size_t healthy_values = 0;
  const double log_max = std::log(o.max_ratio);
  bool note_mixed = false;

  for (int iter = 0; iter < 8; ++iter) {
    // The healthy links: their level (the reference) and spread (the noise).
    std::vector<double> hx, hdir;
    for (std::size_t i = 0; i < ps.size(); ++i) {
      if (!healthy(i)) continue;
      hx.push_back(ps[i].x);
      for (double g : {ps[i].agg->gbps_ab(), ps[i].agg->gbps_ba()})
        if (g > 0) hdir.push_back(std::log(g));
    }
    if (hx.empty()) break;
    ref_all = median_inplace(hx);
    const double hmed = median_of(hdir);
    std::vector<double> dev;
    for (double v : hdir) dev.push_back(std::fabs(v - hmed));
    sigma_between = 1.4826 * median_of(dev);
    healthy_values = hdir.size();
    // Few healthy values say little about the spread: then at least 5%, and at least the
    // spread of every direction of the class (robust: a slow node or link is a minority of
    // the values or all of them alike, and adds no deviation from the median)
    // (the latter with 3 endpoints, where one healthy pair is all a triangulation has).
    const double few_floor = hdir.size() < 6 || n == 3 ? std::max(hdir.size() < 6 ? 0.05 : 0.0, n == 3 ? sigma_all : 0.0) : 0.0;
    sigma = std::max({o.sigma_floor, sigma_between, noise_repeat, few_floor});

    std::vector<char> new_node(static_cast<std::size_t>(n), 0), new_link(ps.size(), 0);
    // Sorted healthy values: all, and per node its healthy links.
    std::sort(hx.begin(), hx.end());
    std::vector<std::vector<double>> inc_h(static_cast<std::size_t>(n));
    for (std::size_t i = 0; i < ps.size(); ++i)
      if (healthy(i)) {
        inc_h[static_cast<std::size_t>(ps[i].a)].push_back(ps[i].x);
        inc_h[static_cast<std::size_t>(ps[i].b)].push_back(ps[i].x);
      }
    for (auto& v : inc_h) std::sort(v.begin(), v.end());
    // Nodes: own links (to peers not known slow) against the healthy links not touching it.
    std::vector<double> buf;
    for (int v = 0; v < n; ++v) {
      NodeScore& ns = node_score[static_cast<std::size_t>(v)];
      const std::size_t kref = hx.size() - inc_h[static_cast<std::size_t>(v)].size();
      if (!median_of_difference({&hx}, {&inc_h[static_cast<std::size_t>(v)]}, ns.ref)) ns.ref = ref_all;
      // A link to a peer thought slow is left out (that peer lowers it), unless it is fast all
      // the same: a slow node caps every link it is on, so a link at the healthy level clears
      // both of its ends. (Without this, two neighbours each blamed for one slow link of the
      // other would clear each other's evidence: a 4-rank ring has two links per rank.)
      const double link_se = sigma * std::hypot(1.0, kref ? median_factor(kref) : 0.0);
      buf.clear();
      for (int i : incident[static_cast<std::size_t>(v)]) {
        const P& p = ps[static_cast<std::size_t>(i)];
        const int u = p.a == v ? p.b : p.a;
        const double s = p.x - ns.ref;
        if (!node_slow[static_cast<std::size_t>(u)] || s >= log_max || s / link_se >= -o.z_link) buf.push_back(p.x);
      }
      if (buf.empty())
        for (int i : incident[static_cast<std::size_t>(v)]) buf.push_back(ps[static_cast<std::size_t>(i)].x);
      if (buf.empty()) continue;
      ns.k = buf.size();
      ns.value = upper_median_inplace(buf);
      ns.s = ns.value - ns.ref;
      const double se = sigma * std::hypot(median_factor(ns.k), kref ? median_factor(kref) : 0.0);
      ns.z = ns.s / se;
      if (ns.s < log_max && ns.z < -o.z_node) new_node[static_cast<std::size_t>(v)] = 1;
    }
    int flagged = 0;
    for (char c : new_node) flagged += c;
    if (flagged * 2 > n) {
      // More than half of the endpoints slower than the rest: which side is healthy cannot be
      // told from the links alone (the expectation still judges the class as a whole).
      std::fill(new_node.begin(), new_node.end(), 0);
      note_mixed = true;
    }
    // Links not touching a slow node: against both ends' other healthy links (those not
    // touching a slow node either).
    std::vector<std::vector<double>> inc_l(static_cast<std::size_t>(n));
    for (std::size_t i = 0; i < ps.size(); ++i)
      if (healthy(i) && !new_node[static_cast<std::size_t>(ps[i].a)] && !new_node[static_cast<std::size_t>(ps[i].b)]) {
        inc_l[static_cast<std::size_t>(ps[i].a)].push_back(ps[i].x);
        inc_l[static_cast<std::size_t>(ps[i].b)].push_back(ps[i].x);
      }
    for (auto& v : inc_l) std::sort(v.begin(), v.end());
    for (std::size_t i = 0; i < ps.size(); ++i) {
      const P& p = ps[i];
      if (new_node[static_cast<std::size_t>(p.a)] || new_node[static_cast<std::size_t>(p.b)]) continue;
      const bool listed = healthy(i);
      const auto& la = inc_l[static_cast<std::size_t>(p.a)];
      const auto& lb = inc_l[static_cast<std::size_t>(p.b)];
      LinkScore& ls = link_score[i];
      const std::size_t kref = la.size() + lb.size() - (listed ? 2 : 0);
      if (!median_of_two_without(la, lb, p.x, listed, ls.ref)) ls.ref = ref_all;
      ls.s = p.x - ls.ref;
      ls.z = ls.s / (sigma * std::hypot(1.0, kref ? median_factor(kref) : 0.0));
      if (ls.s < log_max && ls.z < -o.z_link) new_link[i] = 1;
    }
    const bool same = new_node == node_slow && new_link == link_slow;
    node_slow = std::move(new_node);
    link_slow = std::move(new_link);
    if (same) break;
  }

  const double ref_gbps = std::exp(ref_all);
  const double link_limit = std::min(o.max_ratio, std::exp(-o.z_link * sigma * std::sqrt(2.0)));
  summary.median_gbps = ref_gbps;
  summary.noise = sigma;
  summary.noise_between = sigma_between;
  summary.healthy_values = static_cast<int>(healthy_values);
  summary.sigma_gbps = sigma * ref_gbps;
  summary.link_limit_ratio = link_limit;
  summary.slow_below_gbps = link_limit * ref_gbps;
  {
    std::size_t k = n > 1 ? static_cast<std::size_t>(n - 1) : 1;
    summary.node_limit_ratio = std::min(o.max_ratio, std::exp(-o.z_node * sigma * std::hypot(median_factor(k), 0.0)));
  }
  const std::string noise_text =
      fmt::format("noise {:.1f}% (robust sigma of log-bandwidth over {} healthy direction(s){})",
                  100 * sigma, healthy_values,
                  noise_repeat > 0 ? fmt::format(", repeat noise {:.1f}% over {} passes", 100 * noise_repeat, passes)
                                   : std::string(", one pass"));
  {
    // So noisy that not even an error-level link (error_ratio) could be told from noise, and
    // nothing stood out: the lower half of the pairs is measured again (the better median of
    // each direction is kept), so a disturbance that passed over some rounds does not stand.
    // (Half of a 4-rank ring slow in one round reads like this: which half is healthy cannot
    // be told from the links alone.)
    const bool found = std::any_of(node_slow.begin(), node_slow.end(), [](char c) { return c != 0; }) ||
                       std::any_of(link_slow.begin(), link_slow.end(), [](char c) { return c != 0; });
    if (link_limit < o.error_ratio && !found) {
      std::vector<double> xs;
      for (const auto& p : ps) xs.push_back(p.x);
      const double mid = median_of(xs);
      for (const auto& p : ps)
        if (p.x < mid) suspects.insert(p.agg->rank_pairs.begin(), p.agg->rank_pairs.end());
    }
  }
  if (link_limit < 0.5)
    notes.push_back(fmt::format("links: {} measurement too noisy to judge below {}: links vary by "
                                "{:.0f}% (robust sigma) within this run, so a link must be under "
                                "{} of its peers to be told from noise (a node under {}); "
                                "use larger --size, more passes, or a quieter machine",
                                cls, pct(1 - link_limit), 100 * sigma, pct(link_limit),
                                pct(summary.node_limit_ratio)));
  if (note_mixed)
    notes.push_back(fmt::format("links: more than half of the {} {} endpoints are slower than the "
                                "rest: which side is healthy cannot be told from the links alone",
                                n, cls));

  auto severity_of = [&](double ratio) { return ratio <= o.error_ratio ? Severity::kError : Severity::kWarn; };

  // Fabric-wide: the healthy level itself below what the hardware should give.
  if (expected > 0 && ref_gbps < o.expected_fraction * expected) {
    const double ratio = ref_gbps / expected;
    Finding f = make_finding("link.slow", "", fmt::format("all {} links", cls),
                             fmt::format("the {} links move a typical {:.3f} GB/s, {:.2f}x the {:.3g} GB/s "
                                         "the hardware should give ({}): the whole fabric is slow "
                                         "(every link alike, so no node or link stands out)",
                                         cls, ref_gbps, ratio, expected, expected_from));
    f.severity = ratio <= o.error_ratio ? Severity::kError : Severity::kWarn;
    f.expected = expected;
    f.measured = ref_gbps;
    f.unit = "GB/s";
    f.evidence.push_back(fmt::format("ratio {:.3f} of the expected {:.3g} GB/s ({}); slow below {}", ratio,
                                     expected, expected_from, pct(o.expected_fraction)));
    f.evidence.push_back(noise_text);
    out.push_back(std::move(f));
  }

  // node.slow
  for (int v = 0; v < n; ++v) {
    if (!node_slow[static_cast<std::size_t>(v)]) continue;
    const std::string& label = labels[static_cast<std::size_t>(v)];
    const NodeScore& ns = node_score[static_cast<std::size_t>(v)];
    const double ratio = std::exp(ns.s);
    int slow_with = 0;
    std::vector<double> out_dir, in_dir;
    std::vector<std::string> evidence;
    std::set<std::pair<int, int>> slow_pairs;
    for (int i : incident[static_cast<std::size_t>(v)]) {
      const P& p = ps[static_cast<std::size_t>(i)];
      if (p.x - ns.ref < log_max) {
        ++slow_with;
        slow_pairs.insert(p.agg->rank_pairs.begin(), p.agg->rank_pairs.end());
      }
      const bool first = p.agg->a == label;
      const double o_ = first ? p.agg->gbps_ab() : p.agg->gbps_ba();
      const double i_ = first ? p.agg->gbps_ba() : p.agg->gbps_ab();
      if (o_ > 0) out_dir.push_back(std::log(o_));
      if (i_ > 0) in_dir.push_back(std::log(i_));
      evidence.push_back(p.agg->describe());
    }
    std::string way;
    if (!out_dir.empty() && !in_dir.empty()) {
      const double mo = upper_median(out_dir) - ns.ref, mi = upper_median(in_dir) - ns.ref;
      if (mo < log_max && mi >= log_max) way = " (sending only; receiving is normal)";
      else if (mi < log_max && mo >= log_max) way = " (receiving only; sending is normal)";
    }
    const double peers = std::exp(ns.ref), got = std::exp(ns.value);
    Finding f = make_finding(
        "node.slow", host_of_label(label), label + " (all links)",
        fmt::format("{} is slow with {} of its {} peers{}: {:.3f} GB/s, {:.2f}x the {:.3f} GB/s of "
                    "the {} links not touching it (confidence {}: z = {:.1f}){}; the peers are fast "
                    "with each other, so the node is at fault",
                    label, slow_with, incident[static_cast<std::size_t>(v)].size(), way, got, ratio,
                    peers, cls, confidence_word(ns.z), ns.z, expect_text));
    f.severity = severity_of(ratio);
    f.expected = peers;
    f.measured = got;
    f.unit = "GB/s";
    evidence.insert(evidence.begin(),
                    fmt::format("ratio {:.3f} of its peers (leave-one-out: its links' upper median "
                                "against the median of the healthy links not touching it); z = {:.1f}; {}",
                                ratio, ns.z, noise_text));
    f.evidence = std::move(evidence);
    out.push_back(std::move(f));
    slow_nodes.insert(label);
    // A node's links are measured in distinct rounds (they share the node). Slow in fewer than
    // kNodeRounds of them, a disturbance that passed over those rounds looks the same (two slow
    // pairs of one ring round, under load, blamed their ends): measure them again first.
    if (slow_with < kNodeRounds) suspects.insert(slow_pairs.begin(), slow_pairs.end());
  }

  // link.slow / link.asymmetric
  for (std::size_t i = 0; i < ps.size(); ++i) {
    if (!link_slow[i]) continue;
    const P& p = ps[i];
    const LinkScore& ls = link_score[i];
    const double ratio = std::exp(ls.s), peers = std::exp(ls.ref);
    const double x = p.agg->gbps_ab(), y = p.agg->gbps_ba();
    const double dthr = peers * link_limit;
    const bool xs = x > 0 && x < dthr, ys = y > 0 && y < dthr;
    const std::string ratio_text =
        fmt::format("ratio {:.3f} of its ends' other links ({:.3f} GB/s); z = {:.1f}; {}", ratio, peers, ls.z,
                    noise_text);
    if (xs != ys && x > 0 && y > 0 && std::min(x, y) < o.asymmetry_ratio * std::max(x, y)) {
      const std::string from = xs ? p.agg->a : p.agg->b, to = xs ? p.agg->b : p.agg->a;
      Finding f = make_finding("link.asymmetric", p.agg->hosts(), from + "->" + to,
                               fmt::format("{} -> {} moves {:.3f} GB/s but the reverse moves "
                                           "{:.3f} GB/s ({:.2f}x its ends' other {} links, "
                                           "confidence {})",
                                           from, to, std::min(x, y), std::max(x, y), ratio, cls,
                                           confidence_word(ls.z)));
      f.expected = std::max(x, y);
      f.measured = std::min(x, y);
      f.unit = "GB/s";
      f.evidence.push_back(p.agg->describe());
      f.evidence.push_back(ratio_text);
      out.push_back(std::move(f));
    } else {
      const std::string way = xs && !ys   ? fmt::format(" (mostly {} -> {})", p.agg->a, p.agg->b)
                              : ys && !xs ? fmt::format(" (mostly {} -> {})", p.agg->b, p.agg->a)
                                          : std::string(" both ways");
      Finding f = make_finding("link.slow", p.agg->hosts(), p.agg->subject(),
                               fmt::format("{} is slow{}: {:.3f} GB/s, {:.2f}x the {:.3f} GB/s of its "
                                           "ends' other {} links (confidence {}: z = {:.1f}){}, while "
                                           "both ends are fast with their other peers",
                                           p.agg->subject(), way, p.agg->bw(), ratio, peers, cls,
                                           confidence_word(ls.z), ls.z, expect_text));
      f.severity = severity_of(ratio);
      f.expected = peers;
      f.measured = p.agg->bw();
      f.unit = "GB/s";
      f.evidence.push_back(p.agg->describe());
      f.evidence.push_back(ratio_text);
      out.push_back(std::move(f));
    }
    suspects.insert(p.agg->rank_pairs.begin(), p.agg->rank_pairs.end());
  }
}

void check_class(const std::string& cls, ClassData& cd, const LinkCheckOptions& o,
                 const std::map<std::pair<int, int>, std::vector<double>>& samples,
                 std::vector<Finding>& out, ClassSummary& summary,
                 std::set<std::pair<int, int>>& suspects, std::vector<std::string>& notes) {
  std::set<std::string> slow_nodes;
  judge_bandwidth(cls, cd, o, samples, out, summary, suspects, slow_nodes, notes);

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
    check_class(cls, cd, opts, data.samples, result.findings, s, suspects, result.notes);
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

NetExpectation net_expectation(const topo::System& s) {
  NetExpectation best;
  for (const auto& nic : s.nics) {
    if (!nic.rdma) continue;
    for (const auto& port : nic.ports) {
      if (port.rate_gbps <= 0) continue;
      if (!port.state.empty() && port.state != "ACTIVE") continue;
      const std::string lower = [&] {
        std::string t = nic.name + " " + port.name;
        std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return std::tolower(c); });
        return t;
      }();
      const std::string kind = port.link_layer == "InfiniBand" ? "InfiniBand"
                               : lower.find("efa") != std::string::npos || lower.find("rdmap") != std::string::npos
                                   ? "EFA"
                               : port.link_layer == "Ethernet" ? "RoCE"
                                                               : "RDMA";
      double g = topo::net_bw(port.rate_gbps);
      std::string from = fmt::format("{:g} Gb/s {} port {}", port.rate_gbps, kind, port.subject());
      if (const auto* dev = s.find_pci(nic.bus_id); dev && dev->link.max_gts > 0 && dev->link.max_width > 0 &&
                                                    dev->link_quirk.empty()) {
        const double pcie = topo::pcie_bw(dev->link.max_gts, dev->link.max_width);
        if (pcie > 0 && pcie < g) {
          g = pcie;
          from += fmt::format(", capped by its PCIe {:g} GT/s x{}", dev->link.max_gts, dev->link.max_width);
        }
      }
      if (g > best.gbps) {
        best.gbps = g;
        best.from = from;
      }
    }
  }
  if (best.gbps <= 0) {
    best.reason = s.nics.empty() ? "no NIC found by the topology probe"
                                 : "no active RDMA port (InfiniBand, RoCE, EFA) with a known rate: TCP sockets "
                                   "(e.g. veth, plain Ethernet) have no hardware figure";
  }
  return best;
}

void apply_net_expectations(const std::vector<std::pair<std::string, NetExpectation>>& hosts,
                            LinkCheckOptions& opts) {
  if (opts.expected_gbps.count("net")) return;  // --expect wins
  double low = 0;
  std::string from;
  std::vector<std::string> without;
  for (const auto& [host, e] : hosts) {
    if (e.gbps <= 0) {
      without.push_back(host + ": " + e.reason);
      continue;
    }
    if (low <= 0 || e.gbps < low) {
      low = e.gbps;
      from = host + " " + e.from;
    }
  }
  if (hosts.empty()) {
    opts.no_expectation_reason["net"] = "the topology was not probed";
  } else if (!without.empty()) {
    // A link is only as fast as its slower end: without every end's rate, no figure.
    opts.no_expectation_reason["net"] =
        without.size() == hosts.size() && without.size() > 1
            ? hosts.front().second.reason + fmt::format(" (all {} hosts)", hosts.size())
            : join(without, "; ");
  } else {
    opts.expected_gbps["net"] = low;
    opts.expected_from["net"] = from;
  }
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

std::optional<CheckOutcome> link_slow_outcome(const LinkAnalysis& analysis) {
  std::vector<std::string> net_why;
  bool judged = false, shm_unjudged = false;
  for (const auto& [cls, c] : analysis.classes) {
    if (c.not_judged.empty()) judged = true;
    else if (cls == "shm") shm_unjudged = true;
    else net_why.push_back(cls + " links: " + c.not_judged);
  }
  if (judged || (net_why.empty() && !shm_unjudged)) return std::nullopt;
  if (!net_why.empty())
    return CheckOutcome{"link.slow", CheckStatus::kCouldNotRun, 0,
                        join(net_why, "; ") + " (give --expect net=GBPS, or sweep 3 or more nodes)"};
  return CheckOutcome{"link.slow", CheckStatus::kNotApplicable, 0,
                      "two ranks on one host: no fabric link, and one shared-memory link has no other to compare with"};
}

nlohmann::json link_classes_json(const LinkAnalysis& analysis, const LinkCheckOptions& opts) {
  auto text_of = [](const std::map<std::string, std::string>& m, const std::string& cls) {
    auto it = m.find(cls);
    return it != m.end() ? it->second : std::string();
  };
  nlohmann::json classes = nlohmann::json::object();
  for (const auto& [cls, c] : analysis.classes)
    classes[cls] = {{"links", c.links},
                    {"median_gbps", c.median_gbps},
                    {"sigma_gbps", c.sigma_gbps},
                    {"slow_below_gbps", c.slow_below_gbps},
                    {"expected_gbps", c.expected_gbps},
                    {"expected_from", text_of(opts.expected_from, cls)},
                    {"no_expectation_reason", text_of(opts.no_expectation_reason, cls)},
                    {"median_latency_us", c.median_latency_us},
                    {"noise", c.noise},
                    {"noise_between", c.noise_between},
                    {"noise_repeat", c.noise_repeat},
                    {"healthy_values", c.healthy_values},
                    {"link_limit_ratio", c.link_limit_ratio},
                    {"node_limit_ratio", c.node_limit_ratio},
                    {"method", c.method}};
  return classes;
}

BisectFindingsInput bisect_input(const std::vector<int>& slow, const std::vector<std::vector<int>>& inconclusive,
                                 const nlohmann::json& bisect, std::vector<std::string> rank_host) {
  BisectFindingsInput in;
  in.slow = slow;
  in.inconclusive = inconclusive;
  in.reference_gbps = bisect.is_object() ? bisect.value("reference_gbps", 0.0) : 0.0;
  in.rank_host = std::move(rank_host);
  const bool history = bisect.is_object() && bisect.contains("history") && bisect["history"].is_array();
  for (int s : in.slow) {
    double g = 0;
    if (history)
      for (const auto& h : bisect["history"])
        if (h.value("reference", -1) >= 0 && h.contains("members") && h["members"].size() == 1 &&
            h["members"][0].get<int>() == s)
          g = h.value("gbps", 0.0);
    in.slow_gbps.push_back(g);
  }
  return in;
}

// The families: a link sweep's pairs judged against their class; a bisection's verdict. When
// a bisection finished, its verdict replaces the per-link attribution of its ring measurements
// (the analysis is kept for the classes).
NCD_REGISTER_FAMILY({"links.sweep", "links", {"link.", "node.slow"}, "link measurement",
                     [](const Evidence& ev) { return ev.links != nullptr; },
                     [](const Evidence& ev, CheckRun& run) {
                       LinkAnalysis a = check_links(*ev.links, ev.link_opts ? *ev.link_opts : LinkCheckOptions{});
                       if (auto o = link_slow_outcome(a)) run.outcomes[o->id] = *o;
                       if (ev.bisect) {
                         run.links = std::move(a);
                         return;
                       }
                       run.findings.insert(run.findings.end(), a.findings.begin(), a.findings.end());
                       run.notes.insert(run.notes.end(), a.notes.begin(), a.notes.end());
                       run.links = std::move(a);
                     }});
NCD_REGISTER_FAMILY({"links.bisect", "links", {"link.slow", "node.slow"}, "bisection result",
                     [](const Evidence& ev) { return ev.bisect != nullptr; },
                     [](const Evidence& ev, CheckRun& run) {
                       auto found = check_bisect(*ev.bisect);
                       run.findings.insert(run.findings.end(), found.begin(), found.end());
                     }});

}  // namespace ncd::checks
