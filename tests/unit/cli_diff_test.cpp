// SPDX-License-Identifier: Apache-2.0
// `diff` and `show` through the command line, in process: exit codes by the worst change, one
// line naming the file for bad input, and the report files they write.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/cli.hpp"
#include "core/fs.hpp"
#include "report/report.hpp"

namespace ncd {
namespace {

namespace fs = std::filesystem;

struct TempDir {
  fs::path path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "ncd_diff_XXXXXX").string();
    path = mkdtemp(tmpl.data());
  }
  ~TempDir() { fs::remove_all(path); }
  std::string file(const std::string& name, const std::string& text) const {
    std::ofstream(path / name) << text;
    return (path / name).string();
  }
};

int run(const std::vector<std::string>& args, std::string& out, std::string& err) {
  std::ostringstream o, e;
  int rc = ncd::cli::run_cli(args, o, e);
  out = o.str();
  err = e.str();
  return rc;
}

std::string sample_path() { return std::string(NCD_TEST_DATA_DIR) + "/sample_report.json"; }

}  // namespace

TEST(CliDiff, SameReportExitsZero) {
  std::string out, err;
  EXPECT_EQ(run({"diff", sample_path(), sample_path()}, out, err), 0) << out << err;
  EXPECT_NE(out.find("no changes"), std::string::npos);
}

TEST(CliDiff, RegressionExitsByTheWorstChange) {
  TempDir t;
  auto j = nlohmann::json::parse(read_file(sample_path()));
  for (auto& c : j["measurements"]["collectives"])
    if (c["op"] == "allreduce" && c["algo"] == "native") c["busbw_gbps"] = c["busbw_gbps"].get<double>() * 0.8;
  std::string now = t.file("now.json", j.dump());
  std::string out, err;
  std::string json_out = (t.path / "d.json").string();
  std::string prom_out = (t.path / "d.prom").string();
  EXPECT_EQ(run({"diff", sample_path(), now, "--json", json_out, "--prom", prom_out}, out, err), 1) << out << err;
  EXPECT_NE(out.find("bench.regression"), std::string::npos) << out;
  EXPECT_NE(out.find("Worse:"), std::string::npos) << out;
  auto d = report::report_from_json(read_file(json_out), json_out);
  ASSERT_FALSE(d.findings.empty());
  EXPECT_EQ(d.findings[0].id, "bench.regression");
  EXPECT_NE(read_file(prom_out).find("nccl_doctor_findings_by_id{id=\"bench.regression\",severity=\"warn\"} 1"),
            std::string::npos);
  // --fail-on error: a warning-level regression passes.
  EXPECT_EQ(run({"diff", sample_path(), now, "--fail-on", "error"}, out, err), 0);
  // The other direction is an improvement: nothing worse.
  EXPECT_EQ(run({"diff", now, sample_path()}, out, err), 0) << out;
}

TEST(CliDiff, BadInputIsOneLineNamingTheFile) {
  TempDir t;
  std::string bad = t.file("bad.json", "{\"schema\": \"nccl-doctor/report/v1\", \"findings\": [{\"id\": 3}]}");
  std::string notjson = t.file("x.json", "not json at all");
  std::string other = t.file("o.json", "{\"schema\": \"someone-else/v2\"}");
  for (const auto& f : {bad, notjson, other, (t.path / "missing.json").string()}) {
    std::string out, err;
    EXPECT_EQ(run({"diff", sample_path(), f}, out, err), 3) << f;
    EXPECT_NE(err.find(f), std::string::npos) << err;
    EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
  }
  std::string out, err;
  EXPECT_EQ(run({"diff", sample_path()}, out, err), 3);  // NEW missing
}

TEST(CliShow, RendersASavedReportWithItsOwnTimes) {
  TempDir t;
  std::string html = (t.path / "r.html").string();
  std::string xml = (t.path / "r.xml").string();
  std::string prom = (t.path / "r.prom").string();
  std::string out, err;
  EXPECT_EQ(run({"show", sample_path(), "--html", html, "--junit", xml, "--prom", prom}, out, err), 2) << err;
  EXPECT_NE(out.find("nvlink.down"), std::string::npos);
  EXPECT_NE(read_file(html).find("<svg"), std::string::npos);
  EXPECT_NE(read_file(xml).find("<testsuites"), std::string::npos);
  EXPECT_NE(read_file(prom).find("nccl_doctor_last_run_timestamp_seconds 1795880000\n"), std::string::npos);
}

}  // namespace ncd
