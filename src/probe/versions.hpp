// SPDX-License-Identifier: Apache-2.0
#pragma once
/// Versions of everything NCCL's behaviour depends on, read at run time on this rank.
#include <string>

#include <nlohmann/json_fwd.hpp>

namespace ncd::probe {

struct Versions {
  std::string ncd;           ///< nccl-doctor
  std::string nccl;          ///< runtime libnccl ("" when absent)
  std::string cuda_runtime;  ///< "13.0" ("" when absent)
  std::string cuda_driver;   ///< CUDA version the driver supports, "none" without a driver
  std::string mpi;           ///< MPI library, first line of MPI_Get_library_version
  std::string hwloc;         ///< runtime hwloc
  int gpu_count = 0;         ///< visible CUDA devices (0 without a driver)
  std::string gpu_note;      ///< why there are no GPUs, when there are none
};

/// Reads the versions. Never throws: what cannot be read is left empty with a note.
[[nodiscard]] Versions probe_versions();

/// "2.28.9" from NCCL's integer code (22809, or 2708 before 2.9).
[[nodiscard]] std::string nccl_version_string(int code);
/// "13.0" from a CUDA integer version (13000).
[[nodiscard]] std::string cuda_version_string(int code);

void to_json(nlohmann::json& j, const Versions& v);
void from_json(const nlohmann::json& j, Versions& v);

}  // namespace ncd::probe
