// SPDX-License-Identifier: Apache-2.0
// Verdicts that never overstate (issue 13): what each check needs, the outcome every run
// records, INCOMPLETE when a planned stage or applicable check could not run, every format
// showing it, NCCL's model as the GPU busbw expectation, no silent zeros, the MPI reference's
// noise as a note, and comparisons that refuse what is not comparable.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "checks/bench_checks.hpp"
#include "collectives/bench.hpp"
#include "cli/cmd_diff.hpp"
#include "cli/cmd_sweep.hpp"
#include "core/catalogue.hpp"
#include "core/error.hpp"
#include "nccl/topo_xml.hpp"
#include "nccl/tuning_model.hpp"
#include "report/junit.hpp"
#include "report/prom.hpp"
#include "report/report.hpp"
#include "report/text.hpp"
#include "topo/paths.hpp"

namespace ncd {
namespace {

const std::string kH100 = std::string(NCD_TOPOLOGY_DIR) + "/rings/oci-BM.GPU.H100.8-8xH100-16xCX7.xml";

const CheckOutcome& outcome(const std::vector<CheckOutcome>& v, const std::string& id) {
  for (const auto& c : v)
    if (c.id == id) return c;
  static CheckOutcome none{"(absent)", CheckStatus::kExcluded, 0, "not recorded"};
  ADD_FAILURE() << id << " has no outcome";
  return none;
}

TEST(Verdicts, EveryCheckDeclaresItsNeeds) {
  for (const CheckInfo* c : Catalogue::instance().all()) EXPECT_EQ(c->needs & need::kFromTable, 0u) << c->id;
  auto needs = [](const char* id) { return Catalogue::instance().find(id)->needs; };
  EXPECT_TRUE(needs("nvlink.down") & need::kGpu);
  EXPECT_TRUE(needs("nvlink.down") & need::kNvml);
  EXPECT_TRUE(needs("gdr.unavailable") & need::kGpu);
  EXPECT_TRUE(needs("gpu.nic_far") & need::kNic);
  EXPECT_TRUE(needs("ring.path_degraded") & need::kGraphDump);
  EXPECT_TRUE(needs("link.slow") & need::kMultiRank);
  EXPECT_TRUE(needs("bench.busbw_low") & need::kExpectation);
  EXPECT_EQ(needs("env.risky"), need::kNone);
  EXPECT_EQ(needs_to_string(need::kGpu | need::kNvml), "gpu,nvml");
}

RunFacts no_gpu_one_rank() {
  RunFacts f;
  f.domains["topo"] = {};
  f.domains["env"] = {};
  f.domains["bench"] = {CheckStatus::kCouldNotRun, "one rank: nothing to measure between ranks"};
  f.domains["links"] = {CheckStatus::kCouldNotRun, "one rank: nothing to measure between ranks"};
  f.domains["rings"] = {CheckStatus::kNotApplicable, "no GPU: NCCL's rings are not inspected"};
  f.missing[need::kGpu] = {"no GPU", true};
  f.missing[need::kMultiRank] = {"one rank: run under mpirun or srun", false};
  f.missing[need::kMultiNode] = {"one node", true};
  f.nics = 2;
  return f;
}

TEST(Verdicts, OutcomesFollowWhatTheRunHad) {
  auto out = record_outcomes(no_gpu_one_rank());
  EXPECT_EQ(outcome(out, "nvlink.down").status, CheckStatus::kNotApplicable);
  EXPECT_EQ(outcome(out, "nvlink.down").reason, "no GPU");
  EXPECT_EQ(outcome(out, "gdr.unavailable").status, CheckStatus::kNotApplicable);
  EXPECT_EQ(outcome(out, "ring.path_degraded").status, CheckStatus::kNotApplicable);
  EXPECT_EQ(outcome(out, "link.slow").status, CheckStatus::kCouldNotRun);
  EXPECT_EQ(outcome(out, "env.mismatch").status, CheckStatus::kCouldNotRun);
  EXPECT_EQ(outcome(out, "nic.port_down").status, CheckStatus::kEvaluated);
  EXPECT_EQ(outcome(out, "nic.port_down").subjects, 2);
  EXPECT_EQ(outcome(out, "pcie.link_degraded").status, CheckStatus::kEvaluated);
  EXPECT_EQ(outcome(out, "topo.differs").status, CheckStatus::kNotApplicable);
  // A finding means the check looked.
  RunFacts f = no_gpu_one_rank();
  f.raised.insert("env.mismatch");
  EXPECT_EQ(outcome(record_outcomes(f), "env.mismatch").status, CheckStatus::kEvaluated);
  // Log ids are not part of a sweep.
  for (const auto& c : out) EXPECT_NE(Catalogue::instance().find(c.id)->domain, "log") << c.id;
}

TEST(Verdicts, CouldNotRunMakesTheRunIncomplete) {
  report::Report r;
  r.command = "sweep";
  r.hosts.push_back({"h0", {0}, "", nullptr});
  r.sections["stages"] = nlohmann::json::array(
      {{{"name", "env"}, {"status", "ran"}},
       {{"name", "bench"}, {"status", "skipped"}, {"cause", "too_few_ranks"},
        {"reason", "one rank: nothing to measure between ranks (run under mpirun or srun)"}},
       {{"name", "links"}, {"status", "skipped"}, {"cause", "too_few_ranks"},
        {"reason", "one rank: nothing to measure between ranks (run under mpirun or srun)"}},
       {{"name", "rings"}, {"status", "not_applicable"}, {"reason", "no GPU"}}});
  r.checks = record_outcomes(no_gpu_one_rank());
  report::apply_outcomes(r);
  ASSERT_TRUE(r.incomplete);
  EXPECT_NE(r.incomplete_reason.find("not measured: bench ("), std::string::npos) << r.incomplete_reason;
  EXPECT_NE(r.incomplete_reason.find("; links ("), std::string::npos) << r.incomplete_reason;
  EXPECT_EQ(report::exit_code(r, report::FailOn::kWarn), 3);
  std::ostringstream text;
  report::render_incomplete_header(r, {}, text);
  EXPECT_EQ(text.str().rfind("INCOMPLETE: not measured: bench", 0), 0u) << text.str();
  EXPECT_NE(text.str().find("to measure it: run under mpirun or srun"), std::string::npos) << text.str();
  const std::string line = report::checks_line(r);
  EXPECT_EQ(line.rfind("checked ", 0), 0u) << line;
  EXPECT_NE(line.find("on 1 node(s); not applicable"), std::string::npos) << line;
  EXPECT_NE(line.find("no GPU: "), std::string::npos) << line;
  EXPECT_NE(line.find("could not run: "), std::string::npos) << line;

  // JSON: checks[] and stages, schema v2, read back.
  auto j = report::report_to_json(r, 3);
  EXPECT_EQ(j["schema"], "nccl-doctor/report/v2");
  ASSERT_TRUE(j["checks"].is_array());
  bool seen = false;
  for (const auto& c : j["checks"])
    if (c["id"] == "nvlink.down") {
      seen = true;
      EXPECT_EQ(c["status"], "not_applicable");
      EXPECT_EQ(c["subjects"], 0);
      EXPECT_EQ(c["reason"], "no GPU");
    }
  EXPECT_TRUE(seen);
  EXPECT_EQ(j["stages"].size(), 4u);
  EXPECT_TRUE(j["summary"]["incomplete"].get<bool>());
  auto back = report::report_from_json(j.dump(), "r.json");
  EXPECT_EQ(back.checks.size(), r.checks.size());
  EXPECT_EQ(outcome(back.checks, "link.slow").status, CheckStatus::kCouldNotRun);

  // JUnit: not applicable and could not run are <skipped>, never passes.
  const std::string xml = report::render_junit(r, 3);
  for (const char* id : {"nvlink.down", "gpu.nic_far", "gdr.unavailable", "ring.path_degraded", "link.slow"}) {
    auto at = xml.find(std::string("name=\"") + id + "\"");
    ASSERT_NE(at, std::string::npos) << id;
    auto end = xml.find("</testcase>", at);
    auto self_closed = xml.find("/>", at);
    ASSERT_NE(end, std::string::npos) << id;
    EXPECT_LT(xml.find("<skipped", at), end) << id << " is not skipped";
    EXPECT_LT(end, xml.find("<testcase", at + 1)) << id;
    (void)self_closed;
  }
  // Prometheus: no 0 for checks that did not look, an "evaluated" series for each.
  const std::string prom = report::render_prometheus(r, 3);
  EXPECT_EQ(prom.find("nccl_doctor_findings_by_id{id=\"nvlink.down\""), std::string::npos);
  EXPECT_EQ(prom.find("nccl_doctor_findings_by_id{id=\"link.slow\""), std::string::npos);
  EXPECT_NE(prom.find("nccl_doctor_findings_by_id{id=\"pcie.link_degraded\",severity=\"warn\"} 0"), std::string::npos);
  EXPECT_NE(prom.find("nccl_doctor_check_evaluated{id=\"nvlink.down\",status=\"not_applicable\"} 0"), std::string::npos);
  EXPECT_NE(prom.find("nccl_doctor_check_evaluated{id=\"pcie.link_degraded\",status=\"evaluated\"} 1"), std::string::npos);
}

TEST(Verdicts, NoSilentZeros) {
  report::CollectiveResult c;
  c.op = "allreduce";
  c.wrong = -1;
  nlohmann::json j = c;
  EXPECT_TRUE(j["wrong"].is_null());
  EXPECT_TRUE(j["expected_busbw_gbps"].is_null());
  j.erase("wrong");
  EXPECT_EQ(j.get<report::CollectiveResult>().wrong, -1);  // absent: not checked, never "correct"
  j["wrong"] = 0;
  EXPECT_EQ(j.get<report::CollectiveResult>().wrong, 0);

  report::Report r;
  r.collectives.push_back(c);
  r.links.push_back({"a", "b", 0, 1, 1 << 20, 0, 0, "net", false});
  report::PromOptions matrix;
  matrix.link_matrix = true;
  const std::string prom = report::render_prometheus(r, 0, matrix);
  EXPECT_EQ(prom.find("nccl_doctor_collective_wrong_elements{"), std::string::npos) << prom;
  EXPECT_EQ(prom.find("nccl_doctor_busbw_bytes_per_second{"), std::string::npos) << "not measured: no sample";
  EXPECT_EQ(prom.find("nccl_doctor_link_bandwidth_bytes_per_second{"), std::string::npos) << prom;
  EXPECT_EQ(prom.find("nccl_doctor_link_min_bytes_per_second{"), std::string::npos) << prom;
  EXPECT_NE(prom.find("nccl_doctor_link_ok{src=\"a\",dst=\"b\",class=\"net\"} 0\n"), std::string::npos);
  EXPECT_NE(prom.find("nccl_doctor_links_unresponsive{host=\"b\",class=\"net\"} 1\n"), std::string::npos);

  // A copy that measured nothing, or has no expectation, is named, not passed.
  std::vector<std::string> unmeasured;
  auto copies = nlohmann::json::array(
      {{{"kind", "h2d"}, {"dst", 0}, {"bus_id", "0000:1b:00.0"}, {"gbps", nullptr}, {"expected_gbps", 25.0}},
       {{"kind", "d2h"}, {"src", 1}, {"bus_id", "0000:1c:00.0"}, {"gbps", 20.0}, {"expected_gbps", nullptr}},
       {{"kind", "d2h"}, {"src", 2}, {"bus_id", "0000:1d:00.0"}, {"gbps", 5.0}, {"expected_gbps", 25.0}}});
  auto low = checks::check_copies(copies, unmeasured);
  ASSERT_EQ(low.size(), 1u);
  EXPECT_EQ(low[0].id, "bench.busbw_low");
  ASSERT_EQ(unmeasured.size(), 2u);
  EXPECT_NE(unmeasured[0].find("not measured"), std::string::npos);
  EXPECT_NE(unmeasured[1].find("no expected bandwidth"), std::string::npos);
}

topo::System h100() {
  topo::System s = nccl::load_topo_xml(kH100);
  topo::compute_paths(s);
  return s;
}

TEST(Verdicts, H100ModelGraph) {
  topo::System s = h100();
  ASSERT_EQ(s.gpus.size(), 8u);
  std::string why;
  auto g = nccl::estimate_graph(s, 1, &why);
  ASSERT_TRUE(g) << why;
  // 18 NVLinks x 20.6 GB/s to the NVSwitches: 6 channels at 60, doubled to 12 x 30 (the
  // hand-made graph topology/rings/oci-h100-nvlink-ring-graph.xml is the same).
  EXPECT_EQ(g->input.channels, 12);
  EXPECT_DOUBLE_EQ(g->input.bw_intra, 30);
  EXPECT_EQ(g->path, "NVL");
  auto e = nccl::expected_busbw(s, 1, "allreduce", "ring", 256u << 20, &why);
  ASSERT_TRUE(e) << why;
  // 12 x 30 = 360 GB/s of bandwidth; at 256 MiB the model's latency (8.4 + 14 x 3.4 us) costs ~4%.
  EXPECT_LE(e->busbw_gbps, 360);
  EXPECT_GT(e->busbw_gbps, 0.95 * 360);
  EXPECT_EQ(e->protocol, "Simple");
  EXPECT_NE(e->basis.find("12 ch x 30 GB/s"), std::string::npos) << e->basis;
  // Small messages are latency-bound: the model expects far less, with another protocol.
  auto small = nccl::expected_busbw(s, 1, "allreduce", "ring", 8u << 10, &why);
  ASSERT_TRUE(small);
  EXPECT_LT(small->busbw_gbps, 0.1 * e->busbw_gbps);
  EXPECT_NE(small->protocol, "Simple");
  auto tree = nccl::expected_busbw(s, 1, "allreduce", "tree", 256u << 20, &why);
  ASSERT_TRUE(tree);
  EXPECT_LT(tree->busbw_gbps, e->busbw_gbps);
  EXPECT_FALSE(nccl::expected_busbw(s, 1, "alltoall", "ring", 256u << 20, &why));
}

checks::BenchEvidence rows_at(double fraction, const topo::System& s) {
  checks::BenchEvidence ev;
  ev.host = "gpu-a";
  for (std::uint64_t bytes : {std::uint64_t{64} << 20, std::uint64_t{256} << 20}) {
    for (const char* algo : {"ring", "tree"}) {
      report::CollectiveResult r;
      r.op = "allreduce";
      r.algo = algo;
      r.backend = "nccl";
      r.dtype = "float32";
      r.bytes = bytes;
      r.count = bytes / 4;
      r.iters = 20;
      r.spread = 0.02;
      r.nranks = 8;
      r.wrong = 0;
      std::string why;
      auto e = nccl::expected_busbw(s, 1, r.op, r.algo, bytes, &why);
      r.busbw_gbps = fraction * e->busbw_gbps;
      r.algbw_gbps = r.busbw_gbps / (2.0 * 7 / 8);
      r.time_us = static_cast<double>(bytes) / (1e3 * r.algbw_gbps);
      ev.rows.push_back(r);
      ev.wrong_per_rank.push_back({});
    }
  }
  return ev;
}

TEST(Verdicts, BusbwLowAgainstTheModelOnH100) {
  const topo::System s = h100();
  auto half = rows_at(0.5, s);
  ASSERT_EQ(checks::apply_model_expectation(half, s, 1), "");
  for (const auto& r : half.rows) EXPECT_TRUE(r.expected_busbw_gbps) << r.algo << " " << r.bytes;
  auto found = checks::check_bench(half);
  int low = 0;
  for (const auto& f : found)
    if (f.id == "bench.busbw_low") {
      ++low;
      // The median of the 64M and 256M rows against the model at 256M: just under a half.
      EXPECT_GT(*f.measured / *f.expected, 0.45);
      EXPECT_LE(*f.measured / *f.expected, 0.5);
    }
  EXPECT_EQ(low, 2) << "ring and tree at 50% of NCCL's model";

  auto fine = rows_at(0.9, s);
  ASSERT_EQ(checks::apply_model_expectation(fine, s, 1), "");
  for (const auto& f : checks::check_bench(fine)) EXPECT_NE(f.id, "bench.busbw_low") << f.message;
}

TEST(Verdicts, UnknownGpuHasNoModel) {
  topo::System s = h100();
  s.gpus[3].sm = 0;
  auto ev = rows_at(0.5, h100());
  const std::string why = checks::apply_model_expectation(ev, s, 1);
  EXPECT_NE(why.find("no bandwidth model"), std::string::npos) << why;
  EXPECT_NE(why.find("compute capability"), std::string::npos) << why;
  for (const auto& r : ev.rows) EXPECT_FALSE(r.expected_busbw_gbps);
  for (const auto& f : checks::check_bench(ev)) EXPECT_NE(f.id, "bench.busbw_low");
}

checks::BenchEvidence host_rows(double ring_spread, double native_spread) {
  checks::BenchEvidence ev;
  ev.host = "h";
  for (const char* algo : {"ring", "tree", "native"}) {
    report::CollectiveResult r;
    r.op = "allreduce";
    r.algo = algo;
    r.backend = "mpi";
    r.bytes = 32u << 20;
    r.iters = 10;
    r.time_us = 1000;
    r.busbw_gbps = 2;
    r.spread = std::string(algo) == "native" ? native_spread : ring_spread;
    ev.rows.push_back(r);
    ev.wrong_per_rank.push_back({});
  }
  return ev;
}

TEST(Verdicts, OnlyTheReferenceUnstableIsANote) {
  auto found = checks::check_bench(host_rows(0.05, 0.51));
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].id, "bench.unstable");
  EXPECT_EQ(found[0].severity, Severity::kInfo);
  EXPECT_NE(found[0].message.find("MPI library"), std::string::npos);
  report::Report r;
  r.findings = found;
  EXPECT_EQ(report::exit_code(r, report::FailOn::kWarn), 0);
  // Our own ring and tree unstable too: the fabric is suspect, a warning each.
  int warn = 0;
  for (const auto& f : checks::check_bench(host_rows(0.7, 0.9)))
    if (f.id == "bench.unstable" && f.severity == Severity::kWarn) ++warn;
  EXPECT_EQ(warn, 3);
}

TEST(Verdicts, UnstableOnceSteadyWhenMeasuredAgainIsANote) {
  // Our ring varied once; the rows worth measuring again are ours, not the steady ones.
  auto ev = host_rows(0.05, 0.05);
  ev.rows[0].spread = 0.51;
  auto again = checks::unstable_rows(ev);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(ev.rows[again[0]].algo, "ring");
  // Without a second measurement: a warning.
  auto found = checks::check_bench(ev);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].severity, Severity::kWarn);
  // Steady when measured again: a passing disturbance on the host, info with both rows.
  report::CollectiveResult steady_row = ev.rows[0];
  steady_row.spread = 0.08;
  ev.repeats = {steady_row};
  found = checks::check_bench(ev);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].severity, Severity::kInfo);
  EXPECT_NE(found[0].message.find("measured again"), std::string::npos);
  EXPECT_NE(found[0].evidence.back().find("measured again: allreduce ring mpi 32M"), std::string::npos)
      << found[0].evidence.back();
  // Unstable again: still a warning, both measurements quoted.
  ev.repeats[0].spread = 0.62;
  found = checks::check_bench(ev);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].severity, Severity::kWarn);
  EXPECT_NE(found[0].message.find("still varied 62%"), std::string::npos) << found[0].message;
  // A repeat of another size or algorithm does not count.
  ev.repeats[0].spread = 0.05;
  ev.repeats[0].bytes = 16u << 20;
  EXPECT_EQ(checks::check_bench(ev)[0].severity, Severity::kWarn);
  // The reference alone unstable is a note already: nothing to measure again.
  EXPECT_TRUE(checks::unstable_rows(host_rows(0.05, 0.9)).empty());
}

TEST(Verdicts, TwoSlowIterationsAmongTenAreNotInstability) {
  // p10-p90 wide because two of ten iterations were slow, the middle half steady: not unstable.
  auto ev = host_rows(0.05, 0.05);
  ev.rows[0].spread = 0.64;
  ev.rows[0].spread_iqr = 0.04;
  EXPECT_TRUE(checks::check_bench(ev).empty());
  EXPECT_TRUE(checks::unstable_rows(ev).empty());
  // The middle half varies too: the series is unstable, and the message gives both figures.
  ev.rows[0].spread_iqr = 0.4;
  auto found = checks::check_bench(ev);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].severity, Severity::kWarn);
  EXPECT_NE(found[0].message.find("middle half 40%"), std::string::npos) << found[0].message;
  // A row read from an older report (no quartiles) is judged on p10-p90 alone.
  ev.rows[0].spread_iqr = -1;
  EXPECT_EQ(checks::check_bench(ev).size(), 1u);
}

TEST(BenchStats, QuartileSpreadIgnoresTwoOutliersOfTen) {
  std::vector<double> us = {1000, 1010, 990, 1005, 995, 1002, 998, 1001, 1700, 1650};
  auto st = collectives::iter_stats(us);
  EXPECT_GT(st.spread, 0.5);      // p90 lands on an outlier
  EXPECT_LT(st.spread_iqr, 0.02);  // the middle half does not
}

report::Report job(int ranks, const std::string& backend) {
  report::Report r;
  std::vector<int> rs;
  for (int i = 0; i < ranks; ++i) rs.push_back(i);
  r.hosts.push_back({"h0", rs, "", nullptr});
  report::CollectiveResult c;
  c.op = "allreduce";
  c.algo = "ring";
  c.backend = backend;
  r.collectives.push_back(c);
  return r;
}

TEST(Verdicts, DiffRefusesDifferentShapes) {
  EXPECT_TRUE(cli::shape_differences(job(2, "mpi"), job(2, "mpi")).empty());
  auto d = cli::shape_differences(job(2, "mpi"), job(4, "nccl"));
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0], "ranks 2 vs 4");
  EXPECT_EQ(d[1], "backend mpi vs nccl");
}

TEST(Verdicts, SaveRefusesWhatIsNotABaseline) {
  report::Report r;
  EXPECT_EQ(cli::save_refusal(r, 0, false), "");
  r.findings.push_back(make_finding("env.risky", "h", "s", "m"));
  EXPECT_NE(cli::save_refusal(r, 1, false).find("--save-allow-warnings"), std::string::npos);
  EXPECT_EQ(cli::save_refusal(r, 1, true), "");
  r.findings.push_back(make_finding("bench.timeout", "h", "s", "m"));
  EXPECT_NE(cli::save_refusal(r, 2, true).find("errors"), std::string::npos);
  report::Report inc;
  inc.incomplete = true;
  EXPECT_NE(cli::save_refusal(inc, 3, true).find("incomplete"), std::string::npos);
}

TEST(Verdicts, SkipAndOnly) {
  EXPECT_EQ(cli::excluded_stages("", ""), std::vector<std::string>{});
  EXPECT_EQ(cli::excluded_stages("links,rings", ""), (std::vector<std::string>{"links", "rings"}));
  EXPECT_EQ(cli::excluded_stages("", "bench"), (std::vector<std::string>{"topo", "links", "rings"}));
  EXPECT_THROW((void)cli::excluded_stages("nosuch", ""), UsageError);
  EXPECT_THROW((void)cli::excluded_stages("env", ""), UsageError);
  EXPECT_THROW((void)cli::excluded_stages("links", "bench"), UsageError);
  cli::SweepFacts f;
  f.nranks = 4;
  f.excluded = {"links"};
  auto p = cli::plan_sweep(f);
  ASSERT_NE(p.stage("links"), nullptr);
  EXPECT_FALSE(p.stage("links")->run);
  EXPECT_EQ(p.stage("links")->skip_cause, "excluded");
  EXPECT_TRUE(p.stage("bench")->run);
  cli::SweepFacts one;
  auto q = cli::plan_sweep(one);
  EXPECT_EQ(q.stage("bench")->skip_cause, "too_few_ranks");
  EXPECT_EQ(q.stage("links")->skip_cause, "too_few_ranks");
  EXPECT_EQ(q.stage("rings")->skip_cause, "not_applicable");
}

}  // namespace
}  // namespace ncd
