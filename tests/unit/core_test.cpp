// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include "core/catalogue.hpp"
#include "core/error.hpp"
#include "core/text.hpp"
#include "core/units.hpp"
#include "report/report.hpp"

namespace ncd {

TEST(Units, ParsesNcclTestsSizes) {
  EXPECT_EQ(parse_size("8"), 8u);
  EXPECT_EQ(parse_size("1K"), 1024u);
  EXPECT_EQ(parse_size("16M"), 16u << 20);
  EXPECT_EQ(parse_size("2G"), 2ull << 30);
  EXPECT_EQ(parse_size("64MiB"), 64u << 20);
  EXPECT_EQ(parse_size("1.5k"), 1536u);
  EXPECT_THROW((void)parse_size(""), UsageError);
  EXPECT_THROW((void)parse_size("M"), UsageError);
  EXPECT_THROW((void)parse_size("12Q"), UsageError);
  EXPECT_THROW((void)parse_size("-1"), UsageError);
  EXPECT_THROW((void)parse_size("99999999999T"), UsageError);
}

TEST(Units, FormatsSizes) {
  EXPECT_EQ(format_size(8), "8");
  EXPECT_EQ(format_size(1024), "1K");
  EXPECT_EQ(format_size(64u << 20), "64M");
  EXPECT_EQ(format_size(3ull << 30), "3G");
}

TEST(Text, RangesAndSuggestions) {
  EXPECT_EQ(format_ranges({3, 0, 1, 2, 7, 9, 8}), "0-3,7-9");
  EXPECT_EQ(format_ranges({5}), "5");
  EXPECT_EQ(closest_match("--jsn", {"--json", "--prom", "--timeout"}), "--json");
  EXPECT_EQ(closest_match("--zzzzzzz", {"--json", "--prom"}), "");
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
}

TEST(Catalogue, EveryEntryIsDocumented) {
  const auto all = Catalogue::instance().all();
  ASSERT_FALSE(all.empty());
  for (const CheckInfo* c : all) {
    EXPECT_NE(c->id.find('.'), std::string::npos) << c->id;
    EXPECT_FALSE(c->title.empty()) << c->id;
    EXPECT_FALSE(c->meaning.empty()) << c->id;
    EXPECT_FALSE(c->detection.empty()) << c->id;
    EXPECT_FALSE(c->hint.empty()) << c->id;
    EXPECT_FALSE(c->domain.empty()) << c->id;
  }
  EXPECT_NE(Catalogue::instance().find("env.risky"), nullptr);
  EXPECT_EQ(Catalogue::instance().find("no.such_id"), nullptr);
}

TEST(Report, ExitCodes) {
  report::Report r;
  EXPECT_EQ(report::exit_code(r, report::FailOn::kWarn), 0);
  r.findings.push_back(make_finding("env.risky", "h", "s", "m"));
  EXPECT_EQ(report::exit_code(r, report::FailOn::kWarn), 1);
  EXPECT_EQ(report::exit_code(r, report::FailOn::kError), 0);
  r.findings.push_back(make_finding("version.mismatch", "h", "s", "m"));
  EXPECT_EQ(report::exit_code(r, report::FailOn::kError), 2);
  report::Report inc;
  inc.incomplete = true;
  EXPECT_EQ(report::exit_code(inc, report::FailOn::kWarn), 3);
  // Warnings do not make an incomplete run complete: still 3; only errors say more (2).
  inc.findings.push_back(make_finding("env.risky", "h", "s", "m"));
  EXPECT_EQ(report::exit_code(inc, report::FailOn::kWarn), 3);
  EXPECT_EQ(report::exit_code(inc, report::FailOn::kError), 3);
  inc.findings.push_back(make_finding("bench.timeout", "h", "s", "m"));
  EXPECT_EQ(report::exit_code(inc, report::FailOn::kWarn), 2);
}

TEST(Report, JsonRoundTrip) {
  report::Report r;
  r.command = "bench";
  report::CollectiveResult c;
  c.op = "allreduce";
  c.algo = "ring";
  c.backend = "mpi";
  c.bytes = 1 << 20;
  c.busbw_gbps = 1.5;
  r.collectives.push_back(c);
  report::LinkResult l;
  l.src_host = "node0";
  l.dst_host = "node1";
  l.gbps = 2.5;
  r.links.push_back(l);
  Finding f = make_finding("env.risky", "node0", "ranks 1", "NCCL_IB_DISABLE=1");
  f.evidence = {"a", "b"};
  f.measured = 1.0;
  r.findings.push_back(f);
  auto j = report::report_to_json(r, 1);
  EXPECT_EQ(j["schema"], report::kSchema);
  EXPECT_EQ(j["summary"]["exit_code"], 1);
  EXPECT_EQ(j["summary"]["warn"], 1);
  for (const char* k : {"op", "algo", "backend", "dtype", "bytes", "count", "time_us", "algbw_gbps",
                        "busbw_gbps", "wrong", "nranks"})
    EXPECT_TRUE(j["measurements"]["collectives"][0].contains(k)) << k;
  for (const char* k : {"src_host", "dst_host", "src_rank", "dst_rank", "bytes", "gbps", "latency_us", "class"})
    EXPECT_TRUE(j["measurements"]["links"][0].contains(k)) << k;
  for (const char* k : {"id", "severity", "host", "subject", "message", "evidence", "expected", "measured", "hint"})
    EXPECT_TRUE(j["findings"][0].contains(k)) << k;
  report::Report back = report::report_from_json(j.dump(), "r.json");
  ASSERT_EQ(back.findings.size(), 1u);
  EXPECT_EQ(back.findings[0].evidence, f.evidence);
  EXPECT_EQ(back.collectives[0].busbw_gbps, 1.5);
  EXPECT_EQ(back.links[0].dst_host, "node1");
}

TEST(Report, RejectsOtherSchemas) {
  EXPECT_THROW((void)report::report_from_json("{}", "x.json"), InputError);
  EXPECT_THROW((void)report::report_from_json("{\"schema\":\"other/v9\"}", "x.json"), InputError);
  EXPECT_THROW((void)report::report_from_json("not json", "x.json"), InputError);
  EXPECT_THROW((void)report::report_from_json("[1,2]", "x.json"), InputError);
  // Found by fuzz_report_json: a number overflow is out_of_range, not parse_error.
  EXPECT_THROW((void)report::report_from_json("-70E1111\xff", "x.json"), InputError);
  EXPECT_THROW((void)report::report_from_json("{\"schema\":\"nccl-doctor/report/v1\",\"duration_s\":1e999}", "x.json"), InputError);
  try {
    (void)report::report_from_json("{\"schema\":\"other/v9\"}", "x.json");
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("x.json"), std::string::npos);
  }
}

}  // namespace ncd
