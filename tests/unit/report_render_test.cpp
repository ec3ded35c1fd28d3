// SPDX-License-Identifier: Apache-2.0
// Renderers (Prometheus, JUnit, HTML) and the report comparison behind `diff` / `--baseline`,
// on tests/data/sample_report.json (a 4-node H100-like job with planted faults).
#include <gtest/gtest.h>

#include <cctype>
#include <map>
#include <pugixml.hpp>
#include <set>
#include <sstream>

#include "checks/baseline.hpp"
#include "core/catalogue.hpp"
#include "core/error.hpp"
#include "core/fs.hpp"
#include "report/escape.hpp"
#include "report/html.hpp"
#include "report/junit.hpp"
#include "report/prom.hpp"

namespace ncd {
namespace {

report::Report sample() {
  std::string path = std::string(NCD_TEST_DATA_DIR) + "/sample_report.json";
  return report::report_from_json(read_file(path), path);
}

// ---- A strict reader of the Prometheus text exposition format (0.0.4), line by line. ----

bool is_name_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':'; }
bool is_name_char(char c) { return is_name_start(c) || std::isdigit(static_cast<unsigned char>(c)); }

struct PromSample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

/// Parses one sample line; returns an error text, or "" when the line is valid.
std::string parse_sample(const std::string& line, PromSample& out) {
  std::size_t i = 0;
  if (line.empty() || !is_name_start(line[0])) return "metric name must start with [a-zA-Z_:]";
  while (i < line.size() && is_name_char(line[i])) ++i;
  out.name = line.substr(0, i);
  if (i < line.size() && line[i] == '{') {
    ++i;
    while (i < line.size() && line[i] != '}') {
      std::size_t s = i;
      if (!(std::isalpha(static_cast<unsigned char>(line[i])) || line[i] == '_')) return "bad label name";
      while (i < line.size() && (std::isalnum(static_cast<unsigned char>(line[i])) || line[i] == '_')) ++i;
      std::string lname = line.substr(s, i - s);
      if (lname.rfind("__", 0) == 0) return "label names starting with __ are reserved";
      if (i + 1 >= line.size() || line[i] != '=' || line[i + 1] != '"') return "expected =\" after label name";
      i += 2;
      std::string v;
      while (i < line.size() && line[i] != '"') {
        if (line[i] == '\\') {
          if (i + 1 >= line.size()) return "dangling backslash";
          char e = line[i + 1];
          if (e != '\\' && e != '"' && e != 'n') return "bad escape in label value";
          v += e == 'n' ? '\n' : e;
          i += 2;
        } else {
          v += line[i++];
        }
      }
      if (i >= line.size()) return "unterminated label value";
      ++i;  // closing quote
      if (out.labels.count(lname)) return "duplicate label " + lname;
      out.labels[lname] = v;
      if (i < line.size() && line[i] == ',') ++i;
      else if (i < line.size() && line[i] != '}') return "expected , or } after a label";
    }
    if (i >= line.size()) return "unterminated label set";
    ++i;
  }
  if (i >= line.size() || line[i] != ' ') return "expected one space before the value";
  std::string value = line.substr(i + 1);
  if (value.find(' ') != std::string::npos) return "timestamps are not allowed in textfiles";
  if (value == "NaN" || value == "+Inf" || value == "-Inf") return "";
  char* end = nullptr;
  out.value = std::strtod(value.c_str(), &end);
  if (value.empty() || *end != '\0') return "value is not a float: '" + value + "'";
  return "";
}

/// Validates a whole textfile: every line parses, each family has HELP then TYPE before its
/// samples, its samples are contiguous, no label set repeats, the file ends with a newline.
std::vector<std::string> validate_prom(const std::string& text, std::map<std::string, std::vector<PromSample>>& families) {
  std::vector<std::string> errors;
  if (text.empty() || text.back() != '\n') errors.push_back("file does not end with a newline");
  std::istringstream in(text);
  std::string line;
  int n = 0;
  std::string current;
  std::set<std::string> closed, typed, helped;
  std::set<std::string> series;
  while (std::getline(in, line)) {
    ++n;
    auto err = [&](const std::string& e) { errors.push_back("line " + std::to_string(n) + ": " + e + ": " + line); };
    if (line.empty()) {
      err("empty line");
      continue;
    }
    if (line[0] == '#') {
      std::istringstream ls(line);
      std::string hash, kw, name;
      ls >> hash >> kw >> name;
      if (kw == "HELP" || kw == "TYPE") {
        if (name.empty() || !is_name_start(name[0])) err("bad metric name in " + kw);
        if (kw == "TYPE") {
          std::string type;
          ls >> type;
          static const std::set<std::string> kTypes = {"counter", "gauge", "histogram", "summary", "untyped"};
          if (!kTypes.count(type)) err("unknown type " + type);
          if (!typed.insert(name).second) err("second TYPE for " + name);
          if (families.count(name)) err("TYPE after samples of " + name);
        } else if (!helped.insert(name).second) {
          err("second HELP for " + name);
        }
        if (name != current) {
          if (!current.empty()) closed.insert(current);
          current = name;
        }
      }
      continue;
    }
    PromSample s;
    std::string e = parse_sample(line, s);
    if (!e.empty()) {
      err(e);
      continue;
    }
    if (s.name != current) {
      if (!current.empty()) closed.insert(current);
      current = s.name;
    }
    if (closed.count(s.name)) err("samples of " + s.name + " are not contiguous");
    if (!typed.count(s.name)) err("sample before TYPE of " + s.name);
    std::string key = s.name;
    for (const auto& [k, v] : s.labels) key += "|" + k + "=" + v;
    if (!series.insert(key).second) err("duplicate series");
    families[s.name].push_back(std::move(s));
  }
  return errors;
}

}  // namespace

TEST(Prometheus, SampleReportIsValidExposition) {
  report::Report r = sample();
  std::string text = report::render_prometheus(r, 2);
  std::map<std::string, std::vector<PromSample>> fam;
  auto errors = validate_prom(text, fam);
  for (const auto& e : errors) ADD_FAILURE() << e;
  for (const auto& [name, samples] : fam) EXPECT_EQ(name.rfind("nccl_doctor_", 0), 0u) << name;
  for (const char* need : {"nccl_doctor_findings", "nccl_doctor_findings_by_id", "nccl_doctor_busbw_bytes_per_second",
                           "nccl_doctor_link_min_bytes_per_second", "nccl_doctor_copy_bandwidth_bytes_per_second",
                           "nccl_doctor_last_run_timestamp_seconds", "nccl_doctor_duration_seconds",
                           "nccl_doctor_exit_code"})
    EXPECT_TRUE(fam.count(need)) << need;
  std::map<std::string, double> sev;
  for (const auto& s : fam["nccl_doctor_findings"]) sev[s.labels.at("severity")] = s.value;
  EXPECT_EQ(sev["error"], 2);
  EXPECT_EQ(sev["warn"], 3);
  EXPECT_EQ(sev["info"], 1);
  EXPECT_EQ(fam["nccl_doctor_exit_code"][0].value, 2);
  EXPECT_EQ(fam["nccl_doctor_last_run_timestamp_seconds"][0].value, 1795880000.0);
  // busbw per op/algo/bytes/host: 3 algos x 7 sizes of allreduce.
  EXPECT_EQ(fam["nccl_doctor_busbw_bytes_per_second"].size(), 21u);
  bool found = false;
  for (const auto& s : fam["nccl_doctor_busbw_bytes_per_second"])
    if (s.labels.at("algo") == "tree" && s.labels.at("bytes") == std::to_string(64 << 20)) {
      found = true;
      EXPECT_GT(s.value, 200e9);  // base units: bytes per second
      EXPECT_TRUE(s.labels.count("host") && s.labels.count("op"));
    }
  EXPECT_TRUE(found);
  // Links: per host and class by default (4 hosts, one class; each host ends 6 directed links).
  ASSERT_EQ(fam["nccl_doctor_links"].size(), 4u);
  for (const auto& s : fam["nccl_doctor_links"]) EXPECT_EQ(s.value, 6) << s.labels.at("host");
  EXPECT_EQ(fam["nccl_doctor_link_min_bytes_per_second"].size(), 4u);
  EXPECT_FALSE(fam.count("nccl_doctor_link_bandwidth_bytes_per_second")) << "the matrix only on request";
  EXPECT_EQ(fam["nccl_doctor_copy_bandwidth_bytes_per_second"].size(), 12u);
  // Every evaluated check is present (0 when not raised), so an alert can tell 0 from absent;
  // a check that did not look has no sample, and each check has an "evaluated" series.
  std::set<std::string> ids;
  for (const auto& s : fam["nccl_doctor_findings_by_id"]) ids.insert(s.labels.at("id"));
  ASSERT_FALSE(r.checks.empty());
  for (const auto& c : r.checks) EXPECT_TRUE(ids.count(c.id)) << c.id;
  EXPECT_FALSE(ids.count("shm.too_small")) << "a log check the sweep never evaluated";
  EXPECT_TRUE(ids.count("nvlink.down"));  // raised
  EXPECT_EQ(fam["nccl_doctor_check_evaluated"].size(), r.checks.size());
  for (const auto& s : fam["nccl_doctor_check_evaluated"]) EXPECT_EQ(s.value, 1) << s.labels.at("id");
}

TEST(Prometheus, EscapesLabelValuesAndDeduplicates) {
  report::Report r;
  r.command = "links";
  report::LinkResult l;
  l.src_host = "we\"ird\\host\nname";
  l.dst_host = "b";
  l.gbps = 1.5;
  r.links = {l, l};  // the same series twice must appear once
  report::PromOptions matrix;
  matrix.link_matrix = true;
  std::string text = report::render_prometheus(r, 0, matrix);
  std::map<std::string, std::vector<PromSample>> fam;
  auto errors = validate_prom(text, fam);
  for (const auto& e : errors) ADD_FAILURE() << e;
  ASSERT_EQ(fam["nccl_doctor_link_bandwidth_bytes_per_second"].size(), 1u);
  EXPECT_EQ(fam["nccl_doctor_link_bandwidth_bytes_per_second"][0].labels.at("src"), "we\"ird\\host\nname");
  ASSERT_EQ(fam["nccl_doctor_links"].size(), 2u);  // both ends
  EXPECT_EQ(fam["nccl_doctor_links"][1].labels.at("host"), "we\"ird\\host\nname");
  EXPECT_EQ(fam["nccl_doctor_links"][1].value, 2);
  EXPECT_EQ(report::prom_escape_label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
  // The validator itself rejects what it must.
  std::map<std::string, std::vector<PromSample>> f2;
  EXPECT_FALSE(validate_prom("# TYPE x gauge\nx{a=\"1\"} 1\nx{a=\"1\"} 2\n", f2).empty());
  EXPECT_FALSE(validate_prom("x 1\n", f2).empty());
  EXPECT_FALSE(validate_prom("# TYPE y gauge\ny{a=\"\\q\"} 1\n", f2).empty());
  EXPECT_FALSE(validate_prom("# TYPE z gauge\nz 1 1700000000\n", f2).empty());
}

/// Every family has HELP then TYPE; names are in base units; labels come from a fixed set per
/// family; no sample is a sentinel (negative bandwidth, time or count).
void expect_conventions(const std::string& text) {
  std::map<std::string, std::vector<PromSample>> fam;
  for (const auto& e : validate_prom(text, fam)) ADD_FAILURE() << e;
  std::istringstream in(text);
  std::string line, last_help;
  while (std::getline(in, line)) {
    if (line.rfind("# HELP ", 0) == 0) last_help = line.substr(7, line.find(' ', 7) - 7);
    if (line.rfind("# TYPE ", 0) == 0) {
      EXPECT_EQ(line.substr(7, line.find(' ', 7) - 7), last_help) << "TYPE without its HELP first: " << line;
    }
  }
  static const std::set<std::string> kLabels = {"version", "command", "nccl_backend", "severity", "id", "status",
                                                "stage",   "host",    "op",           "algo",     "backend", "dtype",
                                                "bytes",   "gpu",     "class",        "src",      "dst"};
  for (const auto& [name, samples] : fam) {
    EXPECT_EQ(name.find("gbps"), std::string::npos) << name << ": not a base unit";
    EXPECT_EQ(name.find("_us"), std::string::npos) << name;
    if (name.find("bandwidth") != std::string::npos || name.find("busbw") != std::string::npos ||
        name.find("algbw") != std::string::npos) {
      EXPECT_TRUE(name.ends_with("_bytes_per_second") || name.ends_with("_ratio") || name.ends_with("_bytes"))
          << name;
    }
    for (const auto& s : samples) {
      for (const auto& [k, v] : s.labels) {
        EXPECT_TRUE(kLabels.count(k)) << name << ": label " << k << " is not in the bounded set";
        if (k == "bytes") {
          auto b = std::stoull(v);
          EXPECT_TRUE(b >= 1024 && b <= (1ull << 34) && (b & (b - 1)) == 0) << name << " bytes=" << v;
        }
      }
      if (name != "nccl_doctor_exit_code") {
        EXPECT_GE(s.value, 0) << name << ": a negative sentinel";
      }
    }
  }
}

TEST(Prometheus, BaseUnitsBoundedLabelsNoSentinels) {
  report::Report r = sample();
  expect_conventions(report::render_prometheus(r, 2));
  report::PromOptions matrix;
  matrix.link_matrix = true;
  expect_conventions(report::render_prometheus(r, 2, matrix));
  // busbw in bytes per second: the report's GB/s times 1e9, exactly.
  std::map<std::string, std::vector<PromSample>> fam;
  (void)validate_prom(report::render_prometheus(r, 2), fam);
  const report::CollectiveResult* big = nullptr;
  for (const auto& c : r.collectives)
    if (c.op == "allreduce" && c.bytes == (64u << 20) && c.algo == "ring") big = &c;
  ASSERT_NE(big, nullptr);
  bool seen = false;
  for (const auto& s : fam["nccl_doctor_busbw_bytes_per_second"])
    if (s.labels.at("algo") == "ring" && s.labels.at("bytes") == std::to_string(64u << 20) &&
        s.labels.at("host") == big->host) {
      EXPECT_DOUBLE_EQ(s.value, big->busbw_gbps * 1e9);
      seen = true;
    }
  EXPECT_TRUE(seen);
  // The largest size of each collective (64 MiB; the 256 MiB rows are GPU copies), no bytes label.
  for (const auto& s : fam["nccl_doctor_busbw_largest_message_bytes"]) EXPECT_EQ(s.value, 67108864.0);
  EXPECT_FALSE(fam["nccl_doctor_busbw_largest_bytes_per_second"].empty());
}

TEST(Prometheus, CardinalityIsBoundedByHostsNotPairsOrRanksOrSizes) {
  // 64 hosts x 2 ranks, every directed rank pair measured (the N^2 of `links --full`), sizes
  // from 1 KiB in steps of 1.5: the default series grow with hosts, never with pairs, ranks
  // or odd sizes.
  report::Report r;
  r.command = "sweep";
  const int hosts = 64;
  for (int h = 0; h < hosts; ++h) r.hosts.push_back({"n" + std::to_string(h), {2 * h, 2 * h + 1}, "", nullptr});
  for (int a = 0; a < 2 * hosts; ++a)
    for (int b = 0; b < 2 * hosts; ++b)
      if (a != b) {
        report::LinkResult l{"n" + std::to_string(a / 2), "n" + std::to_string(b / 2), a, b, 1 << 20,
                             10.0 + (a * 7 + b) % 5, 3.0, a / 2 == b / 2 ? "shm" : "net", true};
        r.links.push_back(l);
      }
  for (double b = 1024; b < 1e9; b *= 1.5) {
    report::CollectiveResult c;
    c.op = "allreduce";
    c.algo = "ring";
    c.backend = "mpi";
    c.dtype = "float32";
    c.bytes = static_cast<std::uint64_t>(b);
    c.time_us = 100;
    c.busbw_gbps = 1;
    c.algbw_gbps = 1;
    c.nranks = 2 * hosts;
    r.collectives.push_back(c);
  }
  std::map<std::string, std::vector<PromSample>> fam;
  std::string text = report::render_prometheus(r, 0);
  for (const auto& e : validate_prom(text, fam)) ADD_FAILURE() << e;
  std::size_t series = 0;
  for (const auto& [name, samples] : fam) series += samples.size();
  // Per host: 2 classes (own shm, net) x 5 link families + 3 host_findings + 1 verdict.
  EXPECT_LE(series, 100u + static_cast<std::size_t>(hosts) * (2 * 5 + 4)) << "series: " << series;
  EXPECT_EQ(fam["nccl_doctor_links"].size(), static_cast<std::size_t>(2 * hosts));
  EXPECT_FALSE(fam.count("nccl_doctor_link_bandwidth_bytes_per_second"));
  // Only 1 KiB (the one listed size of 1024 x 1.5^k) has a bytes label; the largest has its own series.
  EXPECT_EQ(fam["nccl_doctor_busbw_bytes_per_second"].size(), 1u);
  ASSERT_EQ(fam["nccl_doctor_busbw_largest_message_bytes"].size(), 1u);
  EXPECT_GT(fam["nccl_doctor_busbw_largest_message_bytes"][0].value, 5e8);
  for (const auto& [name, samples] : fam)
    for (const auto& s : samples) {
      EXPECT_FALSE(s.labels.count("src_rank") || s.labels.count("nranks")) << name;
    }
  // The matrix on request: one series per host pair (not per rank pair).
  report::PromOptions matrix;
  matrix.link_matrix = true;
  std::map<std::string, std::vector<PromSample>> fm;
  (void)validate_prom(report::render_prometheus(r, 0, matrix), fm);
  EXPECT_EQ(fm["nccl_doctor_link_ok"].size(), static_cast<std::size_t>(hosts * hosts));  // pairs and self (shm)
}

TEST(Prometheus, PerHostFilesPartitionTheSeries) {
  report::Report r = sample();
  const std::string whole = report::render_prometheus(r, 2);
  auto files = report::render_prometheus_per_host(r, 2, {}, "node0");
  std::set<std::string> names;
  for (const auto& h : r.hosts) names.insert(h.name);
  std::set<std::string> got;
  for (const auto& [h, text] : files) got.insert(h);
  EXPECT_EQ(got, names);
  auto sample_lines = [](const std::string& text) {
    std::multiset<std::string> out;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line))
      if (!line.empty() && line[0] != '#') out.insert(line);
    return out;
  };
  std::multiset<std::string> all;
  for (const auto& [h, text] : files) {
    std::map<std::string, std::vector<PromSample>> fam;
    for (const auto& e : validate_prom(text, fam)) ADD_FAILURE() << h << ": " << e;
    // The job-wide series only in the root host's file; every other file holds its own host's.
    EXPECT_EQ(fam.count("nccl_doctor_exit_code"), h == "node0" ? 1u : 0u) << h;
    EXPECT_EQ(fam.count("nccl_doctor_host_verdict"), h == "node0" ? 1u : 0u) << h;
    for (const auto& [name, samples] : fam)
      for (const auto& s : samples)
        if (h != "node0" && s.labels.count("host")) {
          EXPECT_EQ(s.labels.at("host"), h) << name;
        }
    auto lines = sample_lines(text);
    all.insert(lines.begin(), lines.end());
  }
  EXPECT_EQ(all, sample_lines(whole)) << "the files together are the whole textfile, each series once";
  EXPECT_EQ(report::prom_dir_file_name("node0.cluster"), "nccl-doctor-node0.cluster.prom");
  EXPECT_EQ(report::prom_dir_file_name("../x y"), "nccl-doctor-_.._x_y.prom");
  EXPECT_EQ(report::prom_dir_file_name(""), "nccl-doctor-_.prom");
}

TEST(Prometheus, HostVerdictCountsEachHostOfAFinding) {
  report::Report r;
  r.command = "links";
  r.hosts = {{"a", {0}, "", nullptr}, {"b", {1}, "", nullptr}, {"c", {2}, "", nullptr}};
  r.findings.push_back(make_finding("link.slow", "a,b", "a<->b", "slow"));
  r.findings.back().severity = Severity::kWarn;
  std::map<std::string, std::vector<PromSample>> fam;
  (void)validate_prom(report::render_prometheus(r, 1), fam);
  std::map<std::string, double> verdict;
  for (const auto& s : fam["nccl_doctor_host_verdict"]) verdict[s.labels.at("host")] = s.value;
  EXPECT_EQ(verdict, (std::map<std::string, double>{{"a", 1}, {"b", 1}, {"c", 0}}));
  for (const auto& s : fam["nccl_doctor_host_findings"]) EXPECT_NE(s.labels.at("host"), "a,b");
}

TEST(Prometheus, OddSectionsAndLabelValuesFromAFileStayBounded) {
  report::Report r;
  r.command = "sweep; rm -rf /";
  r.sections["stages"] = nlohmann::json::parse(
      R"([{"name": 3}, {"name": "bench", "status": 7}, {"name": "links", "status": "ran", "elapsed_s": "x"},
          {"name": "mystery", "status": "ran", "elapsed_s": 1}, {"name": "env", "status": "ran", "elapsed_s": 0.5}])");
  report::CollectiveResult c;
  c.op = "all reduce with \"free text\"";
  c.algo = "ring";
  c.backend = "mpi";
  c.dtype = "float32";
  c.bytes = 1 << 20;
  c.time_us = 10;
  c.busbw_gbps = 1;
  r.collectives.push_back(c);
  std::string text;
  ASSERT_NO_THROW(text = report::render_prometheus(r, 0));
  std::map<std::string, std::vector<PromSample>> fam;
  for (const auto& e : validate_prom(text, fam)) ADD_FAILURE() << e;
  ASSERT_EQ(fam["nccl_doctor_stage_duration_seconds"].size(), 1u);  // env only
  EXPECT_EQ(fam["nccl_doctor_stage_duration_seconds"][0].labels.at("stage"), "env");
  EXPECT_EQ(fam["nccl_doctor_busbw_bytes_per_second"].at(0).labels.at("op"), "other");
  EXPECT_EQ(fam["nccl_doctor_info"].at(0).labels.at("command"), "other");
}

TEST(JUnit, TestcasePerCheckAndHostWithFailures) {
  report::Report r = sample();
  std::string xml = report::render_junit(r, 2);
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(xml.c_str())) << xml.substr(0, 400);
  pugi::xml_node suites = doc.child("testsuites");
  ASSERT_TRUE(suites);
  int tests = 0, failures = 0;
  std::map<std::string, pugi::xml_node> cases;  // "id@host"
  for (pugi::xml_node suite : suites.children("testsuite")) {
    int n = 0, f = 0;
    for (pugi::xml_node tc : suite.children("testcase")) {
      ++n;
      if (tc.child("failure")) ++f;
      std::string cls = tc.attribute("classname").value();
      cases[std::string(tc.attribute("name").value()) + "@" + cls.substr(cls.rfind('.') + 1)] = tc;
    }
    EXPECT_EQ(suite.attribute("tests").as_int(), n);
    EXPECT_EQ(suite.attribute("failures").as_int(), f);
    tests += n;
    failures += f;
  }
  EXPECT_EQ(suites.attribute("tests").as_int(), tests);
  EXPECT_EQ(suites.attribute("failures").as_int(), failures);
  // 5 warn/error findings, each on one host (bench.busbw_low names none: the cluster case).
  EXPECT_EQ(failures, 5);
  ASSERT_TRUE(cases.count("nvlink.down@node1"));
  pugi::xml_node fail = cases["nvlink.down@node1"].child("failure");
  ASSERT_TRUE(fail);
  EXPECT_STREQ(fail.attribute("type").value(), "error");
  EXPECT_NE(std::string(fail.attribute("message").value()).find("NVLinks down"), std::string::npos);
  EXPECT_NE(std::string(fail.text().get()).find("state=inactive"), std::string::npos);  // evidence
  ASSERT_TRUE(cases.count("bench.busbw_low@cluster"));
  EXPECT_TRUE(cases["bench.busbw_low@cluster"].child("failure"));
  // The catalogue's checks of the domains the sweep ran appear for every host, passing.
  for (const char* h : {"node0", "node1", "node2", "node3"}) {
    ASSERT_TRUE(cases.count(std::string("env.mismatch@") + h)) << h;
    EXPECT_FALSE(cases[std::string("env.mismatch@") + h].child("failure"));
  }
  // The control character of the finding's message did not make the XML invalid.
  EXPECT_EQ(xml.find('\x1b'), std::string::npos);
}

TEST(JUnit, SkippedStagesAndIncompleteRuns) {
  report::Report r;
  r.command = "sweep";
  r.hosts.push_back({"a", {0}, "", nullptr});
  r.sections["stages"] = nlohmann::json::array(
      {{{"name", "env"}, {"status", "skipped"}, {"note", "no launcher"}}, {{"name", "dist"}, {"status", "ran"}}});
  r.incomplete = true;
  r.incomplete_reason = "deadline";
  std::string xml = report::render_junit(r, 3);
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(xml.c_str()));
  auto skipped = doc.select_nodes("//testcase[@name='env.risky']/skipped");
  ASSERT_EQ(skipped.size(), 1u);
  EXPECT_STREQ(skipped.first().node().attribute("message").value(), "no launcher");
  EXPECT_EQ(doc.child("testsuites").attribute("errors").as_int(), 1);
  EXPECT_TRUE(doc.select_node("//testcase[@name='completed']/error"));
}

TEST(Html, SelfContainedWithTopologyHeatmapAndChart) {
  report::Report r = sample();
  std::string html = report::render_html(r, 2);
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(html.find("ERRORS"), std::string::npos);
  // Nothing from the network: no script, no external reference (SVG's xmlns is a name, not a load).
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("src="), std::string::npos);
  EXPECT_EQ(html.find("@import"), std::string::npos);
  EXPECT_EQ(html.find("url("), std::string::npos);
  std::string no_ns = html;
  for (std::size_t p; (p = no_ns.find("xmlns=\"http://www.w3.org/2000/svg\"")) != std::string::npos;)
    no_ns.erase(p, 34);
  EXPECT_EQ(no_ns.find("http://"), std::string::npos);
  EXPECT_EQ(no_ns.find("https://"), std::string::npos);
  // Topology: 4 hosts, 2 identical ones folded into one picture; node1's GPU3 drawn as faulty
  // (error colour) with its x8 link labelled.
  std::size_t topo = 0;
  for (std::size_t p = 0; (p = html.find("class=\"topo\"", p)) != std::string::npos; ++p) ++topo;
  EXPECT_EQ(topo, 3u);
  EXPECT_NE(html.find("Same topology as node0"), std::string::npos);
  EXPECT_NE(html.find("fill=\"#ffd7d5\""), std::string::npos);
  EXPECT_NE(html.find(">x8/16 G5<"), std::string::npos);
  EXPECT_NE(html.find("NVLink GPU3 - NVSwitch: 4 link(s), some down"), std::string::npos);
  // Heatmap: 4x4 cells, node2's links in the slow colour range.
  std::size_t cells = 0;
  for (std::size_t p = 0; (p = html.find("class=\"cell\"", p)) != std::string::npos; ++p) ++cells;
  EXPECT_EQ(cells, 16u);
  EXPECT_NE(html.find("node2 -&gt; node0: 24.6 GB/s"), std::string::npos);
  // The busbw chart with its expected line from the busbw_low finding.
  EXPECT_NE(html.find("class=\"chart\""), std::string::npos);
  EXPECT_NE(html.find("expected (topology): 360 GB/s"), std::string::npos);
  // Escaping: the finding's "<&" and the ANSI escape are neutralised.
  EXPECT_NE(html.find("&lt;&amp; &quot;quoted&quot;&gt;"), std::string::npos);
  EXPECT_EQ(html.find('\x1b'), std::string::npos);
}

TEST(Html, RendersDefensivelyWithoutOrWithOddTopology) {
  report::Report r;
  r.command = "topo";
  r.hosts.push_back({"a", {0}, "", nlohmann::json::parse(R"({"gpus": "nope", "pci": [{"bus_id": "x", "parent": "x"}],
      "nics": [{"name": "eth0", "ports": [{"state": "DOWN"}]}], "cpus": [{"numa": "?"}]})")});
  r.hosts.push_back({"b", {1}, "", nullptr});
  std::string html = report::render_html(r, 0);
  EXPECT_NE(html.find("HEALTHY"), std::string::npos);
  EXPECT_NE(html.find("eth0"), std::string::npos);
  EXPECT_NE(html.find("</html>"), std::string::npos);
  // The picture comes from the typed model: the parts of another type are named, the rest drawn.
  EXPECT_NE(html.find("Parts of the topology model of this host could not be read (cpus, gpus)"), std::string::npos)
      << html;
}

TEST(Escape, CleanTextKeepsUtf8DropsControls) {
  EXPECT_EQ(report::clean_text("ok µs\tx\n"), "ok µs\tx\n");
  EXPECT_EQ(report::clean_text(std::string("a\x1b[31mb")), "a\xEF\xBF\xBD[31mb");
  EXPECT_EQ(report::clean_text(std::string("\xff\xc3")), "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(report::clean_text(std::string("\xc0\xaf")), "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong '/'
  EXPECT_EQ(report::html_escape("<a href='x'>&"), "&lt;a href=&#39;x&#39;&gt;&amp;");
}

// ---- Comparison (diff / --baseline) ----

TEST(Compare, IdenticalReportsHaveNoChanges) {
  report::Report r = sample();
  auto cmp = checks::compare_reports(r, r);
  EXPECT_TRUE(cmp.changes.empty());
  EXPECT_TRUE(cmp.findings.empty());
  EXPECT_FALSE(cmp.any_worse());
  EXPECT_TRUE(checks::baseline_findings(r, r).empty());
}

TEST(Compare, BusbwRegressionBeyondSpreadOnly) {
  report::Report base = sample();
  report::Report now = base;
  for (auto& c : now.collectives) {
    if (c.op == "allreduce" && c.algo == "ring" && c.bytes >= (16u << 20)) c.busbw_gbps *= 0.7;  // -30%
    if (c.op == "allreduce" && c.algo == "tree") c.busbw_gbps *= 0.97;                       // -3%: noise
    if (c.op == "d2d" && c.host == "node3") c.busbw_gbps *= 0.4;                              // -60%
  }
  auto f = checks::baseline_findings(base, now);
  std::vector<const Finding*> reg;
  for (const auto& x : f)
    if (x.id == "bench.regression") reg.push_back(&x);
  ASSERT_EQ(reg.size(), 2u);
  const Finding* ring = reg[0]->subject.find("allreduce") != std::string::npos ? reg[0] : reg[1];
  const Finding* copy = ring == reg[0] ? reg[1] : reg[0];
  EXPECT_EQ(ring->severity, Severity::kWarn);
  EXPECT_EQ(ring->evidence.size(), 3u);  // 16M, 32M, 64M
  EXPECT_NE(ring->message.find("64M"), std::string::npos);
  ASSERT_TRUE(ring->expected && ring->measured);
  EXPECT_NEAR(*ring->measured / *ring->expected, 0.7, 1e-9);
  EXPECT_EQ(copy->host, "node3");
  EXPECT_EQ(copy->severity, Severity::kError);  // lost more than half
  // A wide measured spread absorbs the same drop.
  for (auto& c : base.collectives) c.spread = 0.4;
  for (auto& c : now.collectives) c.spread = 0.4;
  auto f2 = checks::baseline_findings(base, now);
  for (const auto& x : f2) EXPECT_NE(x.subject.find("d2d"), std::string::npos) << x.message;
}

TEST(Compare, LinkRegressionNamesThePairOrTheNode) {
  report::Report base = sample();
  for (auto& l : base.links) l.gbps = 47;  // a healthy baseline
  report::Report now = base;
  for (auto& l : now.links)
    if ((l.src_host == "node0" && l.dst_host == "node3") || (l.src_host == "node3" && l.dst_host == "node0")) l.gbps = 20;
  auto f = checks::baseline_findings(base, now);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].id, "link.regression");
  EXPECT_EQ(f[0].subject, "node0:0<->node3:3");
  EXPECT_EQ(f[0].evidence.size(), 2u);
  // node2 slow with everyone: one finding naming node2.
  now = base;
  for (auto& l : now.links)
    if (l.src_host == "node2" || l.dst_host == "node2") l.gbps = 10;
  f = checks::baseline_findings(base, now);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].subject, "node2:2");
  EXPECT_EQ(f[0].host, "node2");
  EXPECT_EQ(f[0].evidence.size(), 6u);
  // A pair that stopped answering.
  now = base;
  now.links[0].ok = false;
  now.links[0].gbps = 0;
  auto cmp = checks::compare_reports(base, now);
  EXPECT_TRUE(cmp.any_worse());
}

TEST(Compare, TopologyChangeListsTheFields) {
  report::Report base = sample();
  report::Report now = base;
  auto& h = now.hosts[0];
  h.fingerprint = "0123456789abcdef";
  h.topology["gpus"][5]["pcie_width_cur"] = 4;
  auto f = checks::baseline_findings(base, now);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].id, "topo.changed");
  EXPECT_EQ(f[0].host, "node0");
  ASSERT_FALSE(f[0].evidence.empty());
  EXPECT_EQ(f[0].evidence[0], "/gpus/5/pcie_width_cur: 16 -> 4");
}

TEST(Compare, FindingsAddedRemovedAndWorse) {
  report::Report base = sample();
  report::Report now = base;
  now.findings.erase(now.findings.begin());  // pcie.link_degraded fixed
  Finding f = make_finding("env.mismatch", "node3", "ranks 3", "NCCL_IB_HCA differs");
  now.findings.push_back(f);
  for (auto& x : now.findings)
    if (x.id == "topo.differs") x.severity = Severity::kError;
  auto cmp = checks::compare_reports(base, now);
  int added = 0, removed = 0;
  for (const auto& c : cmp.changes) {
    if (c.kind == checks::Change::Kind::kFindingAdded) ++added;
    if (c.kind == checks::Change::Kind::kFindingRemoved) ++removed;
  }
  EXPECT_EQ(added, 2);  // the new env.mismatch, topo.differs now an error
  EXPECT_EQ(removed, 1);
  ASSERT_EQ(cmp.findings.size(), 2u);
  report::Report d;
  d.findings = cmp.findings;
  EXPECT_EQ(report::exit_code(d, report::FailOn::kWarn), 2);
}

TEST(ReportJson, RestoresIncompleteAndArgs) {
  report::Report r;
  r.command = "sweep";
  r.args = {"--quick"};
  r.incomplete = true;
  r.incomplete_reason = "deadline expired";
  auto back = report::report_from_json(report::report_to_json(r, 3).dump(), "x.json");
  EXPECT_TRUE(back.incomplete);
  EXPECT_EQ(back.incomplete_reason, "deadline expired");
  EXPECT_EQ(back.args, r.args);
  EXPECT_EQ(report::exit_code(back, report::FailOn::kWarn), 3);
}

}  // namespace ncd

namespace ncd {

TEST(Compare, CopiesFromBenchSectionsAreComparedAndRendered) {
  report::Report base;
  base.command = "bench";
  base.sections["copies"] = nlohmann::json::parse(R"([
    {"kind": "h2d", "src": -1, "dst": 0, "bus_id": "0000:1b:00.0", "bytes": 268435456, "gbps": 25.1,
     "expected_gbps": 31.5, "expected_from": "PCIe Gen4 x16", "host": "gpu1", "rank": 0},
    {"kind": "d2d", "src": 0, "dst": 1, "bus_id": "0000:1b:00.0", "bytes": 268435456, "gbps": 180.0,
     "expected_gbps": 0, "expected_from": "", "host": "gpu1", "rank": 0}])");
  auto copies = checks::copy_measurements(base);
  ASSERT_EQ(copies.size(), 2u);
  EXPECT_EQ(copies[0].row.op, "h2d");
  EXPECT_EQ(copies[0].row.algo, "GPU0");
  EXPECT_EQ(copies[1].row.algo, "GPU0->GPU1");
  EXPECT_DOUBLE_EQ(copies[0].expected_gbps, 31.5);
  report::Report now = base;
  now.sections["copies"][0]["gbps"] = 12.0;  // the GPU's link trained down
  auto f = checks::baseline_findings(base, now);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].id, "bench.regression");
  EXPECT_EQ(f[0].host, "gpu1");
  EXPECT_NE(f[0].message.find("h2d"), std::string::npos);
  std::string prom = report::render_prometheus(now, 1);
  EXPECT_NE(prom.find("nccl_doctor_copy_bandwidth_bytes_per_second{host=\"gpu1\",op=\"h2d\",gpu=\"GPU0\",bytes=\"268435456\"} 12000000000\n"),
            std::string::npos);
  std::string html = report::render_html(now, 1);
  EXPECT_NE(html.find("PCIe Gen4 x16"), std::string::npos);
}

}  // namespace ncd

namespace ncd {
namespace {

TEST(Html, SectionsOfAnotherShapeAreReadAsTypedRecords) {
  // A hand-edited or newer report: fields of another type read as absent, never a crash.
  report::Report r;
  r.command = "diff";
  r.sections = nlohmann::json::parse(R"({
    "diff": {"old": {"file": "a.json"}, "new": "b.json",
             "changes": [{"worse": "yes", "kind": "bench", "subject": 7, "text": "busbw 10 -> 5"},
                         {"worse": true, "kind": "link", "subject": "n0 -> n1", "text": "24.6 -> 12"}, 3]},
    "links": {"classes": {"net": {"median_gbps": 10, "slow_below_gbps": "?"}, "shm": {"median_gbps": "x"}}},
    "baseline": {"collectives": "none"},
    "stages": [{"name": "bench", "status": "skipped", "reason": null, "note": "one rank"}, "x"]})");
  const auto d = model::diff_of(r);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->old_file, "a.json");
  EXPECT_EQ(d->new_file, "");
  ASSERT_EQ(d->changes.size(), 2u);
  EXPECT_FALSE(d->changes[0].worse);
  EXPECT_EQ(d->changes[0].subject, "");
  EXPECT_TRUE(d->changes[1].worse);
  const auto classes = model::link_classes_of(r);
  ASSERT_EQ(classes.size(), 1u);
  EXPECT_DOUBLE_EQ(classes.at("net").median_gbps, 10);
  EXPECT_DOUBLE_EQ(classes.at("net").slow_below_gbps, 0);
  EXPECT_TRUE(model::baseline_rows_of(r).empty());
  const auto stages = model::stages_of(r);
  ASSERT_TRUE(stages.has_value());
  ASSERT_EQ(stages->size(), 1u);
  EXPECT_EQ(model::unmeasured_stages(r), std::vector<std::string>{"bench (one rank)"});
  const std::string html = report::render_html(r, 3);
  EXPECT_NE(html.find("<span class=\"sev error\">worse</span></td><td>link</td><td>n0 -&gt; n1"), std::string::npos);
  EXPECT_NE(html.find("<td>bench</td><td>skipped</td>"), std::string::npos);
}

}  // namespace
}  // namespace ncd
