// SPDX-License-Identifier: Apache-2.0
#include "checks/dist_checks.hpp"
#include "checks/registry.hpp"

#include <fmt/format.h>
#include <set>

#include "core/catalogue.hpp"
#include "core/text.hpp"

namespace ncd::checks {

NCD_REGISTER_CHECK({"bench.timeout", Severity::kError, "dist",
                    "Ranks did not finish a distributed step within the deadline",
                    "Some ranks did not answer before --timeout expired: they crashed, were "
                    "stopped, are stuck in a collective, or their network link is cut.",
                    "Every distributed step has a deadline; on expiry rank 0 names the ranks "
                    "whose results never arrived, with their hosts.",
                    "Look at the named ranks' hosts: process state, dmesg, the network link; "
                    "rerun with a longer --timeout only if the step is merely slow."});

Finding timeout_finding(const std::string& step, const std::vector<int>& missing,
                        const dist::NodeMap& nodes, double timeout_s) {
  std::set<std::string> hosts;
  std::vector<std::string> per_rank;
  for (int m : missing) {
    std::string h = m >= 0 && m < static_cast<int>(nodes.rank_host.size()) ? nodes.rank_host[m] : "?";
    hosts.insert(h);
    if (per_rank.size() < 16) per_rank.push_back(fmt::format("rank {} on {}: no answer", m, h));
  }
  std::string message =
      dist::termination_requested()
          ? fmt::format("the launcher ended the job (a rank exited or was killed) before ranks {} "
                        "finished {}", format_ranges(missing), step)
          : fmt::format("ranks {} did not finish {} within the {:.0f} s deadline",
                        format_ranges(missing), step, timeout_s);
  Finding f = make_finding("bench.timeout", join({hosts.begin(), hosts.end()}, ","),
                           fmt::format("ranks {}", format_ranges(missing)), message);
  f.evidence = std::move(per_rank);
  return f;
}

std::vector<Unanswered> bench_unanswered(const collectives::BenchOutcome& o) {
  if (!o.missing_ranks.empty()) return {{"bench " + o.failed_step, o.missing_ranks, ""}};
  if (!o.timed_out_ranks.empty())
    return {{"bench " + o.failed_step, o.timed_out_ranks, "(they were waiting for peers that never sent)"}};
  return {};
}

// The family: each distributed step some ranks did not finish names them and their hosts.
NCD_REGISTER_FAMILY({"dist.deadlines", "dist", {"bench.timeout"}, "record of the distributed steps",
                     [](const Evidence& ev) { return ev.unanswered && ev.nodes; },
                     [](const Evidence& ev, CheckRun& run) {
                       for (const auto& u : *ev.unanswered) {
                         if (u.ranks.empty()) continue;
                         Finding f = timeout_finding(u.step, u.ranks, *ev.nodes, ev.timeout_s);
                         if (!u.suffix.empty()) f.message += " " + u.suffix;
                         run.findings.push_back(std::move(f));
                       }
                     }});

}  // namespace ncd::checks
