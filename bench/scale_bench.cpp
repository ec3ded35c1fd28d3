// SPDX-License-Identifier: Apache-2.0
// Rank 0's cost at scale: feeds the analysis synthetic per-rank blobs as a 4,096-rank,
// 512-node job would send them (serialised JSON, a few odd ranks planted), and reports the
// time and peak memory to decode, analyse and render the report. Peer: the same work for
// 512 ranks, to show the growth is linear (ratio of per-rank costs).
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "checks/env_checks.hpp"
#include "report/report.hpp"

namespace {

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

long peak_rss_kb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

std::vector<std::string> make_blobs(int ranks, int per_node) {
  std::vector<std::string> blobs;
  blobs.reserve(static_cast<std::size_t>(ranks));
  for (int r = 0; r < ranks; ++r) {
    ncd::checks::RankEnv e;
    e.rank = r;
    e.host = "node" + std::to_string(r / per_node);
    e.versions = {"0.1.0", "2.28.9", "13.0", "13.0", "Open MPI v4.1.4", "2.9.0", 8, ""};
    if (r == 1234) e.versions.nccl = "2.27.3";  // planted: one rank with another NCCL
    e.vars = {{"NCCL_DEBUG", "WARN"}, {"NCCL_IB_HCA", "mlx5"}, {"NCCL_SOCKET_IFNAME", "eth0"},
              {"CUDA_VISIBLE_DEVICES", std::to_string(r % per_node)}};
    if (r / per_node == 17) e.vars["NCCL_IB_DISABLE"] = "1";  // planted: one node
    blobs.push_back(nlohmann::json(e).dump());
  }
  return blobs;
}

struct Cost {
  double seconds;
  std::size_t findings;
  std::size_t report_bytes;
};

Cost analyse(const std::vector<std::string>& blobs) {
  double t0 = now();
  std::vector<ncd::checks::RankEnv> ranks;
  ranks.reserve(blobs.size());
  for (const auto& b : blobs) ranks.push_back(nlohmann::json::parse(b).get<ncd::checks::RankEnv>());
  ncd::report::Report r;
  r.command = "env";
  r.findings = ncd::checks::check_env(ranks);
  r.sections["env"] = ranks;
  std::string text = ncd::report::report_to_json(r, 2).dump();
  return {now() - t0, r.findings.size(), text.size()};
}

}  // namespace

int main() {
  const int kRanks = 4096, kPerNode = 8;
  long rss0 = peak_rss_kb();
  auto small = make_blobs(512, kPerNode);
  Cost c_small = analyse(small);
  small.clear();
  auto blobs = make_blobs(kRanks, kPerNode);
  std::size_t blob_bytes = 0;
  for (const auto& b : blobs) blob_bytes += b.size();
  Cost c = analyse(blobs);
  long rss1 = peak_rss_kb();
  std::printf("# rank-0 analysis at scale (env gather + checks + JSON report)\n");
  std::printf("ranks=%d nodes=%d blobs=%.2f MB findings=%zu report=%.2f MB\n", kRanks,
              kRanks / kPerNode, blob_bytes / 1e6, c.findings, c.report_bytes / 1e6);
  std::printf("time: %.3f s for %d ranks, %.3f s for 512 ranks; per-rank cost ratio %.2f (1.0 = linear)\n",
              c.seconds, kRanks, c_small.seconds, (c.seconds / kRanks) / (c_small.seconds / 512));
  std::printf("peak RSS: %.1f MB (start %.1f MB)\n", rss1 / 1024.0, rss0 / 1024.0);
  return c.findings >= 2 ? 0 : 1;  // the two planted faults must be found
}
