// SPDX-License-Identifier: Apache-2.0
#pragma once
/// The HTML report: one self-contained file (inline CSS and SVG, no script, no font or image
/// from the network) with the verdict, findings with evidence and hints, a drawing of each
/// node's topology, the link heatmap and busbw-vs-size curves against expectation.
#include <string>

#include "report/report.hpp"

namespace ncd::report {

[[nodiscard]] std::string render_html(const Report& r, int exit_code);

}  // namespace ncd::report
