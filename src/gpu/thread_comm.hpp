// SPDX-License-Identifier: Apache-2.0
#pragma once
/// The ranks of one process, one thread each (`bench -g N`): a dist::Comm whose gather,
/// broadcast and barrier meet in memory, with the same deadline semantics as MpiComm (a rank
/// that never arrives is a nullopt in rank 0's gather; a waiting rank gives up at its deadline).
/// No CUDA or NCCL here.
#include <cstdint>
#include <memory>
#include <vector>

#include "dist/comm.hpp"

namespace ncd::gpu {

struct ThreadHub;

class ThreadComm final : public dist::Comm {
 public:
  ThreadComm(std::shared_ptr<ThreadHub> hub, int rank, int size);
  [[nodiscard]] int rank() const override { return rank_; }
  [[nodiscard]] int size() const override { return size_; }
  [[nodiscard]] bool is_mpi() const override { return false; }
  std::vector<std::optional<std::string>> gather(const std::string& blob, const dist::Deadline& deadline) override;
  bool broadcast(std::string& blob, const dist::Deadline& deadline) override;
  bool barrier(const dist::Deadline& deadline) override;

 private:
  std::shared_ptr<ThreadHub> hub_;
  int rank_ = 0, size_ = 1;
  std::uint64_t gathers_ = 0, broadcasts_ = 0, barriers_ = 0;  // calls so far: the round of the next
};

/// `n` ranks on this host (rank r for thread r), sharing one hub.
[[nodiscard]] std::vector<std::shared_ptr<ThreadComm>> make_thread_comms(int n);

}  // namespace ncd::gpu
