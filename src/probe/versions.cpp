// SPDX-License-Identifier: Apache-2.0
#include "probe/versions.hpp"

#include <dlfcn.h>
#include <hwloc.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/text.hpp"
#include "dist/comm.hpp"
#include "ncd/config.hpp"

namespace ncd::probe {
namespace {

/// dlopen handle closed on scope exit. RTLD_NODELETE keeps the library mapped: libcuda and libnccl
/// run global constructors we cannot undo, and leak checkers must still see their symbols.
struct Library {
  explicit Library(const char* name) : handle(dlopen(name, RTLD_LAZY | RTLD_LOCAL | RTLD_NODELETE)) {}
  ~Library() {
    if (handle) dlclose(handle);
  }
  Library(const Library&) = delete;
  Library& operator=(const Library&) = delete;
  template <typename Fn>
  Fn sym(const char* name) const {
    return handle ? reinterpret_cast<Fn>(dlsym(handle, name)) : nullptr;
  }
  void* handle;
};

}  // namespace

std::string nccl_version_string(int code) {
  if (code <= 0) return "";
  if (code >= 10000) return fmt::format("{}.{}.{}", code / 10000, (code % 10000) / 100, code % 100);
  return fmt::format("{}.{}.{}", code / 1000, (code % 1000) / 100, code % 100);
}

std::string cuda_version_string(int code) {
  if (code <= 0) return "";
  return fmt::format("{}.{}", code / 1000, (code % 1000) / 10);
}

Versions probe_versions() {
  Versions v;
  v.ncd = NCD_VERSION;
  {
    Library nccl("libnccl.so.2");
    if (auto get = nccl.sym<int (*)(int*)>("ncclGetVersion")) {
      int code = 0;
      if (get(&code) == 0) v.nccl = nccl_version_string(code);
    }
  }
  for (const char* name : {"libcudart.so.13", "libcudart.so.12", "libcudart.so.11.0", "libcudart.so"}) {
    Library rt(name);
    if (auto get = rt.sym<int (*)(int*)>("cudaRuntimeGetVersion")) {
      int code = 0;
      if (get(&code) == 0) v.cuda_runtime = cuda_version_string(code);
      break;
    }
  }
  {
    Library drv("libcuda.so.1");
    auto get_version = drv.sym<int (*)(int*)>("cuDriverGetVersion");
    auto init = drv.sym<int (*)(unsigned)>("cuInit");
    auto count = drv.sym<int (*)(int*)>("cuDeviceGetCount");
    if (!get_version || !init || !count) {
      v.cuda_driver = "none";
      v.gpu_note = "no GPU: no NVIDIA driver (libcuda.so.1) on this host";
    } else {
      int code = 0;
      if (get_version(&code) == 0) v.cuda_driver = cuda_version_string(code);
      int rc = init(0);
      int n = 0;
      if (rc == 0 && count(&n) == 0) {
        v.gpu_count = n;
        if (n == 0) v.gpu_note = "no GPU: the driver sees no CUDA device (check CUDA_VISIBLE_DEVICES)";
      } else {
        v.gpu_note = fmt::format("no GPU: cuInit failed with CUDA error {}", rc);
      }
    }
  }
  v.mpi = dist::mpi_library_version();
  unsigned hv = hwloc_get_api_version();
  v.hwloc = fmt::format("{} (API {}.{}.{})", NCD_HWLOC_BUILD_VERSION, hv >> 16, (hv >> 8) & 0xff,
                        hv & 0xff);
  return v;
}

void to_json(nlohmann::json& j, const Versions& v) {
  j = nlohmann::json{{"ncd", v.ncd},     {"nccl", v.nccl},   {"cuda_runtime", v.cuda_runtime},
                     {"cuda_driver", v.cuda_driver}, {"mpi", v.mpi}, {"hwloc", v.hwloc},
                     {"gpu_count", v.gpu_count},     {"gpu_note", v.gpu_note}};
}

void from_json(const nlohmann::json& j, Versions& v) {
  v.ncd = j.value("ncd", "");
  v.nccl = j.value("nccl", "");
  v.cuda_runtime = j.value("cuda_runtime", "");
  v.cuda_driver = j.value("cuda_driver", "");
  v.mpi = j.value("mpi", "");
  v.hwloc = j.value("hwloc", "");
  v.gpu_count = j.value("gpu_count", 0);
  v.gpu_note = j.value("gpu_note", "");
}

}  // namespace ncd::probe
