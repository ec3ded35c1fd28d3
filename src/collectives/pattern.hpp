// SPDX-License-Identifier: Apache-2.0
#pragma once
/// Deterministic per-rank inputs and the exact expected outputs of every collective, for the
/// data check (#wrong). The inputs are small integers (and ±1, 2 for products), so every
/// partial result is exactly representable in every type and any order of reduction gives
/// the same bits: the check is exact, not a tolerance.
#include <cstddef>
#include <cstdint>

#include "collectives/types.hpp"

namespace ncd::collectives {

/// What one rank must find in its receive buffer.
struct CheckSpec {
  Op op = Op::kAllReduce;
  DType dtype = DType::kFloat32;
  RedOp redop = RedOp::kSum;
  int root = 0;
  int nranks = 1;
  Shape shape;
  std::uint32_t seed = 0;  ///< changes the pattern between sizes and runs
  /// Relative tolerance for floating-point results (0: exact). NCCL's avg on floats multiplies
  /// each input by 1/n before summing, which is not exact.
  double rel_tol = 0;
};

/// The value rank `rank` contributes at element `index` of its send buffer, as a double.
[[nodiscard]] double input_value(const CheckSpec& s, int rank, std::size_t index);

/// Fills rank `rank`'s send buffer (s.shape.send_count elements).
void fill_send(const CheckSpec& s, int rank, void* send);

/// Number of elements of rank `rank`'s receive buffer (s.shape.recv_count elements) that
/// differ from the expected result. Ranks whose buffer is undefined (non-root of reduce) get 0.
[[nodiscard]] std::size_t count_wrong(const CheckSpec& s, int rank, const void* recv);

/// Writes the expected receive buffer of `rank` (for tests and for the corruption hook).
void expected_recv(const CheckSpec& s, int rank, void* out);

/// Whether rank `rank` has a defined output for this op (reduce: only the root).
[[nodiscard]] bool has_output(const CheckSpec& s, int rank);

}  // namespace ncd::collectives
