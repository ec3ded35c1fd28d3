// SPDX-License-Identifier: Apache-2.0
#pragma once
/// Collective operations, element types, reduction operators and algorithms, with the
/// nccl-tests conventions for sizes and bus bandwidth (nccl-internals.md §6.1). Pure.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ncd::collectives {

enum class Op { kAllReduce, kAllGather, kReduceScatter, kBroadcast, kReduce, kAllToAll, kSendRecv };
enum class DType { kInt8, kInt32, kInt64, kFloat32, kFloat64, kFloat16, kBFloat16 };
enum class RedOp { kSum, kProd, kMin, kMax, kAvg };
/// ring and tree are our own (host) or NCCL's forced algorithm (GPU); native is the MPI
/// library's collective (host) or NCCL's own choice (GPU). nvls and collnet exist on GPUs only
/// (NVLink SHARP on NVSwitch systems; CollNet with a SHARP-capable network plugin).
enum class Algo { kRing, kTree, kNative, kNvls, kCollnet };

[[nodiscard]] std::string_view to_string(Op op);
[[nodiscard]] std::string_view to_string(DType t);
[[nodiscard]] std::string_view to_string(RedOp r);
[[nodiscard]] std::string_view to_string(Algo a);
/// nccl-tests' spelling of a type in its "type" column ("float", "int32", "half", "bfloat16").
[[nodiscard]] std::string_view nccl_tests_name(DType t);

/// Parse one name; accept nccl-tests' spellings too ("float", "half", "all_reduce").
/// Throw UsageError with the accepted values.
[[nodiscard]] Op parse_op(std::string_view s);
[[nodiscard]] DType parse_dtype(std::string_view s);
[[nodiscard]] RedOp parse_redop(std::string_view s);
[[nodiscard]] Algo parse_algo(std::string_view s);

[[nodiscard]] std::size_t dtype_size(DType t);
[[nodiscard]] bool is_float(DType t);
/// Whether the operation reduces (takes a redop).
[[nodiscard]] bool has_redop(Op op);
/// Whether the operation has a root rank (broadcast, reduce).
[[nodiscard]] bool has_root(Op op);
/// Whether our own host algorithm `a` implements `op` (native implements every op).
[[nodiscard]] bool host_supports(Algo a, Op op);

/// nccl-tests' bus bandwidth factor: allreduce 2(n-1)/n; allgather, reducescatter, alltoall
/// (n-1)/n; broadcast, reduce, sendrecv 1. One rank: the formulas give 0 (nothing crosses a
/// bus), as in nccl-tests.
[[nodiscard]] double busbw_factor(Op op, int nranks);

/// Element counts of one measurement, with nccl-tests' size semantics: `bytes` is the size
/// column. For allgather, reducescatter and alltoall it is the whole (all ranks') buffer, so
/// the per-rank part is count/nranks rounded down.
struct Shape {
  std::size_t count = 0;        ///< count column: elements of the size column
  std::size_t bytes = 0;        ///< size column, rounded to what is really moved
  std::size_t send_count = 0;   ///< elements in each rank's send buffer
  std::size_t recv_count = 0;   ///< elements in each rank's receive buffer
  std::size_t block = 0;        ///< per-rank block (allgather, reducescatter, alltoall), else count
};
[[nodiscard]] Shape shape_for(Op op, DType t, std::size_t bytes, int nranks);

/// Sizes from `min` to `max` multiplying by `factor` (or adding `step` when factor is 0/1 and
/// step > 0), as nccl-tests -b/-e/-f/-i. Throws UsageError when min > max or the sweep is
/// not finite.
[[nodiscard]] std::vector<std::size_t> size_sweep(std::size_t min, std::size_t max, double factor,
                                                  std::size_t step = 0);

/// Pipelining knobs of our own algorithms.
struct HostTuning {
  std::size_t slice_bytes = 512 * 1024;  ///< messages are cut into slices of this size
  double yield_s = 1e-3;                  ///< yield (not sleep) this long before sleeping
};

}  // namespace ncd::collectives
