// SPDX-License-Identifier: Apache-2.0
#pragma once
/// RAII owners of CUDA and NCCL objects. Errors become ncd::Error with the API's message.
#include <cuda_runtime.h>
#include <nccl.h>

#include <fmt/format.h>

#include <string>
#include <utility>

#include "core/error.hpp"

namespace ncd::gpu {

inline void cuda_check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw Error(fmt::format("{}: {} ({})", what, cudaGetErrorString(e), cudaGetErrorName(e)));
}

/// Makes `device` current for the lifetime of the guard.
class DeviceGuard {
 public:
  explicit DeviceGuard(int device) {
    cuda_check(cudaGetDevice(&old_), "cudaGetDevice");
    cuda_check(cudaSetDevice(device), "cudaSetDevice");
  }
  ~DeviceGuard() { (void)cudaSetDevice(old_); }
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int old_ = 0;
};

class Stream {
 public:
  Stream() { cuda_check(cudaStreamCreateWithFlags(&s_, cudaStreamNonBlocking), "cudaStreamCreate"); }
  ~Stream() { if (s_) (void)cudaStreamDestroy(s_); }
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  [[nodiscard]] cudaStream_t get() const { return s_; }

 private:
  cudaStream_t s_ = nullptr;
};

class Event {
 public:
  Event() { cuda_check(cudaEventCreate(&e_), "cudaEventCreate"); }
  ~Event() { if (e_) (void)cudaEventDestroy(e_); }
  Event(Event&& o) noexcept : e_(std::exchange(o.e_, nullptr)) {}
  Event& operator=(Event&&) = delete;
  Event(const Event&) = delete;
  [[nodiscard]] cudaEvent_t get() const { return e_; }

 private:
  cudaEvent_t e_ = nullptr;
};

/// Device memory. release() leaks it on purpose when NCCL may still be using it (after abort).
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(std::size_t bytes) : bytes_(bytes) {
    if (bytes) cuda_check(cudaMalloc(&p_, bytes), "cudaMalloc");
  }
  ~DeviceBuffer() { if (p_) (void)cudaFree(p_); }
  DeviceBuffer(DeviceBuffer&& o) noexcept : p_(std::exchange(o.p_, nullptr)), bytes_(o.bytes_) {}
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    std::swap(p_, o.p_);
    std::swap(bytes_, o.bytes_);
    return *this;
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  [[nodiscard]] void* get() const { return p_; }
  [[nodiscard]] std::size_t bytes() const { return bytes_; }
  void release() { p_ = nullptr; }

 private:
  void* p_ = nullptr;
  std::size_t bytes_ = 0;
};

/// Pinned host memory.
class HostBuffer {
 public:
  explicit HostBuffer(std::size_t bytes) {
    if (bytes) cuda_check(cudaMallocHost(&p_, bytes), "cudaMallocHost");
  }
  ~HostBuffer() { if (p_) (void)cudaFreeHost(p_); }
  HostBuffer(HostBuffer&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
  HostBuffer(const HostBuffer&) = delete;
  HostBuffer& operator=(const HostBuffer&) = delete;
  [[nodiscard]] void* get() const { return p_; }

 private:
  void* p_ = nullptr;
};

/// An NCCL communicator: destroyed normally, or aborted (abort()) when it may be stuck.
class NcclComm {
 public:
  NcclComm() = default;
  explicit NcclComm(ncclComm_t c) : c_(c) {}
  ~NcclComm() {
    if (!c_) return;
    if (aborted_) return;
    (void)ncclCommDestroy(c_);
  }
  NcclComm(const NcclComm&) = delete;
  NcclComm& operator=(const NcclComm&) = delete;
  [[nodiscard]] ncclComm_t get() const { return c_; }
  ncclComm_t* out() { return &c_; }
  /// Aborts outstanding operations and frees the communicator (safe while peers are gone).
  void abort() {
    if (c_ && !aborted_) (void)ncclCommAbort(c_);
    aborted_ = true;
  }

 private:
  ncclComm_t c_ = nullptr;
  bool aborted_ = false;
};

}  // namespace ncd::gpu
