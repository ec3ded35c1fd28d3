// SPDX-License-Identifier: Apache-2.0
#include "cli/cmd_env.hpp"

#include <unistd.h>

#include <fmt/format.h>
#include <map>
#include <nlohmann/json.hpp>

#include "checks/env_checks.hpp"
#include "checks/registry.hpp"
#include "core/catalogue.hpp"
#include "core/text.hpp"

extern char** environ;

namespace ncd::cli {

namespace {

std::string describe(const checks::RankEnv& e) {
  const auto& v = e.versions;
  std::string s = fmt::format("NCCL {}, CUDA runtime {}, driver {}, {}, hwloc {}",
                              v.nccl.empty() ? "absent" : v.nccl,
                              v.cuda_runtime.empty() ? "absent" : v.cuda_runtime, v.cuda_driver,
                              v.mpi.empty() ? "MPI ?" : v.mpi, v.hwloc);
  s += fmt::format("; {} GPU(s)", v.gpu_count);
  return s;
}

}  // namespace

int run_env(const EnvOptions&, Context& ctx) {
  dist::Comm& comm = ctx.comm();
  checks::RankEnv mine;
  mine.rank = comm.rank();
  mine.host = comm.host();
  mine.versions = probe::probe_versions();
  mine.vars = checks::relevant_vars(environ);

  auto blobs = comm.gather(nlohmann::json(mine).dump(), ctx.deadline());
  report::Report r;
  r.command = "env";
  if (!ctx.is_root()) return ctx.finish(r, nullptr);

  std::vector<checks::RankEnv> ranks;
  std::vector<int> missing;
  for (std::size_t i = 0; i < blobs.size(); ++i) {
    if (!blobs[i]) {
      missing.push_back(static_cast<int>(i));
      continue;
    }
    ranks.push_back(nlohmann::json::parse(*blobs[i]).get<checks::RankEnv>());
  }
  const std::vector<checks::Unanswered> unanswered = {{"reporting the environment", missing, ""}};
  checks::Evidence ev;
  ev.env = &ranks;
  ev.unanswered = &unanswered;
  ev.nodes = &comm.nodes();
  ev.timeout_s = ctx.opts.timeout_s;
  checks::CheckRun run = checks::run_checks("env", ev);
  run.merge(checks::run_checks("dist", ev));
  r.findings = std::move(run.findings);
  for (const auto& e : ranks) {
    if (!e.versions.gpu_note.empty()) {
      r.notes.push_back(fmt::format("{} (rank {}): {}", e.host, e.rank, e.versions.gpu_note));
      break;
    }
  }
  r.sections["env"] = ranks;
  for (std::size_t n = 0; n < comm.nodes().node_names.size(); ++n)
    r.hosts.push_back({comm.nodes().node_names[n], comm.nodes().node_ranks[n], "", nullptr});

  return ctx.finish(r, [&](std::ostream& out) {
    // Group identical ranks (same host, versions and variables) so 1,000 ranks stay readable.
    std::map<std::string, std::vector<int>> groups;
    std::map<std::string, const checks::RankEnv*> sample;
    for (const auto& e : ranks) {
      std::string key = e.host + "\n" + nlohmann::json(e.versions).dump() + nlohmann::json(e.vars).dump();
      groups[key].push_back(e.rank);
      sample.emplace(key, &e);
    }
    out << fmt::format("# nccl-doctor env: {} rank(s) on {} host(s)\n", comm.size(),
                       comm.nodes().node_names.size());
    for (const auto& [key, rs] : groups) {
      const auto* e = sample[key];
      out << fmt::format("ranks {} on {}: {}\n", format_ranges(rs), e->host, describe(*e));
      for (const auto& [k, v] : e->vars) out << fmt::format("    {}={}\n", k, v);
    }
  });
}

}  // namespace ncd::cli
