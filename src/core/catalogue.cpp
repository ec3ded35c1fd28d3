// SPDX-License-Identifier: Apache-2.0
#include "core/catalogue.hpp"

#include <cstdio>
#include <algorithm>
#include <cstdlib>
#include <utility>

#include "core/error.hpp"

namespace ncd {

Catalogue& Catalogue::instance() {
  static Catalogue catalogue;
  return catalogue;
}

namespace {

/// Needs by id (exact) or id prefix ("nvlink."): the one table of what each check looks at.
/// Entries registered with explicit needs skip it.
const std::vector<std::pair<std::string_view, Needs>>& needs_table() {
  using namespace need;
  static const std::vector<std::pair<std::string_view, Needs>> kTable = {
      // env: comparisons need two ranks; env.risky reads this rank's settings.
      {"env.risky", kNone},
      {"env.mismatch", kMultiRank},
      {"env.gpu_count_mismatch", kMultiRank | kGpu},
      {"version.mismatch", kMultiRank},
      // topo
      {"pcie.", kSysfs},
      {"iommu.", kSysfs},
      {"numa.", kSysfs},
      {"nvlink.down", kGpu | kNvml},
      {"nvlink.", kGpu},
      {"gpu.nic_far", kGpu | kNic},
      {"gpu.count_mismatch", kGpu | kMultiNode},
      {"gdr.unavailable", kGpu | kNic},
      {"nic.", kNic},
      {"bind.rank_far_from_gpu", kGpu},
      {"bind.none", kNone},
      {"topo.differs", kMultiNode},
      // measurements
      {"bench.busbw_low", kMultiRank | kExpectation},
      {"bench.", kMultiRank},
      {"link.", kMultiRank},
      {"node.slow", kMultiRank},
      // NCCL's rings and trees
      {"ring.", kGpu | kNcclBackend | kGraphDump},
      // baseline comparisons
      {"topo.changed", kBaseline},
  };
  return kTable;
}

}  // namespace

Needs default_needs(std::string_view id, std::string_view domain) {
  for (const auto& [key, needs] : needs_table())
    if (key.back() == '.' ? id.substr(0, key.size()) == key : id == key) return needs;
  if (domain == "log") return need::kLog;
  if (domain == "baseline") return need::kBaseline;
  if (domain == "rings") return need::kGpu | need::kNcclBackend | need::kGraphDump;
  if (domain == "bench" || domain == "links" || domain == "dist") return need::kMultiRank;
  return need::kNone;
}

std::string needs_to_string(Needs n) {
  static const std::pair<Needs, const char*> kNames[] = {
      {need::kGpu, "gpu"},           {need::kNic, "nic"},       {need::kMultiRank, "multi_rank"},
      {need::kNcclBackend, "nccl"},  {need::kSysfs, "sysfs"},   {need::kNvml, "nvml"},
      {need::kGraphDump, "graph_dump"}, {need::kLog, "log"},    {need::kMultiNode, "multi_node"},
      {need::kBaseline, "baseline"}, {need::kExpectation, "expectation"}};
  std::string out;
  for (const auto& [bit, name] : kNames)
    if (n & bit) out += (out.empty() ? "" : ",") + std::string(name);
  return out.empty() ? "none" : out;
}

std::string_view to_string(CheckStatus s) {
  switch (s) {
    case CheckStatus::kEvaluated: return "evaluated";
    case CheckStatus::kNotApplicable: return "not_applicable";
    case CheckStatus::kCouldNotRun: return "could_not_run";
    case CheckStatus::kExcluded: return "excluded";
  }
  return "evaluated";
}

CheckStatus parse_check_status(std::string_view s) {
  if (s == "evaluated") return CheckStatus::kEvaluated;
  if (s == "not_applicable") return CheckStatus::kNotApplicable;
  if (s == "could_not_run") return CheckStatus::kCouldNotRun;
  if (s == "excluded") return CheckStatus::kExcluded;
  throw UsageError("unknown check status '" + std::string(s) + "'");
}

std::vector<CheckOutcome> record_outcomes(const RunFacts& facts) {
  std::vector<CheckOutcome> out;
  for (const CheckInfo* c : Catalogue::instance().all()) {
    auto dom = facts.domains.find(c->domain);
    if (dom == facts.domains.end()) continue;
    CheckOutcome o{c->id, CheckStatus::kEvaluated, 0, ""};
    if (auto ov = facts.overrides.find(c->id); ov != facts.overrides.end()) {
      o = ov->second;
      o.id = c->id;
    } else if (dom->second.status != CheckStatus::kEvaluated) {
      o.status = dom->second.status;
      o.reason = dom->second.reason;
    } else {
      // Not applicable wins over could not run: no GPU makes an NVML check moot.
      const RunFacts::Missing* na = nullptr;
      const RunFacts::Missing* cnr = nullptr;
      for (const auto& [bit, why] : facts.missing) {
        if (!(c->needs & bit)) continue;
        if (why.not_applicable && !na) na = &why;
        if (!why.not_applicable && !cnr) cnr = &why;
      }
      if (na) {
        o.status = CheckStatus::kNotApplicable;
        o.reason = na->reason;
      } else if (cnr) {
        o.status = CheckStatus::kCouldNotRun;
        o.reason = cnr->reason;
      } else {
        o.subjects = (c->needs & need::kGpu)   ? facts.gpus
                     : (c->needs & need::kNic) ? facts.nics
                     : (c->needs & need::kMultiRank) ? facts.ranks
                                                     : facts.hosts;
      }
    }
    if (facts.raised.count(c->id) && o.status != CheckStatus::kEvaluated) {
      o.status = CheckStatus::kEvaluated;
      o.reason.clear();
    }
    if (o.status == CheckStatus::kEvaluated) o.subjects = std::max(o.subjects, 1);
    else o.subjects = 0;
    out.push_back(std::move(o));
  }
  return out;
}

void Catalogue::add(CheckInfo info) {
  if (info.needs == need::kFromTable) info.needs = default_needs(info.id, info.domain);
  std::string id = info.id;
  if (!entries_.emplace(id, std::move(info)).second) {
    std::fprintf(stderr, "nccl-doctor: internal error: finding id '%s' registered twice\n",
                 id.c_str());
    std::abort();
  }
}

const CheckInfo* Catalogue::find(std::string_view id) const {
  auto it = entries_.find(id);
  return it == entries_.end() ? nullptr : &it->second;
}

std::vector<const CheckInfo*> Catalogue::all() const {
  std::vector<const CheckInfo*> out;
  out.reserve(entries_.size());
  for (const auto& [id, info] : entries_) out.push_back(&info);
  return out;
}

}  // namespace ncd
