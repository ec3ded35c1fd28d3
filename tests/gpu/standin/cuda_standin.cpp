// SPDX-License-Identifier: Apache-2.0
// The CUDA runtime subset nccl-doctor calls, on the CPU (see standin.hpp). Tests only.
#include <cuda_runtime_api.h>
#include <time.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "standin.hpp"

struct CUstream_st {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::function<void()>> q;
  bool busy = false;
  int device = 0;
};

struct CUevent_st {
  std::atomic<unsigned> recorded{0};
  std::atomic<unsigned> done{0};
  double t_us = 0;
};

namespace {

thread_local int tl_device = 0;
thread_local cudaError_t tl_last = cudaSuccess;
std::mutex g_mu;
std::vector<CUstream_st*> g_streams;     // never freed: a worker may still hold one
std::set<std::pair<int, int>> g_peers;   // enabled peer access (from, to)

int device_count() {
  const char* v = std::getenv("NCD_STANDIN_GPUS");
  return v ? std::atoi(v) : 0;
}

cudaError_t ret(cudaError_t e) {
  if (e != cudaSuccess) tl_last = e;
  return e;
}

void worker(CUstream_st* s) {
  std::unique_lock<std::mutex> lk(s->mu);
  for (;;) {
    s->cv.wait(lk, [&] { return !s->q.empty(); });
    auto task = std::move(s->q.front());
    s->q.pop_front();
    s->busy = true;
    lk.unlock();
    task();
    lk.lock();
    s->busy = false;
    s->cv.notify_all();
  }
}

CUstream_st* make_stream(int device) {
  auto* s = new CUstream_st;
  s->device = device;
  std::thread(worker, s).detach();
  std::lock_guard<std::mutex> g(g_mu);
  g_streams.push_back(s);
  return s;
}

CUstream_st* default_stream() {
  static CUstream_st* s = make_stream(0);
  return s;
}

CUstream_st* resolve(cudaStream_t s) {
  if (s == nullptr || s == cudaStreamLegacy || s == cudaStreamPerThread) return default_stream();
  return s;
}

bool idle(CUstream_st* s) {
  std::lock_guard<std::mutex> g(s->mu);
  return s->q.empty() && !s->busy;
}

void drain(CUstream_st* s) {
  std::unique_lock<std::mutex> lk(s->mu);
  s->cv.wait(lk, [&] { return s->q.empty() && !s->busy; });
}

/// What the real runtime does in cudaFree: wait for all work on the device (no time limit).
void drain_device(int device) {
  std::vector<CUstream_st*> all;
  {
    std::lock_guard<std::mutex> g(g_mu);
    all = g_streams;
  }
  for (auto* s : all)
    if (s->device == device) drain(s);
}

}  // namespace

namespace ncd_standin {

void enqueue(cudaStream_t stream, std::function<void()> task) {
  CUstream_st* s = resolve(stream);
  std::lock_guard<std::mutex> g(s->mu);
  s->q.push_back(std::move(task));
  s->cv.notify_all();
}

double now_us() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

int current_device() { return tl_device; }

}  // namespace ncd_standin

extern "C" {

const char* cudaGetErrorString(cudaError_t e) {
  switch (e) {
    case cudaSuccess: return "no error";
    case cudaErrorNoDevice: return "no CUDA-capable device is detected (stand-in: NCD_STANDIN_GPUS unset)";
    case cudaErrorInvalidDevice: return "invalid device ordinal";
    case cudaErrorNotReady: return "device not ready";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorPeerAccessAlreadyEnabled: return "peer access is already enabled";
    case cudaErrorTooManyPeers: return "peer mapping resources exhausted";
    default: return "stand-in error";
  }
}

const char* cudaGetErrorName(cudaError_t e) {
  switch (e) {
    case cudaSuccess: return "cudaSuccess";
    case cudaErrorNoDevice: return "cudaErrorNoDevice";
    case cudaErrorInvalidDevice: return "cudaErrorInvalidDevice";
    case cudaErrorNotReady: return "cudaErrorNotReady";
    case cudaErrorMemoryAllocation: return "cudaErrorMemoryAllocation";
    case cudaErrorPeerAccessAlreadyEnabled: return "cudaErrorPeerAccessAlreadyEnabled";
    case cudaErrorTooManyPeers: return "cudaErrorTooManyPeers";
    default: return "cudaErrorUnknown";
  }
}

cudaError_t cudaGetLastError(void) {
  cudaError_t e = tl_last;
  tl_last = cudaSuccess;
  return e;
}

cudaError_t cudaPeekAtLastError(void) { return tl_last; }

cudaError_t cudaDriverGetVersion(int* v) {
  *v = 13000;
  return cudaSuccess;
}

cudaError_t cudaRuntimeGetVersion(int* v) {
  *v = 13000;
  return cudaSuccess;
}

cudaError_t cudaGetDeviceCount(int* n) {
  const int c = device_count();
  if (c <= 0) return ret(cudaErrorNoDevice);
  *n = c;
  return cudaSuccess;
}

cudaError_t cudaGetDevice(int* d) {
  *d = tl_device;
  return cudaSuccess;
}

cudaError_t cudaSetDevice(int d) {
  if (d < 0 || d >= device_count()) return ret(cudaErrorInvalidDevice);
  tl_device = d;
  return cudaSuccess;
}

cudaError_t cudaDeviceGetPCIBusId(char* buf, int len, int d) {
  if (d < 0 || d >= device_count()) return ret(cudaErrorInvalidDevice);
  std::snprintf(buf, static_cast<std::size_t>(len), "0000:%02X:00.0", 0x18 + d);
  return cudaSuccess;
}

cudaError_t cudaDeviceSynchronize(void) {
  drain_device(tl_device);
  return cudaSuccess;
}

cudaError_t cudaStreamCreateWithFlags(cudaStream_t* s, unsigned int) {
  *s = make_stream(tl_device);
  return cudaSuccess;
}

cudaError_t cudaStreamCreate(cudaStream_t* s) { return cudaStreamCreateWithFlags(s, 0); }

cudaError_t cudaStreamDestroy(cudaStream_t) { return cudaSuccess; }  // released when idle (kept)

cudaError_t cudaStreamQuery(cudaStream_t s) { return idle(resolve(s)) ? cudaSuccess : cudaErrorNotReady; }

cudaError_t cudaStreamSynchronize(cudaStream_t s) {
  drain(resolve(s));
  return cudaSuccess;
}

cudaError_t cudaEventCreate(cudaEvent_t* e) {
  *e = new CUevent_st;
  return cudaSuccess;
}

cudaError_t cudaEventCreateWithFlags(cudaEvent_t* e, unsigned int) { return cudaEventCreate(e); }

cudaError_t cudaEventDestroy(cudaEvent_t) { return cudaSuccess; }  // a queued record may still use it

cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t s) {
  const unsigned gen = e->recorded.fetch_add(1) + 1;
  ncd_standin::enqueue(s, [e, gen] {
    e->t_us = ncd_standin::now_us();
    e->done.store(gen);
  });
  return cudaSuccess;
}

cudaError_t cudaEventQuery(cudaEvent_t e) {
  return e->done.load() == e->recorded.load() ? cudaSuccess : cudaErrorNotReady;
}

cudaError_t cudaEventSynchronize(cudaEvent_t e) {
  while (cudaEventQuery(e) != cudaSuccess) std::this_thread::yield();
  return cudaSuccess;
}

cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t a, cudaEvent_t b) {
  if (a->recorded.load() == 0 || b->recorded.load() == 0) return ret(cudaErrorInvalidResourceHandle);
  if (cudaEventQuery(a) != cudaSuccess || cudaEventQuery(b) != cudaSuccess) return ret(cudaErrorNotReady);
  *ms = static_cast<float>((b->t_us - a->t_us) / 1000.0);
  return cudaSuccess;
}

cudaError_t cudaMalloc(void** p, size_t n) {
  *p = std::aligned_alloc(256, (n + 255) / 256 * 256);
  return *p ? cudaSuccess : ret(cudaErrorMemoryAllocation);
}

cudaError_t cudaFree(void* p) {
  drain_device(tl_device);
  std::free(p);
  return cudaSuccess;
}

cudaError_t cudaMallocHost(void** p, size_t n) { return cudaMalloc(p, n); }

cudaError_t cudaHostAlloc(void** p, size_t n, unsigned int) { return cudaMalloc(p, n); }

cudaError_t cudaFreeHost(void* p) {
  drain_device(tl_device);
  std::free(p);
  return cudaSuccess;
}

cudaError_t cudaMemcpy(void* dst, const void* src, size_t n, enum cudaMemcpyKind) {
  drain(default_stream());
  std::memmove(dst, src, n);
  return cudaSuccess;
}

cudaError_t cudaMemset(void* p, int v, size_t n) {
  drain(default_stream());
  std::memset(p, v, n);
  return cudaSuccess;
}

cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t n, enum cudaMemcpyKind, cudaStream_t s) {
  ncd_standin::enqueue(s, [=] { std::memmove(dst, src, n); });
  return cudaSuccess;
}

cudaError_t cudaMemsetAsync(void* p, int v, size_t n, cudaStream_t s) {
  ncd_standin::enqueue(s, [=] { std::memset(p, v, n); });
  return cudaSuccess;
}

cudaError_t cudaMemcpyPeerAsync(void* dst, int, const void* src, int, size_t n, cudaStream_t s) {
  ncd_standin::enqueue(s, [=] { std::memmove(dst, src, n); });
  return cudaSuccess;
}

cudaError_t cudaDeviceCanAccessPeer(int* can, int a, int b) {
  const int n = device_count();
  *can = a >= 0 && b >= 0 && a < n && b < n && a != b;
  return cudaSuccess;
}

/// A device maps at most 8 peers (NCD_STANDIN_MAX_PEERS), as on PCIe systems.
cudaError_t cudaDeviceEnablePeerAccess(int peer, unsigned int) {
  std::lock_guard<std::mutex> g(g_mu);
  if (g_peers.count({tl_device, peer})) return ret(cudaErrorPeerAccessAlreadyEnabled);
  const char* m = std::getenv("NCD_STANDIN_MAX_PEERS");
  const std::size_t max = m ? static_cast<std::size_t>(std::atoi(m)) : 8;
  std::size_t mine = 0;
  for (const auto& p : g_peers) mine += p.first == tl_device;
  if (mine >= max) return ret(cudaErrorTooManyPeers);
  g_peers.insert({tl_device, peer});
  return cudaSuccess;
}

}  // extern "C"
