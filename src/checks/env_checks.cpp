// SPDX-License-Identifier: Apache-2.0
#include "checks/env_checks.hpp"
#include "checks/registry.hpp"

#include <algorithm>
#include <functional>
#include <cstring>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <set>

#include "core/catalogue.hpp"
#include "core/text.hpp"

namespace ncd::checks {

NCD_REGISTER_CHECK({"version.mismatch", Severity::kError, "env",
                    "Software versions differ across ranks or hosts",
                    "Ranks of one job run different NCCL, CUDA runtime, driver, MPI or hwloc "
                    "versions. Different NCCL versions in one communicator can hang or corrupt "
                    "data; the others change behaviour and performance between nodes.",
                    "Every rank reports its versions; rank 0 groups ranks by each version and "
                    "names the minority.",
                    "Install the same NCCL/CUDA/driver/MPI on every node (same container image); "
                    "check LD_LIBRARY_PATH for a stray libnccl."});
NCD_REGISTER_CHECK({"env.mismatch", Severity::kWarn, "env",
                    "An NCCL setting differs across ranks",
                    "Ranks of one job see different NCCL_* or UCX_* values. NCCL reads most of "
                    "them per process, so nodes can pick different transports, interfaces or "
                    "algorithms, which degrades or hangs the job.",
                    "Every rank reports its NCCL_*/UCX_* variables; rank 0 groups ranks by value "
                    "and names the minority (a variable set on some ranks only counts too).",
                    "Export the same settings on every rank (mpirun -x VAR, srun --export, the "
                    "job script), or unset the odd one."});
NCD_REGISTER_CHECK({"env.risky", Severity::kWarn, "env",
                    "A setting known to cost bandwidth or correctness",
                    "A variable such as NCCL_P2P_DISABLE=1 or NCCL_IB_DISABLE=1 forces a slower "
                    "path. It is often left over from debugging.",
                    "Each rank's NCCL_* variables are matched against a table of known-risky "
                    "values (src/checks/env_checks.cpp, each entry with its source).",
                    "Unset the variable unless it works around a known problem on this cluster."});
NCD_REGISTER_CHECK({"env.gpu_count_mismatch", Severity::kWarn, "env",
                    "Ranks see different numbers of GPUs",
                    "Some ranks see fewer CUDA devices than others: a GPU fell off the bus, the "
                    "driver is not loaded, or CUDA_VISIBLE_DEVICES differs.",
                    "Every rank reports cuDeviceGetCount; rank 0 compares hosts.",
                    "Check nvidia-smi on the odd hosts and their CUDA_VISIBLE_DEVICES."});

namespace {

bool per_rank_var(const std::string& name) {
  // Set by launchers per process, or legitimately different per rank/node.
  static const std::set<std::string> kPerRank = {"NCCL_HOSTID", "NCCL_DEBUG_FILE",
                                                 "CUDA_VISIBLE_DEVICES", "NCCL_COMM_ID"};
  if (kPerRank.count(name)) return true;
  if (name.rfind("OMPI_MCA_", 0) == 0) {
    // Open MPI exports its own per-process MCA values (ess, orte, pmix, ...): not user settings.
    for (const char* p : {"OMPI_MCA_ess", "OMPI_MCA_orte", "OMPI_MCA_pmix", "OMPI_MCA_initial_wdir",
                          "OMPI_MCA_mpi_oversubscribe", "OMPI_MCA_rmaps", "OMPI_MCA_shmem",
                          "OMPI_MCA_plm", "OMPI_MCA_ras", "OMPI_MCA_hwloc", "OMPI_MCA_mpi_yield"})
      if (name.rfind(p, 0) == 0) return true;
  }
  return false;
}

bool compared_var(const std::string& name) {
  return (name.rfind("NCCL_", 0) == 0 || name.rfind("UCX_", 0) == 0) && !per_rank_var(name);
}

/// Groups ranks by a value; returns value -> ranks.
std::map<std::string, std::vector<int>> group_by(const std::vector<RankEnv>& ranks,
                                                 const std::function<std::string(const RankEnv&)>& key) {
  std::map<std::string, std::vector<int>> g;
  for (const auto& r : ranks) g[key(r)].push_back(r.rank);
  return g;
}

std::string hosts_of(const std::vector<RankEnv>& ranks, const std::vector<int>& which) {
  std::set<std::string> hosts;
  for (const auto& r : ranks)
    if (std::find(which.begin(), which.end(), r.rank) != which.end()) hosts.insert(r.host);
  std::vector<std::string> v(hosts.begin(), hosts.end());
  if (v.size() > 6) {
    v.resize(6);
    v.push_back("...");
  }
  return join(v, ",");
}

/// For a grouping with more than one value: the majority value, and findings text for others.
void report_groups(const std::vector<RankEnv>& ranks, const std::map<std::string, std::vector<int>>& g,
                   const std::string& what, const std::string& id, std::vector<Finding>& out,
                   bool unset_is_value) {
  if (g.size() < 2) return;
  auto majority = std::max_element(g.begin(), g.end(), [](const auto& a, const auto& b) {
    return a.second.size() < b.second.size();
  });
  for (const auto& [value, rs] : g) {
    if (&value == &majority->first) continue;
    std::string shown = value.empty() && unset_is_value ? "(unset)" : value;
    std::string maj = majority->first.empty() && unset_is_value ? "(unset)" : majority->first;
    Finding f = make_finding(id, hosts_of(ranks, rs), fmt::format("ranks {}", format_ranges(rs)),
                             fmt::format("{} is {} on ranks {} but {} on ranks {}", what, shown,
                                         format_ranges(rs), maj, format_ranges(majority->second)));
    for (const auto& [v2, rs2] : g)
      f.evidence.push_back(fmt::format("{}={} on ranks {} ({})", what,
                                       v2.empty() && unset_is_value ? "(unset)" : v2,
                                       format_ranges(rs2), hosts_of(ranks, rs2)));
    out.push_back(std::move(f));
  }
}

}  // namespace

void to_json(nlohmann::json& j, const RankEnv& e) {
  j = nlohmann::json{{"rank", e.rank}, {"host", e.host}, {"versions", e.versions}, {"vars", e.vars}};
}

void from_json(const nlohmann::json& j, RankEnv& e) {
  e.rank = j.at("rank").get<int>();
  e.host = j.value("host", "");
  e.versions = j.at("versions").get<probe::Versions>();
  e.vars = j.value("vars", std::map<std::string, std::string>{});
}

std::map<std::string, std::string> relevant_vars(char** envp) {
  std::map<std::string, std::string> vars;
  for (char** e = envp; e && *e; ++e) {
    std::string_view kv(*e);
    auto eq = kv.find('=');
    if (eq == std::string_view::npos) continue;
    std::string name(kv.substr(0, eq));
    bool wanted = name.rfind("NCCL_", 0) == 0 || name == "CUDA_VISIBLE_DEVICES" ||
                  name.rfind("UCX_", 0) == 0 ||
                  (name.rfind("OMPI_MCA_", 0) == 0 && !per_rank_var(name));
    if (wanted) vars[name] = std::string(kv.substr(eq + 1));
  }
  return vars;
}

const std::vector<RiskyRule>& risky_rules() {
  // Sources: shared/reference/nccl-internals.md §7 (NCCL 2.28.9 defaults and their effects).
  static const std::vector<RiskyRule> kRules = {
      {"NCCL_P2P_DISABLE", "1", "GPU peer-to-peer is off: every GPU pair goes through host memory (SHM), a fraction of NVLink bandwidth",
       "unset NCCL_P2P_DISABLE; if P2P hangs, fix ACS/IOMMU instead", "nccl-internals §7, paths.cc:217-267"},
      {"NCCL_P2P_LEVEL", "LOC", "P2P restricted to the same GPU: no peer-to-peer at all",
       "unset NCCL_P2P_LEVEL", "nccl-internals §7, paths.cc:216"},
      {"NCCL_P2P_LEVEL", "0", "legacy 0 = LOC: no peer-to-peer at all", "unset NCCL_P2P_LEVEL",
       "nccl-internals §7, paths.cc:216"},
      {"NCCL_SHM_DISABLE", "1", "SHM transport off: local GPUs without P2P fall back to the network",
       "unset NCCL_SHM_DISABLE; if /dev/shm is too small, enlarge it (docker --shm-size)", "nccl-internals §7, shm.cc:65"},
      {"NCCL_IB_DISABLE", "1", "InfiniBand/RoCE off: inter-node traffic uses TCP sockets, typically 5-20x slower",
       "unset NCCL_IB_DISABLE on RDMA clusters", "nccl-internals §7, net_ib.cc:507"},
      {"NCCL_NET", "Socket", "network forced to TCP sockets even where RDMA exists",
       "unset NCCL_NET", "nccl-internals §7, plugin/net.cc:360"},
      {"NCCL_NET_GDR_LEVEL", "LOC", "GPUDirect RDMA off: NIC traffic is staged through host memory",
       "unset NCCL_NET_GDR_LEVEL (default PXB)", "nccl-internals §7, paths.cc:453-455"},
      {"NCCL_NET_GDR_LEVEL", "0", "legacy 0 = LOC: GPUDirect RDMA off", "unset NCCL_NET_GDR_LEVEL",
       "nccl-internals §7, paths.cc:453-455"},
      {"NCCL_DMABUF_ENABLE", "0", "DMA-BUF GPUDirect RDMA off (needed where nvidia_peermem is absent)",
       "unset NCCL_DMABUF_ENABLE", "nccl-internals §7, init.cc:352"},
      {"NCCL_ALGO", "*", "algorithm forced for every collective: NCCL cannot pick the best per size",
       "unset NCCL_ALGO outside benchmarks", "nccl-internals §7, tuning.cc:424"},
      {"NCCL_PROTO", "*", "protocol forced: small or large messages lose their best protocol",
       "unset NCCL_PROTO outside benchmarks", "nccl-internals §7, tuning.cc:419"},
      {"NCCL_MAX_NCHANNELS", "1", "a single channel: at most one SM and one NIC's worth of bandwidth",
       "unset NCCL_MAX_NCHANNELS", "nccl-internals §7, connect.cc:322-353"},
      {"NCCL_MAX_NRINGS", "1", "legacy name of NCCL_MAX_NCHANNELS=1: a single channel",
       "unset NCCL_MAX_NRINGS", "nccl-internals §7"},
      {"NCCL_NVLS_ENABLE", "0", "NVLink SHARP off on NVSwitch systems: lower allreduce bandwidth",
       "unset NCCL_NVLS_ENABLE unless NVLS fails", "nccl-internals §7, §4.7"},
      {"NCCL_CROSS_NIC", "1", "rings may cross rails: on rail-optimised fabrics the NICs of different rails may not reach each other",
       "unset NCCL_CROSS_NIC (default 2) on rail-optimised fabrics", "nccl-internals §7, search.cc:15"},
      {"NCCL_IGNORE_CPU_AFFINITY", "1", "NCCL ignores the process binding and may place its threads on the far socket",
       "unset it and bind ranks to their GPU's NUMA node", "nccl-internals §7, topo.cc:1726"},
      {"NCCL_BUFFSIZE", "*", "buffer size changed from 4 MiB: too small caps bandwidth, too large exhausts GPU memory",
       "unset NCCL_BUFFSIZE unless tuned on this system", "nccl-internals §7, init.cc:697-716"},
      {"NCCL_LAUNCH_MODE", "GROUP", "GROUP launch mode serialises kernel launches", "unset NCCL_LAUNCH_MODE",
       "nccl-internals §7, init.cc:1361"},
  };
  return kRules;
}

std::vector<Finding> check_env(const std::vector<RankEnv>& ranks) {
  std::vector<Finding> out;
  if (ranks.empty()) return out;
  using V = probe::Versions;
  const std::vector<std::pair<std::string, std::string V::*>> version_fields = {
      {"NCCL", &V::nccl},          {"CUDA runtime", &V::cuda_runtime}, {"CUDA driver", &V::cuda_driver},
      {"MPI", &V::mpi},            {"hwloc", &V::hwloc},               {"nccl-doctor", &V::ncd}};
  for (const auto& entry : version_fields) {
    auto field = entry.second;
    auto g = group_by(ranks, [field](const RankEnv& r) { return r.versions.*field; });
    report_groups(ranks, g, entry.first + " version", "version.mismatch", out, true);
  }
  {
    auto g = group_by(ranks, [](const RankEnv& r) { return std::to_string(r.versions.gpu_count); });
    report_groups(ranks, g, "GPU count", "env.gpu_count_mismatch", out, false);
  }
  std::set<std::string> names;
  for (const auto& r : ranks)
    for (const auto& [k, v] : r.vars)
      if (compared_var(k)) names.insert(k);
  for (const auto& name : names) {
    auto g = group_by(ranks, [&](const RankEnv& r) {
      auto it = r.vars.find(name);
      return it == r.vars.end() ? std::string() : it->second;
    });
    report_groups(ranks, g, name, "env.mismatch", out, true);
  }
  // env.risky: one finding per (variable, value), naming the ranks that have it.
  std::map<std::pair<std::string, std::string>, std::vector<int>> risky;
  std::map<std::pair<std::string, std::string>, const RiskyRule*> rule_of;
  for (const auto& r : ranks) {
    for (const auto& rule : risky_rules()) {
      auto it = r.vars.find(rule.var);
      if (it == r.vars.end()) continue;
      if (rule.value != "*" && to_lower(trim(it->second)) != to_lower(rule.value)) continue;
      auto key = std::make_pair(rule.var, it->second);
      risky[key].push_back(r.rank);
      rule_of[key] = &rule;
    }
  }
  for (const auto& [key, rs] : risky) {
    const RiskyRule& rule = *rule_of[key];
    Finding f = make_finding("env.risky", hosts_of(ranks, rs), fmt::format("ranks {}", format_ranges(rs)),
                             fmt::format("{}={} on ranks {}: {}", key.first, key.second,
                                         format_ranges(rs), rule.why));
    f.evidence.push_back(fmt::format("{}={} set on {} of {} ranks", key.first, key.second, rs.size(),
                                     ranks.size()));
    f.evidence.push_back("source: " + rule.source);
    f.hint = rule.fix;
    out.push_back(std::move(f));
  }
  return out;
}

// The family: every rank's versions and settings, compared.
NCD_REGISTER_FAMILY({"env.ranks", "env", {"env.", "version."}, "environment report from any rank",
                     [](const Evidence& ev) { return ev.env && !ev.env->empty(); },
                     [](const Evidence& ev, CheckRun& run) {
                       auto found = check_env(*ev.env);
                       run.findings.insert(run.findings.end(), found.begin(), found.end());
                     }});

}  // namespace ncd::checks
