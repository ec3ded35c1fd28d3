// SPDX-License-Identifier: Apache-2.0
// Built with -O3 (src/CMakeLists.txt) so GCC vectorises the loops at any build type.
#include "collectives/reduce.hpp"

namespace ncd::collectives {
namespace {

template <RedOp R, typename T>
void erased(void* dst, const void* a, const void* b, std::size_t n) {
  reduce_loop<R>(static_cast<T*>(dst), static_cast<const T*>(a), static_cast<const T*>(b), n);
}

template <typename T>
ReduceFn for_op(RedOp r) {
  switch (r) {
    case RedOp::kSum:
    case RedOp::kAvg: return &erased<RedOp::kSum, T>;
    case RedOp::kProd: return &erased<RedOp::kProd, T>;
    case RedOp::kMin: return &erased<RedOp::kMin, T>;
    case RedOp::kMax: return &erased<RedOp::kMax, T>;
  }
  return &erased<RedOp::kSum, T>;
}

template <typename T>
void divide(void* buf, std::size_t n, int nranks) {
  auto* p = static_cast<T*>(buf);
  if constexpr (std::is_same_v<T, Half>) {
    for (std::size_t i = 0; i < n; ++i) p[i] = to_half(to_float(p[i]) / static_cast<float>(nranks));
  } else if constexpr (std::is_same_v<T, BFloat16>) {
    for (std::size_t i = 0; i < n; ++i) p[i] = to_bfloat16(to_float(p[i]) / static_cast<float>(nranks));
  } else {
    const T d = static_cast<T>(nranks);
    for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<T>(p[i] / d);
  }
}

}  // namespace

ReduceFn reduce_fn(DType t, RedOp r) {
  switch (t) {
    case DType::kInt8: return for_op<std::int8_t>(r);
    case DType::kInt32: return for_op<std::int32_t>(r);
    case DType::kInt64: return for_op<std::int64_t>(r);
    case DType::kFloat32: return for_op<float>(r);
    case DType::kFloat64: return for_op<double>(r);
    case DType::kFloat16: return for_op<Half>(r);
    case DType::kBFloat16: return for_op<BFloat16>(r);
  }
  return for_op<float>(r);
}

void finalize_avg(DType t, void* buf, std::size_t n, int nranks) {
  if (nranks <= 1) return;
  switch (t) {
    case DType::kInt8: divide<std::int8_t>(buf, n, nranks); break;
    case DType::kInt32: divide<std::int32_t>(buf, n, nranks); break;
    case DType::kInt64: divide<std::int64_t>(buf, n, nranks); break;
    case DType::kFloat32: divide<float>(buf, n, nranks); break;
    case DType::kFloat64: divide<double>(buf, n, nranks); break;
    case DType::kFloat16: divide<Half>(buf, n, nranks); break;
    case DType::kBFloat16: divide<BFloat16>(buf, n, nranks); break;
  }
}

}  // namespace ncd::collectives
