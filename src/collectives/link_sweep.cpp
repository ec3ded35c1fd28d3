// SPDX-License-Identifier: Apache-2.0
#include "collectives/link_sweep.hpp"

#include <mpi.h>
#include <sched.h>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <map>
#include <memory>
#include <sstream>

#include "core/error.hpp"
#include "core/text.hpp"
#include "dist/fault.hpp"
#include "dist/mpi_comm.hpp"

namespace ncd::collectives {

namespace {

constexpr int kTagBase = 1000;       // below MpiComm's gather/broadcast tags (17000+)
constexpr int kTagsPerRound = 8;
constexpr int kTagRounds = 1500;
constexpr double kGraceS = 2.0;      // for a step that follows a round every rank has finished
constexpr int kLatencyWarmup = 2;

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t h = v.size() / 2;
  return v.size() % 2 ? v[h] : (v[h - 1] + v[h]) / 2;
}

/// Waits for `reqs` by testing in a loop that yields the core: ranks that measure must keep
/// calling MPI (the TCP BTL progresses only inside MPI calls; a 200 us sleep between tests
/// would stall the transfer being timed), but on an oversubscribed box they should let the
/// peer of their pair run. Ranks that are not measuring wait in the sleeping consensus instead.
bool spin_wait(MPI_Request* reqs, int n, const dist::Deadline& deadline) {
  for (unsigned spins = 0;; ++spins) {
    int done = 0;
    // The communicator returns errors (MPI_ERRORS_RETURN): a broken connection is a failed pair.
    if (MPI_Testall(n, reqs, &done, MPI_STATUSES_IGNORE) != MPI_SUCCESS) return false;
    if (done) return true;
    if ((spins & 63) == 0 && deadline.expired()) return false;
    sched_yield();
  }
}

/// Message buffers of one rank. If a pair times out, MPI may still write into them later, so
/// they are then deliberately never freed (the job ends soon after).
struct Buffers {
  std::vector<char> send;
  std::vector<char> recv;
  std::uint64_t ctrl_send = 0;
  std::uint64_t ctrl_recv = 0;
  char ack_send = 1;
  char ack_recv = 0;
  std::array<char, 8> ping_send{};
  std::array<char, 8> ping_recv{};
  std::array<double, 2> result_send{};
  std::array<double, 2> result_recv{};
};

struct PairOutcome {
  bool ok = false;
  bool bandwidth_phase = false;  // the failure happened after latency was measured
  double gbps_ab = -1;           // lower rank -> higher rank
  double gbps_ba = -1;
  double latency_us = -1;
};

class PairMeter {
 public:
  PairMeter(MPI_Comm comm, const LinkPlan& plan, Buffers& buf) : comm_(comm), plan_(plan), b_(buf) {}

  /// Phase 1: 8-byte ping-pong. Run while no pair moves bulk data: the softirq and CPU time
  /// of a concurrent transfer would otherwise be measured as latency.
  bool measure_latency(int me, int peer, int tag, const dist::Deadline& round, PairOutcome& o) {
    return latency(me < peer, peer, tag, round, o.latency_us);
  }

  /// Phase 2: both directions, then the two ends swap what they timed.
  void measure_bandwidth(int me, int peer, int tag, const dist::Deadline& round, PairOutcome& o) {
    const bool lead = me < peer;
    o.bandwidth_phase = true;
    double mine = -1;
    if (!both_directions(lead, peer, tag + 2, now_s() + 0.9 * round.remaining_s(), round, mine)) return;
    // Each end timed the direction it sent; swap so both ends hold both.
    b_.result_send = {mine, o.latency_us};
    std::array<MPI_Request, 2> r{};
    MPI_Irecv(b_.result_recv.data(), 2, MPI_DOUBLE, peer, tag + 7, comm_, &r[0]);
    MPI_Isend(b_.result_send.data(), 2, MPI_DOUBLE, peer, tag + 7, comm_, &r[1]);
    if (!spin_wait(r.data(), 2, round)) return;
    o.gbps_ab = lead ? mine : b_.result_recv[0];
    o.gbps_ba = lead ? b_.result_recv[0] : mine;
    if (!lead) o.latency_us = b_.result_recv[1];
    o.ok = true;
  }

 private:
  bool latency(bool lead, int peer, int tag, const dist::Deadline& round, double& latency_us) {
    std::vector<double> half_rtt;
    half_rtt.reserve(static_cast<std::size_t>(plan_.latency_iters));
    for (int i = 0; i < kLatencyWarmup + plan_.latency_iters; ++i) {
      std::array<MPI_Request, 2> r{};
      if (lead) {
        const double t0 = now_s();
        MPI_Irecv(b_.ping_recv.data(), 8, MPI_BYTE, peer, tag + 1, comm_, &r[0]);
        MPI_Isend(b_.ping_send.data(), 8, MPI_BYTE, peer, tag, comm_, &r[1]);
        if (!spin_wait(r.data(), 2, round)) return false;
        if (i >= kLatencyWarmup) half_rtt.push_back((now_s() - t0) * 1e6 / 2);
      } else {
        MPI_Irecv(b_.ping_recv.data(), 8, MPI_BYTE, peer, tag, comm_, &r[0]);
        if (!spin_wait(r.data(), 1, round)) return false;
        MPI_Isend(b_.ping_send.data(), 8, MPI_BYTE, peer, tag + 1, comm_, &r[1]);
        if (!spin_wait(&r[1], 1, round)) return false;
      }
    }
    // The best round trip: on an oversubscribed machine a descheduled peer adds whole time
    // slices to the others, while the minimum is the path's own latency.
    latency_us = lead ? *std::min_element(half_rtt.begin(), half_rtt.end()) : -1;
    return true;
  }

  /// Both directions, interleaved: per iteration the lower rank announces the transfer (or
  /// the end) with a control message, then each end in turn sends `bytes` and times data plus
  /// a 1-byte acknowledgement. Interleaving exposes both directions to the same moments, so a
  /// noisy neighbour on the host cannot fake an asymmetry. Stops early when the next iteration
  /// would not fit the budget. Returns false when the round's deadline passed; `gbps` is the
  /// median of what this end sent.
  bool both_directions(bool lead, int peer, int tag, double budget_end, const dist::Deadline& round,
                       double& gbps) {
    const int count = static_cast<int>(plan_.bytes);
    std::vector<double> iteration_s, samples, warm;
    auto send_timed = [&](int data_tag, int ack_tag, bool timed) {
      std::array<MPI_Request, 2> r{};
      const double t0 = now_s();
      MPI_Irecv(&b_.ack_recv, 1, MPI_BYTE, peer, ack_tag, comm_, &r[0]);
      MPI_Isend(b_.send.data(), count, MPI_BYTE, peer, data_tag, comm_, &r[1]);
      if (!spin_wait(r.data(), 2, round)) return false;
      const double g = static_cast<double>(plan_.bytes) / (now_s() - t0) / 1e9;
      (timed ? samples : warm).push_back(g);
      return true;
    };
    auto receive = [&](int data_tag, int ack_tag) {
      std::array<MPI_Request, 1> r{};
      MPI_Irecv(b_.recv.data(), count, MPI_BYTE, peer, data_tag, comm_, &r[0]);
      if (!spin_wait(r.data(), 1, round)) return false;
      MPI_Isend(&b_.ack_send, 1, MPI_BYTE, peer, ack_tag, comm_, &r[0]);
      return spin_wait(r.data(), 1, round);
    };
    const double phase_start = now_s();
    for (int i = 0;; ++i) {
      const double t0 = now_s();
      std::array<MPI_Request, 1> r{};
      if (lead) {
        bool go = i < plan_.warmup + plan_.iters;
        // A link so slow that the warm-up alone used the pair's time is measured by it:
        // connection set-up is noise next to such a transfer.
        if (go && i > 0 && !iteration_s.empty()) {
          const double next = 1.2 * median(iteration_s);
          go = now_s() + next < budget_end && now_s() - phase_start + next < plan_.pair_time_s;
        }
        b_.ctrl_send = go ? plan_.bytes : 0;
        MPI_Isend(&b_.ctrl_send, 1, MPI_UINT64_T, peer, tag, comm_, &r[0]);
      } else {
        MPI_Irecv(&b_.ctrl_recv, 1, MPI_UINT64_T, peer, tag, comm_, &r[0]);
      }
      if (!spin_wait(r.data(), 1, round)) return false;
      if ((lead ? b_.ctrl_send : b_.ctrl_recv) == 0) break;
      const bool timed = i >= plan_.warmup;
      if (lead) {
        if (!send_timed(tag + 1, tag + 2, timed) || !receive(tag + 3, tag + 4)) return false;
      } else {
        if (!receive(tag + 1, tag + 2) || !send_timed(tag + 3, tag + 4, timed)) return false;
      }
      iteration_s.push_back(now_s() - t0);
    }
    gbps = median(samples.empty() ? warm : samples);
    return true;
  }

  MPI_Comm comm_;
  const LinkPlan& plan_;
  Buffers& b_;
};

/// Rank 0 collects one status character per rank ('0' fine, 'F' failed) before `gather_dl` and
/// broadcasts the decision: 'g' go on, 'd' stop for the deadline, 's' stop for a failure. Ranks
/// that hear no decision stop. Waiting ranks sleep here (comm's sleeping polls): this is the
/// barrier between rounds.
char consensus(dist::MpiComm& comm, char mine, const dist::Deadline& gather_dl, bool deadline_near,
               std::vector<int>& silent, char end_here = 0) {
  auto blobs = comm.gather(std::string(1, mine), gather_dl);
  std::string decision;
  if (comm.rank() == 0) {
    char d = deadline_near ? 'd' : end_here ? end_here : 'g';
    for (int r = 0; r < comm.size(); ++r) {
      const auto& b = blobs[static_cast<std::size_t>(r)];
      if (!b) {
        silent.push_back(r);
        d = 's';
      } else if (!b->empty() && (*b)[0] == 'F') {
        d = 's';
      }
    }
    decision.assign(1, d);
  }
  // Ranks that finished early wait here while the others still measure. Rank 0 does not wait
  // long for a send to a rank that already went silent.
  const double wait_s = comm.rank() == 0 && !silent.empty() ? 0.5 : gather_dl.remaining_s() + kGraceS;
  if (!comm.broadcast(decision, dist::Deadline::after(wait_s))) return 's';
  return decision.empty() ? 's' : decision[0];
}

model::LinkResult make_link(const dist::NodeMap& nodes, int src, int dst, std::uint64_t bytes,
                             double gbps, double latency_us, bool ok) {
  model::LinkResult l;
  l.src_rank = src;
  l.dst_rank = dst;
  l.src_host = nodes.rank_host.at(static_cast<std::size_t>(src));
  l.dst_host = nodes.rank_host.at(static_cast<std::size_t>(dst));
  l.bytes = bytes;
  l.gbps = ok ? std::max(gbps, 0.0) : 0.0;
  l.latency_us = ok ? std::max(latency_us, 0.0) : 0.0;
  l.cls = link_class(l.src_host, l.dst_host);
  l.ok = ok;
  return l;
}

void record_pair(LinkSweepResult& res, const dist::NodeMap& nodes, int x, int y, std::uint64_t bytes,
                 const PairOutcome& o) {
  const int a = std::min(x, y), b = std::max(x, y);
  const std::uint64_t failed_bytes = o.bandwidth_phase ? bytes : 0;
  res.links.push_back(make_link(nodes, a, b, o.ok ? bytes : failed_bytes, o.gbps_ab, o.latency_us, o.ok));
  res.links.push_back(make_link(nodes, b, a, o.ok ? bytes : failed_bytes, o.gbps_ba, o.latency_us, o.ok));
}

}  // namespace

model::LinkResult merge_measurements(const std::vector<model::LinkResult>& v) {
  if (v.empty()) throw Error("link sweep: nothing to merge");
  for (const auto& l : v)
    if (!l.ok) return l;
  model::LinkResult out = v.front();
  std::vector<double> g;
  double best_latency = 0;
  for (const auto& l : v) {
    g.push_back(l.gbps);
    if (l.latency_us > 0 && (best_latency == 0 || l.latency_us < best_latency)) best_latency = l.latency_us;
  }
  out.gbps = median(g);
  out.latency_us = best_latency;
  return out;
}

namespace {

/// Gathers every rank's links at rank 0 and merges them (each direction once).
void final_gather(dist::MpiComm& comm, LinkSweepResult& res, const dist::Deadline& deadline) {
  const bool trouble = res.failed || !res.silent_ranks.empty();
  // After a failure every live rank arrives within a grace period; waiting longer only waits
  // for ranks already known to be silent.
  const dist::Deadline dl = trouble ? dist::Deadline::after(comm.rank() == 0 ? kGraceS : 30)
                                    : dist::Deadline::after(std::max(deadline.remaining_s(), 5.0));
  auto blobs = comm.gather(encode_links(res.links), dl);
  if (comm.rank() != 0) return;
  // Every measurement of a direction (both ends report it, --repeat measures it again) is
  // merged into one entry: a failure in any sweep wins (the link is unreliable), else the
  // median bandwidth and the best latency.
  std::map<std::pair<int, int>, std::vector<model::LinkResult>> all;
  // Both ends report each direction; its sender's copy is the sample (once per pass).
  auto add = [&](model::LinkResult l, int reporter) {
    if (l.ok && l.gbps > 0 && reporter == l.src_rank) res.samples[{l.src_rank, l.dst_rank}].push_back(l.gbps);
    all[{l.src_rank, l.dst_rank}].push_back(std::move(l));
  };
  for (const auto& l : res.links) add(l, 0);
  for (int r = 1; r < comm.size(); ++r) {
    const auto& b = blobs[static_cast<std::size_t>(r)];
    if (!b) {
      if (std::find(res.silent_ranks.begin(), res.silent_ranks.end(), r) == res.silent_ranks.end())
        res.silent_ranks.push_back(r);
      continue;
    }
    for (auto& l : decode_links(*b)) {
      if (l.src_rank < 0 || l.dst_rank < 0 || l.src_rank >= comm.size() || l.dst_rank >= comm.size())
        throw Error(fmt::format("link sweep: rank {} reported a link between unknown ranks", r));
      l.src_host = comm.nodes().rank_host.at(static_cast<std::size_t>(l.src_rank));
      l.dst_host = comm.nodes().rank_host.at(static_cast<std::size_t>(l.dst_rank));
      l.cls = link_class(l.src_host, l.dst_host);
      add(std::move(l), r);
    }
  }
  res.links.clear();
  for (auto& [key, v] : all) res.links.push_back(merge_measurements(v));
  std::sort(res.silent_ranks.begin(), res.silent_ranks.end());
}

void run_rounds(const std::vector<Round>& schedule, int repeat, int passes, const LinkPlan& plan,
                dist::MpiComm& comm, const dist::Deadline& hard, LinkSweepResult& res, Buffers& buf) {
  if (schedule.empty()) return;
  const int per_sweep = static_cast<int>(schedule.size());
  res.rounds_per_sweep = per_sweep;
  res.rounds_planned = per_sweep * std::max({repeat, passes, 1});
  PairMeter meter(comm.native(), plan, buf);
  double longest = 0;
  double pass_start = now_s(), longest_pass = 0;
  for (int k = 0; k < res.rounds_planned; ++k) {
    // Odd passes run the schedule backwards: every pair meets other moments and neighbours.
    const int sweep = k / per_sweep, in_sweep = k % per_sweep;
    const Round& round = schedule[static_cast<std::size_t>(sweep % 2 ? per_sweep - 1 - in_sweep : in_sweep)];
    const double t0 = now_s();
    const dist::Deadline rdl = hard.capped(res.round_timeout_s);
    int peer = -1;
    for (const Pair& p : round) {
      if (p.a == comm.rank()) peer = p.b;
      if (p.b == comm.rank()) peer = p.a;
    }
    const int tag = kTagBase + (k % kTagRounds) * kTagsPerRound;
    const dist::Deadline round_gather = dist::Deadline::after(rdl.remaining_s() + kGraceS);
    PairOutcome o;
    bool latency_ok = true;
    if (peer >= 0) latency_ok = meter.measure_latency(comm.rank(), peer, tag, rdl, o);
    const char mid = consensus(comm, latency_ok ? '0' : 'F', round_gather, false, res.silent_ranks);
    char status = '0';
    if (mid == 'g' && peer >= 0) {
      dist::fault_point("links", comm.rank());  // tests: a rank dies or stops before a timed transfer
      meter.measure_bandwidth(comm.rank(), peer, tag, rdl, o);
      record_pair(res, comm.nodes(), comm.rank(), peer, plan.bytes, o);
      if (!o.ok) status = 'F';
    } else if (mid != 'g') {
      if (!latency_ok) record_pair(res, comm.nodes(), comm.rank(), peer, plan.bytes, o);
      res.rounds_done = k;
      res.failed = true;
      res.stop_reason = fmt::format("round {} of {} did not finish in time", k + 1, res.rounds_planned);
      break;
    }
    longest = std::max(longest, now_s() - t0);
    // Stop before a round that might not fit what is left: a cut-short round would report
    // healthy pairs as unresponsive.
    const bool near = k + 1 < res.rounds_planned &&
                      hard.remaining_s() < std::min(res.round_timeout_s, 2 * longest + 1);
    // A pass is over: a further optional pass (beyond --repeat) only when it fits with room
    // to spare (1.5x the longest pass so far, plus a second per round).
    char end_here = 0;
    if ((k + 1) % per_sweep == 0) {
      res.passes_done = (k + 1) / per_sweep;
      longest_pass = std::max(longest_pass, now_s() - pass_start);
      pass_start = now_s();
      if (k + 1 < res.rounds_planned && (k + 1) / per_sweep >= std::max(repeat, 1) &&
          hard.remaining_s() < 1.5 * longest_pass + per_sweep)
        end_here = 'e';
    }
    const char d = consensus(comm, status, round_gather, near, res.silent_ranks, end_here);
    res.rounds_done = k + 1;
    if (d == 'g') continue;
    // The deadline in the middle of an optional pass ends the sweep normally: every pair
    // already has its planned measurements.
    if (d == 'e' || (d == 'd' && res.passes_done >= std::max(repeat, 1))) {
      res.rounds_planned = k + 1;
      break;
    }
    if (d == 'd') {
      res.deadline_reached = true;
      res.stop_reason = fmt::format("--timeout reached after {} of {} rounds", k + 1, res.rounds_planned);
    } else {
      res.failed = true;
      res.stop_reason = fmt::format("round {} of {} did not finish in time", k + 1, res.rounds_planned);
    }
    break;
  }
}

/// One group test of the bisection: every member sends to the next and receives from the
/// previous at once (a ring); returns this member's receive bandwidth or -1 on timeout.
double group_ring(MPI_Comm comm, const LinkPlan& plan, Buffers& b, const std::vector<int>& ring,
                  int me_index, int tag, const dist::Deadline& round) {
  const int g = static_cast<int>(ring.size());
  const int next = ring[static_cast<std::size_t>((me_index + 1) % g)];
  const int prev = ring[static_cast<std::size_t>((me_index + g - 1) % g)];
  const int count = static_cast<int>(plan.bytes);
  std::vector<double> samples;
  for (int i = 0; i < plan.warmup + plan.iters; ++i) {
    std::array<MPI_Request, 2> r{};
    const double t0 = now_s();
    MPI_Irecv(b.recv.data(), count, MPI_BYTE, prev, tag, comm, &r[0]);
    MPI_Isend(b.send.data(), count, MPI_BYTE, next, tag, comm, &r[1]);
    if (!spin_wait(r.data(), 2, round)) return -1;
    if (i >= plan.warmup) samples.push_back(static_cast<double>(plan.bytes) / (now_s() - t0) / 1e9);
  }
  return median(samples);
}

void run_bisect(const LinkPlan& plan, dist::MpiComm& comm, const dist::Deadline& hard,
                LinkSweepResult& res, Buffers& buf) {
  std::unique_ptr<BisectPlanner> planner;
  if (comm.rank() == 0) planner = std::make_unique<BisectPlanner>(comm.size(), plan.bisect);
  nlohmann::json history = nlohmann::json::array();
  for (int k = 0;; ++k) {
    // Rank 0 plans; a round is "ref member member ...\n" per group; empty: done.
    std::string text;
    if (planner && !planner->done()) {
      if (hard.remaining_s() < res.round_timeout_s) {
        text = "D";
      } else {
        for (const auto& t : planner->next_round()) {
          text += std::to_string(t.reference);
          for (int m : t.members) text += " " + std::to_string(m);
          text += "\n";
        }
      }
    }
    if (!comm.broadcast(text, dist::Deadline::after(kGraceS))) {
      res.failed = true;
      res.stop_reason = "rank 0 did not send the next bisection round in time";
      break;
    }
    if (text.empty()) break;
    if (text == "D") {
      res.deadline_reached = true;
      res.stop_reason = fmt::format("--timeout reached after {} bisection rounds", k);
      break;
    }
    ++res.rounds_planned;
    std::vector<std::vector<int>> rings;
    for (const auto& line : split(text, '\n')) {
      auto words = split(line, ' ');
      std::vector<int> ring;
      for (std::size_t i = 1; i < words.size(); ++i) ring.push_back(std::stoi(words[i]));
      if (int ref = std::stoi(words[0]); ref >= 0) ring.push_back(ref);
      rings.push_back(std::move(ring));
    }
    const dist::Deadline rdl = hard.capped(res.round_timeout_s);
    std::string status = "-";
    for (std::size_t gi = 0; gi < rings.size(); ++gi) {
      const auto& ring = rings[gi];
      auto it = std::find(ring.begin(), ring.end(), comm.rank());
      if (it == ring.end()) continue;
      const int idx = static_cast<int>(it - ring.begin());
      const int tag = kTagBase + (k % kTagRounds) * kTagsPerRound;
      const double g = group_ring(comm.native(), plan, buf, ring, idx, tag, rdl);
      const int prev = ring[static_cast<std::size_t>((idx + ring.size() - 1) % ring.size())];
      res.links.push_back(make_link(comm.nodes(), prev, comm.rank(), plan.bytes, g, 0, g >= 0));
      status = g >= 0 ? fmt::format("{} {:.9g}", gi, g) : "F";
    }
    const dist::Deadline gather_dl = dist::Deadline::after(rdl.remaining_s() + kGraceS);
    auto blobs = comm.gather(status, gather_dl);
    res.rounds_done = k + 1;
    char decision = 'g';
    if (planner) {
      std::vector<double> group_gbps(rings.size(), -1);
      for (int r = 0; r < comm.size(); ++r) {
        const auto& b = blobs[static_cast<std::size_t>(r)];
        if (!b) {
          res.silent_ranks.push_back(r);
          decision = 's';
          continue;
        }
        if (*b == "F") decision = 's';
        if (*b == "-" || *b == "F") continue;
        auto words = split(*b, ' ');
        const auto gi = static_cast<std::size_t>(std::stoul(words.at(0)));
        const double g = std::stod(words.at(1));
        group_gbps.at(gi) = group_gbps[gi] < 0 ? g : std::min(group_gbps[gi], g);
      }
      if (decision == 'g') planner->record(group_gbps);
    }
    std::string d(1, decision);
    if (!comm.broadcast(d, dist::Deadline::after(gather_dl.remaining_s() + kGraceS)) || d != "g") {
      res.failed = true;
      res.stop_reason = fmt::format("bisection round {} did not finish in time", k + 1);
      break;
    }
  }
  if (planner) {
    for (const auto& o : planner->history())
      history.push_back({{"round", o.round}, {"members", o.test.members},
                         {"reference", o.test.reference}, {"gbps", o.gbps}, {"slow", o.slow}});
    res.bisect = {{"rounds", planner->rounds()}, {"tests", planner->tests()},
                  {"reference_gbps", planner->reference_gbps()}, {"slow", planner->slow()},
                  {"inconclusive", planner->inconclusive()}, {"history", history}};
    res.bisect_slow = planner->slow();
    res.bisect_inconclusive = planner->inconclusive();
  }
}

/// Measures the suspects of the sweep once more and keeps, per direction, the better median.
void confirm_suspects(const LinkPlan& plan, dist::MpiComm& comm, const dist::Deadline& deadline,
                      const SuspectFn& suspects, LinkSweepResult& res, Buffers& buf) {
  std::string text;
  if (comm.rank() == 0)
    for (const Pair& p : suspects(res.links)) text += fmt::format("{} {}\n", p.a, p.b);
  if (!comm.broadcast(text, dist::Deadline::after(std::max(deadline.remaining_s(), 5.0)))) {
    res.failed = true;
    res.stop_reason = "ranks did not receive the pairs to re-measure in time";
    return;
  }
  std::vector<Pair> pairs;
  for (const auto& line : split(text, '\n')) {
    auto w = split(line, ' ');
    if (w.size() == 2) pairs.push_back({std::stoi(w[0]), std::stoi(w[1])});
  }
  if (pairs.empty()) return;
  LinkSweepResult again;
  again.round_timeout_s = res.round_timeout_s;
  const dist::Deadline hard = deadline.capped(std::max(deadline.remaining_s() - kGraceS, 1.0));
  run_rounds(pack_rounds(pairs), 1, 1, plan, comm, hard, again, buf);
  final_gather(comm, again, deadline);
  for (const auto& [key, v] : again.samples) res.samples[key].insert(res.samples[key].end(), v.begin(), v.end());
  res.confirmed_pairs = static_cast<int>(pairs.size());
  res.rounds_planned += again.rounds_planned;
  res.rounds_done += again.rounds_done;
  if (again.failed || !again.silent_ranks.empty()) {
    res.failed = true;
    res.stop_reason = again.stop_reason.empty() ? "a re-measured pair did not finish" : again.stop_reason;
    res.silent_ranks = again.silent_ranks;
    comm.mark_broken();
  }
  if (comm.rank() != 0) return;
  std::map<std::pair<int, int>, const model::LinkResult*> second;
  for (const auto& l : again.links) second[{l.src_rank, l.dst_rank}] = &l;
  for (auto& l : res.links) {
    auto it = second.find({l.src_rank, l.dst_rank});
    if (it == second.end()) continue;
    const model::LinkResult& b = *it->second;
    if (!b.ok) {
      l = b;
      continue;
    }
    if (!l.ok) continue;
    l.gbps = std::max(l.gbps, b.gbps);
    if (b.latency_us > 0 && (l.latency_us <= 0 || b.latency_us < l.latency_us)) l.latency_us = b.latency_us;
  }
}

}  // namespace

std::string link_class(const std::string& host_a, const std::string& host_b) {
  return host_a == host_b ? "shm" : "net";
}

double reserve_s(double timeout_s) { return std::clamp(0.15 * timeout_s, 2.0, 15.0); }

double round_timeout(double timeout_s, int rounds, double floor_s) {
  const double usable = std::max(timeout_s - reserve_s(timeout_s), 1.0);
  const double share = usable / std::max(rounds, 1);
  return std::min(std::max(share, floor_s), usable);
}

std::string encode_links(const std::vector<model::LinkResult>& links) {
  std::string out;
  for (const auto& l : links)
    out += fmt::format("{} {} {} {} {:.9g} {:.9g}\n", l.src_rank, l.dst_rank, l.ok ? 1 : 0, l.bytes,
                       l.gbps, l.latency_us);
  return out;
}

std::vector<model::LinkResult> decode_links(const std::string& text) {
  std::vector<model::LinkResult> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::istringstream f(line);
    model::LinkResult l;
    int ok = 0;
    if (!(f >> l.src_rank >> l.dst_rank >> ok >> l.bytes >> l.gbps >> l.latency_us))
      throw Error("link sweep: malformed result line from a rank: '" + line + "'");
    l.ok = ok != 0;
    out.push_back(std::move(l));
  }
  return out;
}

LinkSweepResult run_link_sweep(const LinkPlan& plan, dist::MpiComm& comm,
                               const dist::Deadline& deadline, double timeout_s,
                               const SuspectFn& suspects) {
  if (plan.bytes == 0 || plan.bytes > (1ull << 30))
    throw UsageError("--size must be between 1 byte and 1G");
  LinkSweepResult res;
  // A round must fit a warm-up and one timed transfer each way of a link as slow as 20 MB/s.
  const double floor_s =
      std::max(5.0, 2.0 * (plan.warmup + 1) * static_cast<double>(plan.bytes) / 20e6);
  const int rounds_per_sweep =
      plan.mode == LinkMode::kRing ? static_cast<int>(ring_schedule(comm.size()).size())
      : plan.mode == LinkMode::kPairwise ? std::max(comm.size() - 1, 1)
                                         : 8;
  res.round_timeout_s = plan.round_timeout_s > 0 ? plan.round_timeout_s
                                                 : round_timeout(timeout_s, rounds_per_sweep, floor_s);
  const dist::Deadline hard = deadline.capped(std::max(deadline.remaining_s() - reserve_s(timeout_s), 1.0));

  auto buf = std::make_unique<Buffers>();
  buf->send.assign(plan.bytes, static_cast<char>(0x5a));  // touch every page before timing
  buf->recv.assign(plan.bytes, 0);

  const int n = comm.size();
  if (n > 1) {
    if (plan.mode == LinkMode::kBisect) {
      run_bisect(plan, comm, hard, res, *buf);
    } else {
      // Passes share a pair's time: a slow pair costs about the same in all as in one pass.
      LinkPlan per_pass = plan;
      if (plan.passes > 1) per_pass.pair_time_s = std::max(0.5, plan.pair_time_s / plan.passes);
      run_rounds(plan.mode == LinkMode::kRing ? ring_schedule(n) : tournament_schedule(n), plan.repeat,
                 plan.passes, per_pass, comm, hard, res, *buf);
    }
  }
  if (res.failed || !res.silent_ranks.empty()) {
    comm.mark_broken();
    (void)buf.release();  // requests of the failed pair may still target these buffers
  }
  final_gather(comm, res, deadline);
  if (!res.silent_ranks.empty()) {
    res.failed = true;
    comm.mark_broken();
  }
  if (n > 1 && suspects && !res.failed && buf) confirm_suspects(plan, comm, deadline, suspects, res, *buf);
  if (res.failed && buf) (void)buf.release();
  return res;
}

}  // namespace ncd::collectives
