// SPDX-License-Identifier: Apache-2.0
#pragma once
/// The MPI implementation of Comm. Owns MPI_Init/MPI_Finalize.
#include <mpi.h>

#include "dist/comm.hpp"

namespace ncd::dist {

class MpiComm final : public Comm {
 public:
  /// Initialises MPI (a singleton job when there is no launcher) and learns every rank's host
  /// within `deadline`; throws Error naming the ranks that did not answer.
  explicit MpiComm(const Deadline& deadline);
  ~MpiComm() override;
  MpiComm(const MpiComm&) = delete;  // move-only: owns MPI itself
  MpiComm& operator=(const MpiComm&) = delete;

  [[nodiscard]] int rank() const override { return rank_; }
  [[nodiscard]] int size() const override { return size_; }
  [[nodiscard]] bool is_mpi() const override { return true; }
  [[nodiscard]] MPI_Comm native() const { return comm_; }

  std::vector<std::optional<std::string>> gather(const std::string& blob,
                                                 const Deadline& deadline) override;
  bool broadcast(std::string& blob, const Deadline& deadline) override;
  bool barrier(const Deadline& deadline) override;
  int reserve_tags(int n) override;
  std::vector<std::optional<std::string>> gather_among(const std::string& blob, int root,
                                                       const std::vector<int>& members, int tag,
                                                       const Deadline& deadline) override;
  bool broadcast_among(std::string& blob, int root, const std::vector<int>& members, int tag,
                       const Deadline& deadline) override;
  std::vector<int> alive_after_interrupt(double max_wait_s) override;
  [[noreturn]] void abort_job(int code) override;

 private:
  int next_tag();
  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0;
  int size_ = 1;
  int tag_seq_ = 0;
  int block_seq_ = 0;
};

/// Waits for `reqs` with sleeping polls until `deadline`. Returns the indices still pending
/// (empty when all completed).
[[nodiscard]] std::vector<int> wait_all(std::vector<MPI_Request>& reqs, const Deadline& deadline);

}  // namespace ncd::dist
