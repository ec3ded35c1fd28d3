// SPDX-License-Identifier: Apache-2.0
#include "gpu/thread_comm.hpp"

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>

namespace ncd::gpu {

/// Rounds are counted per rank: the k-th gather of every rank meets in gather round k (the
/// ranks run the same sequence of steps), so a rank that arrives late meets the round it is in.
struct ThreadHub {
  std::mutex mu;
  std::condition_variable cv;
  std::map<std::uint64_t, std::vector<std::optional<std::string>>> gathers;
  std::uint64_t gathered = 0;  // rounds rank 0 has taken (late blobs for them are dropped)
  std::map<std::uint64_t, std::pair<std::string, int>> broadcasts;  // the blob, ranks that took it
  std::map<std::uint64_t, int> arrivals;

  /// Waits on `cv` until `done()` or the deadline; true when done.
  template <typename F>
  bool wait(std::unique_lock<std::mutex>& lk, const dist::Deadline& deadline, F done) {
    while (!done()) {
      if (deadline.expired()) return done();
      cv.wait_for(lk, std::chrono::milliseconds(20));
    }
    return true;
  }
};

ThreadComm::ThreadComm(std::shared_ptr<ThreadHub> hub, int rank, int size)
    : hub_(std::move(hub)), rank_(rank), size_(size) {
  nodes_ = dist::NodeMap::from_hosts(std::vector<std::string>(static_cast<std::size_t>(size), dist::local_hostname()));
}

std::vector<std::optional<std::string>> ThreadComm::gather(const std::string& blob, const dist::Deadline& deadline) {
  const std::uint64_t round = ++gathers_;
  std::unique_lock<std::mutex> lk(hub_->mu);
  if (round > hub_->gathered) {
    auto& slots = hub_->gathers[round];
    slots.resize(static_cast<std::size_t>(size_));
    slots[static_cast<std::size_t>(rank_)] = blob;
    hub_->cv.notify_all();
  }
  if (rank_ != 0) return {};
  auto& slots = hub_->gathers[round];
  hub_->wait(lk, deadline, [&] {
    for (const auto& s : slots)
      if (!s) return false;
    return true;
  });
  std::vector<std::optional<std::string>> out = std::move(slots);
  hub_->gathers.erase(round);
  hub_->gathered = round;
  return out;
}

bool ThreadComm::broadcast(std::string& blob, const dist::Deadline& deadline) {
  const std::uint64_t round = ++broadcasts_;
  std::unique_lock<std::mutex> lk(hub_->mu);
  if (rank_ == 0) {
    hub_->broadcasts[round] = {blob, 0};
    hub_->cv.notify_all();
    return true;
  }
  if (!hub_->wait(lk, deadline, [&] { return hub_->broadcasts.count(round) > 0; })) return false;
  auto& [value, taken] = hub_->broadcasts[round];
  blob = value;
  if (++taken == size_ - 1) hub_->broadcasts.erase(round);
  return true;
}

bool ThreadComm::barrier(const dist::Deadline& deadline) {
  const std::uint64_t round = ++barriers_;
  std::unique_lock<std::mutex> lk(hub_->mu);
  int& here = hub_->arrivals[round];
  ++here;
  hub_->cv.notify_all();
  return hub_->wait(lk, deadline, [&] { return hub_->arrivals[round] >= size_; });
}

std::vector<std::shared_ptr<ThreadComm>> make_thread_comms(int n) {
  auto hub = std::make_shared<ThreadHub>();
  std::vector<std::shared_ptr<ThreadComm>> out;
  for (int r = 0; r < n; ++r) out.push_back(std::make_shared<ThreadComm>(hub, r, n));
  return out;
}

}  // namespace ncd::gpu
