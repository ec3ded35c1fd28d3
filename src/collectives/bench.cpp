// SPDX-License-Identifier: Apache-2.0
#include "collectives/bench.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <memory>
#include <nlohmann/json.hpp>

#include "collectives/pattern.hpp"
#include "core/units.hpp"
#include "dist/fault.hpp"

namespace ncd::collectives {

bool sync_point(dist::Comm& comm, const dist::Deadline& deadline, BenchOutcome& out, bool stop_now) {
  // Rank 0 stopping after it already named the ranks that did not answer gains nothing by
  // waiting for them again: the ranks that are alive are at this point with it, at once.
  const bool known = comm.rank() == 0 && stop_now && !out.missing_ranks.empty();
  auto got = comm.gather(stop_now ? "stop" : "ok", known ? deadline.capped(0.5) : deadline);
  std::string verdict = "go";
  if (comm.rank() == 0) {
    std::vector<int> missing;
    for (std::size_t i = 0; i < got.size(); ++i) {
      if (!got[i]) missing.push_back(static_cast<int>(i));
      else if (*got[i] != "ok") verdict = "stop";
    }
    if (!missing.empty() && !known) {
      out.missing_ranks = missing;
      verdict = "stop";
    }
    if (stop_now) verdict = "stop";
  }
  // Rank 0 answers right after its own deadline: the others wait a little longer for it.
  const double grace = std::max(0.0, deadline.remaining_s()) + 15;
  if (!comm.broadcast(verdict, comm.rank() == 0 ? dist::Deadline::after(15) : dist::Deadline::after(grace))) {
    comm.mark_broken();
    return false;
  }
  return verdict == "go";
}

std::string point_blob(bool ok, std::int64_t wrong, const std::vector<double>& times_us) {
  return nlohmann::json{{"ok", ok}, {"wrong", wrong}, {"t", times_us}}.dump();
}

bool assemble_point(const std::vector<std::optional<std::string>>& blobs, int iters, int check, Op op,
                    PointResult& pr, BenchOutcome& out) {
  const int n = static_cast<int>(blobs.size());
  pr.wrong_per_rank.assign(static_cast<std::size_t>(n), -1);
  std::vector<std::vector<double>> per_rank(static_cast<std::size_t>(n));
  bool all_ok = true;
  for (int q = 0; q < n; ++q) {
    if (!blobs[q]) {
      out.missing_ranks.push_back(q);
      all_ok = false;
      continue;
    }
    auto j = nlohmann::json::parse(*blobs[q]);
    if (!j.at("ok").get<bool>()) {
      out.timed_out_ranks.push_back(q);
      all_ok = false;
    }
    pr.wrong_per_rank[q] = j.at("wrong").get<std::int64_t>();
    per_rank[q] = j.at("t").get<std::vector<double>>();
  }
  if (!all_ok) return false;
  pr.iter_us.clear();
  for (int i = 0; i < iters; ++i) {
    double worst = 0;
    for (const auto& t : per_rank)
      if (static_cast<std::size_t>(i) < t.size()) worst = std::max(worst, t[static_cast<std::size_t>(i)]);
    pr.iter_us.push_back(worst);
  }
  IterStats st = iter_stats(pr.iter_us);
  pr.row.time_us = st.median;
  pr.row.time_min_us = st.min;
  pr.row.time_max_us = st.max;
  pr.row.spread = st.spread;
  pr.row.spread_iqr = st.spread_iqr;
  pr.row.iters = iters;
  pr.row.nranks = n;
  pr.row.wrong = check > 0 ? 0 : -1;
  for (auto w : pr.wrong_per_rank)
    if (w > 0) pr.row.wrong += w;
  set_bandwidth(pr.row, op);
  // nccl-tests' statistic: each rank's loop mean (total / iters), averaged over the ranks.
  double mean_sum = 0;
  for (const auto& t : per_rank) {
    double sum = 0;
    for (double x : t) sum += x;
    if (!t.empty()) mean_sum += sum / static_cast<double>(t.size());
  }
  model::CollectiveResult nt = pr.row;
  nt.time_us = n > 0 ? mean_sum / n : 0;
  set_bandwidth(nt, op);
  pr.row.nccltests_avg_time_us = nt.time_us;
  pr.row.nccltests_algbw_gbps = nt.algbw_gbps;
  pr.row.nccltests_busbw_gbps = nt.busbw_gbps;
  return true;
}

IterStats iter_stats(std::vector<double> us) {
  IterStats s;
  if (us.empty()) return s;
  std::sort(us.begin(), us.end());
  auto pct = [&](double p) {
    double idx = p * static_cast<double>(us.size() - 1);
    auto lo = static_cast<std::size_t>(idx);
    std::size_t hi = std::min(lo + 1, us.size() - 1);
    return us[lo] + (us[hi] - us[lo]) * (idx - static_cast<double>(lo));
  };
  s.median = pct(0.5);
  s.min = us.front();
  s.max = us.back();
  s.spread = s.median > 0 ? (pct(0.9) - pct(0.1)) / s.median : 0;
  s.spread_iqr = s.median > 0 ? (pct(0.75) - pct(0.25)) / s.median : 0;
  return s;
}

void set_bandwidth(model::CollectiveResult& row, Op op) {
  row.algbw_gbps = row.time_us > 0 ? to_gbps(static_cast<double>(row.bytes), row.time_us * 1e-6) : 0;
  row.busbw_gbps = row.algbw_gbps * busbw_factor(op, row.nranks);
}

}  // namespace ncd::collectives
