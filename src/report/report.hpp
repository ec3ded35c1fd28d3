// SPDX-License-Identifier: Apache-2.0
#pragma once
/// The run model (model/report.hpp) under the names the renderers and commands use. The types
/// live one layer down so that checks, collectives and the GPU backend can fill them without
/// including the report layer.
#include "model/report.hpp"

namespace ncd::report {

using model::apply_outcomes;
using model::CollectiveResult;
using model::derived_outcomes;
using model::exit_code;
using model::FailOn;
using model::HostEntry;
using model::kSchema;
using model::kSchemaV1;
using model::LinkResult;
using model::read_report;
using model::Report;
using model::report_from_json;
using model::report_to_json;
using model::unmeasured_stages;

}  // namespace ncd::report
