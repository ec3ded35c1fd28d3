// SPDX-License-Identifier: Apache-2.0
// The HTML link heatmap's colours on a fixed report: a link at 100%, 60% and 30% of the
// reference and one that did not answer. The colours are the renderer's, so they are tested
// here on fixed numbers, never on links measured on a busy machine.
#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <string>

#include "report/html.hpp"
#include "report/report.hpp"

namespace ncd {
namespace {

struct Rgb {
  int r = 0, g = 0, b = 0;
};

Rgb rgb(const std::string& hex) {
  return {std::stoi(hex.substr(0, 2), nullptr, 16), std::stoi(hex.substr(2, 2), nullptr, 16),
          std::stoi(hex.substr(4, 2), nullptr, 16)};
}

report::LinkResult link(int s, int d, double gbps, bool ok = true) {
  report::LinkResult l;
  l.src_host = "h" + std::to_string(s);
  l.dst_host = "h" + std::to_string(d);
  l.src_rank = s;
  l.dst_rank = d;
  l.bytes = 16u << 20;
  l.gbps = ok ? gbps : 0;
  l.latency_us = 5;
  l.cls = "net";
  l.ok = ok;
  return l;
}

/// Cell fill colour by "src -> dst" from the rendered page.
std::map<std::string, std::string> cells_of(const std::string& page) {
  std::map<std::string, std::string> out;
  std::regex cell(R"re(<rect class="cell"[^>]*fill="#([0-9a-f]{6})"[^>]*><title>([^<]*)</title>)re");
  for (auto it = std::sregex_iterator(page.begin(), page.end(), cell); it != std::sregex_iterator(); ++it) {
    std::string title = (*it)[2];
    out[title.substr(0, title.find(':'))] = (*it)[1];
  }
  return out;
}

TEST(ReportHeatmap, ColoursFollowTheRatioToTheReference) {
  report::Report r;
  r.command = "links";
  for (int s = 0; s < 4; ++s)
    for (int d = 0; d < 4; ++d) {
      if (s == d) continue;
      if (s == 1 && d == 2) r.links.push_back(link(s, d, 6.0));          // 60%
      else if (s == 2 && d == 3) r.links.push_back(link(s, d, 3.0));     // 30%
      else if (s == 3 && d == 0) r.links.push_back(link(s, d, 0, false));  // no answer
      else r.links.push_back(link(s, d, 10.0));                          // the reference
    }
  auto cells = cells_of(report::render_html(r, 2));
  ASSERT_EQ(cells.size(), 12u);
  const Rgb full = rgb(cells.at("h0 -&gt; h1")), sixty = rgb(cells.at("h1 -&gt; h2")),
            thirty = rgb(cells.at("h2 -&gt; h3"));
  EXPECT_EQ(cells.at("h3 -&gt; h0"), "24292f");  // did not answer: the dark "no answer" swatch
  EXPECT_GT(full.g, full.r + 60) << "a link at the reference is green";
  EXPECT_GT(thirty.r, thirty.g + 60) << "a link at 30% is red";
  // 60% sits between: redder than the reference, greener than 30%.
  EXPECT_GT(sixty.r, full.r + 40);
  EXPECT_GT(sixty.g, thirty.g + 20);
  // Every other link at the reference has the reference's colour.
  int same = 0;
  for (const auto& [k, v] : cells) same += v == cells.at("h0 -&gt; h1");
  EXPECT_EQ(same, 9);
}

}  // namespace
}  // namespace ncd
