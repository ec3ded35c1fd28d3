// SPDX-License-Identifier: Apache-2.0
#pragma once
/// Which endpoints measure their links when: round-robin tournaments, rings, and group-testing
/// bisection. Pure: no MPI, so the schedules are unit-tested on any number of endpoints.
#include <string>
#include <string_view>
#include <vector>

namespace ncd::collectives {

/// Two endpoints that measure their link (both directions); a < b.
struct Pair {
  int a = 0;
  int b = 0;
  friend bool operator==(const Pair&, const Pair&) = default;
};

/// Disjoint pairs measured concurrently.
using Round = std::vector<Pair>;

enum class LinkMode { kPairwise, kRing, kBisect };

/// "pairwise" | "ring" | "bisect"; throws UsageError otherwise.
[[nodiscard]] LinkMode parse_link_mode(std::string_view s);
[[nodiscard]] std::string_view to_string(LinkMode m);

/// Round-robin tournament (circle method): every pair of `n` endpoints exactly once, in n-1
/// rounds of disjoint pairs (n rounds when n is odd: each round one endpoint has a bye).
[[nodiscard]] std::vector<Round> tournament_schedule(int n);

/// Each endpoint with its ring neighbours (i, i+1 mod n): n links in 2 rounds (3 when n is odd,
/// because an odd cycle needs three colours), so the time does not grow with n.
[[nodiscard]] std::vector<Round> ring_schedule(int n);

/// Packs arbitrary pairs into rounds of disjoint pairs (greedy, first round that fits): used to
/// re-measure the suspects of a sweep.
[[nodiscard]] std::vector<Round> pack_rounds(const std::vector<Pair>& pairs);

/// One group test of the bisection: `members` measure a ring among themselves concurrently
/// (member i sends to member i+1); the group is as fast as its slowest member. A single
/// suspect is tested with a known-good `reference` partner.
struct GroupTest {
  std::vector<int> members;
  int reference = -1;  ///< >= 0: members has one suspect, tested as a pair with this endpoint
};

struct BisectOptions {
  /// A group is slow below this fraction of the reference bandwidth. 0.5 keeps the 1.5-3.0
  /// GB/s spread of healthy host links (2-core CI box) well clear of the threshold.
  double slow_ratio = 0.5;
  /// Reference bandwidth (GB/s) when known (topology); else the median of the first round.
  double expected_gbps = 0;
  /// Groups in the first round (>= 2 so that the first round has a median to compare with).
  int first_groups = 16;
};

/// Adaptive group testing (binary splitting, all groups of one level in one round): finds k
/// slow endpoints among n in 1 + ceil(log2(n / first_groups)) + 1 rounds and at most
/// first_groups + 2 k log2(n / first_groups) + k group tests.
class BisectPlanner {
 public:
  BisectPlanner(int n, BisectOptions opts = {});
  /// True when nothing is left to test.
  [[nodiscard]] bool done() const { return pending_.empty(); }
  /// The group tests of the next round (disjoint; run concurrently).
  [[nodiscard]] const std::vector<GroupTest>& next_round() const { return pending_; }
  /// Records the bandwidth (GB/s) of each test of next_round(), in order; <= 0 means the group
  /// did not finish. Plans the following round.
  void record(const std::vector<double>& gbps);

  [[nodiscard]] int rounds() const { return rounds_; }
  [[nodiscard]] int tests() const { return tests_; }
  /// Endpoints confirmed slow (their single test with a healthy reference was slow).
  [[nodiscard]] const std::vector<int>& slow() const { return slow_; }
  /// Groups that were slow while every part of them was fast: the fault is a link between the
  /// parts (or transient); pairwise mode localises it.
  [[nodiscard]] const std::vector<std::vector<int>>& inconclusive() const { return inconclusive_; }
  /// The bandwidth every group is compared with (GB/s; 0 before the first round).
  [[nodiscard]] double reference_gbps() const { return reference_gbps_; }
  /// Every test run so far with its result, for the report.
  struct Outcome {
    int round = 0;
    GroupTest test;
    double gbps = 0;
    bool slow = false;
  };
  [[nodiscard]] const std::vector<Outcome>& history() const { return history_; }

 private:
  struct Node {
    std::vector<int> members;
    int parent = -1;
    bool slow = false;
    int children_fast = 0;
    int children = 0;
  };
  int n_;
  BisectOptions opts_;
  std::vector<GroupTest> pending_;
  std::vector<int> pending_node_;  // index into nodes_ for each pending test
  std::vector<Node> nodes_;
  std::vector<char> known_good_;
  std::vector<int> slow_;
  std::vector<std::vector<int>> inconclusive_;
  std::vector<Outcome> history_;
  double reference_gbps_ = 0;
  int rounds_ = 0;
  int tests_ = 0;
};

}  // namespace ncd::collectives
