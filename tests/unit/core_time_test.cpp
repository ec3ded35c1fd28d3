// SPDX-License-Identifier: Apache-2.0
// The one UTC formatter (core/time.hpp) and the renderers that use it.
#include <gtest/gtest.h>

#include "core/time.hpp"
#include "report/escape.hpp"

using namespace ncd;

TEST(CoreTime, FormatsUtcInEachHouseFormat) {
  const double t = 1796197362.75;  // 2026-12-02 07:42:42.75 UTC; the fraction is dropped
  EXPECT_EQ(format_utc(t, kUtcHuman), "2026-12-02 07:42:42 UTC");
  EXPECT_EQ(format_utc(t, kUtcIso8601), "2026-12-02T07:42:42");
  EXPECT_EQ(format_utc(t, kUtcClock), "07:42:42");
  EXPECT_EQ(format_utc(0, kUtcIso8601), "1970-01-01T00:00:00");
  // A leap day, and a time before 2001 (no zero-padding surprises).
  EXPECT_EQ(format_utc(951782400, kUtcHuman), "2000-02-29 00:00:00 UTC");
}

TEST(CoreTime, ReportFormatterKeepsItsUnknown) {
  EXPECT_EQ(report::format_utc(0), "unknown");
  EXPECT_EQ(report::format_utc(-5), "unknown");
  EXPECT_EQ(report::format_utc(1796197362), "2026-12-02 07:42:42 UTC");
}
