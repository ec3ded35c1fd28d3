// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "collectives/pattern.hpp"
#include "collectives/reduce.hpp"

namespace ncd::collectives {

TEST(BenchReduce, HalfRoundTripsAndRoundsToNearestEven) {
  for (float v : {0.0f, 1.0f, -2.5f, 65504.0f, 6.103515625e-05f, 5.9604644775390625e-08f, -1024.0f})
    EXPECT_EQ(to_float(to_half(v)), v) << v;
  EXPECT_EQ(to_half(1.0f).bits, 0x3c00);
  EXPECT_EQ(to_half(-2.0f).bits, 0xc000);
  EXPECT_EQ(to_half(65520.0f).bits, 0x7c00);         // rounds to infinity
  EXPECT_EQ(to_half(1.0f + 1.0f / 2048).bits, 0x3c00);  // tie -> even
  EXPECT_EQ(to_half(1.0f + 3.0f / 2048).bits, 0x3c02);  // tie -> even (up)
  EXPECT_TRUE(std::isnan(to_float(to_half(std::numeric_limits<float>::quiet_NaN()))));
  EXPECT_EQ(to_bfloat16(1.0f).bits, 0x3f80);
  EXPECT_EQ(to_float(to_bfloat16(3.0f)), 3.0f);
  EXPECT_EQ(to_bfloat16(1.0f + 1.0f / 256).bits, 0x3f80);  // tie -> even
  // every half bit pattern that is a number survives half -> float -> half
  for (std::uint32_t b = 0; b < 0x10000; ++b) {
    Half h{static_cast<std::uint16_t>(b)};
    if (std::isnan(to_float(h))) continue;
    ASSERT_EQ(to_half(to_float(h)).bits, h.bits) << b;
  }
}

template <typename T>
std::vector<T> run(DType t, RedOp r, std::vector<T> a, const std::vector<T>& b) {
  reduce_fn(t, r)(a.data(), a.data(), b.data(), a.size());
  return a;
}

TEST(BenchReduce, EveryOperatorOnEveryType) {
  EXPECT_EQ(run<std::int32_t>(DType::kInt32, RedOp::kSum, {1, -2, 3}, {4, 5, -6}), (std::vector<std::int32_t>{5, 3, -3}));
  EXPECT_EQ(run<std::int32_t>(DType::kInt32, RedOp::kProd, {2, -2, 3}, {4, 5, -6}), (std::vector<std::int32_t>{8, -10, -18}));
  EXPECT_EQ(run<std::int64_t>(DType::kInt64, RedOp::kMin, {2, -2, 3}, {4, 5, -6}), (std::vector<std::int64_t>{2, -2, -6}));
  EXPECT_EQ(run<std::int8_t>(DType::kInt8, RedOp::kMax, {2, -2, 3}, {4, 5, -6}), (std::vector<std::int8_t>{4, 5, 3}));
  // integer sums wrap (two's complement), identically in every order
  EXPECT_EQ(run<std::int8_t>(DType::kInt8, RedOp::kSum, {127}, {1}), (std::vector<std::int8_t>{-128}));
  EXPECT_EQ(run<float>(DType::kFloat32, RedOp::kSum, {1.5f, 2}, {0.25f, -2}), (std::vector<float>{1.75f, 0}));
  EXPECT_EQ(run<double>(DType::kFloat64, RedOp::kMax, {1.5, -3}, {0.25, -2}), (std::vector<double>{1.5, -2}));
  auto h = run<Half>(DType::kFloat16, RedOp::kSum, {to_half(1.5f), to_half(-4)}, {to_half(2), to_half(1)});
  EXPECT_EQ(to_float(h[0]), 3.5f);
  EXPECT_EQ(to_float(h[1]), -3.0f);
  auto bf = run<BFloat16>(DType::kBFloat16, RedOp::kProd, {to_bfloat16(3), to_bfloat16(-2)}, {to_bfloat16(2), to_bfloat16(8)});
  EXPECT_EQ(to_float(bf[0]), 6.0f);
  EXPECT_EQ(to_float(bf[1]), -16.0f);
}

TEST(BenchReduce, LongBuffersMatchTheScalarLoopAtEveryTailLength) {
  // The vectorised loop must agree with one-at-a-time combine for every remainder length.
  for (std::size_t n : {0u, 1u, 3u, 7u, 8u, 15u, 16u, 17u, 31u, 33u, 1000u, 1027u}) {
    std::vector<float> a(n), b(n), want(n);
    for (std::size_t i = 0; i < n; ++i) {
      a[i] = static_cast<float>(i % 13) - 6;
      b[i] = static_cast<float>(i % 7) - 3;
      want[i] = std::min(a[i], b[i]);
    }
    reduce_fn(DType::kFloat32, RedOp::kMin)(a.data(), a.data(), b.data(), n);
    EXPECT_EQ(a, want) << n;
  }
}

TEST(BenchReduce, AvgDividesOnceAtTheEnd) {
  std::vector<std::int32_t> v{7, -7, 9};
  finalize_avg(DType::kInt32, v.data(), v.size(), 2);
  EXPECT_EQ(v, (std::vector<std::int32_t>{3, -3, 4}));  // truncating, as NCCL
  std::vector<float> f{3, 1};
  finalize_avg(DType::kFloat32, f.data(), f.size(), 4);
  EXPECT_EQ(f, (std::vector<float>{0.75f, 0.25f}));
}

TEST(BenchPattern, ValidatorCountsEveryCorruptedElement) {
  for (DType t : {DType::kInt8, DType::kInt32, DType::kFloat16, DType::kBFloat16, DType::kFloat64}) {
    for (RedOp r : {RedOp::kSum, RedOp::kProd, RedOp::kAvg, RedOp::kMax}) {
      CheckSpec s;
      s.op = Op::kAllReduce;
      s.dtype = t;
      s.redop = r;
      s.nranks = 5;
      s.shape = shape_for(Op::kAllReduce, t, 1001 * dtype_size(t), 5);
      std::vector<char> buf(s.shape.recv_count * dtype_size(t));
      expected_recv(s, 3, buf.data());
      EXPECT_EQ(count_wrong(s, 3, buf.data()), 0u);
      buf[0] ^= 0x40;
      buf[dtype_size(t) * 500] ^= 0x01;
      EXPECT_EQ(count_wrong(s, 3, buf.data()), 2u) << to_string(t) << " " << to_string(r);
    }
  }
}

TEST(BenchPattern, ExpectedAllGatherIsEveryRanksInput) {
  CheckSpec s;
  s.op = Op::kAllGather;
  s.dtype = DType::kInt32;
  s.nranks = 3;
  s.shape = shape_for(Op::kAllGather, DType::kInt32, 3 * 5 * 4, 3);
  ASSERT_EQ(s.shape.block, 5u);
  std::vector<std::int32_t> out(15), in(5);
  expected_recv(s, 0, out.data());
  for (int q = 0; q < 3; ++q) {
    fill_send(s, q, in.data());
    for (int i = 0; i < 5; ++i) EXPECT_EQ(out[static_cast<std::size_t>(q * 5 + i)], in[static_cast<std::size_t>(i)]);
  }
}

TEST(BenchPattern, ReduceHasOutputOnlyAtTheRoot) {
  CheckSpec s;
  s.op = Op::kReduce;
  s.root = 2;
  s.nranks = 4;
  s.shape = shape_for(Op::kReduce, DType::kFloat32, 64, 4);
  std::vector<float> garbage(16, 12345.f);
  EXPECT_EQ(count_wrong(s, 1, garbage.data()), 0u);
  EXPECT_EQ(count_wrong(s, 2, garbage.data()), 16u);
}

}  // namespace ncd::collectives
