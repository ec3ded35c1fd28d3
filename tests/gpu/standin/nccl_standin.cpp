// SPDX-License-Identifier: Apache-2.0
// The NCCL subset nccl-doctor calls, between processes of one machine (see standin.hpp).
#include <fcntl.h>
#include <nccl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "collectives/reduce.hpp"
#include "standin.hpp"

namespace {

using ncd::collectives::DType;
using ncd::collectives::RedOp;

struct Comm {
  std::string dir;
  int n = 0, rank = 0, device = 0;
  bool blocking = true;
  std::string algo;  // NCCL_ALGO at init
  std::atomic<int> state{ncclInProgress};
  std::atomic<bool> aborted{false};
  std::atomic<int> polls_pending{0};  // a non-blocking launch reports ncclInProgress once
  std::uint64_t seq = 0;
  std::vector<std::uint64_t> sent, recvd;
  std::mutex mu;
  std::string last_error;
  std::vector<std::string> trace;  // collective durations, written at destroy/abort
  double last_return_us = 0;       // when the previous collective call returned (host side)
};

thread_local double tl_last_op_end = 0;  // per stream worker: when its previous collective ended

// Per thread: one process may drive several devices, one thread each (bench -g N).
thread_local std::string g_last_error;
thread_local int g_group = 0;

int env_int(const char* name, int dflt) {
  const char* v = std::getenv(name);
  return v && *v ? std::atoi(v) : dflt;
}

int version_code() {
  const char* v = std::getenv("NCD_STANDIN_NCCL_VERSION");
  int maj = 2, min = 28, pat = 9;
  if (v && *v) std::sscanf(v, "%d.%d.%d", &maj, &min, &pat);
  return NCCL_VERSION(maj, min, pat);
}

void trace_line(const std::string& line) {
  const char* f = std::getenv("NCD_STANDIN_TRACE");
  if (!f || !*f) return;
  int fd = ::open(f, O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (fd < 0) return;
  std::string l = line + "\n";
  (void)!::write(fd, l.data(), l.size());
  ::close(fd);
}

bool exists(const std::string& p) {
  struct stat st{};
  return ::stat(p.c_str(), &st) == 0;
}

void nap() {
  timespec ts{0, 20000};
  nanosleep(&ts, nullptr);
}

void write_file(const std::string& path, const void* p, std::size_t n) {
  const std::string tmp = path + ".tmp";
  std::ofstream out(tmp, std::ios::binary);
  out.write(static_cast<const char*>(p), static_cast<std::streamsize>(n));
  out.close();
  std::rename(tmp.c_str(), path.c_str());
}

std::vector<char> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<char>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void copy_file(const char* from, const char* to) {
  if (!from || !*from || !to || !*to) return;
  auto data = read_file(from);
  write_file(to, data.data(), data.size());
}

std::size_t esize(ncclDataType_t t) {
  switch (t) {
    case ncclInt8: case ncclUint8: return 1;
    case ncclFloat16: case ncclBfloat16: return 2;
    case ncclInt32: case ncclUint32: case ncclFloat32: return 4;
    default: return 8;
  }
}

DType dtype(ncclDataType_t t) {
  switch (t) {
    case ncclInt8: case ncclUint8: return DType::kInt8;
    case ncclInt32: case ncclUint32: return DType::kInt32;
    case ncclInt64: case ncclUint64: return DType::kInt64;
    case ncclFloat16: return DType::kFloat16;
    case ncclBfloat16: return DType::kBFloat16;
    case ncclFloat64: return DType::kFloat64;
    default: return DType::kFloat32;
  }
}

RedOp redop(ncclRedOp_t r) {
  switch (r) {
    case ncclProd: return RedOp::kProd;
    case ncclMin: return RedOp::kMin;
    case ncclMax: return RedOp::kMax;
    case ncclAvg: return RedOp::kAvg;
    default: return RedOp::kSum;
  }
}

/// Waits for every rank's file of collective `seq`; false when this communicator was aborted.
bool gather_files(Comm* c, std::uint64_t seq, std::vector<std::vector<char>>& bufs) {
  bufs.assign(static_cast<std::size_t>(c->n), {});
  for (int r = 0; r < c->n; ++r) {
    const std::string p = c->dir + "/s" + std::to_string(seq) + ".r" + std::to_string(r);
    while (!exists(p)) {
      if (c->aborted.load()) return false;
      nap();
    }
    bufs[static_cast<std::size_t>(r)] = read_file(p);
  }
  return true;
}

enum class Kind { kAllReduce, kAllGather, kReduceScatter, kBroadcast, kReduce, kAllToAll };
const char* kind_name(Kind k) {
  switch (k) {
    case Kind::kAllReduce: return "allreduce";
    case Kind::kAllGather: return "allgather";
    case Kind::kReduceScatter: return "reducescatter";
    case Kind::kBroadcast: return "broadcast";
    case Kind::kReduce: return "reduce";
    case Kind::kAllToAll: return "alltoall";
  }
  return "?";
}

ncclResult_t usable(Comm* c) {
  if (!c) return ncclInvalidArgument;
  const int st = c->state.load();
  if (st == ncclInProgress || c->aborted.load()) return ncclInvalidUsage;
  if (st != ncclSuccess) return static_cast<ncclResult_t>(st);
  return ncclSuccess;
}

ncclResult_t collective(Kind k, const void* send, void* recv, std::size_t count, ncclDataType_t dt, ncclRedOp_t op,
                        int root, Comm* c, cudaStream_t stream) {
  if (ncclResult_t u = usable(c); u != ncclSuccess) return u;
  // NCCL 2.28 implements Tree for AllReduce only (and no algorithm for AllToAll).
  if ((c->algo == "Tree" && k != Kind::kAllReduce) || ((c->algo == "Tree" || c->algo == "Ring") && k == Kind::kAllToAll)) {
    std::lock_guard<std::mutex> g(c->mu);
    c->last_error = std::string("no algorithm/protocol available for function ") + kind_name(k) +
                    " with datatype ncclFloat32. NCCL_ALGO was set to " + c->algo + ".";
    return ncclInvalidUsage;
  }
  const double called = ncd_standin::now_us();
  const double host_gap = c->last_return_us > 0 ? called - c->last_return_us : -1;
  const std::uint64_t seq = ++c->seq;
  if (c->rank == env_int("NCD_STANDIN_STALL_RANK", -1)) {
    trace_line("stall rank=" + std::to_string(c->rank));
    for (;;) ::pause();  // the host thread hangs in the launch, as on a wedged GPU
  }
  const std::size_t es = esize(dt);
  const int n = c->n;
  std::size_t send_bytes = count * es;
  if (k == Kind::kReduceScatter || k == Kind::kAllToAll) send_bytes *= static_cast<std::size_t>(n);
  if (k == Kind::kBroadcast && c->rank != root) send_bytes = 0;
  const int coll_us = env_int("NCD_STANDIN_COLL_US", 0);
  const bool corrupt = c->rank == env_int("NCD_STANDIN_CORRUPT_RANK", -1);
  ncd_standin::enqueue(stream, [=] {
    const double t0 = ncd_standin::now_us();
    const std::string mine = c->dir + "/s" + std::to_string(seq) + ".r" + std::to_string(c->rank);
    write_file(mine, send, send_bytes);
    std::vector<std::vector<char>> b;
    if (!gather_files(c, seq, b)) return;
    const DType t = dtype(dt);
    const std::size_t me = static_cast<std::size_t>(c->rank);
    auto reduce_block = [&](std::size_t offset_elems, std::size_t elems, void* dst) {
      std::memcpy(dst, b[0].data() + offset_elems * es, elems * es);
      auto fn = ncd::collectives::reduce_fn(t, redop(op));
      for (int r = 1; r < n; ++r) fn(dst, dst, b[static_cast<std::size_t>(r)].data() + offset_elems * es, elems);
      if (op == ncclAvg) ncd::collectives::finalize_avg(t, dst, elems, n);
    };
    std::size_t out_bytes = count * es;
    switch (k) {
      case Kind::kAllReduce: reduce_block(0, count, recv); break;
      case Kind::kReduce:
        if (c->rank == root) reduce_block(0, count, recv);
        else out_bytes = 0;
        break;
      case Kind::kReduceScatter: reduce_block(me * count, count, recv); break;
      case Kind::kBroadcast: std::memcpy(recv, b[static_cast<std::size_t>(root)].data(), count * es); break;
      case Kind::kAllGather:
        for (std::size_t r = 0; r < b.size(); ++r) std::memcpy(static_cast<char*>(recv) + r * count * es, b[r].data(), count * es);
        out_bytes *= static_cast<std::size_t>(n);
        break;
      case Kind::kAllToAll:
        for (std::size_t r = 0; r < b.size(); ++r)
          std::memcpy(static_cast<char*>(recv) + r * count * es, b[r].data() + me * count * es, count * es);
        out_bytes *= static_cast<std::size_t>(n);
        break;
    }
    if (corrupt && out_bytes) static_cast<char*>(recv)[out_bytes / 2] ^= 0x5a;
    // The stand-in's own bookkeeping comes before the collective's end, so that t1 is the end
    // of this task on the stream (what the next event on the stream sees), not a moment before it.
    if (seq > 1) std::remove((c->dir + "/s" + std::to_string(seq - 1) + ".r" + std::to_string(c->rank)).c_str());
    while (coll_us > 0 && ncd_standin::now_us() < t0 + coll_us) {
    }
    const double t1 = ncd_standin::now_us();
    // idle: how long the stream waited for this collective after the previous one ended (the
    // host did not queue it in time); us + idle is the period one iteration really took.
    const double idle = tl_last_op_end > 0 ? t0 - tl_last_op_end : -1;
    tl_last_op_end = t1;
    std::lock_guard<std::mutex> g(c->mu);
    char line[200];
    std::snprintf(line, sizeof line, "coll rank=%d algo=%s op=%s bytes=%zu idle=%.1f host_gap=%.1f us=%.1f", c->rank,
                  c->algo.empty() ? "-" : c->algo.c_str(), kind_name(k), out_bytes, idle, host_gap, t1 - t0);
    c->trace.emplace_back(line);
  });
  c->last_return_us = ncd_standin::now_us();
  if (c->blocking) return ncclSuccess;
  c->polls_pending.store(1);
  return ncclInProgress;
}

void flush_trace(Comm* c) {
  std::vector<std::string> t;
  {
    std::lock_guard<std::mutex> g(c->mu);
    t.swap(c->trace);
  }
  std::string all;
  for (const auto& l : t) all += l + "\n";
  if (!all.empty()) {
    all.pop_back();
    trace_line(all);
  }
}

void init_thread(Comm* c) {
  const bool fail = c->rank == env_int("NCD_STANDIN_INIT_FAIL_RANK", -1) &&
                    (!std::getenv("NCD_STANDIN_INIT_FAIL_ALGO") || c->algo == std::getenv("NCD_STANDIN_INIT_FAIL_ALGO"));
  if (fail) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::lock_guard<std::mutex> g(c->mu);
    c->last_error = "stand-in: injected init failure (NCD_STANDIN_INIT_FAIL_RANK)";
    c->state.store(ncclSystemError);
    return;
  }
  write_file(c->dir + "/join.r" + std::to_string(c->rank), "", 0);
  // Bootstrap: every rank joins; an aborted peer closes its sockets, which fails ours.
  for (int r = 0; r < c->n; ++r) {
    while (!exists(c->dir + "/join.r" + std::to_string(r))) {
      if (c->aborted.load()) return;
      for (int q = 0; q < c->n; ++q)
        if (exists(c->dir + "/abort.r" + std::to_string(q))) {
          std::lock_guard<std::mutex> g(c->mu);
          c->last_error = "stand-in: bootstrap: rank " + std::to_string(q) + " closed its connection";
          c->state.store(ncclRemoteError);
          return;
        }
      std::this_thread::sleep_for(std::chrono::microseconds(500));
    }
  }
}

}  // namespace

extern "C" {

ncclResult_t ncclGetVersion(int* v) {
  *v = version_code();
  return ncclSuccess;
}

const char* ncclGetErrorString(ncclResult_t r) {
  switch (r) {
    case ncclSuccess: return "no error";
    case ncclUnhandledCudaError: return "unhandled cuda error";
    case ncclSystemError: return "unhandled system error";
    case ncclInternalError: return "internal error";
    case ncclInvalidArgument: return "invalid argument";
    case ncclInvalidUsage: return "invalid usage";
    case ncclRemoteError: return "remote process exited or there was a network error";
    case ncclInProgress: return "NCCL operation in progress";
    default: return "unknown result code";
  }
}

const char* ncclGetLastError(ncclComm_t comm) {
  auto* c = reinterpret_cast<Comm*>(comm);
  if (!c) return g_last_error.c_str();
  std::lock_guard<std::mutex> g(c->mu);
  g_last_error = c->last_error;
  return g_last_error.c_str();
}

ncclResult_t ncclGetUniqueId(ncclUniqueId* id) {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/ncd-standin-XXXXXX";
  if (tmpl.size() >= sizeof(id->internal) || !mkdtemp(tmpl.data())) return ncclSystemError;
  std::memset(id->internal, 0, sizeof(id->internal));
  std::memcpy(id->internal, tmpl.data(), tmpl.size());
  return ncclSuccess;
}

ncclResult_t ncclCommInitRankConfig(ncclComm_t* out, int n, ncclUniqueId id, int rank, ncclConfig_t* cfg) {
  if (!out || n < 1 || rank < 0 || rank >= n) return ncclInvalidArgument;
  if (cfg && (cfg->magic != 0xcafebeef || cfg->size < 3 * sizeof(int))) return ncclInvalidArgument;
  auto* c = new Comm;  // never freed: a stream task may still hold it
  c->dir.assign(id.internal, strnlen(id.internal, sizeof(id.internal)));
  c->n = n;
  c->rank = rank;
  c->device = ncd_standin::current_device();
  c->blocking = !(cfg && cfg->blocking == 0);
  if (const char* b = std::getenv("NCCL_COMM_BLOCKING")) c->blocking = std::atoi(b) != 0;
  if (const char* a = std::getenv("NCCL_ALGO")) c->algo = a;
  c->sent.assign(static_cast<std::size_t>(n), 0);
  c->recvd.assign(static_cast<std::size_t>(n), 0);
  const char* dump = std::getenv("NCCL_TOPO_DUMP_FILE");
  trace_line("init rank=" + std::to_string(rank) + " nranks=" + std::to_string(n) + " algo=" +
             (c->algo.empty() ? "-" : c->algo) + " blocking=" + std::to_string(c->blocking) +
             " device=" + std::to_string(c->device) + " topo_dump=" + (dump ? dump : "-") +
             " collnet=" + std::to_string(cfg ? cfg->collnetEnable : -1));
  *out = reinterpret_cast<ncclComm_t>(c);
  // What NCCL writes while it initialises: the dumps (one rank) and the INFO log.
  const int dump_rank = env_int("NCCL_TOPO_DUMP_FILE_RANK", 0);
  if (rank == dump_rank) copy_file(std::getenv("NCD_STANDIN_TOPO_XML"), dump);
  if (rank == env_int("NCCL_GRAPH_DUMP_FILE_RANK", 0))
    copy_file(std::getenv("NCD_STANDIN_GRAPH_XML"), std::getenv("NCCL_GRAPH_DUMP_FILE"));
  const char* dbg = std::getenv("NCCL_DEBUG");
  const char* dbg_file = std::getenv("NCCL_DEBUG_FILE");
  if (dbg && std::strcmp(dbg, "INFO") == 0 && dbg_file) {
    char host[64] = {};
    gethostname(host, sizeof host - 1);
    std::ofstream log(dbg_file, std::ios::app);
    const int v = version_code();
    log << host << ":" << getpid() << ":" << getpid() << " [" << c->device << "] NCCL INFO NCCL version "
        << v / 10000 << "." << v / 100 % 100 << "." << v % 100 << "+standin\n";
    log << host << ":" << getpid() << ":" << getpid() << " [" << c->device << "] NCCL INFO comm 0x1 rank " << rank
        << " nRanks " << n << " nNodes 1 localRanks " << n << " localRank " << rank << " MNNVL 0\n";
  }
  std::thread t(init_thread, c);
  if (c->blocking) {
    t.join();
    int expect = ncclInProgress;
    c->state.compare_exchange_strong(expect, ncclSuccess);
    return static_cast<ncclResult_t>(c->state.load());
  }
  std::thread([c, t = std::move(t)]() mutable {
    t.join();
    int expect = ncclInProgress;
    c->state.compare_exchange_strong(expect, ncclSuccess);
  }).detach();
  return ncclInProgress;
}

ncclResult_t ncclCommInitRank(ncclComm_t* out, int n, ncclUniqueId id, int rank) {
  return ncclCommInitRankConfig(out, n, id, rank, nullptr);
}

ncclResult_t ncclCommGetAsyncError(ncclComm_t comm, ncclResult_t* st) {
  auto* c = reinterpret_cast<Comm*>(comm);
  if (!c || !st) return ncclInvalidArgument;
  int one = 1;
  if (c->polls_pending.compare_exchange_strong(one, 0)) {
    *st = ncclInProgress;
    return ncclSuccess;
  }
  *st = static_cast<ncclResult_t>(c->state.load());
  return ncclSuccess;
}

ncclResult_t ncclCommAbort(ncclComm_t comm) {
  auto* c = reinterpret_cast<Comm*>(comm);
  if (!c) return ncclSuccess;
  c->aborted.store(true);
  write_file(c->dir + "/abort.r" + std::to_string(c->rank), "", 0);
  flush_trace(c);
  trace_line("abort rank=" + std::to_string(c->rank));
  return ncclSuccess;
}

ncclResult_t ncclCommFinalize(ncclComm_t comm) { return comm ? ncclSuccess : ncclInvalidArgument; }

ncclResult_t ncclCommDestroy(ncclComm_t comm) {
  auto* c = reinterpret_cast<Comm*>(comm);
  if (!c) return ncclSuccess;
  flush_trace(c);
  trace_line("destroy rank=" + std::to_string(c->rank));
  return ncclSuccess;
}

ncclResult_t ncclGroupStart() {
  ++g_group;
  return ncclSuccess;
}

ncclResult_t ncclGroupEnd() {
  if (g_group > 0) --g_group;
  return ncclSuccess;
}

ncclResult_t ncclAllReduce(const void* s, void* r, size_t count, ncclDataType_t t, ncclRedOp_t op, ncclComm_t c,
                           cudaStream_t st) {
  return collective(Kind::kAllReduce, s, r, count, t, op, 0, reinterpret_cast<Comm*>(c), st);
}
ncclResult_t ncclAllGather(const void* s, void* r, size_t count, ncclDataType_t t, ncclComm_t c, cudaStream_t st) {
  return collective(Kind::kAllGather, s, r, count, t, ncclSum, 0, reinterpret_cast<Comm*>(c), st);
}
ncclResult_t ncclReduceScatter(const void* s, void* r, size_t count, ncclDataType_t t, ncclRedOp_t op, ncclComm_t c,
                               cudaStream_t st) {
  return collective(Kind::kReduceScatter, s, r, count, t, op, 0, reinterpret_cast<Comm*>(c), st);
}
ncclResult_t ncclBroadcast(const void* s, void* r, size_t count, ncclDataType_t t, int root, ncclComm_t c,
                           cudaStream_t st) {
  return collective(Kind::kBroadcast, s, r, count, t, ncclSum, root, reinterpret_cast<Comm*>(c), st);
}
ncclResult_t ncclReduce(const void* s, void* r, size_t count, ncclDataType_t t, ncclRedOp_t op, int root,
                        ncclComm_t c, cudaStream_t st) {
  return collective(Kind::kReduce, s, r, count, t, op, root, reinterpret_cast<Comm*>(c), st);
}
ncclResult_t ncclAlltoAll(const void* s, void* r, size_t count, ncclDataType_t t, ncclComm_t c, cudaStream_t st) {
  return collective(Kind::kAllToAll, s, r, count, t, ncclSum, 0, reinterpret_cast<Comm*>(c), st);
}

ncclResult_t ncclSend(const void* buf, size_t count, ncclDataType_t t, int peer, ncclComm_t comm, cudaStream_t st) {
  auto* c = reinterpret_cast<Comm*>(comm);
  if (ncclResult_t u = usable(c); u != ncclSuccess) return u;
  const std::uint64_t k = ++c->sent[static_cast<std::size_t>(peer)];
  const std::string p = c->dir + "/p" + std::to_string(k) + ".f" + std::to_string(c->rank) + ".t" + std::to_string(peer);
  const std::size_t bytes = count * esize(t);
  ncd_standin::enqueue(st, [=] { write_file(p, buf, bytes); });
  if (c->blocking) return ncclSuccess;
  c->polls_pending.store(1);
  return ncclInProgress;
}

ncclResult_t ncclRecv(void* buf, size_t count, ncclDataType_t t, int peer, ncclComm_t comm, cudaStream_t st) {
  auto* c = reinterpret_cast<Comm*>(comm);
  if (ncclResult_t u = usable(c); u != ncclSuccess) return u;
  const std::uint64_t k = ++c->recvd[static_cast<std::size_t>(peer)];
  const std::string p = c->dir + "/p" + std::to_string(k) + ".f" + std::to_string(peer) + ".t" + std::to_string(c->rank);
  const std::size_t bytes = count * esize(t);
  const bool corrupt = c->rank == env_int("NCD_STANDIN_CORRUPT_RANK", -1);
  ncd_standin::enqueue(st, [=] {
    while (!exists(p)) {
      if (c->aborted.load()) return;
      nap();
    }
    auto d = read_file(p);
    std::memcpy(buf, d.data(), std::min(bytes, d.size()));
    if (corrupt && bytes) static_cast<char*>(buf)[bytes / 2] ^= 0x5a;
    std::remove(p.c_str());
  });
  if (c->blocking) return ncclSuccess;
  c->polls_pending.store(1);
  return ncclInProgress;
}

}  // extern "C"
