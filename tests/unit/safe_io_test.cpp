// SPDX-License-Identifier: Apache-2.0
// Reports that cannot destroy, lie or hang (issue 20): the report writer replaces regular files
// only, through an unguessable O_EXCL|O_NOFOLLOW temporary; devices stay devices; inputs end by
// their deadline; a truncated .gz is reported; wide encodings are named; the streamed report
// reader gives what the tree reader gives.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <zlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/error.hpp"
#include "core/fs.hpp"
#include "checks/log_rules.hpp"
#include "report/escape.hpp"
#include "report/report.hpp"
#include "report/writers.hpp"

namespace ncd {
namespace {

namespace fs = std::filesystem;

struct TempDir {
  fs::path dir;
  TempDir() {
    std::string t = (fs::temp_directory_path() / "ncd-safeio-XXXXXX").string();
    dir = ::mkdtemp(t.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  [[nodiscard]] std::string operator/(const std::string& name) const { return (dir / name).string(); }
};

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

std::string fixed_suffix() { return "PLANTED"; }

TEST(SafeWrite, RegularFileReplacedAndNoTemporaryLeft) {
  TempDir t;
  std::string out = t / "r.json";
  write_file_atomic(out, "old\n");
  write_file_atomic(out, "new\n");
  EXPECT_EQ(slurp(out), "new\n");
  int entries = 0;
  for (const auto& e : fs::directory_iterator(t.dir)) {
    (void)e;
    ++entries;
  }
  EXPECT_EQ(entries, 1);
}

TEST(SafeWrite, DeviceNodeIsWrittenInPlaceNotReplaced) {
  TempDir t;
  std::string node = t / "null";
  if (::mknod(node.c_str(), S_IFCHR | 0666, makedev(1, 3)) != 0)
    GTEST_SKIP() << "mknod needs root (CAP_MKNOD): " << std::strerror(errno);
  write_file_atomic(node, std::string(17000, 'x'));
  struct stat st {};
  ASSERT_EQ(::lstat(node.c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode)) << "the device node was replaced by a regular file";
  EXPECT_EQ(major(st.st_rdev), 1u);
  EXPECT_EQ(minor(st.st_rdev), 3u);
  EXPECT_EQ(check_output_path(node), OutputKind::kInPlace);
}

TEST(SafeWrite, FifoIsWrittenInPlace) {
  TempDir t;
  std::string fifo = t / "pipe";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  int rfd = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK);
  ASSERT_GE(rfd, 0);
  write_file_atomic(fifo, "metric 1\n");
  char buf[64] = {};
  ssize_t n = ::read(rfd, buf, sizeof buf);
  ::close(rfd);
  EXPECT_EQ(std::string(buf, n > 0 ? static_cast<std::size_t>(n) : 0), "metric 1\n");
  struct stat st {};
  ASSERT_EQ(::lstat(fifo.c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
}

TEST(SafeWrite, PlantedSymlinkAtTheTemporaryNameCannotRedirect) {
  TempDir t;
  std::string victim = t / "victim";
  std::string out = t / "r.prom";
  {
    std::ofstream(victim) << "precious\n";
  }
  // The name the writer will try first is known to the test (the seam), as if an attacker had
  // guessed it: the link must be left alone and its target untouched.
  std::string planted = t / ".r.prom.tmp.PLANTED";
  ASSERT_EQ(::symlink(victim.c_str(), planted.c_str()), 0);
  // Always the planted name: every attempt collides, the write fails, nothing is followed.
  detail::set_temp_suffix_for_test(&fixed_suffix);
  EXPECT_THROW(write_file_atomic(out, "report\n"), Error);
  detail::set_temp_suffix_for_test(nullptr);
  EXPECT_EQ(slurp(victim), "precious\n");
  EXPECT_FALSE(fs::exists(out));
  // The old predictable name (<out>.tmp.<pid>) as a link: random names never use it.
  std::string old_name = out + ".tmp." + std::to_string(::getpid());
  ASSERT_EQ(::symlink(victim.c_str(), old_name.c_str()), 0);
  write_file_atomic(out, "report\n");
  EXPECT_EQ(slurp(out), "report\n");
  EXPECT_EQ(slurp(victim), "precious\n");
  EXPECT_TRUE(fs::is_symlink(planted));
  EXPECT_TRUE(fs::is_symlink(old_name));
}

TEST(SafeWrite, FullDeviceFailsNamingThePath) {
  if (::access("/dev/full", W_OK) != 0) GTEST_SKIP() << "no /dev/full";
  try {
    write_file_atomic("/dev/full", "x");
    FAIL() << "a write to /dev/full succeeded";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot write /dev/full"), std::string::npos) << e.what();
  }
}

TEST(SafeWrite, OutputPathsCheckedUpFront) {
  TempDir t;
  EXPECT_THROW(check_output_path(t / "no-such-dir/r.json"), UsageError);
  EXPECT_THROW(check_output_path(t.dir.string()), UsageError);
  EXPECT_EQ(check_output_path("-"), OutputKind::kStdout);
  EXPECT_EQ(check_output_path(t / "new.json"), OutputKind::kReplace);
  // Two outputs on one file, however spelled.
  EXPECT_THROW(report::check_output_paths({{"--json", t / "a"}, {"--html", t / "a"}}, true), UsageError);
  EXPECT_THROW(report::check_output_paths({{"--json", t / "a"}, {"--prom", t.dir.string() + "/./a"}}, true),
               UsageError);
  EXPECT_THROW(report::check_output_paths({{"--json", "-"}, {"--prom", "/dev/stdout"}}, false), UsageError);
  EXPECT_NO_THROW(report::check_output_paths({{"--json", t / "a"}, {"--prom", t / "b"}, {"--html", ""}}, true));
}

TEST(SafeWrite, OneFailingFormatDoesNotStopTheOthers) {
  TempDir t;
  report::Report r;
  r.command = "show";
  auto errors = report::write_report_files(r, 0, t / "missing-dir/r.json", t / "r.prom", "", t / "r.html");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("missing-dir/r.json"), std::string::npos) << errors[0];
  EXPECT_TRUE(fs::exists(t / "r.prom"));
  EXPECT_TRUE(fs::exists(t / "r.html"));
}

TEST(SafeRead, FifoWithoutWriterEndsByTheDeadline) {
  TempDir t;
  std::string fifo = t / "in";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  set_input_timeout(0.5);
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_THROW((void)read_file(fifo), InputError);
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  set_input_timeout(0);
  EXPECT_GE(took, 0.45);
  EXPECT_LT(took, 30.0);  // bounded, not a timing assertion
}

TEST(SafeRead, EndlessDeviceStopsAtTheCap) {
  EXPECT_THROW((void)read_file("/dev/zero", 1 << 20), InputError);
  // A report reader on /dev/zero fails on the first byte, not after a gigabyte.
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_THROW((void)report::read_report("/dev/zero"), InputError);
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 30.0);
}

void write_gz(const std::string& path, const std::string& text) {
  gzFile g = gzopen(path.c_str(), "wb");
  ASSERT_NE(g, nullptr);
  ASSERT_EQ(gzwrite(g, text.data(), static_cast<unsigned>(text.size())), static_cast<int>(text.size()));
  ASSERT_EQ(gzclose(g), Z_OK);
}

std::string nccl_log(int lines) {
  std::string s;
  for (int i = 0; i < lines; ++i)
    s += "node1:1234:1234 [0] NCCL INFO Channel " + std::to_string(i % 32) +
         "/32 :    0   1   2   3   4   5   6   7\n";
  return s;
}

TEST(SafeRead, TruncatedGzipIsReportedAndItsHeadAnalysed) {
  TempDir t;
  std::string whole = t / "whole.log.gz";
  write_gz(whole, "node1:1234:1234 [0] NCCL INFO NCCL version 2.18.3+cuda12.2\n" + nccl_log(4000));
  std::string data = slurp(whole);
  std::string cut = t / "cut.log.gz";
  {
    std::ofstream(cut, std::ios::binary) << data.substr(0, data.size() / 2);
  }
  nccl::RunLog intact, damaged;
  (void)checks::analyze_files({whole}, &intact);
  EXPECT_TRUE(intact.damaged_inputs.empty());
  (void)checks::analyze_files({cut}, &damaged);
  ASSERT_EQ(damaged.damaged_inputs.size(), 1u);
  EXPECT_NE(damaged.damaged_inputs[0].find("truncated"), std::string::npos) << damaged.damaged_inputs[0];
  EXPECT_GT(damaged.total_lines, 10);
  EXPECT_LT(damaged.total_lines, intact.total_lines);
  // A flipped byte in the trailer's CRC: corrupt, not healthy.
  std::string bad = data;
  bad[bad.size() - 6] = static_cast<char>(bad[bad.size() - 6] ^ 0x55);
  std::string crc = t / "crc.log.gz";
  {
    std::ofstream(crc, std::ios::binary) << bad;
  }
  // zlib drops the data of the read that fails the check: when that is the whole (small) file
  // the log is an input error naming the corruption; either way never a healthy short log.
  nccl::RunLog corrupt;
  try {
    (void)checks::analyze_files({crc}, &corrupt);
    ASSERT_EQ(corrupt.damaged_inputs.size(), 1u);
    EXPECT_NE(corrupt.damaged_inputs[0].find("corrupt"), std::string::npos) << corrupt.damaged_inputs[0];
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("corrupt"), std::string::npos) << e.what();
  }
}

TEST(SafeRead, WideEncodingsAreNamed) {
  TempDir t;
  std::string text = "node1:1:1 [0] NCCL INFO NCCL version 2.18.3\n";
  std::string le16, be16, le32;
  for (char c : text) {
    le16 += c;
    le16 += '\0';
    be16 += '\0';
    be16 += c;
    le32 += c;
    le32 += std::string(3, '\0');
  }
  struct Case {
    std::string name, bytes, want;
  } cases[] = {{"bom16.log", "\xff\xfe" + le16, "UTF-16LE"},
               {"le16.log", le16, "UTF-16LE"},
               {"be16.log", be16, "UTF-16BE"},
               {"le32.log", le32, "UTF-32LE"}};
  for (const auto& c : cases) {
    std::string p = t / c.name;
    {
      std::ofstream(p, std::ios::binary) << c.bytes;
    }
    try {
      (void)checks::analyze_files({p}, nullptr);
      ADD_FAILURE() << c.name << " was read";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(c.want), std::string::npos) << c.name << ": " << e.what();
    }
  }
}

TEST(SafeRead, TerminalTextShowsControlsInsteadOfObeyingThem) {
  std::string s = report::terminal_text("GPU\x1b]0;pwned\x07 \x1b[2J\r\nok \xc2\x9b" "31m é");
  EXPECT_EQ(s.find('\x1b'), std::string::npos);
  EXPECT_EQ(s.find('\r'), std::string::npos);
  EXPECT_EQ(s.find("\xc2\x9b"), std::string::npos);
  EXPECT_NE(s.find("\\x1b]0;pwned\\x07"), std::string::npos) << s;
  EXPECT_NE(s.find("é"), std::string::npos);
}

TEST(SafeRead, StreamedReportEqualsTreeReader) {
  TempDir t;
  report::Report r;
  r.command = "sweep";
  r.started_unix = 1.8e9;
  for (int i = 0; i < 50; ++i) {
    report::LinkResult l;
    l.src_host = "node" + std::to_string(i);
    l.dst_host = "node" + std::to_string(i + 1);
    l.src_rank = i;
    l.dst_rank = i + 1;
    l.bytes = 1 << 20;
    l.gbps = 10.0 + i;
    r.links.push_back(l);
    report::CollectiveResult c;
    c.op = "allreduce";
    c.algo = "ring";
    c.bytes = 1024 * (i + 1);
    r.collectives.push_back(c);
  }
  r.findings.push_back(make_finding("run.interrupted", "node1", "the whole job", "stopped \x1b[31m"));
  r.hosts.push_back({"node1", {0, 1}, "fp", nlohmann::json{{"gpus", nlohmann::json::array({1, 2})}}});
  r.sections["env"] = {{"ranks", nlohmann::json::array({{{"a", 1}}, {{"b", 2}}})}};
  r.notes = {"a note"};
  std::string text = report::report_to_json(r, 3).dump(2);
  std::string path = t / "r.json";
  {
    std::ofstream(path) << text;
  }
  report::Report a = report::report_from_json(text, path);
  report::Report b = report::read_report(path);
  EXPECT_EQ(report::report_to_json(a, 3), report::report_to_json(b, 3));
  EXPECT_EQ(b.links.size(), 50u);
  EXPECT_EQ(b.collectives.size(), 50u);
  ASSERT_EQ(b.findings.size(), 1u);
  EXPECT_EQ(b.findings[0].message, "stopped \x1b[31m");
  // Not a report / wrong schema / truncated: InputError naming the file.
  {
    std::ofstream(t / "half.json") << text.substr(0, text.size() / 2);
  }
  EXPECT_THROW((void)report::read_report(t / "half.json"), InputError);
  {
    std::ofstream(t / "other.json") << R"({"schema": "x/v9", "findings": []})";
  }
  EXPECT_THROW((void)report::read_report(t / "other.json"), InputError);
}

}  // namespace
}  // namespace ncd
