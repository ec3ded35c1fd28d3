// SPDX-License-Identifier: Apache-2.0
#include "gpu/gpu_bench.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <exception>
#include <future>
#include <map>
#include <optional>
#include <thread>

#include <dlfcn.h>
#include <sched.h>

#include "collectives/pattern.hpp"
#include "core/error.hpp"
#include "core/fs.hpp"
#include "core/text.hpp"
#include "core/units.hpp"
#include "gpu/cuda_raii.hpp"
#include "gpu/thread_comm.hpp"
#include "topo/bandwidth.hpp"

namespace ncd::gpu {
namespace {

using collectives::Algo;
using collectives::DType;
using collectives::Op;
using collectives::RedOp;

void short_sleep() {
  timespec ts{0, 200000};  // 200 us: waiting ranks must not spin (cudaEventSynchronize may)
  nanosleep(&ts, nullptr);
}

/// How settle() waits between polls. Inside the timed loop it must not sleep or yield: the next
/// collective is queued only when settle() returns, and a sleep there is idle time between
/// the per-iteration events (a floor of about 200 us per collective).
enum class Poll { kSleep, kSpin };

ncclDataType_t nccl_type(DType t) {
  switch (t) {
    case DType::kInt8: return ncclInt8;
    case DType::kInt32: return ncclInt32;
    case DType::kInt64: return ncclInt64;
    case DType::kFloat32: return ncclFloat32;
    case DType::kFloat64: return ncclFloat64;
    case DType::kFloat16: return ncclFloat16;
    case DType::kBFloat16: return ncclBfloat16;
  }
  return ncclFloat32;
}

ncclRedOp_t nccl_op(RedOp r) {
  switch (r) {
    case RedOp::kSum: return ncclSum;
    case RedOp::kProd: return ncclProd;
    case RedOp::kMin: return ncclMin;
    case RedOp::kMax: return ncclMax;
    case RedOp::kAvg: return ncclAvg;
  }
  return ncclSum;
}

/// NCCL's avg on floats pre-multiplies by 1/n (not exact); everything else is exact.
double tolerance(DType t, RedOp r) {
  if (r != RedOp::kAvg) return 0;
  switch (t) {
    case DType::kFloat16: return 1e-2;
    case DType::kBFloat16: return 2e-2;
    case DType::kFloat32: return 1e-5;
    case DType::kFloat64: return 1e-12;
    default: return 0;
  }
}

std::string nccl_error(ncclResult_t r, ncclComm_t c) {
  const char* last = c ? ncclGetLastError(c) : ncclGetLastError(nullptr);
  return fmt::format("{}{}", ncclGetErrorString(r), last && *last ? std::string(" (") + last + ")" : "");
}

/// Polls a non-blocking communicator until its pending work is accepted: ncclSuccess, the
/// error, or ncclInProgress when the deadline came first (err says which).
ncclResult_t settle(ncclComm_t c, ncclResult_t r, const dist::Deadline& d, std::string& err,
                    Poll poll = Poll::kSleep) {
  if (r == ncclSuccess) return r;
  if (r != ncclInProgress) {
    err = nccl_error(r, c);
    return r;
  }
  for (;;) {
    ncclResult_t st = ncclInProgress;
    const ncclResult_t q = ncclCommGetAsyncError(c, &st);
    if (q != ncclSuccess) {
      err = "ncclCommGetAsyncError: " + nccl_error(q, c);
      return q;
    }
    if (st == ncclSuccess) return st;
    if (st != ncclInProgress) {
      err = nccl_error(st, c);
      return st;
    }
    if (d.expired()) {
      err = "deadline expired";
      return ncclInProgress;
    }
    if (poll == Poll::kSleep) short_sleep();  // kSpin: poll again at once (a yield can lose a time slice)
  }
}

bool usage_error(ncclResult_t r) { return r == ncclInvalidUsage || r == ncclInvalidArgument; }

/// Waits for an event with sleeping polls; false at the deadline or on an error.
bool wait_event(cudaEvent_t e, ncclComm_t c, const dist::Deadline& d, std::string& err) {
  for (;;) {
    cudaError_t q = cudaEventQuery(e);
    if (q == cudaSuccess) return true;
    if (q != cudaErrorNotReady) {
      err = cudaGetErrorString(q);
      return false;
    }
    if (c) {
      ncclResult_t st = ncclInProgress;
      const ncclResult_t qr = ncclCommGetAsyncError(c, &st);
      if (qr != ncclSuccess) st = qr;
      if (st != ncclSuccess && st != ncclInProgress) {
        err = nccl_error(st, c);
        return false;
      }
    }
    if (d.expired()) {
      err = "deadline expired";
      return false;
    }
    short_sleep();
  }
}

/// Whether forcing `a` makes sense for `op` in NCCL 2.28: Tree implements AllReduce only;
/// AlltoAll and SendRecv are point-to-point (no algorithm), so only "native" measures them.
bool nccl_supports(Algo a, Op op) {
  switch (a) {
    case Algo::kNative: return true;
    case Algo::kRing: return op != Op::kAllToAll && op != Op::kSendRecv;
    case Algo::kTree: return op == Op::kAllReduce;
    // NVLS: AllReduce, AllGather, ReduceScatter; CollNet: AllReduce (others need plugin support).
    case Algo::kNvls: return op == Op::kAllReduce || op == Op::kAllGather || op == Op::kReduceScatter;
    case Algo::kCollnet: return op == Op::kAllReduce;
  }
  return false;
}

const char* algo_env(Algo a) {
  switch (a) {
    case Algo::kRing: return "Ring";
    case Algo::kTree: return "Tree";
    case Algo::kNative: return nullptr;
    case Algo::kNvls: return "NVLS";
    case Algo::kCollnet: return "CollNetDirect,CollNetChain";
  }
  return nullptr;
}

/// Restores NCCL_ALGO as the user had it when destroyed. Inactive (`active` false): changes
/// nothing (the other threads of in-process ranks: one thread owns the environment).
class AlgoEnv {
 public:
  explicit AlgoEnv(bool active = true) : active_(active) {
    if (const char* v = std::getenv("NCCL_ALGO")) saved_ = v;
  }
  ~AlgoEnv() { set(nullptr); }
  AlgoEnv(const AlgoEnv&) = delete;
  AlgoEnv& operator=(const AlgoEnv&) = delete;
  /// nullptr: the user's own setting (NCCL's choice when unset).
  void set(const char* algo) {
    if (!active_) return;
    if (algo) setenv("NCCL_ALGO", algo, 1);
    else if (saved_) setenv("NCCL_ALGO", saved_->c_str(), 1);
    else unsetenv("NCCL_ALGO");
  }

 private:
  bool active_ = true;
  std::optional<std::string> saved_;
};

ncclResult_t launch(Op op, const void* send, void* recv, const collectives::Shape& s, DType t, RedOp r, int root,
                    int rank, int n, ncclComm_t c, cudaStream_t st) {
  const ncclDataType_t dt = nccl_type(t);
  switch (op) {
    case Op::kAllReduce: return ncclAllReduce(send, recv, s.count, dt, nccl_op(r), c, st);
    case Op::kAllGather: return ncclAllGather(send, recv, s.block, dt, c, st);
    case Op::kReduceScatter: return ncclReduceScatter(send, recv, s.block, dt, nccl_op(r), c, st);
    case Op::kBroadcast: return ncclBroadcast(send, recv, s.count, dt, root, c, st);
    case Op::kReduce: return ncclReduce(send, recv, s.count, dt, nccl_op(r), root, c, st);
    case Op::kAllToAll: {
      // ncclAlltoAll exists from NCCL 2.28 on: looked up at run time, so an older libnccl
      // skips this op instead of failing with a symbol lookup error.
      using AlltoAllFn = ncclResult_t (*)(const void*, void*, size_t, ncclDataType_t, ncclComm_t, cudaStream_t);
      static const auto fn = reinterpret_cast<AlltoAllFn>(dlsym(RTLD_DEFAULT, "ncclAlltoAll"));
      if (!fn) return ncclInvalidUsage;
      return fn(send, recv, s.block, dt, c, st);
    }
    case Op::kSendRecv: {
      ncclResult_t g = ncclGroupStart();
      if (g != ncclSuccess) return g;
      ncclResult_t a = ncclSend(send, s.count, dt, (rank + 1) % n, c, st);
      ncclResult_t b = ncclRecv(recv, s.count, dt, (rank - 1 + n) % n, c, st);
      ncclResult_t e = ncclGroupEnd();
      if (a != ncclSuccess && a != ncclInProgress) return a;
      if (b != ncclSuccess && b != ncclInProgress) return b;
      return e;
    }
  }
  return ncclInvalidArgument;
}

std::string sysfs_attr(const std::string& bus, const char* name) {
  std::string path = "/sys/bus/pci/devices/" + bus + "/" + name;
  return read_attr(path).value_or("");
}

std::uint64_t hash_bytes(const char* p, std::size_t n) {
  std::uint64_t h = 0x9E3779B97F4A7C15ull ^ n;
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t w = 0;
    std::memcpy(&w, p + i, 8);
    h = (h ^ w) * 0x100000001B3ull;
    h ^= h >> 29;
  }
  for (; i < n; ++i) h = (h ^ static_cast<unsigned char>(p[i])) * 0x100000001B3ull;
  return h;
}

/// The data check of an allreduce in O(count) per rank instead of O(count x ranks) (every
/// expected element folds all ranks' inputs): rank r checks slice r of its output exactly
/// (the reduce-scatter block r of the same inputs), every rank hashes each slice of its
/// output, and rank 0 compares rank q's slice s with the slice's owner (rank s) where the
/// owner's is right; the ranks bring their hashes in one gather and take their count back in
/// one broadcast. This rank's wrong elements: exact in its own slice, plus one per other
/// slice that differs from a right owner's. `out` is nullptr on a rank that could not run
/// the check (it takes part in the exchange all the same).
std::int64_t allreduce_wrong(const collectives::CheckSpec& spec, int me, int n, const char* out, std::size_t esz,
                             dist::Comm& comm, const dist::Deadline& deadline) {
  const std::size_t count = spec.shape.recv_count;
  const std::size_t b = (count + static_cast<std::size_t>(n) - 1) / static_cast<std::size_t>(n);
  auto slice = [&](int s) {
    const std::size_t lo = std::min(count, b * static_cast<std::size_t>(s));
    return std::pair<std::size_t, std::size_t>{lo, std::min(count, lo + b)};
  };
  std::string blob;
  std::int64_t own = -1;
  if (out) {
    own = 0;
    const auto [lo, hi] = slice(me);
    if (hi > lo) {
      collectives::CheckSpec rs = spec;
      rs.op = Op::kReduceScatter;  // the same inputs and reduction, block `me` only
      rs.shape.count = rs.shape.block = rs.shape.recv_count = b;
      rs.shape.send_count = b * static_cast<std::size_t>(n);
      std::vector<char> mine(b * esz);
      collectives::expected_recv(rs, me, mine.data());  // past `count`: the expected values themselves
      std::memcpy(mine.data(), out + lo * esz, (hi - lo) * esz);
      own = static_cast<std::int64_t>(collectives::count_wrong(rs, me, mine.data()));
    }
    blob = std::to_string(own);
    for (int s = 0; s < n; ++s) {
      const auto [slo, shi] = slice(s);
      blob += fmt::format(" {:x}", hash_bytes(out + slo * esz, (shi - slo) * esz));
    }
  }
  const auto wait = dist::Deadline::after(std::max(5.0, deadline.remaining_s()));
  auto all = comm.gather(blob, wait);
  std::string verdict;
  if (me == 0) {
    std::vector<std::vector<std::string>> f(static_cast<std::size_t>(n));
    for (std::size_t q = 0; q < all.size() && q < f.size(); ++q)
      if (all[q]) f[q] = split(*all[q], ' ');
    auto valid = [&](std::size_t q) { return f[q].size() == static_cast<std::size_t>(n) + 1; };
    std::vector<std::string> counts;
    for (std::size_t q = 0; q < f.size(); ++q) {
      if (!valid(q)) {
        counts.emplace_back("-1");
        continue;
      }
      std::int64_t w = std::stoll(f[q][0]);
      for (std::size_t s = 0; s < f.size(); ++s)
        if (s != q && valid(s) && f[s][0] == "0" && f[q][s + 1] != f[s][s + 1]) ++w;
      counts.push_back(std::to_string(w));
    }
    verdict = join(counts, " ");
  }
  if (!comm.broadcast(verdict, wait)) return own;
  const auto counts = split(verdict, ' ');
  if (counts.size() != static_cast<std::size_t>(n)) return own;
  return std::stoll(counts[static_cast<std::size_t>(me)]);
}

/// Pinned host memory whose pages lie on the NUMA node of the GPU at `bus` (sysfs numa_node):
/// allocated and first touched by this thread while it runs on that node's CPUs.
HostBuffer numa_local_host_buffer(const std::string& bus, std::size_t bytes) {
  cpu_set_t old_set;
  const bool have_old = sched_getaffinity(0, sizeof old_set, &old_set) == 0;
  bool moved = false;
  const std::string node = bus.empty() ? "" : sysfs_attr(bus, "numa_node");
  if (have_old && !node.empty() && node != "-1") {
    const auto cpus = read_attr("/sys/devices/system/node/node" + node + "/cpulist");
    cpu_set_t set;
    CPU_ZERO(&set);
    int count = 0;
    for (const auto& range : split(cpus.value_or(""), ',')) {
      int lo = -1, hi = -1;
      if (std::sscanf(range.c_str(), "%d-%d", &lo, &hi) < 2) hi = lo;
      for (int c = lo; c >= 0 && c <= hi && c < CPU_SETSIZE; ++c) {
        CPU_SET(c, &set);
        ++count;
      }
    }
    moved = count > 0 && sched_setaffinity(0, sizeof set, &set) == 0;
  }
  HostBuffer host(bytes);
  if (bytes) std::memset(host.get(), 0, bytes);
  if (moved) (void)sched_setaffinity(0, sizeof old_set, &old_set);
  return host;
}

}  // namespace

GpuAvailability gpu_availability() {
  GpuAvailability a;
  int n = 0;  // left untouched on error (build-and-cluster-sim.md §2)
  cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess) {
    int drv = 0;
    (void)cudaDriverGetVersion(&drv);
    a.reason = drv == 0 ? fmt::format("no NVIDIA driver ({})", cudaGetErrorString(e))
                        : fmt::format("{} ({})", cudaGetErrorString(e), cudaGetErrorName(e));
    (void)cudaGetLastError();
    return a;
  }
  a.count = n;
  if (n == 0) a.reason = "no CUDA device visible (CUDA_VISIBLE_DEVICES?)";
  return a;
}

NcclRuntime nccl_runtime() {
  NcclRuntime rt;
  if (ncclGetVersion(&rt.code) != ncclSuccess) rt.code = 0;
  // NCCL_VERSION(X,Y,Z): X*10000+Y*100+Z from 2.9 on, X*1000+Y*100+Z before.
  if (rt.code >= 10000) rt.version = fmt::format("{}.{}.{}", rt.code / 10000, rt.code / 100 % 100, rt.code % 100);
  else if (rt.code > 0) rt.version = fmt::format("{}.{}.{}", rt.code / 1000, rt.code / 100 % 10, rt.code % 100);
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&ncclGetVersion), &info) && info.dli_fname) rt.path = info.dli_fname;
  return rt;
}

void require_nccl_runtime() {
  const NcclRuntime rt = nccl_runtime();
  const int code = rt.code >= 10000 ? rt.code : 0;  // the old scheme is before 2.9
  if (code < kMinNcclCode)
    throw UnavailableError(fmt::format(
        "{} is NCCL {}; the GPU backend needs NCCL 2.18 or newer (built against {}.{}.{}): put a newer "
        "libnccl.so.2 first in LD_LIBRARY_PATH",
        rt.path.empty() ? "the loaded libnccl" : rt.path, rt.version.empty() ? "of unknown version" : rt.version,
        NCCL_MAJOR, NCCL_MINOR, NCCL_PATCH));
}

LocalDevice local_device(const dist::Comm& comm, int ndev) {
  LocalDevice ld;
  const auto& nodes = comm.nodes();
  const auto me = static_cast<std::size_t>(comm.rank());
  ld.local_rank = nodes.rank_local.at(me);
  ld.local_size = static_cast<int>(nodes.node_ranks.at(static_cast<std::size_t>(nodes.rank_node.at(me))).size());
  ld.from = "MPI";
  if (ld.local_size == 1) {
    // Alone in this job on this node: N one-rank jobs (srun --mpi=none, torchrun) would all
    // pick GPU 0. The launcher says which local process this is.
    for (const char* var : {"LOCAL_RANK", "SLURM_LOCALID", "OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID",
                            "PMI_LOCAL_RANK", "MV2_COMM_WORLD_LOCAL_RANK"}) {
      const char* v = std::getenv(var);
      if (!v || !*v) continue;
      char* end = nullptr;
      const long r = std::strtol(v, &end, 10);
      if (*end || r < 0 || r > 1 << 20) continue;
      ld.local_rank = static_cast<int>(r);
      ld.from = var;
      break;
    }
    for (const char* var : {"LOCAL_WORLD_SIZE", "SLURM_NTASKS_PER_NODE", "OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS"}) {
      const char* v = std::getenv(var);
      if (v && std::atoi(v) > 0) {
        ld.local_size = std::atoi(v);
        break;
      }
    }
    ld.local_size = std::max(ld.local_size, ld.local_rank + 1);
  }
  ld.device = ndev > 0 ? ld.local_rank % ndev : 0;
  return ld;
}

double pcie_gbps(const std::string& speed, int width) {
  double gts = 0;
  try {
    gts = std::stod(speed);
  } catch (...) {
    return 0;
  }
  return topo::pcie_raw_gbps(gts, width);
}

GpuBenchOutcome run_nccl_bench(const collectives::BenchPlan& plan, dist::Comm& comm, const dist::Deadline& deadline,
                               const std::function<void(const std::string&)>& progress) {
  GpuBenchOutcome res;
  collectives::BenchOutcome& out = res.bench;
  const dist::Deadline work = work_deadline(deadline);
  // The exchanges after the work: ranks that aborted at the work deadline arrive a moment after
  // rank 0, and the reserve gives them that moment (a sync point would otherwise name them with
  // the stuck rank).
  auto report_by = [&deadline] { return dist::Deadline::after(std::max(1.0, deadline.remaining_s())); };
  const GpuAvailability av = gpu_availability();
  if (av.count == 0) throw UnavailableError("no GPU: " + av.reason);
  require_nccl_runtime();
  const int n = comm.size();
  const int me = comm.rank();
  const LocalDevice ld = local_device(comm, av.count);
  const int device = ld.device;
  cuda_check(cudaSetDevice(device), "cudaSetDevice");
  {
    // Two ranks on one GPU: NCCL refuses the communicator ("Duplicate GPU detected"), and a
    // node with more ranks than GPUs measures shared GPUs. Rank 0 names them.
    char bus[32] = {};
    if (cudaDeviceGetPCIBusId(bus, sizeof bus, device) != cudaSuccess) (void)cudaGetLastError();
    const std::string mine = fmt::format("{}\t{}\t{}\t{}\t{}\t{}", comm.host(), to_lower(bus), device, ld.local_rank,
                                         ld.local_size, av.count);
    auto all = comm.gather(mine, report_by());
    if (me == 0) {
      std::map<std::string, std::vector<int>> by_gpu;
      std::map<std::string, std::string> bus_of;
      for (std::size_t q = 0; q < all.size(); ++q) {
        if (!all[q]) continue;
        auto f = split(*all[q], '\t', false);
        if (f.size() != 6) continue;
        by_gpu[f[0] + " GPU" + f[2]].push_back(static_cast<int>(q));
        bus_of[f[0] + " GPU" + f[2]] = f[1];
        const int lr = std::atoi(f[3].c_str()), ls = std::atoi(f[4].c_str()), nd = std::atoi(f[5].c_str());
        if (n == 1 && ls > nd) {
          Finding fd = make_finding("gpu.duplicate", f[0], fmt::format("GPU{} {}", f[2], f[1]),
                                    fmt::format("{} processes on this node ({}) but {} GPU(s) visible: local rank "
                                                "{} shares GPU{} with another process",
                                                ls, ld.from, nd, lr, f[2]));
          res.findings.push_back(std::move(fd));
        }
      }
      for (const auto& [key, ranks] : by_gpu) {
        if (ranks.size() < 2) continue;
        std::vector<std::string> rs;
        for (int q : ranks) rs.push_back(std::to_string(q));
        const auto sp = key.find(' ');
        Finding fd = make_finding("gpu.duplicate", key.substr(0, sp), fmt::format("{} {}", key.substr(sp + 1), bus_of[key]),
                                  fmt::format("ranks {} all drive {} ({} rank(s) on the node, fewer GPUs): NCCL "
                                              "refuses two ranks on one GPU, and shared GPUs measure less",
                                              join(rs, ","), key.substr(sp + 1), ranks.size()));
        res.findings.push_back(std::move(fd));
      }
    }
  }
  Stream stream;
  // In-process ranks (bench -g N, one thread each) share one environment: rank 0 sets
  // NCCL_ALGO, and barriers keep it in place from before any rank's init until every rank's
  // init has finished (NCCL reads it during the asynchronous part of a non-blocking init).
  const bool shared_env = !comm.is_mpi() && n > 1;
  AlgoEnv env(!shared_env || me == 0);
  auto env_barrier = [&] {
    if (shared_env) (void)comm.barrier(report_by());
  };
  if (const char* b = std::getenv("NCCL_COMM_BLOCKING"); b && *b && me == 0)
    res.notes.push_back(fmt::format("NCCL_COMM_BLOCKING={} is set: it overrides the non-blocking communicators, so a "
                                    "stuck init or collective cannot be abandoned at the deadline",
                                    b));
  bool stop_next = false;
  for (Algo algo : plan.algos) {
    if (!collectives::sync_point(comm, report_by(), out, stop_next)) {
      out.stopped = true;
      return res;
    }
    // One communicator per algorithm: NCCL reads NCCL_ALGO at every init (tuning.cc @2.28.9).
    std::string id_blob;
    if (me == 0) {
      ncclUniqueId id;
      ncclResult_t r = ncclGetUniqueId(&id);
      if (r != ncclSuccess) throw Error("ncclGetUniqueId: " + nccl_error(r, nullptr));
      id_blob.assign(reinterpret_cast<const char*>(&id), sizeof id);
    }
    if (!comm.broadcast(id_blob, work) || id_blob.size() != sizeof(ncclUniqueId)) {
      out.stopped = true;
      out.failed_step = "NCCL unique id exchange";
      comm.mark_broken();
      return res;
    }
    ncclUniqueId id;
    std::memcpy(&id, id_blob.data(), sizeof id);
    env.set(algo_env(algo));
    env_barrier();
    ncclConfig_t cfg = NCCL_CONFIG_INITIALIZER;
    cfg.blocking = 0;
    if (algo == Algo::kCollnet) cfg.collnetEnable = 1;  // CollNet is off unless the config asks
    NcclComm nc;
    std::string err;
    // Non-blocking init: poll ncclCommGetAsyncError against the deadline, abort on expiry.
    const ncclResult_t init = ncclCommInitRankConfig(nc.out(), n, id, me, &cfg);
    bool ok = false;
    if (init != ncclSuccess && init != ncclInProgress) err = nccl_error(init, nc.get());
    else ok = nc.get() != nullptr && settle(nc.get(), ncclInProgress, work, err) == ncclSuccess;
    // A rank whose init failed aborts at once: that closes its bootstrap connections, so its
    // peers' inits fail now instead of waiting for it until the deadline.
    if (!ok) nc.abort();
    env_barrier();
    env.set(nullptr);
    // Everyone learns whether every rank got its communicator.
    auto init_blobs = comm.gather(ok ? "ok" : "fail: " + err, report_by());
    std::string verdict = "ok";
    if (me == 0) {
      // The rank whose own init failed, rather than the peers that lost it (a remote error).
      std::string remote;
      for (std::size_t q = 0; q < init_blobs.size(); ++q) {
        if (!init_blobs[q]) {
          out.missing_ranks.push_back(static_cast<int>(q));
          verdict = "timeout";
        } else if (*init_blobs[q] != "ok") {
          const bool lost_peer = init_blobs[q]->find(ncclGetErrorString(ncclRemoteError)) != std::string::npos;
          std::string& slot = lost_peer ? remote : verdict;
          if (slot == "ok" || slot.empty()) slot = fmt::format("rank {}: {}", q, *init_blobs[q]);
        }
      }
      if (verdict == "ok" && !remote.empty()) verdict = remote;
    }
    if (!comm.broadcast(verdict, dist::Deadline::after(std::max(1.0, deadline.remaining_s()) + 15))) verdict = "timeout";
    if (verdict != "ok") {
      nc.abort();
      if (verdict == "timeout" || err == "deadline expired") {
        out.stopped = true;
        out.failed_step = fmt::format("NCCL init ({})", collectives::to_string(algo));
        comm.mark_broken();
        return res;
      }
      res.notes.push_back(fmt::format("NCCL communicator with NCCL_ALGO={} could not be created: {}",
                                      algo_env(algo) ? algo_env(algo) : "(NCCL's choice)", verdict));
      continue;
    }

    bool next_algo = false;
    for (Op op : plan.ops) {
      if (next_algo) break;
      if (!nccl_supports(algo, op)) {
        if (me == 0)
          res.notes.push_back(fmt::format("NCCL has no {} {} (Tree: allreduce only; alltoall and sendrecv are "
                                          "point-to-point): measured under native only",
                                          collectives::to_string(algo), collectives::to_string(op)));
        continue;
      }
      std::size_t last_bytes = ~std::size_t{0};
      for (std::size_t bytes : plan.sizes) {
        const collectives::Shape shape = collectives::shape_for(op, plan.dtype, bytes, n);
        if (shape.bytes == last_bytes) continue;  // rounds to the size already measured
        last_bytes = shape.bytes;
        const std::string step = fmt::format("{} {} {}", collectives::to_string(op), collectives::to_string(algo),
                                             format_size(shape.bytes));
        if (!collectives::sync_point(comm, report_by(), out, stop_next)) {
          nc.abort();
          out.stopped = true;
          if (out.failed_step.empty()) out.failed_step = step;
          return res;
        }
        if (me == 0 && progress) progress(step);
        collectives::CheckSpec spec;
        spec.op = op;
        spec.dtype = plan.dtype;
        spec.redop = collectives::has_redop(op) ? plan.redop : RedOp::kSum;
        spec.root = plan.root % n;
        spec.nranks = n;
        spec.shape = shape;
        spec.seed = plan.seed ^ static_cast<std::uint32_t>(bytes * 2654435761u);
        spec.rel_tol = tolerance(plan.dtype, spec.redop);
        const std::size_t esz = collectives::dtype_size(plan.dtype);
        DeviceBuffer send(shape.send_count * esz), recv(shape.recv_count * esz);
        std::vector<char> host(std::max(shape.send_count, shape.recv_count) * esz + 1);
        collectives::fill_send(spec, me, host.data());
        if (shape.send_count)
          cuda_check(cudaMemcpy(send.get(), host.data(), shape.send_count * esz, cudaMemcpyHostToDevice), "cudaMemcpy");
        if (shape.recv_count) cuda_check(cudaMemset(recv.get(), 0, shape.recv_count * esz), "cudaMemset");

        bool good = true;
        bool unsupported = false;  // NCCL refused the call: no algorithm for it, skip the op
        bool comm_dead = false;    // ... and said so asynchronously: the communicator is unusable
        auto run_once = [&](Poll poll) {
          ncclResult_t r = launch(op, send.get(), recv.get(), shape, plan.dtype, spec.redop, spec.root, me, n,
                                  nc.get(), stream.get());
          if (usage_error(r)) {
            unsupported = true;
            err = nccl_error(r, nc.get());
            return false;
          }
          const ncclResult_t st = settle(nc.get(), r, work, err, poll);
          if (usage_error(st)) unsupported = comm_dead = true;
          return st == ncclSuccess;
        };
        Event done;
        for (int i = 0; i < plan.warmup && good; ++i) good = run_once(Poll::kSleep);
        if (good) {
          cuda_check(cudaEventRecord(done.get(), stream.get()), "cudaEventRecord");
          good = wait_event(done.get(), nc.get(), work, err);
        }
        std::vector<double> times;
        if (good) {
          std::vector<Event> ev(static_cast<std::size_t>(plan.iters) + 1);
          cuda_check(cudaEventRecord(ev[0].get(), stream.get()), "cudaEventRecord");
          for (int i = 0; i < plan.iters && good; ++i) {
            good = run_once(Poll::kSpin);
            cuda_check(cudaEventRecord(ev[static_cast<std::size_t>(i) + 1].get(), stream.get()), "cudaEventRecord");
          }
          if (good) good = wait_event(ev.back().get(), nc.get(), work, err);
          for (int i = 0; i < plan.iters && good; ++i) {
            float ms = 0;
            cuda_check(cudaEventElapsedTime(&ms, ev[static_cast<std::size_t>(i)].get(),
                                            ev[static_cast<std::size_t>(i) + 1].get()),
                       "cudaEventElapsedTime");
            times.push_back(static_cast<double>(ms) * 1000.0);
          }
        }
        std::int64_t wrong = plan.check > 0 ? 0 : -1;
        // An allreduce's check is shared out between the ranks (O(count) each), so every rank
        // takes part in each round even after its own run failed.
        const bool shared_check = op == Op::kAllReduce && n > 1 && good;
        for (int i = 0; i < plan.check && (good || shared_check); ++i) {
          if (good) {
            if (shape.recv_count) cuda_check(cudaMemsetAsync(recv.get(), 0xA5, shape.recv_count * esz, stream.get()), "cudaMemsetAsync");
            good = run_once(Poll::kSleep);
          }
          if (good) {
            cuda_check(cudaEventRecord(done.get(), stream.get()), "cudaEventRecord");
            good = wait_event(done.get(), nc.get(), work, err);
          }
          if (good) {
            if (shape.recv_count)
              cuda_check(cudaMemcpy(host.data(), recv.get(), shape.recv_count * esz, cudaMemcpyDeviceToHost), "cudaMemcpy");
            const char* corrupt = std::getenv("NCD_TEST_CORRUPT_RANK");
            if (corrupt && *corrupt && std::atoi(corrupt) == me && shape.recv_count && collectives::has_output(spec, me))
              host[0] ^= 0x5a;
          }
          const std::int64_t w = shared_check ? allreduce_wrong(spec, me, n, good ? host.data() : nullptr, esz, comm, work)
                                 : good      ? static_cast<std::int64_t>(collectives::count_wrong(spec, me, host.data()))
                                             : -1;
          if (good) wrong = std::max(wrong, w);
          if (!good && !shared_check) break;
        }
        if (!good && !unsupported) {
          nc.abort();
          send.release();
          recv.release();
          comm.mark_broken();
          stop_next = true;
        }
        // "ok" is false only for real failures; an unsupported combination is skipped
        // (wrong = -2: this op; -3: and the communicator is unusable).
        auto blobs = comm.gather(
            collectives::point_blob(good || unsupported, comm_dead ? -3 : unsupported ? -2 : wrong, times),
            report_by());
        // Every rank must take the same branch (the syncs pair up): rank 0 decides.
        std::string decision = "ok";
        if (me == 0)
          for (const auto& b : blobs) {
            if (b && b->find("\"wrong\":-3") != std::string::npos) decision = "skip-algo";
            else if (b && b->find("\"wrong\":-2") != std::string::npos && decision == "ok") decision = "skip-op";
          }
        if (!comm.broadcast(decision, dist::Deadline::after(std::max(1.0, deadline.remaining_s()) + 15))) {
          nc.abort();
          comm.mark_broken();
          out.stopped = true;
          out.failed_step = step;
          return res;
        }
        if (decision != "ok") {
          if (me == 0)
            res.notes.push_back(fmt::format("NCCL refused {} {}: {}", collectives::to_string(algo),
                                            collectives::to_string(op), err.empty() ? "invalid usage" : err));
          if (decision == "skip-algo") {
            nc.abort();
            next_algo = true;
          }
          break;  // other sizes of this op fail the same way
        }
        if (me != 0) continue;
        collectives::PointResult pr;
        pr.row.op = std::string(collectives::to_string(op));
        pr.row.algo = std::string(collectives::to_string(algo));
        pr.row.backend = "nccl";
        pr.row.dtype = std::string(collectives::to_string(plan.dtype));
        pr.row.redop = collectives::has_redop(op) ? std::string(collectives::to_string(plan.redop)) : "none";
        pr.row.root = collectives::has_root(op) ? spec.root : -1;
        pr.row.bytes = shape.bytes;
        pr.row.count = shape.count;
        if (!collectives::assemble_point(blobs, plan.iters, plan.check, op, pr, out)) {
          stop_next = true;
          out.stopped = true;
          out.failed_step = step;
          continue;
        }
        if (plan.on_row) plan.on_row(pr.row);
        out.points.push_back(std::move(pr));
      }
    }
  }
  if (!collectives::sync_point(comm, report_by(), out, stop_next)) out.stopped = true;
  return res;
}

LocalGroupRun run_nccl_bench_local(const collectives::BenchPlan& plan, int ngpus, const dist::Deadline& deadline,
                                   const std::function<void(const std::string&)>& progress) {
  const GpuAvailability av = gpu_availability();
  if (av.count == 0) throw UnavailableError("no GPU: " + av.reason);
  if (ngpus > av.count)
    throw UnavailableError(fmt::format("-g {}: only {} GPU(s) visible to this process (CUDA_VISIBLE_DEVICES?); use "
                                       "-g {} or fewer",
                                       ngpus, av.count, av.count));
  require_nccl_runtime();
  auto comms = make_thread_comms(ngpus);
  struct Slot {
    std::promise<GpuBenchOutcome> result;
    std::future<GpuBenchOutcome> done = result.get_future();
  };
  // Shared with the threads: one that never returns keeps its slot, comm and plan alive.
  auto slots = std::make_shared<std::vector<Slot>>(static_cast<std::size_t>(ngpus));
  auto shared_plan = std::make_shared<const collectives::BenchPlan>(plan);
  std::vector<std::thread> threads;
  for (int r = 0; r < ngpus; ++r)
    threads.emplace_back([slots, shared_plan, comm = comms[static_cast<std::size_t>(r)], deadline, r,
                          progress = r == 0 ? progress : std::function<void(const std::string&)>{}] {
      auto& slot = (*slots)[static_cast<std::size_t>(r)];
      try {
        slot.result.set_value(run_nccl_bench(*shared_plan, *comm, deadline, progress));
      } catch (...) {
        slot.result.set_exception(std::current_exception());
      }
    });
  // Rank 0 keeps the deadlines: it returns once every step ended or expired.
  std::optional<GpuBenchOutcome> first;
  std::exception_ptr error;
  try {
    first = (*slots)[0].done.get();
  } catch (...) {
    error = std::current_exception();
  }
  threads[0].join();
  // The others finish their last step a moment later; one that never answered rank 0 (still
  // inside a launch) is left behind at once.
  const auto grace = std::chrono::duration<double>(std::max(5.0, std::min(deadline.remaining_s(), 30.0)));
  const auto until = std::chrono::steady_clock::now() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(grace);
  for (int r = 1; r < ngpus; ++r) {
    auto& t = threads[static_cast<std::size_t>(r)];
    const bool missing = first && std::find(first->bench.missing_ranks.begin(), first->bench.missing_ranks.end(), r) !=
                                      first->bench.missing_ranks.end();
    auto& done = (*slots)[static_cast<std::size_t>(r)].done;
    if (done.wait_until(missing ? std::chrono::steady_clock::now() : until) == std::future_status::ready) t.join();
    else t.detach();
  }
  if (error) std::rethrow_exception(error);
  LocalGroupRun run;
  run.outcome = std::move(*first);
  run.comm = comms[0];
  return run;
}

std::vector<CopyResult> run_copy_bench(std::size_t bytes, int iters, const dist::Deadline& deadline) {
  std::vector<CopyResult> out;
  const GpuAvailability av = gpu_availability();
  if (av.count == 0) throw UnavailableError("no GPU: " + av.reason);
  iters = std::max(iters, 1);
  auto bus_of = [](int d) {
    char buf[32] = {};
    if (cudaDeviceGetPCIBusId(buf, sizeof buf, d) != cudaSuccess) return std::string();
    return to_lower(buf);
  };
  auto timed = [&](int device, const std::function<void(cudaStream_t)>& copy) -> double {
    DeviceGuard g(device);
    Stream s;
    std::vector<Event> ev(static_cast<std::size_t>(iters) + 1);
    copy(s.get());  // warm-up
    cuda_check(cudaEventRecord(ev[0].get(), s.get()), "cudaEventRecord");
    for (int i = 0; i < iters; ++i) {
      copy(s.get());
      cuda_check(cudaEventRecord(ev[static_cast<std::size_t>(i) + 1].get(), s.get()), "cudaEventRecord");
    }
    std::string err;
    if (!wait_event(ev.back().get(), nullptr, deadline, err)) throw Error("copy bandwidth: " + err);
    std::vector<double> us;
    for (int i = 0; i < iters; ++i) {
      float ms = 0;
      cuda_check(cudaEventElapsedTime(&ms, ev[static_cast<std::size_t>(i)].get(), ev[static_cast<std::size_t>(i) + 1].get()),
                 "cudaEventElapsedTime");
      us.push_back(static_cast<double>(ms) * 1000.0);
    }
    const double med = collectives::iter_stats(us).median;
    return med > 0 ? to_gbps(static_cast<double>(bytes), med * 1e-6) : 0;
  };
  std::vector<DeviceBuffer> dev;
  for (int d = 0; d < av.count; ++d) {
    DeviceGuard g(d);
    dev.emplace_back(bytes);
  }
  for (int d = 0; d < av.count; ++d) {
    const std::string bus = bus_of(d);
    // The link's capability, not its current state: an idle GPU parks its link at Gen1, and
    // the copy itself retrains it (judging by the current speed would never flag a slow copy).
    const std::string speed = sysfs_attr(bus, "max_link_speed");
    const std::string width = sysfs_attr(bus, "max_link_width");
    // Pinned memory on the GPU's own NUMA node (first touch from its CPUs), one buffer per GPU.
    HostBuffer host = numa_local_host_buffer(bus, bytes);
    double expect = 0;
    if (!speed.empty() && !width.empty()) {
      try {
        expect = pcie_gbps(speed, std::stoi(width));
      } catch (...) {
        expect = 0;
      }
    }
    const std::string from = expect > 0 ? fmt::format("PCIe {} x{} (sysfs max_link_*)", speed, width) : "";
    void* dp = dev[static_cast<std::size_t>(d)].get();
    out.push_back({"h2d", -1, d, bus, bytes, timed(d, [&](cudaStream_t s) {
                     cuda_check(cudaMemcpyAsync(dp, host.get(), bytes, cudaMemcpyHostToDevice, s), "cudaMemcpyAsync");
                   }), expect, from});
    out.push_back({"d2h", d, -1, bus, bytes, timed(d, [&](cudaStream_t s) {
                     cuda_check(cudaMemcpyAsync(host.get(), dp, bytes, cudaMemcpyDeviceToHost, s), "cudaMemcpyAsync");
                   }), expect, from});
  }
  for (int a = 0; a < av.count; ++a)
    for (int b = 0; b < av.count; ++b) {
      if (a == b) continue;
      int can = 0;
      (void)cudaDeviceCanAccessPeer(&can, a, b);
      if (can) {
        DeviceGuard g(a);
        cudaError_t e = cudaDeviceEnablePeerAccess(b, 0);
        if (e == cudaErrorPeerAccessAlreadyEnabled) {
          (void)cudaGetLastError();
        } else if (e == cudaErrorTooManyPeers) {
          // PCIe systems map at most 8 peers per GPU: copy through the host for the rest.
          (void)cudaGetLastError();
          can = 0;
        } else {
          cuda_check(e, "cudaDeviceEnablePeerAccess");
        }
      }
      void* src = dev[static_cast<std::size_t>(a)].get();
      void* dst = dev[static_cast<std::size_t>(b)].get();
      out.push_back({"d2d", a, b, bus_of(a), bytes, timed(a, [&](cudaStream_t s) {
                       cuda_check(cudaMemcpyPeerAsync(dst, b, src, a, bytes, s), "cudaMemcpyPeerAsync");
                     }), 0, can ? "peer access" : "no peer access (staged through the host)"});
    }
  return out;
}

}  // namespace ncd::gpu
