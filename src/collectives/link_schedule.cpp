// SPDX-License-Identifier: Apache-2.0
#include "collectives/link_schedule.hpp"

#include <algorithm>

#include "core/error.hpp"

namespace ncd::collectives {

LinkMode parse_link_mode(std::string_view s) {
  if (s == "pairwise") return LinkMode::kPairwise;
  if (s == "ring") return LinkMode::kRing;
  if (s == "bisect") return LinkMode::kBisect;
  throw UsageError("--mode: '" + std::string(s) + "' is not one of pairwise, ring, bisect");
}

std::string_view to_string(LinkMode m) {
  switch (m) {
    case LinkMode::kPairwise: return "pairwise";
    case LinkMode::kRing: return "ring";
    case LinkMode::kBisect: return "bisect";
  }
  return "?";
}

namespace {
Pair ordered(int x, int y) { return x < y ? Pair{x, y} : Pair{y, x}; }
}  // namespace

std::vector<Round> tournament_schedule(int n) {
  std::vector<Round> rounds;
  if (n < 2) return rounds;
  // Circle method: endpoint m-1 stays put, the others rotate; with odd n the fixed slot is a
  // phantom and its partner sits the round out.
  const int m = n % 2 == 0 ? n : n + 1;
  for (int r = 0; r < m - 1; ++r) {
    Round round;
    if (m - 1 < n) round.push_back(ordered(r, m - 1));
    for (int i = 1; i < m / 2; ++i) {
      int x = (r + i) % (m - 1);
      int y = (r - i + (m - 1)) % (m - 1);
      round.push_back(ordered(x, y));
    }
    std::sort(round.begin(), round.end(), [](const Pair& p, const Pair& q) { return p.a < q.a; });
    rounds.push_back(std::move(round));
  }
  return rounds;
}

std::vector<Round> ring_schedule(int n) {
  std::vector<Round> rounds;
  if (n < 2) return rounds;
  if (n == 2) return {{Pair{0, 1}}};
  Round even, odd, last;
  for (int i = 0; i + 1 < n; ++i) (i % 2 == 0 ? even : odd).push_back(Pair{i, i + 1});
  // The closing link (n-1, 0): with even n it fits the odd round; with odd n both ends are busy
  // in the other rounds, so it gets a round of its own.
  if (n % 2 == 0) odd.push_back(Pair{0, n - 1});
  else last.push_back(Pair{0, n - 1});
  rounds.push_back(std::move(even));
  rounds.push_back(std::move(odd));
  if (!last.empty()) rounds.push_back(std::move(last));
  return rounds;
}

std::vector<Round> pack_rounds(const std::vector<Pair>& pairs) {
  std::vector<Round> rounds;
  std::vector<std::vector<int>> busy;  // endpoints taken per round
  for (const Pair& p : pairs) {
    std::size_t r = 0;
    for (; r < rounds.size(); ++r) {
      const auto& b = busy[r];
      if (std::find(b.begin(), b.end(), p.a) == b.end() && std::find(b.begin(), b.end(), p.b) == b.end()) break;
    }
    if (r == rounds.size()) {
      rounds.emplace_back();
      busy.emplace_back();
    }
    rounds[r].push_back(ordered(p.a, p.b));
    busy[r].push_back(p.a);
    busy[r].push_back(p.b);
  }
  return rounds;
}

BisectPlanner::BisectPlanner(int n, BisectOptions opts) : n_(n), opts_(opts) {
  known_good_.assign(static_cast<std::size_t>(std::max(n, 0)), 0);
  if (n < 2) return;
  const int groups = std::clamp(opts_.first_groups, 1, n / 2);
  for (int g = 0; g < groups; ++g) {
    Node node;
    for (int e = n * g / groups; e < n * (g + 1) / groups; ++e) node.members.push_back(e);
    pending_.push_back({node.members, -1});
    pending_node_.push_back(static_cast<int>(nodes_.size()));
    nodes_.push_back(std::move(node));
  }
}

void BisectPlanner::record(const std::vector<double>& gbps) {
  if (gbps.size() != pending_.size())
    throw Error("bisect: " + std::to_string(gbps.size()) + " results for " +
                std::to_string(pending_.size()) + " tests");
  ++rounds_;
  tests_ += static_cast<int>(pending_.size());
  if (reference_gbps_ <= 0) {
    if (opts_.expected_gbps > 0) {
      reference_gbps_ = opts_.expected_gbps;
    } else {
      std::vector<double> ok;
      for (double g : gbps)
        if (g > 0) ok.push_back(g);
      if (!ok.empty()) {
        std::sort(ok.begin(), ok.end());
        const std::size_t h = ok.size() / 2;
        reference_gbps_ = ok.size() % 2 ? ok[h] : (ok[h - 1] + ok[h]) / 2;
      }
    }
  }
  const double threshold = opts_.slow_ratio * reference_gbps_;

  std::vector<GroupTest> next;
  std::vector<int> next_node;
  std::vector<int> need_reference;  // indices into next
  for (std::size_t i = 0; i < pending_.size(); ++i) {
    const GroupTest& t = pending_[i];
    Node& node = nodes_[static_cast<std::size_t>(pending_node_[i])];
    const bool slow = gbps[i] <= 0 || gbps[i] < threshold;
    node.slow = slow;
    history_.push_back({rounds_, t, gbps[i], slow});
    if (!slow) {
      for (int m : t.members) known_good_[static_cast<std::size_t>(m)] = 1;
      if (node.parent >= 0) {
        Node& parent = nodes_[static_cast<std::size_t>(node.parent)];
        if (++parent.children_fast == parent.children) inconclusive_.push_back(parent.members);
      }
      continue;
    }
    if (t.members.size() == 1) {
      if (t.reference >= 0) slow_.push_back(t.members[0]);
      else inconclusive_.push_back(t.members);  // no healthy partner was available
      continue;
    }
    const std::size_t half = t.members.size() / 2;
    const std::vector<std::vector<int>> parts = {
        {t.members.begin(), t.members.begin() + static_cast<std::ptrdiff_t>(half)},
        {t.members.begin() + static_cast<std::ptrdiff_t>(half), t.members.end()}};
    node.children = 2;
    const int parent_index = pending_node_[i];
    for (const auto& part : parts) {
      Node child;
      child.members = part;
      child.parent = parent_index;
      if (part.size() == 1) need_reference.push_back(static_cast<int>(next.size()));
      next.push_back({part, -1});
      next_node.push_back(static_cast<int>(nodes_.size()));
      nodes_.push_back(std::move(child));
    }
  }
  // A single suspect is tested against a distinct endpoint already shown healthy this run.
  std::vector<char> busy(static_cast<std::size_t>(n_), 0);
  for (const auto& t : next)
    for (int m : t.members) busy[static_cast<std::size_t>(m)] = 1;
  int cursor = 0;
  std::vector<char> drop(next.size(), 0);
  for (int idx : need_reference) {
    while (cursor < n_ && (!known_good_[static_cast<std::size_t>(cursor)] ||
                           busy[static_cast<std::size_t>(cursor)]))
      ++cursor;
    if (cursor >= n_) {
      inconclusive_.push_back(next[static_cast<std::size_t>(idx)].members);
      drop[static_cast<std::size_t>(idx)] = 1;
      continue;
    }
    next[static_cast<std::size_t>(idx)].reference = cursor;
    busy[static_cast<std::size_t>(cursor)] = 1;
  }
  pending_.clear();
  pending_node_.clear();
  for (std::size_t i = 0; i < next.size(); ++i) {
    if (drop[i]) continue;
    pending_.push_back(std::move(next[i]));
    pending_node_.push_back(next_node[i]);
  }
  std::sort(slow_.begin(), slow_.end());
}

}  // namespace ncd::collectives
