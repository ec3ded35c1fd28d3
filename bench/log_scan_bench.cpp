// SPDX-License-Identifier: Apache-2.0
// Benchmark of `nccl-doctor log` against `grep -c "NCCL WARN"` on the same file, in the same run,
// on one core. Builds an interleaved multi-rank log from the corpus (every case, hosts and pids
// rewritten to a synthetic job of many ranks), then times both (median of N runs) and reports
// MB/s, the ratio, and the analyser's peak RSS on a small and the full file (memory must not
// grow with the file).
//
//   log_scan_bench [--mb 300] [--runs 3] [--hosts 32] [--corpus DIR] [--keep]
#include <fmt/format.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "checks/log_rules.hpp"
#include "nccl/log_line.hpp"

namespace {

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  std::string l;
  while (std::getline(in, l)) out.push_back(l);
  return out;
}

// Rewrites the host and pid of an NCCL line to a synthetic rank's.
std::string retarget(const std::string& line, int host, int rank) {
  ncd::nccl::LogLine l = ncd::nccl::classify_line(line);
  if (l.host.empty()) return line;
  std::size_t pos = static_cast<std::size_t>(l.host.data() - line.data());
  std::string out = line.substr(0, pos) + fmt::format("gpu-node{:03d}", host);
  std::string rest = line.substr(pos + l.host.size());
  if (rest.size() > 1 && rest[0] == ':' && l.pid >= 0) {
    std::size_t c = rest.find(':', 1);
    if (c != std::string::npos) rest = fmt::format(":{}{}", 10000 + rank, rest.substr(c));
  }
  return out + rest;
}

// Writes about `mb` MB of interleaved output of `hosts` x 8 ranks built from the corpus lines.
std::uint64_t build_log(const std::string& corpus, const std::string& out_path, std::uint64_t mb, int hosts) {
  std::vector<std::vector<std::string>> cases;
  DIR* d = opendir((corpus + "/cases").c_str());
  if (!d) throw std::runtime_error("cannot open " + corpus + "/cases");
  std::vector<std::string> names;
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n.size() > 4 && n.substr(n.size() - 4) == ".log") names.push_back(n);
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  if (names.empty()) throw std::runtime_error("no *.log case in " + corpus + "/cases: nothing to scan");
  for (const auto& n : names) cases.push_back(read_lines(corpus + "/cases/" + n));
  // Pre-render each case for every rank of the synthetic job (bounded set of lines).
  int ranks = hosts * 8;
  std::vector<std::vector<std::string>> per_rank(static_cast<std::size_t>(ranks));
  for (int r = 0; r < ranks; ++r)
    for (const auto& c : cases)
      for (const auto& l : c) per_rank[static_cast<std::size_t>(r)].push_back(retarget(l, r / 8, r));
  std::FILE* f = std::fopen(out_path.c_str(), "w");
  if (!f) throw std::runtime_error("cannot write " + out_path);
  std::uint64_t target = mb << 20, written = 0;
  std::size_t idx = 0;
  // Interleave: one line from each rank in turn, as a shared stdout of many ranks looks.
  while (written < target) {
    for (int r = 0; r < ranks && written < target; ++r) {
      const auto& v = per_rank[static_cast<std::size_t>(r)];
      const std::string& l = v[(idx + static_cast<std::size_t>(r) * 7) % v.size()];
      std::fwrite(l.data(), 1, l.size(), f);
      std::fputc('\n', f);
      written += l.size() + 1;
    }
    ++idx;
  }
  std::fclose(f);
  return written;
}

struct RunResult {
  double seconds = 0;
  long maxrss_kb = 0;
  std::string summary;
};

// Runs `fn` in a child pinned to one core; returns its wall time and peak RSS.
template <typename Fn>
RunResult in_child(Fn fn) {
  int pipefd[2];
  if (pipe(pipefd) != 0) throw std::runtime_error("pipe");
  double t0 = now_s();
  pid_t pid = fork();
  if (pid == 0) {
    close(pipefd[0]);
    std::string s = fn();
    if (write(pipefd[1], s.data(), s.size()) < 0) _exit(2);
    close(pipefd[1]);
    _exit(0);
  }
  close(pipefd[1]);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(pipefd[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
  close(pipefd[0]);
  int status = 0;
  struct rusage ru {};
  wait4(pid, &status, 0, &ru);
  RunResult r;
  r.seconds = now_s() - t0;
  r.maxrss_kb = ru.ru_maxrss;
  r.summary = out;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) throw std::runtime_error("child failed: " + out);
  return r;
}

std::string analyse(const std::string& path) {
  ncd::nccl::LogIngest in;
  in.add_file(path);
  ncd::nccl::RunLog log = in.take();
  ncd::checks::Diagnosis d = ncd::checks::analyze(log);
  return fmt::format("{} lines, {} NCCL lines, {} WARN, {} hosts, {} connections, {} findings, root {}", log.total_lines,
                     log.nccl_lines, log.warn_lines, log.hosts.size(), log.connections.size(), d.findings.size(),
                     d.root.empty() ? "-" : d.root);
}

std::string grep_count(const std::string& path) {
  std::string cmd = "LC_ALL=C grep -c \"NCCL WARN\" " + path;
  std::FILE* p = popen(cmd.c_str(), "r");
  if (!p) return "popen failed";
  char buf[128] = {0};
  std::string out;
  while (std::fgets(buf, sizeof buf, p)) out += buf;
  pclose(p);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out + " matching lines";
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  std::uint64_t mb = 300;
  int runs = 3, hosts = 32;
  bool keep = false;
  std::string corpus = std::string(NCD_BENCH_CORPUS_DIR) + "/logs";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--mb" && i + 1 < argc) mb = std::strtoull(argv[++i], nullptr, 10);
    else if (a == "--runs" && i + 1 < argc) runs = std::atoi(argv[++i]);
    else if (a == "--hosts" && i + 1 < argc) hosts = std::atoi(argv[++i]);
    else if (a == "--corpus" && i + 1 < argc) corpus = argv[++i];
    else if (a == "--keep") keep = true;
    else {
      std::fprintf(stderr, "usage: log_scan_bench [--mb N] [--runs N] [--hosts N] [--corpus DIR] [--keep]\n");
      return 3;
    }
  }
  // One core for both tools (grep inherits the affinity).
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(0, &set);
  sched_setaffinity(0, sizeof set, &set);

  std::string big = fmt::format("/tmp/ncd_log_bench_{}.log", getpid());
  std::string small = fmt::format("/tmp/ncd_log_bench_{}_small.log", getpid());
  std::uint64_t small_mb = std::max<std::uint64_t>(1, mb / 10);
  std::uint64_t bytes = build_log(corpus, big, mb, hosts);
  std::uint64_t small_bytes = build_log(corpus, small, small_mb, hosts);
  double mbytes = static_cast<double>(bytes) / 1e6;
  fmt::print("input: {} ({:.1f} MB, {} hosts x 8 ranks, interleaved corpus lines); {} run(s) each, one core\n", big,
             mbytes, hosts, runs);

  (void)grep_count(big);  // warm the page cache
  std::vector<double> ours, grep;
  long rss_big = 0;
  std::string our_summary, grep_summary;
  for (int i = 0; i < runs; ++i) {
    RunResult g = in_child([&] { return grep_count(big); });
    grep.push_back(g.seconds);
    grep_summary = g.summary;
    RunResult o = in_child([&] { return analyse(big); });
    ours.push_back(o.seconds);
    rss_big = std::max(rss_big, o.maxrss_kb);
    our_summary = o.summary;
  }
  RunResult s = in_child([&] { return analyse(small); });
  double t_ours = median(ours), t_grep = median(grep);
  fmt::print("grep -c \"NCCL WARN\": {:.3f} s  {:8.1f} MB/s   ({})\n", t_grep, mbytes / t_grep, grep_summary);
  fmt::print("nccl-doctor log:      {:.3f} s  {:8.1f} MB/s   ({})\n", t_ours, mbytes / t_ours, our_summary);
  fmt::print("ratio (ours / grep speed): {:.2f}  (goal >= 0.50)\n", t_grep / t_ours);
  fmt::print("peak RSS of the analyser: {:.1f} MB on {:.1f} MB input, {:.1f} MB on {:.1f} MB input\n",
             static_cast<double>(s.maxrss_kb) / 1024.0, static_cast<double>(small_bytes) / 1e6,
             static_cast<double>(rss_big) / 1024.0, mbytes);
  if (!keep) {
    std::remove(big.c_str());
    std::remove(small.c_str());
  }
  return 0;
}
