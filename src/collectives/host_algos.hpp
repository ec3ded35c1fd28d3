// SPDX-License-Identifier: Apache-2.0
#pragma once
/// The host backend's collectives over MPI: our own ring and (double binary) tree built on
/// point-to-point messages, and the MPI library's own collective ("native") as the peer.
/// Every wait of our algorithms is deadline-bounded and sleeps once a short yield phase is
/// over, so oversubscribed ranks do not steal the cores of the ranks that move data.
#include <mpi.h>

#include <cstddef>
#include <vector>

#include "collectives/types.hpp"
#include "dist/deadline.hpp"

namespace ncd::collectives {

/// One call of a collective on host buffers. Counts are in elements (see Shape).
struct CollArgs {
  Op op = Op::kAllReduce;
  DType dtype = DType::kFloat32;
  RedOp redop = RedOp::kSum;
  int root = 0;
  const void* send = nullptr;
  void* recv = nullptr;
  Shape shape;
  void* scratch = nullptr;  ///< at least scratch_bytes(algo, op, shape, nranks)
};


enum class CollStatus { kDone, kTimedOut };

/// Scratch space our algorithm needs for one call (0 for native).
[[nodiscard]] std::size_t scratch_bytes(Algo a, Op op, DType t, const Shape& s, int nranks);

/// Runs collectives on `comm`. Not thread-safe; one instance per communicator.
class HostCollectives {
 public:
  HostCollectives(MPI_Comm comm, HostTuning tuning = {});
  ~HostCollectives();
  HostCollectives(const HostCollectives&) = delete;
  HostCollectives& operator=(const HostCollectives&) = delete;

  [[nodiscard]] int rank() const { return rank_; }
  [[nodiscard]] int size() const { return size_; }
  /// Runs `args` with `algo`. kTimedOut: the deadline passed with messages outstanding; the
  /// buffers may still be written by MPI and must be kept alive (the job is broken).
  /// Throws UsageError for an (algo, op) we do not implement (host_supports).
  CollStatus run(Algo algo, const CollArgs& args, const dist::Deadline& deadline);

 private:
  CollStatus ring(const CollArgs& a, const dist::Deadline& d);
  CollStatus tree_allreduce(const CollArgs& a, const dist::Deadline& d);
  CollStatus tree_broadcast(const CollArgs& a, const dist::Deadline& d);
  CollStatus tree_reduce(const CollArgs& a, const dist::Deadline& d);
  CollStatus native(const CollArgs& a, const dist::Deadline& d);
  /// Waits for one request (yield, then sleep); false at the deadline.
  bool wait(MPI_Request& req, const dist::Deadline& d);
  bool wait_all(std::vector<MPI_Request>& reqs, const dist::Deadline& d);
  /// The polling policy: yields during the first tuning_.yield_s of a wait, then sleeps.
  void pause(double waited_s);

  MPI_Comm comm_;
  int rank_ = 0;
  int size_ = 1;
  HostTuning tuning_;
  std::vector<MPI_Op> user_ops_;  ///< float16/bfloat16 reductions for the native peer
};

/// Test hook: NCD_TEST_STALL_RANK=<rank> makes that rank sleep (not spin) for an hour before
/// its first measurement, so the deadline machinery can be tested. Returns true when it is
/// this rank.
[[nodiscard]] bool test_stall_requested(int rank);

}  // namespace ncd::collectives
