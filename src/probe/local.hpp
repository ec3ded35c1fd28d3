// SPDX-License-Identifier: Apache-2.0
#pragma once
/// The topology of this machine (hwloc + sysfs + NVML), of saved files, and of this rank's
/// binding. The entry points other commands use.
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "topo/model.hpp"

namespace ncd::probe {

struct ProbeOptions {
  std::string sysfs_root = "/sys";  ///< another root reads a captured/hand-made tree instead
  bool use_nvml = true;
  bool use_hwloc = true;
};

/// Probes this machine: structure from hwloc (sysfs when hwloc fails, or the tree alone when
/// `sysfs_root` is not /sys), link/port/ACS/IOMMU facts from sysfs, GPUs from NVML. Paths are
/// computed. Never throws for missing facts (they stay unknown, with notes); throws
/// InputError for a `sysfs_root` that is not a sysfs tree.
[[nodiscard]] topo::System probe_local(const ProbeOptions& opts);

/// Inputs of an offline analysis (command-line options of `topo`).
struct LoadOptions {
  std::string hwloc_xml;               ///< hwloc v2 XML of one host
  std::vector<std::string> nccl_topo;  ///< NCCL topology files, one host each
  std::string sysfs_root;              ///< link/port facts (with hwloc_xml or one nccl_topo), or the structure alone
  std::string load;                    ///< a file written by `topo --save` (or a report with hosts[].topology)
};

/// True when `o` names any offline input.
[[nodiscard]] bool has_offline_input(const LoadOptions& o);
/// Loads every host the options name, paths computed. Throws InputError (file and what is
/// wrong) for missing or malformed inputs, UsageError for impossible combinations.
[[nodiscard]] std::vector<topo::System> load_systems(const LoadOptions& o);
/// The single host of `o` (the first when several).
[[nodiscard]] topo::System load_system_from_files(const LoadOptions& o);

/// This process's CPU binding (sched_getaffinity), the NUMA nodes of those cores in `local`, and
/// its GPU: CUDA_VISIBLE_DEVICES when it names one device (index or UUID), else the local rank
/// (OMPI_COMM_WORLD_LOCAL_RANK, SLURM_LOCALID, MPI_LOCALRANKID, LOCAL_RANK) modulo the GPUs.
[[nodiscard]] topo::RankBinding probe_binding(int rank, int local_rank, const topo::System& local);

/// Adds to `s` the binding of each rank of the node as the ranks reported it (JSON fields rank,
/// cpus, total_cpus, local_rank, cuda_visible_devices), resolved against the node's model:
/// the NUMA nodes of its cores, its GPU from CUDA_VISIBLE_DEVICES (index or UUID prefix) or
/// else the local rank modulo the GPUs.
void resolve_bindings(topo::System& s, const std::vector<nlohmann::json>& ranks);

}  // namespace ncd::probe
