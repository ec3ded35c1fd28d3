// SPDX-License-Identifier: Apache-2.0
// Every case of corpus/logs: the established root cause is found (and ranked first), quoting at
// least one of its evidence lines; healthy cases raise no error; nothing crashes. Then the same
// cases behind other launchers' prefixes must give the same diagnosis.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.hpp"
#include "core/text.hpp"
#include "checks/log_rules.hpp"

// The log rules moved to checks/ (issue 14); the log tests keep their names.
namespace ncd::nccl {
using checks::analyze;
using checks::analyze_files;
using checks::Diagnosis;
}  // namespace ncd::nccl

namespace ncd::nccl {
namespace {

struct Case {
  std::string id;
  std::vector<std::string> expected;
  std::vector<std::string> evidence;
  std::string path;  // the log file
  bool holdout = false;  // kept out of development: scored, not required (tests/data/logs/PROVENANCE.md)
};

// The project's corpus (tests/data/logs), always; an extra corpus folder with the same layout
// (NCD_EXTRA_CORPUS_DIR/logs) adds the cases whose ids the project does not have.
std::string corpus_dir() { return std::string(NCD_TEST_DATA_DIR) + "/logs"; }

void load_cases_from(const std::string& dir, std::vector<Case>& out) {
  std::ifstream in(dir + "/cases.jsonl");
  std::string line;
  while (std::getline(in, line)) {
    if (trim(line).empty()) continue;
    auto j = nlohmann::json::parse(line);
    Case c;
    c.id = j.at("id").get<std::string>();
    bool known = false;
    for (const auto& o : out) known = known || o.id == c.id;
    if (known) continue;
    c.expected = j.at("expected_findings").get<std::vector<std::string>>();
    c.evidence = j.at("evidence_lines").get<std::vector<std::string>>();
    c.path = dir + "/cases/" + c.id + ".log";
    c.holdout = j.value("split", std::string("dev")) == "holdout";
    out.push_back(std::move(c));
  }
}

std::vector<Case> load_cases() {
  std::vector<Case> out;
  load_cases_from(corpus_dir(), out);
  std::string extra = NCD_EXTRA_CORPUS_DIR;
  if (!extra.empty()) load_cases_from(extra + "/logs", out);
  return out;
}

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Diagnosis analyze_text(const std::string& text, const std::string& name) {
  LogIngest in;
  in.add_text(text, name);
  return analyze(in.take());
}

const Finding* find_id(const Diagnosis& d, const std::string& id) {
  for (const auto& f : d.findings)
    if (f.id == id) return &f;
  return nullptr;
}

bool quotes_evidence(const Finding& f, const std::vector<std::string>& lines) {
  for (const auto& ev : f.evidence)
    for (const auto& want : lines)
      if (ev.find(std::string(trim(want))) != std::string::npos) return true;
  return false;
}

void check_case(const Case& c, const Diagnosis& d, const std::string& variant) {
  SCOPED_TRACE(c.id + variant);
  ASSERT_FALSE(c.expected.empty());
  const std::string& root = c.expected.front();
  if (root == "healthy") {
    for (const auto& f : d.findings) EXPECT_NE(f.severity, Severity::kError) << f.id << ": " << f.message;
    EXPECT_TRUE(find_id(d, "log.healthy")) << "no positive 'healthy' finding";
    EXPECT_TRUE(d.root.empty()) << d.root;
    return;
  }
  const Finding* f = find_id(d, root);
  ASSERT_TRUE(f) << "root cause " << root << " not found; root was " << d.root;
  EXPECT_TRUE(quotes_evidence(*f, c.evidence)) << root << " quotes none of the case's evidence lines";
  EXPECT_EQ(d.root, root) << "the established root cause is not ranked first";
  ASSERT_FALSE(d.findings.empty());
  EXPECT_EQ(d.findings.front().id, root);
  EXPECT_NE(d.findings.front().severity, Severity::kInfo);
}

// Named-first rate the holdout must keep (percent), set from its first scoring (docs/log.md).
// logs2 added 6 harder holdout cases (thin excerpts; first scored 4/6, see PROVENANCE.md): the set is
// now 16, first scored 14/16 (87%); the floor keeps one miss of slack.
constexpr int kHoldoutFloorPercent = 80;  // first scoring: 10/10, then 14/16 with the logs2 cases

std::vector<Case> dev_cases() {
  std::vector<Case> out;
  for (auto& c : load_cases())
    if (!c.holdout) out.push_back(std::move(c));
  return out;
}

// How a set of cases resolves: the established cause named first, failures called healthy,
// healthy runs given a problem.
struct Score {
  int cases = 0, named_first = 0, false_healthy = 0, false_alarms = 0, healthy_cases = 0;
  std::vector<std::string> misses;
};

Score score(const std::vector<Case>& cases) {
  Score s;
  for (const auto& c : cases) {
    ++s.cases;
    Diagnosis d;
    try {
      d = analyze_files({c.path});
    } catch (const std::exception& e) {
      s.misses.push_back(c.id + ": " + e.what());
      continue;
    }
    const std::string& root = c.expected.front();
    if (root == "healthy") {
      ++s.healthy_cases;
      if (!d.root.empty()) ++s.false_alarms;
      else ++s.named_first;
      continue;
    }
    if (d.root.empty()) ++s.false_healthy;
    if (d.root == root && !d.findings.empty() && d.findings.front().id == root) ++s.named_first;
    else s.misses.push_back(c.id + ": expected " + root + ", got " + (d.root.empty() ? "(healthy)" : d.root));
  }
  return s;
}

void print_score(const char* name, const Score& s) {
  std::cout << fmt::format("[ {}: {} case(s), named first {}/{} ({:.0f}%), false healthy {}, false alarms {} (of {} "
                           "healthy) ]\n",
                           name, s.cases, s.named_first, s.cases, s.cases ? 100.0 * s.named_first / s.cases : 0.0,
                           s.false_healthy, s.false_alarms, s.healthy_cases);
  for (const auto& m : s.misses) std::cout << "    miss: " << m << "\n";
}

TEST(LogCorpus, EveryCaseFindsItsRootCauseWithEvidence) {
  auto cases = dev_cases();
  ASSERT_GE(cases.size(), 55u);
  int secondary_found = 0, secondary_total = 0;
  for (const auto& c : cases) {
    Diagnosis d;
    ASSERT_NO_THROW(d = analyze_files({c.path})) << c.id;
    check_case(c, d, "");
    for (std::size_t i = 1; i < c.expected.size(); ++i) {
      ++secondary_total;
      if (find_id(d, c.expected[i])) ++secondary_found;
    }
    EXPECT_FALSE(d.verdict.empty());
  }
  // Secondary ids are a bonus; report the rate and keep it from regressing far.
  std::cout << "[ secondary findings: " << secondary_found << "/" << secondary_total << " ]\n";
  EXPECT_GE(secondary_found * 10, secondary_total * 7);
}

// The same logs behind other launchers, wrappers and terminals.
std::string transform(const std::string& text, const std::string& kind) {
  std::string out;
  int n = 0;
  for (const auto& line : split(text, '\n', false)) {
    std::string l = line;
    if (kind == "openmpi") l = "[1," + std::to_string(n % 4) + "]<stdout>:" + l;
    else if (kind == "pdsh") l = "gpu-node07: " + l;
    else if (kind == "ci") l = "[2025-03-01 10:11:12] " + l;
    else if (kind == "ray") l = "(RayTrainWorker pid=4242) " + l;
    else if (kind == "ansi") l = "\x1b[36m\x1b[0m" + l;
    else if (kind == "cloudwatch") l = "  | 2024-11-28T07:42:14.532Z | " + l;
    else if (kind == "crlf") l = l + "\r";
    else if (kind == "torchrun") l = "[default" + std::to_string(n % 2) + "]:" + l;
    out += l + "\n";
    ++n;
  }
  return out;
}

// The third of the gathered cases kept out of development (split "holdout"): scored, printed, and
// held to the floor measured when they were first scored; a holdout miss is information, not a
// test failure.
TEST(LogCorpus, HoldoutScoreIsReportedAndHoldsItsFloor) {
  std::vector<Case> holdout;
  for (auto& c : load_cases())
    if (c.holdout) holdout.push_back(std::move(c));
  ASSERT_GE(holdout.size(), 10u);
  Score s = score(holdout);
  print_score("holdout", s);
  print_score("dev", score(dev_cases()));
  EXPECT_GE(s.named_first * 100, s.cases * kHoldoutFloorPercent);
  EXPECT_EQ(s.false_healthy, 0);
}

TEST(LogCorpus, SameDiagnosisBehindLaunchersAndWrappers) {
  const auto cases = dev_cases();
  ASSERT_GE(cases.size(), 55u) << "the corpus is missing: an empty set proves nothing";
  for (const std::string kind : {"openmpi", "pdsh", "ci", "ray", "ansi", "cloudwatch", "crlf", "torchrun"}) {
    for (const auto& c : cases) {
      std::string text = read_all(c.path);
      ASSERT_FALSE(text.empty()) << c.path;
      Diagnosis d;
      ASSERT_NO_THROW(d = analyze_text(transform(text, kind), c.id + "." + kind)) << kind;
      check_case(c, d, " behind " + kind);
    }
  }
}

TEST(LogCorpus, SeveralFilesAreOneRunAndGzipIsTransparent) {
  // Two cases fed as separate files still give each its root; the analysis sees both hosts.
  std::string a = corpus_dir() + "/cases/net-nccl1291-gh200-bootstrap-iface-mismatch.log";
  RunLog model;
  Diagnosis d = analyze_files({a}, &model);
  EXPECT_EQ(d.root, "net.bootstrap_iface_mismatch_across_nodes");
  EXPECT_EQ(model.host_names().size(), 2u);
  // Split the same log per host into two files: same diagnosis.
  std::string text = read_all(a);
  std::string gh1, gh2;
  for (const auto& l : split(text, '\n', false)) (l.rfind("gh2", 0) == 0 ? gh2 : gh1) += l + "\n";
  char d1[] = "/tmp/ncd_log_test_XXXXXX";
  ASSERT_TRUE(mkdtemp(d1));
  std::string f1 = std::string(d1) + "/gh1.log", f2 = std::string(d1) + "/gh2.log.gz";
  std::ofstream(f1) << gh1;
  std::string cmd = "printf '%s' '" + gh2 + "' | gzip -c > " + f2;
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  Diagnosis d2 = analyze_files({f1, f2});
  EXPECT_EQ(d2.root, "net.bootstrap_iface_mismatch_across_nodes");
  std::system(("rm -rf " + std::string(d1)).c_str());
}

TEST(LogCorpus, BadInputsFailWithOneLineNamingTheFile) {
  char dir[] = "/tmp/ncd_log_bad_XXXXXX";
  ASSERT_TRUE(mkdtemp(dir));
  std::string base(dir);
  auto expect_input_error = [](const std::vector<std::string>& files, const std::string& name) {
    try {
      (void)analyze_files(files);
      ADD_FAILURE() << name << ": no error";
    } catch (const InputError& e) {
      std::string what = e.what();
      EXPECT_NE(what.find(name), std::string::npos) << what;
      EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    }
  };
  std::ofstream(base + "/empty.log").close();
  expect_input_error({base + "/empty.log"}, "empty.log");
  {
    std::ofstream b(base + "/junk.bin", std::ios::binary);
    for (int i = 0; i < 100000; ++i) b.put(static_cast<char>((i * 7919) & 0xff));
  }
  expect_input_error({base + "/junk.bin"}, "junk.bin");
  expect_input_error({base}, base);
  expect_input_error({base + "/missing.log"}, "missing.log");
  std::ofstream(base + "/app.log") << "epoch 1 loss 0.3\nepoch 2 loss 0.2\nTraceback (most recent call last):\n";
  expect_input_error({base + "/app.log"}, "app.log");
  {
    std::ofstream big(base + "/oneline.log");
    std::string chunk(1 << 20, 'a');
    for (int i = 0; i < 20; ++i) big << chunk;
  }
  expect_input_error({base + "/oneline.log"}, "oneline.log");
  std::system(("rm -rf " + base).c_str());
}

TEST(LogCorpus, LongLineWithNcclContentIsCutNotLost) {
  std::string text = "host1:1:1 [0] NCCL INFO NCCL version 2.21.5+cuda12.4\n" + std::string(200000, 'x') +
                     "\nhost1:1:1 [0] init.cc:100 NCCL WARN Duplicate GPU detected : rank 0 and rank 1 both on CUDA "
                     "device 1b000\n";
  LogIngest in;
  in.add_text(text, "long.log");
  RunLog log = in.take();
  EXPECT_EQ(log.truncated_lines, 1);
  Diagnosis d = analyze(log);
  EXPECT_EQ(d.root, "gpu.duplicate");
}

TEST(LogCorpus, MemoryIsBoundedByDistinctEvents) {
  // 200k repeated WARN/trace lines from 8 hosts keep a bounded number of quoted events.
  std::string text;
  for (int i = 0; i < 200000; ++i)
    text += fmt::format("node{}:{}:{} [{}] misc/socket.cc:49 NCCL WARN socketProgress: Connection closed by remote "
                        "peer node{}<4242>\nnode{}:{}:{} [0] NCCL INFO misc/socket.cc:749 -> 6\n",
                        i % 8, 100 + i % 64, 200, i % 8, (i + 1) % 8, i % 8, 100 + i % 64, 200);
  LogIngest in;
  in.add_text(text, "flood.log");
  RunLog log = in.take();
  EXPECT_LE(log.events.size(), 4096u);
  EXPECT_GT(log.dropped_events, 300000);
  Diagnosis d = analyze(log);
  EXPECT_EQ(d.root, "log.peer_exited");
}

}  // namespace
}  // namespace ncd::nccl
