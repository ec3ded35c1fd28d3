// SPDX-License-Identifier: Apache-2.0
#include "collectives/host_algos.hpp"

#include <sched.h>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include "collectives/reduce.hpp"
#include "core/error.hpp"

namespace ncd::collectives {
namespace {

// Tags of our own algorithms; the job's gathers use 17000+ (dist/mpi_comm.cpp).
constexpr int kTagRing = 3101;
constexpr int kTagTree = 3110;  // + tree index
constexpr int kTagBcast = 3120;
constexpr int kTagReduce = 3121;

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

/// [off, off+len) of part k when `count` elements are split into n near-equal parts.
struct Range {
  std::size_t off = 0;
  std::size_t len = 0;
};
Range part(std::size_t count, int n, int k) {
  const std::size_t base = count / static_cast<std::size_t>(n), rem = count % static_cast<std::size_t>(n);
  const auto uk = static_cast<std::size_t>(k);
  return {uk * base + std::min(uk, rem), base + (uk < rem ? 1 : 0)};
}

int mod(int a, int n) { return ((a % n) + n) % n; }

std::size_t nslices(std::size_t len, std::size_t slice) { return len == 0 ? 0 : (len + slice - 1) / slice; }

MPI_Datatype mpi_type(DType t) {
  switch (t) {
    case DType::kInt8: return MPI_INT8_T;
    case DType::kInt32: return MPI_INT32_T;
    case DType::kInt64: return MPI_INT64_T;
    case DType::kFloat32: return MPI_FLOAT;
    case DType::kFloat64: return MPI_DOUBLE;
    case DType::kFloat16:
    case DType::kBFloat16: return MPI_UINT16_T;
  }
  return MPI_BYTE;
}

MPI_Op builtin_op(RedOp r) {
  switch (r) {
    case RedOp::kSum:
    case RedOp::kAvg: return MPI_SUM;
    case RedOp::kProd: return MPI_PROD;
    case RedOp::kMin: return MPI_MIN;
    case RedOp::kMax: return MPI_MAX;
  }
  return MPI_SUM;
}

template <typename T, RedOp R>
void user_fn(void* in, void* inout, int* len, MPI_Datatype*) {
  reduce_loop<R>(static_cast<T*>(inout), static_cast<const T*>(in), static_cast<const T*>(inout),
                 static_cast<std::size_t>(*len));
}

int checked_int(std::size_t n) {
  if (n > static_cast<std::size_t>(INT_MAX))
    throw UsageError(fmt::format("{} elements per call is more than the MPI library accepts (2^31-1)", n));
  return static_cast<int>(n);
}

char* at(void* base, std::size_t elems, std::size_t esz) { return static_cast<char*>(base) + elems * esz; }
const char* at(const void* base, std::size_t elems, std::size_t esz) {
  return static_cast<const char*>(base) + elems * esz;
}

}  // namespace

bool test_stall_requested(int rank) {
  const char* v = std::getenv("NCD_TEST_STALL_RANK");
  return v && *v && std::atoi(v) == rank;
}

std::size_t scratch_bytes(Algo a, Op op, DType t, const Shape& s, int nranks) {
  const std::size_t esz = dtype_size(t);
  if (a == Algo::kNative || nranks <= 1) return 0;
  if (a == Algo::kRing) {
    if (op == Op::kAllReduce || op == Op::kReduceScatter) return s.send_count * esz;
    return 0;
  }
  if (op == Op::kAllReduce || op == Op::kReduce) return 2 * s.count * esz;  // one per child
  return 0;
}

HostCollectives::HostCollectives(MPI_Comm comm, HostTuning tuning) : comm_(comm), tuning_(tuning) {
  MPI_Comm_rank(comm_, &rank_);
  MPI_Comm_size(comm_, &size_);
  tuning_.slice_bytes = std::max<std::size_t>(tuning_.slice_bytes, 64);
  // float16 and bfloat16 have no MPI type: the native peer reduces them with our loops.
  auto add = [this](MPI_User_function* f) {
    MPI_Op op;
    MPI_Op_create(f, 1, &op);
    user_ops_.push_back(op);
  };
  add(&user_fn<Half, RedOp::kSum>);
  add(&user_fn<Half, RedOp::kProd>);
  add(&user_fn<Half, RedOp::kMin>);
  add(&user_fn<Half, RedOp::kMax>);
  add(&user_fn<BFloat16, RedOp::kSum>);
  add(&user_fn<BFloat16, RedOp::kProd>);
  add(&user_fn<BFloat16, RedOp::kMin>);
  add(&user_fn<BFloat16, RedOp::kMax>);
}

HostCollectives::~HostCollectives() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (finalized) return;
  for (MPI_Op& op : user_ops_) MPI_Op_free(&op);
}

void HostCollectives::pause(double waited_s) {
  if (waited_s < tuning_.yield_s) {
    sched_yield();
    return;
  }
  // Sleep in short steps first: a message that is merely late should not cost a full poll
  // period (200 us would be 13% of a 1 MiB allreduce on this class of machine).
  timespec ts{0, waited_s < 10 * tuning_.yield_s ? 20000 : 200000};
  nanosleep(&ts, nullptr);
}

bool HostCollectives::wait(MPI_Request& req, const dist::Deadline& d) {
  int flag = 0;
  MPI_Test(&req, &flag, MPI_STATUS_IGNORE);
  if (flag) return true;
  const auto t0 = Clock::now();
  for (;;) {
    MPI_Test(&req, &flag, MPI_STATUS_IGNORE);
    if (flag) return true;
    if (d.expired()) return false;
    pause(since(t0));
  }
}

bool HostCollectives::wait_all(std::vector<MPI_Request>& reqs, const dist::Deadline& d) {
  if (reqs.empty()) return true;
  int flag = 0;
  const auto t0 = Clock::now();
  for (;;) {
    MPI_Testall(static_cast<int>(reqs.size()), reqs.data(), &flag, MPI_STATUSES_IGNORE);
    if (flag) {
      reqs.clear();
      return true;
    }
    if (d.expired()) return false;
    pause(since(t0));
  }
}

CollStatus HostCollectives::run(Algo algo, const CollArgs& a, const dist::Deadline& d) {
  if (!host_supports(algo, a.op))
    throw UsageError(fmt::format("the host backend has no {} {}", to_string(algo), to_string(a.op)));
  if (algo == Algo::kNative) return native(a, d);
  if (algo == Algo::kRing) return ring(a, d);
  switch (a.op) {
    case Op::kAllReduce: return tree_allreduce(a, d);
    case Op::kBroadcast: return tree_broadcast(a, d);
    case Op::kReduce: return tree_reduce(a, d);
    default: break;
  }
  throw UsageError(fmt::format("the host backend has no tree {}", to_string(a.op)));
}

// Ring: reduce-scatter then all-gather, both around rank -> rank+1, cut into slices and
// pipelined: every receive is posted up front (they match in order: MPI does not overtake
// messages between one pair on one tag), and each slice is forwarded the moment it has been
// reduced, so step s+1 of slice j overlaps step s of slice j+1.
CollStatus HostCollectives::ring(const CollArgs& a, const dist::Deadline& d) {
  const int n = size_;
  const int r = rank_;
  const std::size_t esz = dtype_size(a.dtype);
  const std::size_t slice = std::max<std::size_t>(1, tuning_.slice_bytes / esz);
  const ReduceFn fn = reduce_fn(a.dtype, a.redop);
  const bool do_rs = a.op == Op::kAllReduce || a.op == Op::kReduceScatter;
  const bool do_ag = a.op == Op::kAllReduce || a.op == Op::kAllGather;
  const std::size_t total = a.op == Op::kAllReduce ? a.shape.count : a.shape.block * static_cast<std::size_t>(n);
  // Segment k of the rotating buffer: near-equal parts for allreduce, per-rank blocks otherwise.
  auto seg = [&](int k) -> Range {
    if (a.op == Op::kAllReduce) return part(total, n, k);
    return {a.shape.block * static_cast<std::size_t>(k), a.shape.block};
  };

  if (n == 1) {
    std::size_t bytes = (a.op == Op::kReduceScatter ? a.shape.block : total) * esz;
    if (bytes) std::memmove(a.recv, a.send, bytes);
    if (a.redop == RedOp::kAvg && do_rs) finalize_avg(a.dtype, a.recv, bytes / esz, 1);
    return CollStatus::kDone;
  }
  const int right = mod(r + 1, n);
  const int left = mod(r - 1, n);
  // Reduce-scatter: at step s rank r sends segment (r+shift-s) and receives (r+shift-s-1);
  // after n-1 steps it owns segment r+shift+1 fully reduced: r+1 for allreduce (then the
  // all-gather starts there), r for reducescatter.
  const int shift = a.op == Op::kReduceScatter ? -1 : 0;
  const int owned = mod(r + shift + 1, n);
  // Where the reduced owned segment lives (the all-gather forwards it from there).
  char* owned_out = a.op == Op::kReduceScatter ? static_cast<char*>(a.recv) : at(a.recv, seg(owned).off, esz);

  struct Item {
    MPI_Request req = MPI_REQUEST_NULL;
    int step = 0;
    bool rs = true;
    std::size_t off = 0;  // element offset in the rotating layout
    std::size_t len = 0;
  };
  std::vector<Item> items;
  std::vector<MPI_Request> sends;
  items.reserve(static_cast<std::size_t>(2 * (n - 1)) * (nslices(seg(0).len, slice) + 1));

  if (do_rs) {
    for (int s = 0; s < n - 1; ++s) {
      Range g = seg(mod(r + shift - s - 1, n));
      for (std::size_t o = 0; o < g.len; o += slice) {
        Item it{MPI_REQUEST_NULL, s, true, g.off + o, std::min(slice, g.len - o)};
        MPI_Irecv(at(a.scratch, it.off, esz), checked_int(it.len * esz), MPI_BYTE, left, kTagRing, comm_, &it.req);
        items.push_back(it);
      }
    }
  }
  if (do_ag) {
    if (a.op == Op::kAllGather && a.shape.block)
      std::memcpy(at(a.recv, seg(r).off, esz), a.send, a.shape.block * esz);
    const int first = a.op == Op::kAllGather ? r : owned;
    for (int s = 0; s < n - 1; ++s) {
      Range g = seg(mod(first - s - 1, n));
      for (std::size_t o = 0; o < g.len; o += slice) {
        Item it{MPI_REQUEST_NULL, s, false, g.off + o, std::min(slice, g.len - o)};
        MPI_Irecv(at(a.recv, it.off, esz), checked_int(it.len * esz), MPI_BYTE, left, kTagRing, comm_, &it.req);
        items.push_back(it);
      }
    }
  }
  auto send = [&](const void* p, std::size_t len) {
    sends.emplace_back();
    MPI_Isend(p, checked_int(len * esz), MPI_BYTE, right, kTagRing, comm_, &sends.back());
  };
  // First sends: our own contribution to the reduce-scatter, or our block of the all-gather.
  {
    Range g = do_rs ? seg(mod(r + shift, n)) : seg(r);
    const void* base = do_rs ? a.send : static_cast<const void*>(a.send);
    for (std::size_t o = 0; o < g.len; o += slice)
      send(do_rs ? at(base, g.off + o, esz) : at(base, o, esz), std::min(slice, g.len - o));
  }
  const std::size_t owned_off = seg(owned).off;
  for (Item& it : items) {
    if (!wait(it.req, d)) return CollStatus::kTimedOut;
    if (it.rs) {
      const char* mine = at(a.send, it.off, esz);
      char* got = at(a.scratch, it.off, esz);
      if (it.step < n - 2) {
        fn(got, mine, got, it.len);
        send(got, it.len);
      } else {  // last step: this slice of the owned segment is final
        char* out = owned_out + (it.off - owned_off) * esz;
        fn(out, mine, got, it.len);
        if (do_ag) send(out, it.len);
      }
    } else if (it.step < n - 2) {
      send(at(a.recv, it.off, esz), it.len);
    }
    if (sends.size() > 64) {  // retire completed sends now and then, so the list stays short
      int flag = 0;
      MPI_Testall(static_cast<int>(sends.size()), sends.data(), &flag, MPI_STATUSES_IGNORE);
      if (flag) sends.clear();
    }
  }
  if (!wait_all(sends, d)) return CollStatus::kTimedOut;
  if (a.redop == RedOp::kAvg && do_rs)
    finalize_avg(a.dtype, a.recv, a.op == Op::kReduceScatter ? a.shape.block : total, n);
  return CollStatus::kDone;
}

namespace {

/// One binary tree in heap layout over relabelled ranks.
struct TreeNode {
  int parent = -1;
  int child[2] = {-1, -1};
  int nchildren = 0;
};
/// label(rank) -> heap position; `mirror` flips the order so that the leaves of tree 0 are
/// the inner nodes of tree 1 (NCCL's double binary tree idea: every rank sends and receives
/// about as much in total).
TreeNode tree_node(int rank, int n, int root, bool mirror) {
  auto to_pos = [&](int q) { int v = mod(q - root, n); return mirror ? (v == 0 ? 0 : n - v) : v; };
  auto to_rank = [&](int v) { int w = mirror ? (v == 0 ? 0 : n - v) : v; return mod(w + root, n); };
  TreeNode t;
  const int v = to_pos(rank);
  if (v > 0) t.parent = to_rank((v - 1) / 2);
  for (int c = 0; c < 2; ++c) {
    const int cv = 2 * v + 1 + c;
    if (cv < n) t.child[t.nchildren++] = to_rank(cv);
  }
  return t;
}

}  // namespace

// Pipelined reduce up + broadcast down. With more than two ranks, two trees (one mirrored,
// rooted at different ranks) each carry half the data at the same time.
CollStatus HostCollectives::tree_allreduce(const CollArgs& a, const dist::Deadline& d) {
  const int n = size_;
  const std::size_t esz = dtype_size(a.dtype);
  const std::size_t count = a.shape.count;
  if (n == 1 || count == 0) {
    if (count) std::memmove(a.recv, a.send, count * esz);
    return CollStatus::kDone;
  }
  const std::size_t slice = std::max<std::size_t>(1, tuning_.slice_bytes / esz);
  const ReduceFn fn = reduce_fn(a.dtype, a.redop);
  const int ntrees = n > 2 ? 2 : 1;
  char* scratch[2] = {static_cast<char*>(a.scratch), at(a.scratch, count, esz)};

  struct Tree {
    TreeNode node;
    int tag = 0;
    Range range;
    std::size_t nsl = 0;
    std::size_t up = 0, down = 0;
    std::vector<MPI_Request> child_req[2];
    std::vector<MPI_Request> parent_req;
  };
  Tree trees[2];
  std::vector<MPI_Request> sends;
  for (int t = 0; t < ntrees; ++t) {
    Tree& tr = trees[t];
    // Tree 1 is mirrored and rooted at the last rank, so its inner nodes are tree 0's leaves.
    tr.node = tree_node(rank_, n, t == 0 ? 0 : n - 1, t == 1);
    tr.tag = kTagTree + t;
    tr.range = part(count, ntrees, t);
    tr.nsl = nslices(tr.range.len, slice);
    for (int c = 0; c < tr.node.nchildren; ++c) {
      tr.child_req[c].resize(tr.nsl, MPI_REQUEST_NULL);
      for (std::size_t j = 0; j < tr.nsl; ++j) {
        std::size_t off = tr.range.off + j * slice, len = std::min(slice, tr.range.len - j * slice);
        MPI_Irecv(at(scratch[c], off, esz), checked_int(len * esz), MPI_BYTE, tr.node.child[c], tr.tag, comm_,
                  &tr.child_req[c][j]);
      }
    }
    if (tr.node.parent >= 0) {
      tr.parent_req.resize(tr.nsl, MPI_REQUEST_NULL);
      for (std::size_t j = 0; j < tr.nsl; ++j) {
        std::size_t off = tr.range.off + j * slice, len = std::min(slice, tr.range.len - j * slice);
        MPI_Irecv(at(a.recv, off, esz), checked_int(len * esz), MPI_BYTE, tr.node.parent, tr.tag, comm_,
                  &tr.parent_req[j]);
      }
    }
  }
  auto send_to = [&](const void* p, std::size_t len, int peer, int tag) {
    sends.emplace_back();
    MPI_Isend(p, checked_int(len * esz), MPI_BYTE, peer, tag, comm_, &sends.back());
  };
  auto done = [&] {
    for (int t = 0; t < ntrees; ++t)
      if (trees[t].up < trees[t].nsl || (trees[t].node.parent >= 0 && trees[t].down < trees[t].nsl)) return false;
    return true;
  };
  auto t0 = Clock::now();
  while (!done()) {
    bool progressed = false;
    for (int t = 0; t < ntrees; ++t) {
      Tree& tr = trees[t];
      // Reduce up: slice `up` once every child's part has arrived.
      while (tr.up < tr.nsl) {
        const std::size_t j = tr.up;
        bool ready = true;
        for (int c = 0; c < tr.node.nchildren && ready; ++c) {
          int flag = 0;
          MPI_Test(&tr.child_req[c][j], &flag, MPI_STATUS_IGNORE);
          ready = flag != 0;
        }
        if (!ready) break;
        const std::size_t off = tr.range.off + j * slice, len = std::min(slice, tr.range.len - j * slice);
        const char* mine = at(a.send, off, esz);
        const bool root = tr.node.parent < 0;
        const char* acc = mine;
        if (tr.node.nchildren > 0) {
          char* out = root ? at(a.recv, off, esz) : at(scratch[0], off, esz);
          fn(out, mine, at(scratch[0], off, esz), len);
          if (tr.node.nchildren > 1) fn(out, out, at(scratch[1], off, esz), len);
          acc = out;
        } else if (root) {
          std::memcpy(at(a.recv, off, esz), mine, len * esz);
          acc = at(a.recv, off, esz);
        }
        if (!root) {
          send_to(acc, len, tr.node.parent, tr.tag);
        } else {
          for (int c = 0; c < tr.node.nchildren; ++c) send_to(acc, len, tr.node.child[c], tr.tag);
        }
        ++tr.up;
        progressed = true;
      }
      // Broadcast down: forward each final slice from the parent to the children.
      while (tr.node.parent >= 0 && tr.down < tr.nsl) {
        int flag = 0;
        MPI_Test(&tr.parent_req[tr.down], &flag, MPI_STATUS_IGNORE);
        if (!flag) break;
        const std::size_t j = tr.down;
        const std::size_t off = tr.range.off + j * slice, len = std::min(slice, tr.range.len - j * slice);
        for (int c = 0; c < tr.node.nchildren; ++c) send_to(at(a.recv, off, esz), len, tr.node.child[c], tr.tag);
        ++tr.down;
        progressed = true;
      }
    }
    if (progressed) {
      t0 = Clock::now();
      continue;
    }
    if (d.expired()) return CollStatus::kTimedOut;
    pause(since(t0));
  }
  if (!wait_all(sends, d)) return CollStatus::kTimedOut;
  if (a.redop == RedOp::kAvg) finalize_avg(a.dtype, a.recv, count, n);
  return CollStatus::kDone;
}

CollStatus HostCollectives::tree_broadcast(const CollArgs& a, const dist::Deadline& d) {
  const int n = size_;
  const std::size_t esz = dtype_size(a.dtype);
  const std::size_t count = a.shape.count;
  if (rank_ == a.root && count) std::memmove(a.recv, a.send, count * esz);
  if (n == 1 || count == 0) return CollStatus::kDone;
  const std::size_t slice = std::max<std::size_t>(1, tuning_.slice_bytes / esz);
  const TreeNode node = tree_node(rank_, n, a.root, false);
  const std::size_t nsl = nslices(count, slice);
  std::vector<MPI_Request> recvs(node.parent >= 0 ? nsl : 0, MPI_REQUEST_NULL);
  std::vector<MPI_Request> sends;
  for (std::size_t j = 0; j < recvs.size(); ++j) {
    std::size_t off = j * slice, len = std::min(slice, count - off);
    MPI_Irecv(at(a.recv, off, esz), checked_int(len * esz), MPI_BYTE, node.parent, kTagBcast, comm_, &recvs[j]);
  }
  for (std::size_t j = 0; j < nsl; ++j) {
    std::size_t off = j * slice, len = std::min(slice, count - off);
    if (node.parent >= 0 && !wait(recvs[j], d)) return CollStatus::kTimedOut;
    for (int c = 0; c < node.nchildren; ++c) {
      sends.emplace_back();
      MPI_Isend(at(a.recv, off, esz), checked_int(len * esz), MPI_BYTE, node.child[c], kTagBcast, comm_, &sends.back());
    }
  }
  return wait_all(sends, d) ? CollStatus::kDone : CollStatus::kTimedOut;
}

CollStatus HostCollectives::tree_reduce(const CollArgs& a, const dist::Deadline& d) {
  const int n = size_;
  const std::size_t esz = dtype_size(a.dtype);
  const std::size_t count = a.shape.count;
  const bool root = rank_ == a.root;
  if (n == 1 || count == 0) {
    if (root && count) std::memmove(a.recv, a.send, count * esz);
    return CollStatus::kDone;
  }
  const std::size_t slice = std::max<std::size_t>(1, tuning_.slice_bytes / esz);
  const ReduceFn fn = reduce_fn(a.dtype, a.redop);
  const TreeNode node = tree_node(rank_, n, a.root, false);
  const std::size_t nsl = nslices(count, slice);
  char* scratch[2] = {static_cast<char*>(a.scratch), at(a.scratch, count, esz)};
  std::vector<MPI_Request> recvs[2];
  for (int c = 0; c < node.nchildren; ++c) {
    recvs[c].resize(nsl, MPI_REQUEST_NULL);
    for (std::size_t j = 0; j < nsl; ++j) {
      std::size_t off = j * slice, len = std::min(slice, count - off);
      MPI_Irecv(at(scratch[c], off, esz), checked_int(len * esz), MPI_BYTE, node.child[c], kTagReduce, comm_,
                &recvs[c][j]);
    }
  }
  std::vector<MPI_Request> sends;
  for (std::size_t j = 0; j < nsl; ++j) {
    std::size_t off = j * slice, len = std::min(slice, count - off);
    for (int c = 0; c < node.nchildren; ++c)
      if (!wait(recvs[c][j], d)) return CollStatus::kTimedOut;
    const char* mine = at(a.send, off, esz);
    const char* acc = mine;
    if (node.nchildren > 0) {
      char* out = root ? at(a.recv, off, esz) : at(scratch[0], off, esz);
      fn(out, mine, at(scratch[0], off, esz), len);
      if (node.nchildren > 1) fn(out, out, at(scratch[1], off, esz), len);
      acc = out;
    }
    if (!root) {
      sends.emplace_back();
      MPI_Isend(acc, checked_int(len * esz), MPI_BYTE, node.parent, kTagReduce, comm_, &sends.back());
    }
  }
  if (!wait_all(sends, d)) return CollStatus::kTimedOut;
  if (root && a.redop == RedOp::kAvg) finalize_avg(a.dtype, a.recv, count, n);
  return CollStatus::kDone;
}

// The MPI library's own collectives (blocking: the peer as applications call it). The
// caller bounds them: every rank passes a deadline-bounded sync first (bench.cpp).
CollStatus HostCollectives::native(const CollArgs& a, const dist::Deadline&) {
  const MPI_Datatype t = mpi_type(a.dtype);
  MPI_Op op = builtin_op(a.redop);
  if (a.dtype == DType::kFloat16 || a.dtype == DType::kBFloat16) {
    const std::size_t base = a.dtype == DType::kFloat16 ? 0 : 4;
    const std::size_t k = a.redop == RedOp::kProd ? 1 : a.redop == RedOp::kMin ? 2 : a.redop == RedOp::kMax ? 3 : 0;
    op = user_ops_[base + k];
  }
  const Shape& s = a.shape;
  const std::size_t esz = dtype_size(a.dtype);
  int rc = MPI_SUCCESS;
  std::size_t avg_count = 0;
  switch (a.op) {
    case Op::kAllReduce:
      rc = MPI_Allreduce(a.send, a.recv, checked_int(s.count), t, op, comm_);
      avg_count = s.count;
      break;
    case Op::kAllGather:
      rc = MPI_Allgather(a.send, checked_int(s.block), t, a.recv, checked_int(s.block), t, comm_);
      break;
    case Op::kReduceScatter:
      rc = MPI_Reduce_scatter_block(a.send, a.recv, checked_int(s.block), t, op, comm_);
      avg_count = s.block;
      break;
    case Op::kBroadcast:
      if (rank_ == a.root && s.count) std::memcpy(a.recv, a.send, s.count * esz);
      rc = MPI_Bcast(a.recv, checked_int(s.count), t, a.root, comm_);
      break;
    case Op::kReduce:
      rc = MPI_Reduce(a.send, a.recv, checked_int(s.count), t, op, a.root, comm_);
      if (rank_ == a.root) avg_count = s.count;
      break;
    case Op::kAllToAll:
      rc = MPI_Alltoall(a.send, checked_int(s.block), t, a.recv, checked_int(s.block), t, comm_);
      break;
    case Op::kSendRecv: {
      const int right = mod(rank_ + 1, size_), left = mod(rank_ - 1, size_);
      rc = MPI_Sendrecv(a.send, checked_int(s.count), t, right, kTagRing + 50, a.recv, checked_int(s.count), t, left,
                        kTagRing + 50, comm_, MPI_STATUS_IGNORE);
      break;
    }
  }
  if (rc != MPI_SUCCESS) {
    char msg[MPI_MAX_ERROR_STRING] = {};
    int len = 0;
    MPI_Error_string(rc, msg, &len);
    throw Error(fmt::format("MPI {} failed: {}", to_string(a.op), msg));
  }
  if (a.redop == RedOp::kAvg && has_redop(a.op) && avg_count) finalize_avg(a.dtype, a.recv, avg_count, size_);
  return CollStatus::kDone;
}

}  // namespace ncd::collectives
