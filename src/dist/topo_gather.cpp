// SPDX-License-Identifier: Apache-2.0
#include "dist/topo_gather.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <set>

#include "core/error.hpp"
#include "dist/fault.hpp"

namespace ncd::dist {

namespace {

constexpr std::uint32_t kRankMagic = 0x4e434452;  // "NCDR"
constexpr std::uint32_t kNodeMagic = 0x4e43444e;  // "NCDN"
constexpr std::uint32_t kMaxCount = 1u << 20;     // no node has a million ranks or CPU ranges

class Writer {
 public:
  void u32(std::uint32_t v) { raw(&v, sizeof v); }
  void u64(std::uint64_t v) { raw(&v, sizeof v); }
  void i32(int v) { u32(static_cast<std::uint32_t>(v)); }
  void str(const std::string& s) {
    u32(static_cast<std::uint32_t>(s.size()));
    out_ += s;
  }
  /// Sorted CPU numbers as (first, last) ranges: a node's 12 cores are 8 bytes, not 12 numbers.
  void cpus(std::vector<int> v) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
    std::vector<std::pair<int, int>> ranges;
    for (int c : v) {
      if (!ranges.empty() && ranges.back().second + 1 == c) ranges.back().second = c;
      else ranges.emplace_back(c, c);
    }
    u32(static_cast<std::uint32_t>(ranges.size()));
    for (auto [a, b] : ranges) i32(a), i32(b);
  }
  std::string take() { return std::move(out_); }

 private:
  void raw(const void* p, std::size_t n) { out_.append(static_cast<const char*>(p), n); }
  std::string out_;
};

class Reader {
 public:
  Reader(std::string_view in, const char* what) : in_(in), what_(what) {}
  std::uint32_t u32() {
    std::uint32_t v = 0;
    raw(&v, sizeof v);
    return v;
  }
  std::uint64_t u64() {
    std::uint64_t v = 0;
    raw(&v, sizeof v);
    return v;
  }
  int i32() { return static_cast<int>(u32()); }
  std::uint32_t count() {
    std::uint32_t n = u32();
    if (n > kMaxCount || n > in_.size() - pos_) fail("count out of range");
    return n;
  }
  std::string str() {
    std::uint32_t n = count();
    std::string s(in_.substr(pos_, n));
    pos_ += n;
    return s;
  }
  std::vector<int> cpus() {
    std::uint32_t n = count();
    std::vector<int> v;
    for (std::uint32_t i = 0; i < n; ++i) {
      int a = i32(), b = i32();
      if (a < 0 || b < a || b - a > 1 << 20) fail("bad CPU range");
      for (int c = a; c <= b; ++c) v.push_back(c);
    }
    return v;
  }
  void end() const {
    if (pos_ != in_.size()) fail("trailing bytes");
  }
  [[noreturn]] void fail(const char* why) const {
    throw Error(std::string("topology gather: malformed ") + what_ + " message (" + why + ")");
  }

 private:
  void raw(void* p, std::size_t n) {
    if (in_.size() - pos_ < n) fail("truncated");
    std::memcpy(p, in_.data() + pos_, n);
    pos_ += n;
  }
  std::string_view in_;
  const char* what_;
  std::size_t pos_ = 0;
};

void put_rank(Writer& w, const RankInfo& r) {
  w.i32(r.rank);
  w.i32(r.local_rank);
  w.i32(r.total_cpus);
  w.cpus(r.cpus);
  w.str(r.cuda_visible_devices);
}

RankInfo get_rank(Reader& in) {
  RankInfo r;
  r.rank = in.i32();
  r.local_rank = in.i32();
  r.total_cpus = in.i32();
  r.cpus = in.cpus();
  r.cuda_visible_devices = in.str();
  return r;
}

/// A deadline `share` of the way to `d` (d itself when it has no end).
Deadline step_deadline(const Deadline& d, double share) {
  double left = d.remaining_s();
  if (!std::isfinite(left)) return d;
  return d.capped(std::max(0.0, left * share));
}

}  // namespace

std::string encode_rank(const RankInfo& r) {
  Writer w;
  w.u32(kRankMagic);
  put_rank(w, r);
  return w.take();
}

RankInfo decode_rank(std::string_view bytes) {
  Reader in(bytes, "rank");
  if (in.u32() != kRankMagic) in.fail("bad magic");
  RankInfo r = get_rank(in);
  in.end();
  return r;
}

std::string encode_node(const NodeSummary& n) {
  Writer w;
  w.u32(kNodeMagic);
  w.u32(n.probed ? 1 : 0);
  w.u64(n.digest);
  w.u32(static_cast<std::uint32_t>(n.ranks.size()));
  for (const auto& r : n.ranks) put_rank(w, r);
  w.u32(static_cast<std::uint32_t>(n.missing.size()));
  for (int m : n.missing) w.i32(m);
  return w.take();
}

NodeSummary decode_node(std::string_view bytes) {
  Reader in(bytes, "node");
  if (in.u32() != kNodeMagic) in.fail("bad magic");
  NodeSummary n;
  n.probed = in.u32() != 0;
  n.digest = in.u64();
  for (std::uint32_t i = 0, k = in.count(); i < k; ++i) n.ranks.push_back(get_rank(in));
  for (std::uint32_t i = 0, k = in.count(); i < k; ++i) n.missing.push_back(in.i32());
  in.end();
  return n;
}

DigestGroups group_by_digest(const std::vector<std::optional<NodeSummary>>& nodes) {
  DigestGroups g;
  std::map<std::uint64_t, std::size_t> index;
  for (std::size_t n = 0; n < nodes.size(); ++n) {
    if (!nodes[n] || !nodes[n]->probed) continue;
    auto [it, added] = index.emplace(nodes[n]->digest, g.digest.size());
    if (added) {
      g.digest.push_back(nodes[n]->digest);
      g.nodes.emplace_back();
    }
    g.nodes[it->second].push_back(static_cast<int>(n));
  }
  return g;
}

std::string uuids_to_indices(const std::string& cvd, const std::vector<std::pair<std::string, int>>& gpus) {
  if (cvd.empty() || gpus.empty()) return cvd;
  std::string out, item;
  auto flush = [&] {
    std::string v = item;
    for (const auto& [uuid, index] : gpus)
      if (!item.empty() && item.size() > 3 && uuid.rfind(item, 0) == 0) v = std::to_string(index);
    if (!out.empty()) out += ',';
    out += v;
    item.clear();
  };
  for (char c : cvd) {
    if (c == ',') flush();
    else item += c;
  }
  flush();
  return out;
}

TopoGather gather_topology(Comm& comm, const RankInfo& mine, const std::function<std::optional<ProbedModel>()>& probe,
                           const Deadline& deadline) {
  const NodeMap& map = comm.nodes();
  const int me = comm.rank();
  const int node = map.rank_node.at(static_cast<std::size_t>(me));
  const auto& local = map.node_ranks.at(static_cast<std::size_t>(node));
  const int leader = local.front();
  const int base = comm.reserve_tags(8);  // every rank, once: the tags of steps 1-4
  fault_point("gather", me);
  const Deadline d1 = step_deadline(deadline, 0.3), d2 = step_deadline(deadline, 0.6);
  TopoGather out;
  out.step_deadline_s = std::isfinite(deadline.remaining_s()) ? 0.3 * deadline.remaining_s() : 0;

  // The leader probes first, so its digest is ready when its ranks have answered.
  std::optional<ProbedModel> model;
  if (me == leader) model = probe();

  // 1. ranks -> their node leader.
  auto ranks = comm.gather_among(encode_rank(mine), leader, local, base, d1);
  if (me != leader) return out;
  NodeSummary summary;
  summary.probed = model.has_value();
  summary.digest = model ? model->digest : 0;
  for (std::size_t i = 0; i < ranks.size(); ++i) {
    if (!ranks[i]) {
      summary.missing.push_back(local[i]);
      continue;
    }
    try {
      summary.ranks.push_back(decode_rank(*ranks[i]));
      if (model) summary.ranks.back().cuda_visible_devices = uuids_to_indices(summary.ranks.back().cuda_visible_devices, model->gpu_uuids);
    } catch (const Error&) {
      summary.missing.push_back(local[i]);
    }
  }
  ranks.clear();

  // 2. leaders -> rank 0.
  std::vector<int> leaders;
  for (const auto& rs : map.node_ranks) leaders.push_back(rs.front());
  auto sums = comm.gather_among(encode_node(summary), 0, leaders, base + 2, d2);

  // 3. rank 0 -> the leaders that answered: which nodes send their model.
  std::vector<int> answered;
  std::string request;
  if (me == 0) {
    out.nodes.resize(map.node_ranks.size());
    for (std::size_t n = 0; n < sums.size(); ++n) {
      if (!sums[n]) continue;
      try {
        out.nodes[n] = decode_node(*sums[n]);
      } catch (const Error&) {
        continue;  // counted as silent below
      }
    }
    sums.clear();
    out.groups = group_by_digest(out.nodes);
    Writer w;
    w.u32(static_cast<std::uint32_t>(out.groups.nodes.size()));
    for (const auto& g : out.groups.nodes) w.i32(leaders[static_cast<std::size_t>(g.front())]);
    request = w.take();
    for (std::size_t n = 0; n < out.nodes.size(); ++n)
      if (out.nodes[n]) answered.push_back(leaders[n]);
    if (answered.empty() || answered.front() != 0) answered.insert(answered.begin(), 0);
  } else {
    answered = leaders;  // a leader does not know who else answered; it only listens to rank 0
  }
  std::vector<int> requested;
  if (me == 0) {
    (void)comm.broadcast_among(request, 0, answered, base + 4, deadline);
  } else if (!comm.broadcast_among(request, 0, {0, me}, base + 4, deadline)) {
    return out;
  }
  {
    Reader in(request, "request");
    for (std::uint32_t i = 0, k = in.count(); i < k; ++i) requested.push_back(in.i32());
  }

  // 4. the first node of each group -> rank 0: its model.
  const bool asked = std::find(requested.begin(), requested.end(), me) != requested.end();
  if (me != 0 && !asked) return out;
  std::vector<int> senders = requested;
  if (std::find(senders.begin(), senders.end(), 0) == senders.end()) senders.insert(senders.begin(), 0);
  auto models = comm.gather_among(asked && model ? model->json : std::string(), 0, senders, base + 6, deadline);
  if (me != 0) return out;
  out.models.resize(out.groups.nodes.size());
  for (std::size_t g = 0; g < out.groups.nodes.size(); ++g) {
    int want = leaders[static_cast<std::size_t>(out.groups.nodes[g].front())];
    auto at = std::find(senders.begin(), senders.end(), want) - senders.begin();
    if (models[static_cast<std::size_t>(at)] && !models[static_cast<std::size_t>(at)]->empty())
      out.models[g] = std::move(models[static_cast<std::size_t>(at)]);
  }
  // Every rank that did not answer: whole nodes whose leader was silent, and ranks a leader missed.
  std::set<int> missing;
  for (std::size_t n = 0; n < out.nodes.size(); ++n) {
    if (!out.nodes[n]) {
      missing.insert(map.node_ranks[n].begin(), map.node_ranks[n].end());
      continue;
    }
    missing.insert(out.nodes[n]->missing.begin(), out.nodes[n]->missing.end());
  }
  out.missing_ranks.assign(missing.begin(), missing.end());
  return out;
}

}  // namespace ncd::dist
