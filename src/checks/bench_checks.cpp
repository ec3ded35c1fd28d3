// SPDX-License-Identifier: Apache-2.0
#include "checks/bench_checks.hpp"
#include "checks/registry.hpp"

#include <nlohmann/json.hpp>
#include <optional>

#include "nccl/tuning_model.hpp"
#include "topo/model.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "core/catalogue.hpp"
#include "core/text.hpp"
#include "core/units.hpp"

namespace ncd::checks {

NCD_REGISTER_CHECK({"bench.data_corrupt", Severity::kError, "bench",
                    "A collective returned wrong data",
                    "At least one rank received a result that differs from the exact expected value. "
                    "Wrong data from a collective is never a tuning problem: it is a hardware, driver or "
                    "library fault (bad GPU memory, a flaky link without end-to-end checks, a broken "
                    "plugin) and training on it silently corrupts models.",
                    "Every rank fills its input with a deterministic pattern whose reduction is exact in "
                    "every type; after the timed iterations the output is poisoned, the collective is run "
                    "again (-c times) and every element is compared with the expected value.",
                    "Drain the named ranks' hosts; rerun with -c 5 to see whether it repeats; check "
                    "dmesg/Xid errors and ECC counters of their GPUs, and the links between them."});
NCD_REGISTER_CHECK({"bench.unstable", Severity::kWarn, "bench",
                    "Large-message collective times vary widely between iterations",
                    "The iteration-to-iteration spread of a large collective is wide, so its bandwidth is "
                    "not a property of the fabric but of interference: other jobs, CPU frequency, a link "
                    "retraining, congestion, or oversubscribed ranks.",
                    "Per-iteration times (the slowest rank's) of the largest sizes: spread = (p90 - p10) / "
                    "median above the threshold (0.5 on host memory, 0.2 on GPUs), and the middle half "
                    "of the iterations, (p75 - p25) / median, above half of it: one or two slow iterations "
                    "among ten (another process scheduled over a rank) are not instability. When only the MPI "
                    "library's own collective (the reference, `native` on host memory) varies and our ring "
                    "and tree over the same links are steady, it is reported as info about the MPI library, "
                    "not a fabric warning. `sweep` measures a row it would warn about once more at once, "
                    "when its budget allows: steady the second time, it is info (something on the host "
                    "disturbed one series; a path that varies keeps varying); unstable again, a warning "
                    "with both measurements as evidence.",
                    "Rerun on an idle allocation; look for other processes on the nodes, CPU governors, "
                    "and link error counters; more iterations (-n) make the median robust."});
NCD_REGISTER_CHECK({"bench.busbw_low", Severity::kWarn, "bench",
                    "Bus bandwidth below what the topology should give",
                    "The large-message bus bandwidth is well below the expectation: on GPUs NCCL's own "
                    "model for this topology (channels x per-channel bandwidth, nccl-internals §6), on host "
                    "memory the MPI library's own collective measured in the same run.",
                    "Median busbw of the largest sizes compared with the expected value (GPU: below 0.6x "
                    "NCCL's tuning model for the probed GPUs and NICs, nccl::expected_busbw, or "
                    "--expected-busbw; host: our ring/tree below 0.5x native, both steady). A GPU the model "
                    "does not know (no compute capability) means the check could not run, never a pass.",
                    "Check `nccl-doctor topo` for degraded PCIe/NVLink links and NICs far from their GPUs, "
                    "and NCCL_* settings (env.risky); on host memory, oversubscription and binding."});
NCD_REGISTER_CHECK({"bench.algo_gap", Severity::kWarn, "bench",
                    "Ring and tree disagree in a way that points at a path",
                    "Ring and tree allreduce move the same data over different paths. A ring crosses every "
                    "link in turn, so one slow hop throttles all of it while a tree routes around it; a "
                    "tree sends its data up and down between fewer ranks, so a slow inter-node edge or a "
                    "far NIC on an inner rank hurts the tree but not the ring.",
                    "Large-message busbw of ring and tree allreduce: the slower below 0.4x the faster, both "
                    "series steady (spread within the bench.unstable threshold, at least 5 iterations).",
                    "Ring slower: find the slow hop with `nccl-doctor links`. Tree slower: inspect NCCL's "
                    "trees and their NICs with `nccl-doctor rings`."});

namespace {

std::string series_key(const model::CollectiveResult& r) { return r.op + "/" + r.algo + "/" + r.backend; }

/// Median busbw over the given rows.
double median_busbw(const BenchEvidence& ev, const std::vector<std::size_t>& idx) {
  std::vector<double> v;
  for (auto i : idx) v.push_back(ev.rows[i].busbw_gbps);
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

std::string sizes_of(const BenchEvidence& ev, const std::vector<std::size_t>& idx) {
  std::vector<std::string> s;
  for (auto i : idx) s.push_back(format_size(ev.rows[i].bytes));
  return join(s, ",");
}

std::string row_line(const model::CollectiveResult& r) {
  return fmt::format("{} {} {} {}: busbw {:.2f} GB/s, time {:.1f} us (min {:.1f}, max {:.1f}), spread {:.0f}%, {} iters",
                     r.op, r.algo, r.backend, format_size(r.bytes), r.busbw_gbps, r.time_us, r.time_min_us,
                     r.time_max_us, r.spread * 100, r.iters);
}

/// Whether rows are steady enough to compare with other rows: a comparison of two noisy
/// series says nothing about a path (bench.unstable reports the noise itself).
bool steady(const BenchEvidence& ev, const std::vector<std::size_t>& idx, double max_spread) {
  for (auto i : idx)
    if (ev.rows[i].iters < 5 || ev.rows[i].spread > max_spread) return false;
  return !idx.empty();
}

}  // namespace

std::vector<std::size_t> large_rows(const BenchEvidence& ev, const std::string& op, const std::string& algo,
                                    std::uint64_t min_bytes) {
  std::uint64_t biggest = 0;
  for (const auto& r : ev.rows)
    if (r.op == op && r.algo == algo && r.time_us > 0) biggest = std::max(biggest, r.bytes);
  std::vector<std::size_t> idx;
  if (biggest < min_bytes) return idx;
  for (std::size_t i = 0; i < ev.rows.size(); ++i) {
    const auto& r = ev.rows[i];
    if (r.op == op && r.algo == algo && r.time_us > 0 && r.bytes >= std::max(min_bytes, biggest / 4)) idx.push_back(i);
  }
  return idx;
}

namespace {

/// A row whose iterations vary: the p10-p90 spread above the threshold and, when known, the
/// interquartile spread above half of it. One or two slow iterations among ten (a process
/// scheduled over a rank) move p90 but not the quartiles; a path that varies moves both.
bool unstable(const model::CollectiveResult& r, const BenchThresholds& th) {
  return r.iters >= 5 && r.spread > th.unstable_spread && (r.spread_iqr < 0 || r.spread_iqr > th.unstable_spread / 2);
}

/// The row of a series with the widest large-message spread above the threshold, or null.
const model::CollectiveResult* widest_unstable(const BenchEvidence& ev, const std::string& op,
                                                const std::string& algo, const BenchThresholds& th) {
  const model::CollectiveResult* worst = nullptr;
  for (auto i : large_rows(ev, op, algo, th.min_large_bytes)) {
    const auto& r = ev.rows[i];
    if (unstable(r, th) && (!worst || r.spread > worst->spread)) worst = &r;
  }
  return worst;
}

/// The MPI library's own collective is the reference, not the fabric: true when `worst` is its
/// row and our ring and tree over the same links were measured and are steady.
bool reference_alone_unstable(const BenchEvidence& ev, const std::string& op, const std::string& algo,
                              const model::CollectiveResult& worst, const BenchThresholds& th) {
  if (algo != "native" || worst.backend != "mpi") return false;
  bool ours_measured = false;
  for (const char* mine : {"ring", "tree"}) {
    auto own = large_rows(ev, op, mine, th.min_large_bytes);
    if (own.empty()) continue;
    ours_measured = true;
    if (!steady(ev, own, th.unstable_spread)) return false;
  }
  return ours_measured;
}

/// ", its middle half N%" (p75-p25 over the median), or nothing for rows written before it.
std::string middle_half(const model::CollectiveResult& r) {
  return r.spread_iqr >= 0 ? fmt::format(", its middle half {:.0f}%", r.spread_iqr * 100) : std::string();
}

}  // namespace

std::vector<std::size_t> unstable_rows(const BenchEvidence& ev, const BenchThresholds& th) {
  std::vector<std::size_t> out;
  std::set<std::pair<std::string, std::string>> seen;
  for (const auto& r : ev.rows) {
    if (!seen.insert({r.op, r.algo}).second) continue;
    const auto* worst = widest_unstable(ev, r.op, r.algo, th);
    if (!worst || reference_alone_unstable(ev, r.op, r.algo, *worst, th)) continue;
    out.push_back(static_cast<std::size_t>(worst - ev.rows.data()));
  }
  return out;
}

std::vector<Finding> check_bench(const BenchEvidence& ev, const BenchThresholds& th) {
  std::vector<Finding> out;
  // Series in first-seen order.
  std::vector<std::pair<std::string, std::string>> series;
  std::set<std::string> seen;
  for (const auto& r : ev.rows)
    if (seen.insert(series_key(r)).second) series.emplace_back(r.op, r.algo);

  // bench.data_corrupt: one finding per series, naming the ranks.
  for (const auto& [op, algo] : series) {
    std::map<int, std::int64_t> bad;  // rank -> worst count
    std::vector<std::string> evidence;
    std::int64_t elements = 0;
    for (std::size_t i = 0; i < ev.rows.size(); ++i) {
      const auto& r = ev.rows[i];
      if (r.op != op || r.algo != algo || r.wrong <= 0) continue;
      elements = std::max<std::int64_t>(elements, static_cast<std::int64_t>(r.count));
      const auto& per = i < ev.wrong_per_rank.size() ? ev.wrong_per_rank[i] : std::vector<std::int64_t>{};
      for (std::size_t q = 0; q < per.size(); ++q) {
        if (per[q] <= 0) continue;
        bad[static_cast<int>(q)] = std::max(bad[static_cast<int>(q)], per[q]);
        if (evidence.size() < 16)
          evidence.push_back(fmt::format("{} {} {} {} {}: rank {}{}: {} wrong of {} elements", r.op, r.algo, r.dtype,
                                         r.redop, format_size(r.bytes), q,
                                         q < ev.rank_host.size() ? " on " + ev.rank_host[q] : "", per[q], r.count));
      }
      if (per.empty() && evidence.size() < 16)
        evidence.push_back(fmt::format("{} {} {}: {} wrong elements", r.op, r.algo, format_size(r.bytes), r.wrong));
    }
    if (evidence.empty()) continue;
    std::vector<int> ranks;
    for (const auto& [q, w] : bad) ranks.push_back(q);
    std::string who = ranks.empty() ? "some ranks" : "ranks " + format_ranges(ranks);
    Finding f = make_finding("bench.data_corrupt", ev.host, ranks.empty() ? op + " " + algo : who,
                             fmt::format("{} {} returned wrong data on {}", op, algo, who));
    f.evidence = std::move(evidence);
    f.measured = 0;
    for (const auto& [q, w] : bad) *f.measured += static_cast<double>(w);
    f.expected = 0;
    f.unit = "wrong elements";
    (void)elements;
    out.push_back(std::move(f));
  }

  // bench.unstable: the widest large-message spread of each series.
  for (const auto& [op, algo] : series) {
    const model::CollectiveResult* worst = widest_unstable(ev, op, algo, th);
    if (!worst) continue;
    Finding f = make_finding("bench.unstable", ev.host, fmt::format("{} {}", op, algo),
                             fmt::format("{} {} at {} varies {:.0f}% between iterations (p10-p90 over the median){}",
                                         op, algo, format_size(worst->bytes), worst->spread * 100,
                                         middle_half(*worst)));
    if (reference_alone_unstable(ev, op, algo, *worst, th)) {
      f.severity = Severity::kInfo;
      f.message += ": the MPI library's own collective (the reference) varies while our ring and tree over the "
                   "same links are steady; a note about the MPI library, not the fabric";
    }
    for (auto i : large_rows(ev, op, algo, th.min_large_bytes)) f.evidence.push_back(row_line(ev.rows[i]));
    // Measured again at once: steady the second time means something on the host disturbed the
    // first series (a path that varies keeps varying); unstable again stays a warning.
    for (const auto& again : ev.repeats) {
      if (again.op != worst->op || again.algo != worst->algo || again.backend != worst->backend ||
          again.bytes != worst->bytes || again.time_us <= 0)
        continue;
      f.evidence.push_back("measured again: " + row_line(again));
      if (again.iters >= 5 && !unstable(again, th)) {
        f.severity = Severity::kInfo;
        f.message += fmt::format("; measured again at once it varied {:.0f}%{}: a passing disturbance on the host, "
                                 "not a path that keeps varying",
                                 again.spread * 100, middle_half(again));
      } else {
        f.message += fmt::format("; measured again it still varied {:.0f}%{}", again.spread * 100, middle_half(again));
      }
      break;
    }
    f.measured = worst->spread;
    f.expected = th.unstable_spread;
    f.unit = "spread";
    out.push_back(std::move(f));
  }

  // bench.busbw_low: against the topology's expectation, or (host) against native.
  for (const auto& [op, algo] : series) {
    auto idx = large_rows(ev, op, algo, th.min_large_bytes);
    if (idx.empty()) continue;
    const double got = median_busbw(ev, idx);
    const std::string backend = ev.rows[idx.front()].backend;
    auto it = ev.expected_busbw.find(op + "/" + algo);
    if (it != ev.expected_busbw.end() && it->second > 0) {
      if (got < th.busbw_low_ratio * it->second) {
        Finding f = make_finding("bench.busbw_low", ev.host, fmt::format("{} {}", op, algo),
                                 fmt::format("{} {} reaches {:.1f} GB/s busbw at {}, {:.2f}x the {:.1f} GB/s this "
                                             "topology should give",
                                             op, algo, got, sizes_of(ev, idx), got / it->second, it->second));
        for (auto i : idx) f.evidence.push_back(row_line(ev.rows[i]));
        f.expected = it->second;
        f.measured = got;
        f.unit = "GB/s";
        out.push_back(std::move(f));
      }
      continue;
    }
    if (backend != "mpi" || algo == "native") continue;
    auto nidx = large_rows(ev, op, "native", th.min_large_bytes);
    if (nidx.empty() || !steady(ev, idx, th.unstable_spread) || !steady(ev, nidx, th.unstable_spread)) continue;
    const double native = median_busbw(ev, nidx);
    if (native > 0 && got < th.host_vs_native_ratio * native) {
      Finding f = make_finding("bench.busbw_low", ev.host, fmt::format("{} {}", op, algo),
                               fmt::format("{} {} over MPI point-to-point reaches {:.2f} GB/s busbw, {:.2f}x the MPI "
                                           "library's own {} ({:.2f} GB/s) in the same run",
                                           op, algo, got, got / native, op, native));
      for (auto i : idx) f.evidence.push_back(row_line(ev.rows[i]));
      for (auto i : nidx) f.evidence.push_back(row_line(ev.rows[i]));
      f.expected = native;
      f.measured = got;
      f.unit = "GB/s";
      out.push_back(std::move(f));
    }
  }

  // bench.algo_gap: ring vs tree allreduce.
  {
    auto ring = large_rows(ev, "allreduce", "ring", th.min_large_bytes);
    auto tree = large_rows(ev, "allreduce", "tree", th.min_large_bytes);
    const double r = median_busbw(ev, ring), t = median_busbw(ev, tree);
    if (r > 0 && t > 0 && std::min(r, t) < th.algo_gap_ratio * std::max(r, t) &&
        steady(ev, ring, th.unstable_spread) && steady(ev, tree, th.unstable_spread)) {
      const bool ring_slow = r < t;
      Finding f = make_finding(
          "bench.algo_gap", ev.host, "allreduce ring vs tree",
          ring_slow ? fmt::format("ring allreduce reaches {:.2f} GB/s, only {:.2f}x the tree's {:.2f} GB/s: one hop of "
                                  "the ring is slow (a ring crosses every link, a tree can avoid it)",
                                  r, r / t, t)
                    : fmt::format("tree allreduce reaches {:.2f} GB/s, only {:.2f}x the ring's {:.2f} GB/s: a path the "
                                  "tree uses and the ring does not is slow (an inter-node tree edge or an inner "
                                  "rank's NIC)",
                                  t, t / r, r));
      for (auto i : ring) f.evidence.push_back(row_line(ev.rows[i]));
      for (auto i : tree) f.evidence.push_back(row_line(ev.rows[i]));
      f.expected = std::max(r, t);
      f.measured = std::min(r, t);
      f.unit = "GB/s";
      out.push_back(std::move(f));
    }
  }
  return out;
}

double nccl_model_busbw(const NcclModelInput& in, const std::string& algo, const std::string& op) {
  // The one model (nccl::model_allreduce), Simple protocol, as nccl-tests reports it.
  if (in.nranks <= 1 || in.nchannels <= 0) return 0;
  nccl::TuningInput t;
  t.sm_min = t.sm_max = in.sm;
  t.nodes = in.nnodes;
  t.ranks = in.nranks;
  t.channels = in.nchannels;
  t.bw_intra = in.bw_intra;
  t.bw_inter = in.bw_inter;
  t.tree_pattern_tree = in.tree_pattern_tree;
  const nccl::TuningResult m = nccl::model_allreduce(t);
  if (algo == "ring") {
    if (op == "allreduce" || op == "allgather" || op == "reducescatter" || op == "broadcast" || op == "reduce")
      return m.ring.simple;  // Ring/Simple: nccl-tests busbw equals the model's busBw (§6.2 consequences)
    return 0;
  }
  if (algo == "tree" && op == "allreduce") return m.tree.simple * (in.nranks - 1) / in.nranks;
  return 0;
}

std::string apply_model_expectation(BenchEvidence& ev, const topo::System& node, int nodes) {
  std::string why;
  std::map<std::string, std::uint64_t> largest;
  for (const auto& r : ev.rows) largest[r.op + "/" + r.algo] = std::max(largest[r.op + "/" + r.algo], r.bytes);
  bool any = false;
  for (auto& r : ev.rows) {
    std::string w;
    auto e = nccl::expected_busbw(node, nodes, r.op, r.algo, r.bytes, &w);
    if (!e) {
      if (why.empty()) why = w;
      continue;
    }
    r.expected_busbw_gbps = e->busbw_gbps;
    r.expected_from = e->basis;
    if (r.bytes == largest[r.op + "/" + r.algo]) {
      ev.expected_busbw[r.op + "/" + r.algo] = e->busbw_gbps;
      any = true;
    }
  }
  if (any) return "";
  return why.empty() ? std::string("no measured row to compare") : "no bandwidth model: " + why;
}

std::vector<Finding> check_copies(const nlohmann::json& copies, std::vector<std::string>& unmeasured) {
  std::vector<Finding> out;
  if (!copies.is_array()) return out;
  for (const auto& c : copies) {
    auto num = [&c](const char* k) -> std::optional<double> {
      if (c.contains(k) && c[k].is_number() && c[k].get<double>() > 0) return c[k].get<double>();
      return std::nullopt;
    };
    const std::string kind = c.value("kind", "");
    const int gpu_index = kind == "h2d" ? c.value("dst", -1) : c.value("src", -1);
    const std::string subject = fmt::format("GPU{} {} {}", gpu_index, c.value("bus_id", ""), kind);
    const auto exp = num("expected_gbps"), got = num("gbps");
    if (!got) {
      unmeasured.push_back(c.value("host", "") + " " + subject + ": copy not measured");
      continue;
    }
    if (!exp) {
      unmeasured.push_back(c.value("host", "") + " " + subject + ": no expected bandwidth");
      continue;
    }
    if (*got < 0.5 * *exp) {
      Finding f = make_finding("bench.busbw_low", c.value("host", ""), subject,
                               fmt::format("{} copy reaches {:.1f} GB/s, {:.2f}x the {:.1f} GB/s of its {}", kind, *got,
                                           *got / *exp, *exp, c.value("expected_from", "")));
      f.expected = *exp;
      f.measured = *got;
      f.unit = "GB/s";
      out.push_back(std::move(f));
    }
  }
  return out;
}

BenchThresholds thresholds_for(std::string_view backend) {
  BenchThresholds th;
  if (backend == "nccl") th.unstable_spread = 0.2;
  return th;
}

namespace {

constexpr const char* kCollectiveIds[] = {"bench.algo_gap", "bench.busbw_low", "bench.data_corrupt",
                                          "bench.unstable"};

/// The collective rows, with what each check could not look at: no model (busbw_low), the data
/// check off (data_corrupt), nothing measured (all four).
void run_collectives(const Evidence& ev, CheckRun& run) {
  const BenchThresholds th = ev.bench_thresholds ? *ev.bench_thresholds : BenchThresholds{};
  auto found = check_bench(*ev.bench, th);
  run.findings.insert(run.findings.end(), found.begin(), found.end());
  if (!ev.bench_no_model.empty())
    run.outcomes["bench.busbw_low"] = {"bench.busbw_low", CheckStatus::kCouldNotRun, 0, ev.bench_no_model};
  if (!ev.bench_data_check)
    run.outcomes["bench.data_corrupt"] = {"bench.data_corrupt", CheckStatus::kExcluded, 0, "data check off (-c 0)"};
  if (ev.bench->rows.empty())
    for (const char* id : kCollectiveIds)
      run.outcomes[id] = {id, CheckStatus::kCouldNotRun, 0,
                          "no measurement finished" +
                              (ev.bench_failed_step.empty() ? std::string() : " (" + ev.bench_failed_step + ")")};
}

/// GPU copies: low ones are findings; one without a value or an expectation leaves the run
/// incomplete (never a silent pass).
void run_copies(const Evidence& ev, CheckRun& run) {
  auto low = check_copies(*ev.copies, run.unmeasured_copies);
  run.findings.insert(run.findings.end(), low.begin(), low.end());
  if (!run.unmeasured_copies.empty())
    run.incomplete = fmt::format("{} GPU copy measurement(s) not measured or without an expectation ({}{})",
                                 run.unmeasured_copies.size(), run.unmeasured_copies.front(),
                                 run.unmeasured_copies.size() > 1 ? ", ..." : "");
}

}  // namespace

NCD_REGISTER_FAMILY({"bench.collectives", "bench", {std::begin(kCollectiveIds), std::end(kCollectiveIds)},
                     "collective measurement", [](const Evidence& ev) { return ev.bench != nullptr; },
                     run_collectives});
NCD_REGISTER_FAMILY({"bench.copies", "bench", {"bench.busbw_low"}, "GPU copy measurement",
                     [](const Evidence& ev) { return ev.copies && !ev.copies->empty(); }, run_copies});

}  // namespace ncd::checks
