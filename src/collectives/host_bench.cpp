// SPDX-License-Identifier: Apache-2.0
// The host backend's measuring loop over MPI (built only with MPI): our ring and tree and the MPI
// library's own collective, and the correctness matrix (bench --self-test).
#include "collectives/bench.hpp"
#include "collectives/host_algos.hpp"
#include "dist/mpi_comm.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <memory>
#include <nlohmann/json.hpp>

#include "collectives/pattern.hpp"
#include "core/units.hpp"
#include "dist/fault.hpp"

namespace ncd::collectives {
namespace {

using Clock = std::chrono::steady_clock;

double now_us() {
  return std::chrono::duration<double, std::micro>(Clock::now().time_since_epoch()).count();
}

/// Page-aligned host buffer. On a timeout MPI may still write into it, so release() leaks it
/// on purpose (the job is about to end).
struct Buffer {
  std::unique_ptr<char, decltype(&std::free)> p{nullptr, &std::free};
  explicit Buffer(std::size_t bytes) {
    if (bytes) p.reset(static_cast<char*>(std::aligned_alloc(4096, (bytes + 4095) / 4096 * 4096)));
  }
  char* get() { return p.get(); }
};

void sleep_s(double s) {
  timespec ts{static_cast<time_t>(s), static_cast<long>((s - static_cast<double>(static_cast<time_t>(s))) * 1e9)};
  nanosleep(&ts, nullptr);
}

/// NCD_TEST_CORRUPT_RANK=<rank>: that rank flips one element of its output before the data
/// check, so tests can prove the validator reports it.
bool corrupt_requested(int rank) {
  const char* v = std::getenv("NCD_TEST_CORRUPT_RANK");
  return v && *v && std::atoi(v) == rank;
}

/// Ends the process when a blocking call outlives its deadline by kStuckGrace_s: the MPI
/// library's own collectives cannot be abandoned, and a job must never hang.
class Watchdog {
 public:
  explicit Watchdog(std::function<void(const std::string&)> on_stuck) : on_stuck_(std::move(on_stuck)) {}
  ~Watchdog() {
    {
      std::lock_guard<std::mutex> l(m_);
      quit_ = true;
    }
    cv_.notify_all();
    if (t_.joinable()) t_.join();
  }
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;
  /// Fires `grace_s` after `d`.
  void arm(const dist::Deadline& d, const std::string& step, double grace_s) {
    {
      std::lock_guard<std::mutex> l(m_);
      armed_ = true;
      ++generation_;
      step_ = step;
      until_ = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                  std::chrono::duration<double>(std::max(0.0, std::min(d.remaining_s(), 1e7)) + grace_s));
    }
    if (!t_.joinable()) t_ = std::thread([this] { loop(); });
    cv_.notify_all();
  }
  void disarm() {
    std::lock_guard<std::mutex> l(m_);
    armed_ = false;
  }

 private:
  void loop() {
    std::unique_lock<std::mutex> l(m_);
    while (!quit_) {
      if (!armed_) {
        cv_.wait(l);
        continue;
      }
      const auto gen = generation_;
      const auto until = until_;
      if (cv_.wait_until(l, until, [&] { return quit_ || !armed_ || generation_ != gen; })) continue;
      const std::string step = step_;
      l.unlock();
      if (on_stuck_) on_stuck_(step);
      std::_Exit(2);
    }
  }
  std::function<void(const std::string&)> on_stuck_;
  std::mutex m_;
  std::condition_variable cv_;
  bool armed_ = false;
  bool quit_ = false;
  std::uint64_t generation_ = 0;
  std::string step_;
  Clock::time_point until_{};
  std::thread t_;
};

/// NCD_TEST_STALL_IN=native with NCD_TEST_STALL_RANK=<rank>: that rank sleeps inside the timed
/// loop of the first native measurement, so the others block in the MPI library (watchdog test).
bool stall_in_native_requested(int rank) {
  const char* v = std::getenv("NCD_TEST_STALL_IN");
  return v && std::string(v) == "native" && test_stall_requested(rank);
}

}  // namespace

BenchOutcome run_host_bench(const BenchPlan& plan, dist::MpiComm& comm, const dist::Deadline& deadline,
                            const std::function<void(const std::string&)>& progress, const StuckHandler& on_stuck) {
  BenchOutcome out;
  std::mutex out_mutex;  // the watchdog reads `out` while the main thread is blocked in MPI
  Watchdog watchdog([&](const std::string& step) {
    std::lock_guard<std::mutex> l(out_mutex);
    if (on_stuck) on_stuck(out, step);
  });
  HostCollectives coll(comm.native(), plan.tuning);
  const int n = comm.size();
  const int me = comm.rank();
  bool stalled_once = false;
  bool stop_next = false;

  for (Op op : plan.ops) {
    for (Algo algo : plan.algos) {
      if (!host_supports(algo, op)) continue;
      std::size_t last_bytes = ~std::size_t{0};
      for (std::size_t bytes : plan.sizes) {
        const Shape shape = shape_for(op, plan.dtype, bytes, n);
        if (shape.bytes == last_bytes) continue;  // rounds to the size already measured
        last_bytes = shape.bytes;
        const std::string step = fmt::format("{} {} {}", to_string(op), to_string(algo), format_size(shape.bytes));
        if (!stalled_once && test_stall_requested(me) && !stall_in_native_requested(me)) {
          stalled_once = true;
          for (int i = 0; i < 3600; ++i) sleep_s(1);
        }
        if (!sync_point(comm, deadline, out, stop_next)) {
          out.stopped = true;
          if (out.failed_step.empty()) out.failed_step = step;
          return out;
        }
        if (me == 0 && progress) progress(step);

        CheckSpec spec;
        spec.op = op;
        spec.dtype = plan.dtype;
        spec.redop = has_redop(op) ? plan.redop : RedOp::kSum;
        spec.root = plan.root % n;
        spec.nranks = n;
        spec.shape = shape;
        spec.seed = plan.seed ^ static_cast<std::uint32_t>(bytes * 2654435761u);
        const std::size_t esz = dtype_size(plan.dtype);
        Buffer send(shape.send_count * esz), recv(shape.recv_count * esz),
            scratch(scratch_bytes(algo, op, plan.dtype, shape, n));
        fill_send(spec, me, send.get());
        if (shape.recv_count) std::memset(recv.get(), 0, shape.recv_count * esz);
        CollArgs args{op, plan.dtype, spec.redop, spec.root, send.get(), recv.get(), shape, scratch.get()};

        bool ok = true;
        std::vector<double> times;
        // Rank 0 fires first and writes the report; the others wait longer, so the launcher
        // does not kill rank 0 while it writes.
        if (algo == Algo::kNative) watchdog.arm(deadline, step, me == 0 ? kStuckGrace_s : kStuckGrace_s + 10);
        std::int64_t wrong = plan.check > 0 ? 0 : -1;
        for (int i = 0; i < plan.warmup && ok; ++i) ok = coll.run(algo, args, deadline) == CollStatus::kDone;
        if (ok) ok = comm.barrier(deadline);
        dist::fault_point("bench", me);  // tests: a rank dies or stops right before a timed loop
        double t_prev = now_us();
        for (int i = 0; i < plan.iters && ok; ++i) {
          if (algo == Algo::kNative && i == 1 && !stalled_once && stall_in_native_requested(me)) {
            stalled_once = true;
            for (int k = 0; k < 3600; ++k) sleep_s(1);
          }
          ok = coll.run(algo, args, deadline) == CollStatus::kDone;
          const double t = now_us();
          times.push_back(t - t_prev);
          t_prev = t;
        }
        for (int i = 0; i < plan.check && ok; ++i) {
          if (shape.recv_count) std::memset(recv.get(), 0xA5, shape.recv_count * esz);
          ok = coll.run(algo, args, deadline) == CollStatus::kDone;
          if (!ok) break;
          if (corrupt_requested(me) && has_output(spec, me) && shape.recv_count) recv.get()[0] ^= 0x5a;
          wrong = std::max<std::int64_t>(wrong, static_cast<std::int64_t>(count_wrong(spec, me, recv.get())));
        }
        watchdog.disarm();
        if (!ok) {
          // MPI may still write into these buffers: keep them alive.
          (void)send.p.release();
          (void)recv.p.release();
          (void)scratch.p.release();
          comm.mark_broken();
          stop_next = true;
        }
        auto blobs = comm.gather(point_blob(ok, wrong, times),
                                 dist::Deadline::after(std::max(5.0, deadline.remaining_s())));
        if (me != 0) {
          if (!ok) {
            out.stopped = true;
            out.failed_step = step;
          }
          continue;
        }
        PointResult pr;
        pr.row.op = std::string(to_string(op));
        pr.row.algo = std::string(to_string(algo));
        pr.row.backend = "mpi";
        pr.row.dtype = std::string(to_string(plan.dtype));
        pr.row.redop = has_redop(op) ? std::string(to_string(plan.redop)) : "none";
        pr.row.root = has_root(op) ? spec.root : -1;
        pr.row.bytes = shape.bytes;
        pr.row.count = shape.count;
        if (!assemble_point(blobs, plan.iters, plan.check, op, pr, out)) {
          stop_next = true;
          out.stopped = true;
          out.failed_step = step;
          continue;  // the next sync tells everyone to stop
        }
        std::lock_guard<std::mutex> l(out_mutex);
        if (plan.on_row) plan.on_row(pr.row);
        out.points.push_back(std::move(pr));
      }
    }
  }
  // Final sync: tells every rank whether the last point failed somewhere.
  if (!sync_point(comm, deadline, out, stop_next)) out.stopped = true;
  return out;
}

std::vector<SelfTestFailure> run_self_test(dist::MpiComm& comm, const dist::Deadline& deadline, std::size_t* cases) {
  std::vector<SelfTestFailure> failures;
  const int n = comm.size();
  const int me = comm.rank();
  // Tiny slices so that even small messages are cut into many pipelined pieces.
  HostCollectives tiny(comm.native(), HostTuning{64, 1e-4});
  HostCollectives normal(comm.native(), HostTuning{});
  const std::vector<std::size_t> elems{0, 1, 2, 7, static_cast<std::size_t>(13 * n + 5), 1031};
  const DType dtypes[] = {DType::kInt8, DType::kInt32, DType::kInt64, DType::kFloat32,
                          DType::kFloat64, DType::kFloat16, DType::kBFloat16};
  const Op ops[] = {Op::kAllReduce, Op::kAllGather, Op::kReduceScatter, Op::kBroadcast,
                    Op::kReduce, Op::kAllToAll, Op::kSendRecv};
  const RedOp redops[] = {RedOp::kSum, RedOp::kProd, RedOp::kMin, RedOp::kMax, RedOp::kAvg};
  std::size_t count = 0;
  for (Op op : ops)
    for (Algo algo : {Algo::kRing, Algo::kTree, Algo::kNative}) {
      if (!host_supports(algo, op)) continue;
      for (DType t : dtypes)
        for (RedOp ro : redops) {
          if (!has_redop(op) && ro != RedOp::kSum) continue;
          std::vector<int> roots{0};
          if (has_root(op) && n > 1) roots.push_back(n - 1);
          for (int root : roots) {
            for (std::size_t e : elems) {
              for (int variant = 0; variant < 2; ++variant) {
                if (variant == 1 && e != elems.back()) continue;  // default slicing on the largest only
                // Per-rank blocks for allgather/reducescatter/alltoall: `e` elements each.
                const std::size_t per = (op == Op::kAllGather || op == Op::kReduceScatter || op == Op::kAllToAll)
                                            ? e * static_cast<std::size_t>(n) : e;
                const Shape shape = shape_for(op, t, per * dtype_size(t), n);
                CheckSpec spec{op, t, ro, root, n, shape, static_cast<std::uint32_t>(count * 7919u + 1), 0};
                const std::size_t esz = dtype_size(t);
                std::vector<char> send(shape.send_count * esz + 1), recv(shape.recv_count * esz + 1),
                    scratch(scratch_bytes(algo, op, t, shape, n) + 1);
                fill_send(spec, me, send.data());
                std::memset(recv.data(), 0xA5, recv.size());
                CollArgs args{op, t, ro, root, send.data(), recv.data(), shape, scratch.data()};
                HostCollectives& c = variant == 0 ? tiny : normal;
                ++count;
                std::string what = fmt::format("{} {} {} {} root {} count {}{}", to_string(op), to_string(algo),
                                               to_string(t), to_string(ro), root, shape.count,
                                               variant ? " (default slices)" : "");
                if (c.run(algo, args, deadline) != CollStatus::kDone) {
                  failures.push_back({what + ": timed out", me, 0});
                  comm.mark_broken();
                  *cases = count;
                  return failures;
                }
                if (corrupt_requested(me) && has_output(spec, me) && shape.recv_count) recv[0] ^= 0x5a;
                std::size_t wrong = count_wrong(spec, me, recv.data());
                if (wrong) failures.push_back({what, me, wrong});
              }
            }
          }
        }
    }
  *cases = count;
  return failures;
}

}  // namespace ncd::collectives
