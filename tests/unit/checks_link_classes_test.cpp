// SPDX-License-Identifier: Apache-2.0
// sections.links.classes: the one writer (checks::link_classes_json) that links and sweep share.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "checks/link_checks.hpp"

using namespace ncd;

TEST(ChecksLinkClasses, WritesEveryFieldOfEachClass) {
  checks::LinkAnalysis a;
  checks::ClassSummary net;
  net.links = 12;
  net.median_gbps = 11.5;
  net.sigma_gbps = 0.2;
  net.slow_below_gbps = 9.1;
  net.expected_gbps = 12.5;
  net.median_latency_us = 3.25;
  net.noise = 0.02;
  net.noise_between = 0.015;
  net.noise_repeat = 0.01;
  net.healthy_values = 10;
  net.link_limit_ratio = 0.8;
  net.node_limit_ratio = 0.9;
  net.method = "leave-one-out";
  a.classes["net"] = net;
  checks::ClassSummary shm;
  shm.links = 2;
  shm.median_gbps = 20;
  a.classes["shm"] = shm;
  checks::LinkCheckOptions opts;
  opts.expected_from["net"] = "--expect";
  opts.no_expectation_reason["shm"] = "no model for shared memory";

  const nlohmann::json j = checks::link_classes_json(a, opts);
  ASSERT_TRUE(j.is_object());
  ASSERT_EQ(j.size(), 2u);
  const auto& n = j.at("net");
  EXPECT_EQ(n.at("links"), 12);
  EXPECT_DOUBLE_EQ(n.at("median_gbps").get<double>(), 11.5);
  EXPECT_DOUBLE_EQ(n.at("sigma_gbps").get<double>(), 0.2);
  EXPECT_DOUBLE_EQ(n.at("slow_below_gbps").get<double>(), 9.1);
  EXPECT_DOUBLE_EQ(n.at("expected_gbps").get<double>(), 12.5);
  EXPECT_EQ(n.at("expected_from"), "--expect");
  EXPECT_EQ(n.at("no_expectation_reason"), "");
  EXPECT_DOUBLE_EQ(n.at("median_latency_us").get<double>(), 3.25);
  EXPECT_DOUBLE_EQ(n.at("noise").get<double>(), 0.02);
  EXPECT_DOUBLE_EQ(n.at("noise_between").get<double>(), 0.015);
  EXPECT_DOUBLE_EQ(n.at("noise_repeat").get<double>(), 0.01);
  EXPECT_EQ(n.at("healthy_values"), 10);
  EXPECT_DOUBLE_EQ(n.at("link_limit_ratio").get<double>(), 0.8);
  EXPECT_DOUBLE_EQ(n.at("node_limit_ratio").get<double>(), 0.9);
  EXPECT_EQ(n.at("method"), "leave-one-out");
  EXPECT_EQ(n.size(), 15u);
  EXPECT_EQ(j.at("shm").at("expected_from"), "");
  EXPECT_EQ(j.at("shm").at("no_expectation_reason"), "no model for shared memory");
  EXPECT_EQ(j.at("shm").at("links"), 2);
}

TEST(ChecksLinkClasses, NoClassesIsAnEmptyObject) {
  const nlohmann::json j = checks::link_classes_json(checks::LinkAnalysis{}, checks::LinkCheckOptions{});
  EXPECT_TRUE(j.is_object());
  EXPECT_TRUE(j.empty());
}
