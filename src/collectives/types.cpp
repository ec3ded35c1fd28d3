// SPDX-License-Identifier: Apache-2.0
#include "collectives/types.hpp"

#include <fmt/format.h>

#include <array>
#include <cmath>
#include <utility>

#include "core/error.hpp"
#include "core/text.hpp"

namespace ncd::collectives {
namespace {

template <typename E, std::size_t N>
E parse_named(std::string_view s, const std::array<std::pair<std::string_view, E>, N>& table,
              std::string_view what, std::string_view accepted) {
  std::string low = to_lower(trim(s));
  for (const auto& [name, value] : table)
    if (low == name) return value;
  throw UsageError(fmt::format("unknown {} '{}' (accepted: {})", what, s, accepted));
}

}  // namespace

std::string_view to_string(Op op) {
  switch (op) {
    case Op::kAllReduce: return "allreduce";
    case Op::kAllGather: return "allgather";
    case Op::kReduceScatter: return "reducescatter";
    case Op::kBroadcast: return "broadcast";
    case Op::kReduce: return "reduce";
    case Op::kAllToAll: return "alltoall";
    case Op::kSendRecv: return "sendrecv";
  }
  return "?";
}

std::string_view to_string(DType t) {
  switch (t) {
    case DType::kInt8: return "int8";
    case DType::kInt32: return "int32";
    case DType::kInt64: return "int64";
    case DType::kFloat32: return "float32";
    case DType::kFloat64: return "float64";
    case DType::kFloat16: return "float16";
    case DType::kBFloat16: return "bfloat16";
  }
  return "?";
}

std::string_view nccl_tests_name(DType t) {
  switch (t) {
    case DType::kInt8: return "int8";
    case DType::kInt32: return "int32";
    case DType::kInt64: return "int64";
    case DType::kFloat32: return "float";
    case DType::kFloat64: return "double";
    case DType::kFloat16: return "half";
    case DType::kBFloat16: return "bfloat16";
  }
  return "?";
}

std::string_view to_string(RedOp r) {
  switch (r) {
    case RedOp::kSum: return "sum";
    case RedOp::kProd: return "prod";
    case RedOp::kMin: return "min";
    case RedOp::kMax: return "max";
    case RedOp::kAvg: return "avg";
  }
  return "?";
}

std::string_view to_string(Algo a) {
  switch (a) {
    case Algo::kRing: return "ring";
    case Algo::kTree: return "tree";
    case Algo::kNative: return "native";
    case Algo::kNvls: return "nvls";
    case Algo::kCollnet: return "collnet";
  }
  return "?";
}

Op parse_op(std::string_view s) {
  static constexpr std::array<std::pair<std::string_view, Op>, 14> kTable{{
      {"allreduce", Op::kAllReduce}, {"all_reduce", Op::kAllReduce},
      {"allgather", Op::kAllGather}, {"all_gather", Op::kAllGather},
      {"reducescatter", Op::kReduceScatter}, {"reduce_scatter", Op::kReduceScatter},
      {"broadcast", Op::kBroadcast}, {"bcast", Op::kBroadcast},
      {"reduce", Op::kReduce},
      {"alltoall", Op::kAllToAll}, {"all_to_all", Op::kAllToAll},
      {"sendrecv", Op::kSendRecv}, {"send_recv", Op::kSendRecv}, {"p2p", Op::kSendRecv},
  }};
  return parse_named(s, kTable, "operation",
                     "allreduce, allgather, reducescatter, broadcast, reduce, alltoall, sendrecv");
}

DType parse_dtype(std::string_view s) {
  static constexpr std::array<std::pair<std::string_view, DType>, 16> kTable{{
      {"int8", DType::kInt8}, {"char", DType::kInt8},
      {"int32", DType::kInt32}, {"int", DType::kInt32},
      {"int64", DType::kInt64},
      {"float32", DType::kFloat32}, {"float", DType::kFloat32}, {"fp32", DType::kFloat32},
      {"float64", DType::kFloat64}, {"double", DType::kFloat64}, {"fp64", DType::kFloat64},
      {"float16", DType::kFloat16}, {"half", DType::kFloat16}, {"fp16", DType::kFloat16},
      {"bfloat16", DType::kBFloat16}, {"bf16", DType::kBFloat16},
  }};
  return parse_named(s, kTable, "data type",
                     "int8, int32, int64, float32, float64, float16, bfloat16");
}

RedOp parse_redop(std::string_view s) {
  static constexpr std::array<std::pair<std::string_view, RedOp>, 5> kTable{{
      {"sum", RedOp::kSum}, {"prod", RedOp::kProd}, {"min", RedOp::kMin}, {"max", RedOp::kMax},
      {"avg", RedOp::kAvg},
  }};
  return parse_named(s, kTable, "reduction", "sum, prod, min, max, avg");
}

Algo parse_algo(std::string_view s) {
  static constexpr std::array<std::pair<std::string_view, Algo>, 5> kTable{{
      {"ring", Algo::kRing}, {"tree", Algo::kTree}, {"native", Algo::kNative}, {"nvls", Algo::kNvls},
      {"collnet", Algo::kCollnet},
  }};
  return parse_named(s, kTable, "algorithm", "ring, tree, native, nvls, collnet");
}

std::size_t dtype_size(DType t) {
  switch (t) {
    case DType::kInt8: return 1;
    case DType::kInt32: return 4;
    case DType::kInt64: return 8;
    case DType::kFloat32: return 4;
    case DType::kFloat64: return 8;
    case DType::kFloat16: return 2;
    case DType::kBFloat16: return 2;
  }
  return 1;
}

bool is_float(DType t) {
  return t == DType::kFloat32 || t == DType::kFloat64 || t == DType::kFloat16 || t == DType::kBFloat16;
}

bool has_redop(Op op) {
  return op == Op::kAllReduce || op == Op::kReduceScatter || op == Op::kReduce;
}

bool has_root(Op op) { return op == Op::kBroadcast || op == Op::kReduce; }

bool host_supports(Algo a, Op op) {
  switch (a) {
    case Algo::kNative: return true;
    case Algo::kRing:
      return op == Op::kAllReduce || op == Op::kAllGather || op == Op::kReduceScatter;
    case Algo::kTree:
      return op == Op::kAllReduce || op == Op::kBroadcast || op == Op::kReduce;
    case Algo::kNvls:
    case Algo::kCollnet: return false;  // GPU only
  }
  return false;
}

double busbw_factor(Op op, int nranks) {
  const double n = nranks;
  if (nranks <= 0) return 0;
  switch (op) {
    case Op::kAllReduce: return 2.0 * (n - 1) / n;
    case Op::kAllGather:
    case Op::kReduceScatter:
    case Op::kAllToAll: return (n - 1) / n;
    case Op::kBroadcast:
    case Op::kReduce:
    case Op::kSendRecv: return 1.0;
  }
  return 1.0;
}

Shape shape_for(Op op, DType t, std::size_t bytes, int nranks) {
  const std::size_t esz = dtype_size(t);
  const std::size_t n = nranks > 0 ? static_cast<std::size_t>(nranks) : 1;
  Shape s;
  switch (op) {
    case Op::kAllGather:
    case Op::kReduceScatter:
    case Op::kAllToAll: {
      s.block = bytes / esz / n;
      s.count = s.block * n;
      if (op == Op::kAllGather) {
        s.send_count = s.block;
        s.recv_count = s.count;
      } else if (op == Op::kReduceScatter) {
        s.send_count = s.count;
        s.recv_count = s.block;
      } else {
        s.send_count = s.count;
        s.recv_count = s.count;
      }
      break;
    }
    default:
      s.count = bytes / esz;
      s.block = s.count;
      s.send_count = s.count;
      s.recv_count = s.count;
  }
  s.bytes = s.count * esz;
  return s;
}

std::vector<std::size_t> size_sweep(std::size_t min, std::size_t max, double factor, std::size_t step) {
  if (min > max)
    throw UsageError(fmt::format("minimum size {} (-b) is larger than maximum size {} (-e)", min, max));
  const bool multiply = step == 0;
  if (multiply && !(factor > 1.0) && min != max)
    throw UsageError(fmt::format("step factor -f {} must be greater than 1", factor));
  if (!std::isfinite(factor)) throw UsageError("step factor -f must be finite");
  std::vector<std::size_t> sizes;
  for (std::size_t s = min; s <= max;) {
    sizes.push_back(s);
    if (sizes.size() > 4096) throw UsageError("size sweep has more than 4096 sizes");
    std::size_t next = multiply ? static_cast<std::size_t>(std::floor(static_cast<double>(s) * factor)) : s + step;
    if (s == 0) next = multiply ? 1 : step;  // 0 bytes, then grow from 1
    if (next <= s) break;
    s = next;
  }
  return sizes;
}

}  // namespace ncd::collectives
