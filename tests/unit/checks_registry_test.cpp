// SPDX-License-Identifier: Apache-2.0
// The check registry (issue 14): every catalogue id has a family that evaluates it, every key
// of a family names ids of its own domain, a family without its input never passes, and the
// outcomes a family knows better (no model, data check off, nothing measured) reach the run.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "checks/bench_checks.hpp"
#include "checks/env_checks.hpp"
#include "checks/link_checks.hpp"
#include "checks/registry.hpp"
#include "checks/topo_checks.hpp"
#include "core/catalogue.hpp"
#include "dist/comm.hpp"
#include "nccl/topo_xml.hpp"
#include "topo/paths.hpp"

namespace ncd::checks {
namespace {

/// Raised by the run itself, not by a check over gathered input: a signal ended the run, the
/// ranks disagreed about the command line. They are findings about the run, never "passed".
const std::set<std::string> kRaisedByTheRun = {"run.interrupted", "run.ranks_disagree"};

TEST(ChecksRegistry, EveryCatalogueIdHasAFamily) {
  for (const CheckInfo* c : Catalogue::instance().all()) {
    if (kRaisedByTheRun.count(c->id)) {
      EXPECT_TRUE(Registry::instance().families_of(c->id).empty()) << c->id;
      continue;
    }
    EXPECT_FALSE(Registry::instance().families_of(c->id).empty())
        << c->id << " (" << c->domain << ") is evaluated by no family";
  }
}

TEST(ChecksRegistry, FamiliesNameOnlyKnownIdsOfTheirDomain) {
  const auto all = Registry::instance().families();
  ASSERT_GE(all.size(), 12u);
  for (const CheckFamily* f : all) {
    EXPECT_FALSE(f->input.empty()) << f->name;
    EXPECT_EQ(f->name.substr(0, f->name.find('.')), f->domain) << f->name;
    // covers() keeps a family to its own domain, so each key is checked on its own: an exact id
    // must be a catalogue id of the family's domain, a prefix must match at least one of them
    // (a key that only matches another domain's ids is dead).
    for (const auto& key : f->ids) {
      if (key == "*") continue;
      if (key.back() != '.') {
        const CheckInfo* c = Catalogue::instance().find(key);
        ASSERT_NE(c, nullptr) << f->name << " names unknown id " << key;
        EXPECT_EQ(c->domain, f->domain) << f->name << " names " << key << " of domain " << c->domain;
        continue;
      }
      int matched = 0;
      for (const CheckInfo* c : Catalogue::instance().all())
        if (c->domain == f->domain && c->id.rfind(key, 0) == 0) ++matched;
      EXPECT_GT(matched, 0) << f->name << ": prefix " << key << " matches no id of domain " << f->domain;
    }
  }
}

TEST(ChecksRegistry, NoInputNeverPasses) {
  const Evidence none;
  for (const char* domain : {"env", "topo", "bench", "links", "rings", "log", "baseline", "dist"}) {
    CheckRun run = run_checks(domain, none);
    EXPECT_TRUE(run.findings.empty()) << domain;
    EXPECT_TRUE(run.families_run.empty()) << domain;
    EXPECT_FALSE(run.families_no_input.empty()) << domain;
    for (const CheckInfo* c : Catalogue::instance().all()) {
      if (c->domain != domain || kRaisedByTheRun.count(c->id)) continue;
      auto it = run.outcomes.find(c->id);
      ASSERT_NE(it, run.outcomes.end()) << c->id;
      EXPECT_EQ(it->second.status, CheckStatus::kCouldNotRun) << c->id;
      EXPECT_EQ(it->second.reason.rfind("no ", 0), 0u) << c->id << ": " << it->second.reason;
    }
  }
  // Through the outcomes: the domain ran, yet nothing was looked at, so nothing passed.
  RunFacts facts;
  facts.domains["topo"] = {};
  run_checks("topo", none).add_to(facts);
  for (const auto& o : record_outcomes(facts)) EXPECT_EQ(o.status, CheckStatus::kCouldNotRun) << o.id;
}

TEST(ChecksRegistry, OneOfTwoFamiliesOfAnIdIsEnough) {
  // topo.hosts and topo.groups both evaluate the topology ids: a job of few nodes gives only
  // the per-node models, and the ids were evaluated.
  std::vector<topo::System> systems = {
      nccl::load_topo_xml(std::string(NCD_TOPOLOGY_DIR) + "/rings/oci-BM.GPU.H100.8-8xH100-16xCX7.xml")};
  topo::compute_paths(systems.front());
  Evidence ev;
  ev.systems = &systems;
  CheckRun run = run_checks("topo", ev);
  EXPECT_TRUE(run.ran("topo.hosts"));
  EXPECT_FALSE(run.ran("topo.groups"));
  EXPECT_TRUE(run.outcomes.empty());
  EXPECT_EQ(run.findings.size(), check_topology(systems).size());
}

TEST(ChecksRegistry, BenchOutcomesTheFamilyKnowsBetter) {
  BenchEvidence bench;  // the stage ran and measured nothing
  Evidence ev;
  ev.bench = &bench;
  ev.bench_failed_step = "allreduce ring 16M";
  ev.bench_data_check = false;
  CheckRun run = run_checks("bench", ev);
  for (const char* id : {"bench.algo_gap", "bench.busbw_low", "bench.data_corrupt", "bench.unstable"}) {
    ASSERT_TRUE(run.outcomes.count(id)) << id;
    EXPECT_EQ(run.outcomes[id].status, CheckStatus::kCouldNotRun) << id;
    EXPECT_EQ(run.outcomes[id].reason, "no measurement finished (allreduce ring 16M)") << id;
  }
  // A measured row without NCCL's model: busbw_low could not run, the data check is excluded.
  model::CollectiveResult row;
  row.op = "allreduce";
  row.algo = "ring";
  row.backend = "nccl";
  row.bytes = 1u << 24;
  row.time_us = 100;
  row.busbw_gbps = 100;
  row.iters = 20;
  row.nranks = 2;
  bench.rows = {row};
  ev.bench_no_model = "no model for this GPU";
  run = run_checks("bench", ev);
  EXPECT_EQ(run.outcomes["bench.busbw_low"].status, CheckStatus::kCouldNotRun);
  EXPECT_EQ(run.outcomes["bench.busbw_low"].reason, "no model for this GPU");
  EXPECT_EQ(run.outcomes["bench.data_corrupt"].status, CheckStatus::kExcluded);
  EXPECT_EQ(run.outcomes.count("bench.unstable"), 0u);
}

TEST(ChecksRegistry, ACopyWithoutAValueLeavesTheRunIncomplete) {
  nlohmann::json copies = nlohmann::json::array(
      {{{"host", "n1"}, {"kind", "h2d"}, {"src", -1}, {"dst", 0}, {"gbps", 0.0}, {"expected_gbps", 25.0}}});
  Evidence ev;
  ev.copies = &copies;
  CheckRun run = run_checks("bench", ev);
  EXPECT_TRUE(run.ran("bench.copies"));
  EXPECT_EQ(run.unmeasured_copies.size(), 1u);
  EXPECT_NE(run.incomplete.find("1 GPU copy measurement(s) not measured"), std::string::npos) << run.incomplete;
}

TEST(ChecksRegistry, UnansweredStepsNameTheirRanks) {
  const dist::NodeMap nodes = dist::NodeMap::from_hosts({"a", "a", "b", "b"});
  const std::vector<Unanswered> steps = {{"probing the topology", {}, ""},
                                         {"bench allreduce", {2, 3}, "(they were waiting for peers that never sent)"}};
  Evidence ev;
  ev.unanswered = &steps;
  ev.nodes = &nodes;
  ev.timeout_s = 30;
  CheckRun run = run_checks("dist", ev);
  ASSERT_EQ(run.findings.size(), 1u);
  EXPECT_EQ(run.findings[0].id, "bench.timeout");
  EXPECT_EQ(run.findings[0].host, "b");
  EXPECT_NE(run.findings[0].message.find("ranks 2-3 did not finish bench allreduce within the 30 s deadline "
                                         "(they were waiting"),
            std::string::npos)
      << run.findings[0].message;
  EXPECT_TRUE(run.outcomes.empty());
}

TEST(ChecksRegistry, ABisectionVerdictReplacesTheRingAttribution) {
  LinkSweepData data;
  data.rank_host = {"n0", "n1", "n2"};
  for (int a = 0; a < 3; ++a)
    for (int b = 0; b < 3; ++b)
      if (a != b) {
        model::LinkResult l;
        l.src_host = data.rank_host[a];
        l.dst_host = data.rank_host[b];
        l.src_rank = a;
        l.dst_rank = b;
        l.bytes = 1 << 22;
        l.gbps = (a == 2 || b == 2) ? 1.0 : 10.0;  // n2 slow on both of its links
        l.latency_us = 5;
        l.cls = "net";
        data.links.push_back(l);
      }
  Evidence ev;
  ev.links = &data;
  CheckRun ring = run_checks("links", ev);
  ASSERT_TRUE(ring.links.has_value());
  ASSERT_FALSE(ring.findings.empty());
  EXPECT_EQ(ring.findings[0].id, "node.slow");

  const nlohmann::json history = {{"reference_gbps", 10.0},
                                  {"history", {{{"reference", 0}, {"members", {2}}, {"gbps", 1.5}}}}};
  BisectFindingsInput in = bisect_input({2}, {}, history, data.rank_host);
  ASSERT_EQ(in.slow_gbps.size(), 1u);
  EXPECT_DOUBLE_EQ(in.slow_gbps[0], 1.5);
  ev.bisect = &in;
  CheckRun bis = run_checks("links", ev);
  ASSERT_TRUE(bis.links.has_value());  // the classes are still there to render
  ASSERT_EQ(bis.findings.size(), 1u);
  EXPECT_EQ(bis.findings[0].id, "node.slow");
  EXPECT_NE(bis.findings[0].message.find("1.5"), std::string::npos) << bis.findings[0].message;
}

}  // namespace
}  // namespace ncd::checks
