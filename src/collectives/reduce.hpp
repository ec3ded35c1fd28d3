// SPDX-License-Identifier: Apache-2.0
#pragma once
/// Element-wise reductions for the host backend: one loop per (type, operator), templated so
/// the compiler vectorises it (no per-element virtual call or switch). float16 and bfloat16
/// are reduced in float and rounded to nearest-even, as NCCL does on GPUs without native
/// half arithmetic. Integer sum and product wrap (two's complement), so every order of
/// reduction gives the same bits.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "collectives/types.hpp"

namespace ncd::collectives {

/// IEEE binary16 storage.
struct Half {
  std::uint16_t bits;
};
/// bfloat16 storage (the top half of a binary32).
struct BFloat16 {
  std::uint16_t bits;
};

[[nodiscard]] inline float bits_to_float(std::uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}
[[nodiscard]] inline std::uint32_t float_to_bits(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

[[nodiscard]] inline float to_float(BFloat16 h) { return bits_to_float(std::uint32_t{h.bits} << 16); }
[[nodiscard]] inline BFloat16 to_bfloat16(float f) {
  std::uint32_t u = float_to_bits(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return {static_cast<std::uint16_t>((u >> 16) | 0x40)};  // NaN stays NaN
  u += 0x7fffu + ((u >> 16) & 1u);  // round to nearest, ties to even
  return {static_cast<std::uint16_t>(u >> 16)};
}

[[nodiscard]] inline float to_float(Half h) {
  const std::uint32_t sign = std::uint32_t{h.bits & 0x8000u} << 16;
  std::uint32_t exp = (h.bits >> 10) & 0x1fu;
  std::uint32_t mant = h.bits & 0x3ffu;
  if (exp == 0x1f) return bits_to_float(sign | 0x7f800000u | (mant << 13));
  if (exp == 0) {
    if (mant == 0) return bits_to_float(sign);
    // subnormal: value = mant * 2^-24, exact in float
    float v = static_cast<float>(mant) * 5.9604644775390625e-8f;
    return sign ? -v : v;
  }
  return bits_to_float(sign | ((exp + 112u) << 23) | (mant << 13));
}
[[nodiscard]] inline Half to_half(float f) {
  const std::uint32_t u = float_to_bits(f);
  const auto sign = static_cast<std::uint16_t>((u >> 16) & 0x8000u);
  const std::uint32_t abs = u & 0x7fffffffu;
  if (abs > 0x7f800000u) return {static_cast<std::uint16_t>(sign | 0x7e00u)};  // NaN
  if (abs >= 0x477ff000u) return {static_cast<std::uint16_t>(sign | 0x7c00u)};  // rounds to inf
  if (abs < 0x38800000u) {  // below the smallest normal half: subnormal or zero
    // value / 2^-24, rounded to nearest even by the float unit (exact for these magnitudes)
    float scaled = bits_to_float(abs) * 16777216.0f;
    auto m = static_cast<std::uint32_t>(scaled);
    float rest = scaled - static_cast<float>(m);
    if (rest > 0.5f || (rest == 0.5f && (m & 1u))) ++m;
    return {static_cast<std::uint16_t>(sign | m)};
  }
  std::uint32_t r = abs - 0x38000000u;  // rebias exponent 127 -> 15
  r += 0xfffu + ((r >> 13) & 1u);       // round to nearest, ties to even
  return {static_cast<std::uint16_t>(sign | (r >> 13))};
}

namespace detail {

template <typename T>
struct IsHalfLike : std::bool_constant<std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>> {};

template <RedOp R, typename T>
[[nodiscard]] inline T combine_arith(T a, T b) {
  if constexpr (std::is_integral_v<T>) {
    using U = std::make_unsigned_t<T>;
    if constexpr (R == RedOp::kSum || R == RedOp::kAvg)
      return static_cast<T>(static_cast<U>(static_cast<U>(a) + static_cast<U>(b)));
    else if constexpr (R == RedOp::kProd)
      return static_cast<T>(static_cast<U>(static_cast<U>(a) * static_cast<U>(b)));
    else if constexpr (R == RedOp::kMin)
      return b < a ? b : a;
    else
      return a < b ? b : a;
  } else {
    if constexpr (R == RedOp::kSum || R == RedOp::kAvg)
      return a + b;
    else if constexpr (R == RedOp::kProd)
      return a * b;
    else if constexpr (R == RedOp::kMin)
      return b < a ? b : a;
    else
      return a < b ? b : a;
  }
}

}  // namespace detail

/// One element of `a R b`.
template <RedOp R, typename T>
[[nodiscard]] inline T combine(T a, T b) {
  if constexpr (detail::IsHalfLike<T>::value) {
    float r = detail::combine_arith<R>(to_float(a), to_float(b));
    if constexpr (std::is_same_v<T, Half>)
      return to_half(r);
    else
      return to_bfloat16(r);
  } else {
    return detail::combine_arith<R>(a, b);
  }
}

/// dst[i] = a[i] R b[i] for i < n. dst may alias a or b (the loop reads before it writes each
/// element), which the compiler checks at run time before taking the vector path.
template <RedOp R, typename T>
inline void reduce_loop(T* dst, const T* a, const T* b, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) dst[i] = combine<R>(a[i], b[i]);
}

/// Type-erased pointer to one instantiated loop: called once per chunk, never per element.
using ReduceFn = void (*)(void* dst, const void* a, const void* b, std::size_t n);

/// The loop for (type, operator); avg reduces as sum (finalize_avg divides at the end).
[[nodiscard]] ReduceFn reduce_fn(DType t, RedOp r);

/// avg's last step: buf[i] /= nranks (integers: truncating division, as NCCL).
void finalize_avg(DType t, void* buf, std::size_t n, int nranks);

}  // namespace ncd::collectives
