// SPDX-License-Identifier: Apache-2.0
#include "gpu/rings_capture.hpp"

#include <cuda_runtime.h>
#include <nccl.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <cstdlib>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "gpu/gpu_bench.hpp"

namespace ncd::gpu {
namespace {

namespace fs = std::filesystem;

/// A private directory (0700) removed on scope exit.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = fmt::format("{}/nccl-doctor-rings-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(tmpl.data())) throw Error(fmt::format("cannot create a temporary directory under {}", tmpl));
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string read_capped(const std::string& path, std::size_t max, bool* truncated) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  std::string s;
  s.resize(max + 1);
  in.read(s.data(), static_cast<std::streamsize>(s.size()));
  s.resize(static_cast<std::size_t>(in.gcount()));
  if (s.size() > max) {
    s.resize(max);
    if (truncated) *truncated = true;
  }
  return s;
}

void set_env(const char* name, const std::string& value, bool keep_user) {
  if (keep_user && std::getenv(name)) return;
  setenv(name, value.c_str(), 1);
}

/// Puts back, on scope exit, the NCCL variables the capture sets (the process goes on to other
/// stages, e.g. sweep's bench, whose communicators must not dump files or log at INFO).
class EnvRestore {
 public:
  EnvRestore() {
    for (const char* name : kNames)
      if (const char* v = std::getenv(name)) saved_.emplace_back(name, v);
      else unset_.emplace_back(name);
  }
  ~EnvRestore() {
    for (const auto& [name, value] : saved_) setenv(name.c_str(), value.c_str(), 1);
    for (const auto& name : unset_) unsetenv(name.c_str());
  }
  EnvRestore(const EnvRestore&) = delete;
  EnvRestore& operator=(const EnvRestore&) = delete;

 private:
  static constexpr const char* kNames[] = {"NCCL_TOPO_DUMP_FILE", "NCCL_TOPO_DUMP_FILE_RANK", "NCCL_GRAPH_DUMP_FILE",
                                           "NCCL_GRAPH_DUMP_FILE_RANK", "NCCL_DEBUG", "NCCL_DEBUG_SUBSYS",
                                           "NCCL_DEBUG_FILE", "NCCL_RUNTIME_CONNECT"};
  std::vector<std::pair<std::string, std::string>> saved_;
  std::vector<std::string> unset_;
};

void sleep_ms(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

/// Waits for a non-blocking communicator; false on the deadline or an error (msg set).
bool wait_comm(ncclComm_t comm, const dist::Deadline& deadline, std::string& msg) {
  for (;;) {
    ncclResult_t st = ncclInProgress;
    ncclResult_t r = ncclCommGetAsyncError(comm, &st);
    if (r != ncclSuccess) st = r;
    if (st == ncclSuccess) return true;
    if (st != ncclInProgress) {
      const char* last = ncclGetLastError(comm);
      msg = fmt::format("NCCL: {} ({})", ncclGetErrorString(st), last ? last : "");
      return false;
    }
    if (deadline.expired()) {
      msg = "NCCL did not finish before the deadline";
      return false;
    }
    sleep_ms(2);
  }
}

}  // namespace

RingsCapture capture_rings(dist::Comm& comm, const dist::Deadline& deadline, std::size_t max_log_bytes) {
  RingsCapture cap;
  cap.host = comm.host();
  cap.rank = comm.rank();
  const auto& nodes = comm.nodes();
  const int node = nodes.rank_node.at(comm.rank());
  const int leader = nodes.node_ranks.at(node).front();
  cap.leader = leader == comm.rank();

  int ndev = 0;
  cudaError_t ce = cudaGetDeviceCount(&ndev);
  if (ce != cudaSuccess || ndev == 0)
    throw UnavailableError(fmt::format(
        "rings: no GPU visible on {} ({}); for offline inspection pass --topo-xml FILE --graph-xml FILE",
        cap.host, ce != cudaSuccess ? cudaGetErrorString(ce) : "0 CUDA devices"));

  require_nccl_runtime();
  TempDir dir;
  EnvRestore restore_env;  // declared after dir: the variables are restored before it is removed
  // A user's dump paths are kept (and read back from there), so the raw files survive the run.
  auto user_or = [](const char* name, const std::string& dflt) {
    const char* v = std::getenv(name);
    return v && *v ? std::string(v) : dflt;
  };
  const std::string topo = user_or("NCCL_TOPO_DUMP_FILE", dir.path() + "/topo.xml");
  const std::string graph = user_or("NCCL_GRAPH_DUMP_FILE", dir.path() + "/graph.xml");
  const std::string log = dir.path() + "/nccl.log";
  // Each node's first rank dumps (the *_RANK parameters are compared with the global rank).
  set_env("NCCL_TOPO_DUMP_FILE", topo, false);
  set_env("NCCL_TOPO_DUMP_FILE_RANK", std::to_string(leader), false);
  set_env("NCCL_GRAPH_DUMP_FILE", graph, false);
  set_env("NCCL_GRAPH_DUMP_FILE_RANK", std::to_string(leader), false);
  set_env("NCCL_DEBUG", "INFO", false);
  set_env("NCCL_DEBUG_SUBSYS", "INIT,GRAPH,NET,ENV", false);
  set_env("NCCL_DEBUG_FILE", log, false);
  // Connect rings and trees at init (2.22+ connects lazily per algorithm otherwise), so every
  // connection is logged; the allreduce below then exercises them. A user's value wins.
  set_env("NCCL_RUNTIME_CONNECT", "0", true);

  cap.cuda_dev = local_device(comm, ndev).device;
  if ((ce = cudaSetDevice(cap.cuda_dev)) != cudaSuccess) {
    cap.error = fmt::format("cudaSetDevice({}): {}", cap.cuda_dev, cudaGetErrorString(ce));
    return cap;
  }

  std::string id_blob;
  ncclUniqueId id{};
  if (comm.rank() == 0) {
    ncclResult_t r = ncclGetUniqueId(&id);
    if (r != ncclSuccess) id_blob = std::string("error:") + ncclGetErrorString(r);
    else id_blob.assign(reinterpret_cast<const char*>(&id), sizeof(id));
  }
  if (!comm.broadcast(id_blob, deadline)) {
    cap.error = "no NCCL unique id from rank 0 before the deadline";
    return cap;
  }
  if (id_blob.size() != sizeof(id)) {
    cap.error = "rank 0 could not create an NCCL unique id: " + id_blob;
    return cap;
  }
  std::memcpy(&id, id_blob.data(), sizeof(id));

  ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
  config.blocking = 0;
  ncclComm_t nc = nullptr;
  ncclResult_t r = ncclCommInitRankConfig(&nc, comm.size(), id, comm.rank(), &config);
  std::string msg;
  bool ok = (r == ncclSuccess || r == ncclInProgress) && nc && wait_comm(nc, deadline, msg);
  float* buf = nullptr;
  cudaStream_t stream = nullptr;
  if (ok) {
    constexpr std::size_t kCount = 256 * 1024;  // 1 MiB of float: every rank, every channel
    if (cudaMalloc(&buf, kCount * sizeof(float)) == cudaSuccess && cudaStreamCreate(&stream) == cudaSuccess) {
      cudaMemset(buf, 0, kCount * sizeof(float));
      r = ncclAllReduce(buf, buf, kCount, ncclFloat, ncclSum, nc, stream);
      ok = (r == ncclSuccess || r == ncclInProgress) && wait_comm(nc, deadline, msg);
      while (ok) {
        cudaError_t q = cudaStreamQuery(stream);
        if (q == cudaSuccess) break;
        if (q != cudaErrorNotReady) {
          msg = fmt::format("allreduce: {}", cudaGetErrorString(q));
          ok = false;
        } else if (deadline.expired()) {
          msg = "the allreduce did not finish before the deadline";
          ok = false;
        } else {
          sleep_ms(1);
        }
      }
    } else {
      msg = "cannot allocate the 1 MiB allreduce buffer or a stream";
      ok = false;
    }
  } else if (msg.empty()) {
    msg = fmt::format("ncclCommInitRankConfig: {}", ncclGetErrorString(r));
  }
  // Abort before anything synchronises: cudaFree and cudaStreamDestroy wait for the device, so
  // with a collective stuck they would hang past the deadline. After an abort the buffer and
  // the stream are left to the process exit (NCCL may still reference them).
  if (nc) {
    if (ok) {
      ncclCommFinalize(nc);
      std::string m2;
      wait_comm(nc, deadline, m2);
      ncclCommDestroy(nc);
    } else {
      ncclCommAbort(nc);
    }
  }
  if (ok) {
    if (stream) cudaStreamDestroy(stream);
    if (buf) cudaFree(buf);
  }
  if (!ok) cap.error = msg;
  cap.debug_log = read_capped(log, max_log_bytes, &cap.log_truncated);
  if (cap.leader) {
    cap.topo_xml = read_capped(topo, std::size_t{16} << 20, nullptr);
    cap.graph_xml = read_capped(graph, std::size_t{16} << 20, nullptr);
  }
  return cap;
}

}  // namespace ncd::gpu
