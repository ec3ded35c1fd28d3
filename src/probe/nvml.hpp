// SPDX-License-Identifier: Apache-2.0
#pragma once
/// NVML, loaded at run time (dlopen of libnvidia-ml.so.1) with our own declarations: no build
/// dependency, and a clean "no driver" on machines without GPUs.
#include <string>
#include <vector>

#include "topo/model.hpp"

namespace ncd::probe {

/// What NVML says about one GPU.
struct NvmlGpu {
  int index = -1;
  std::string bus_id;  ///< normalised
  std::string name, uuid;
  int sm = 0;
  unsigned long long memory_bytes = 0;
  int pcie_gen_cur = 0, pcie_gen_max = 0, pcie_width_cur = 0, pcie_width_max = 0;
  std::vector<topo::NvLink> nvlinks;  ///< one entry per link index NVML knows
};

struct NvmlResult {
  bool available = false;
  std::string why;             ///< when not available: "libnvidia-ml.so.1 not found", ...
  std::string driver_version;
  std::vector<NvmlGpu> gpus;
};

/// Queries every GPU through `library` (tests pass a stand-in). Never throws.
[[nodiscard]] NvmlResult probe_nvml(const std::string& library = "libnvidia-ml.so.1");

/// Merges NVML's view into a model (matched by bus id; GPUs the model lacks are added under
/// their NUMA node if known, else -1).
void merge_nvml(topo::System& s, const NvmlResult& r);

}  // namespace ncd::probe
