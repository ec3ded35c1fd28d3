// SPDX-License-Identifier: Apache-2.0
#pragma once
/// A point in time by which a distributed step must finish (`--timeout`).
#include <chrono>
#include <limits>

namespace ncd::dist {

/// True once the launcher asked this process to end (SIGTERM/SIGINT/SIGCONT, e.g. mpirun after
/// another rank died): every deadline then counts as expired, so rank 0 reports what it has at once.
[[nodiscard]] bool termination_requested();
/// Installs the SIGTERM/SIGINT/SIGCONT handler behind termination_requested() (idempotent).
void install_termination_handler();

class Deadline {
 public:
  using Clock = std::chrono::steady_clock;
  /// A deadline `seconds` from now; seconds <= 0 means no deadline.
  static Deadline after(double seconds) {
    Deadline d;
    if (seconds > 0)
      d.end_ = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                  std::chrono::duration<double>(seconds));
    return d;
  }
  static Deadline never() { return Deadline{}; }
  [[nodiscard]] bool expired() const {
    return termination_requested() || (end_ != Clock::time_point::max() && Clock::now() >= end_);
  }
  [[nodiscard]] double remaining_s() const {
    if (end_ == Clock::time_point::max()) return std::numeric_limits<double>::infinity();
    return std::chrono::duration<double>(end_ - Clock::now()).count();
  }
  /// This deadline brought forward by `seconds` (a step that must report by the deadline stops
  /// its work this much earlier); no deadline stays none.
  [[nodiscard]] Deadline reserving(double seconds) const {
    Deadline d = *this;
    if (end_ != Clock::time_point::max())
      d.end_ -= std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
    return d;
  }
  /// The earlier of this deadline and one `seconds` from now.
  [[nodiscard]] Deadline capped(double seconds) const {
    Deadline d = after(seconds);
    if (end_ < d.end_) d.end_ = end_;
    return d;
  }

 private:
  Clock::time_point end_ = Clock::time_point::max();
};

/// Sleeps briefly between polls, so ranks that wait do not steal cores from ranks that measure
/// (oversubscribed machines: a spinning barrier pushed ping-pong latency from 8 us to 4 ms).
void poll_pause();

}  // namespace ncd::dist
