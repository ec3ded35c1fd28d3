// SPDX-License-Identifier: Apache-2.0
#include "report/report.hpp"

#include "core/error.hpp"
#include "ncd/config.hpp"

namespace ncd::report {

int exit_code(const Report& r, FailOn fail_on) {
  int worst = -1;
  for (const auto& f : r.findings) worst = std::max(worst, static_cast<int>(f.severity));
  int code = 0;
  if (worst == static_cast<int>(Severity::kError)) code = 2;
  else if (worst == static_cast<int>(Severity::kWarn)) code = fail_on == FailOn::kWarn ? 1 : 0;
  if (r.incomplete && worst < static_cast<int>(Severity::kWarn)) return 3;
  return code;
}

void to_json(nlohmann::json& j, const CollectiveResult& c) {
  j = nlohmann::json{{"op", c.op},
                     {"algo", c.algo},
                     {"backend", c.backend},
                     {"dtype", c.dtype},
                     {"redop", c.redop},
                     {"root", c.root},
                     {"bytes", c.bytes},
                     {"count", c.count},
                     {"time_us", c.time_us},
                     {"time_min_us", c.time_min_us},
                     {"time_max_us", c.time_max_us},
                     {"spread", c.spread},
                     {"iters", c.iters},
                     {"algbw_gbps", c.algbw_gbps},
                     {"busbw_gbps", c.busbw_gbps},
                     {"wrong", c.wrong},
                     {"nranks", c.nranks}};
  if (!c.host.empty()) j["host"] = c.host;
}

void from_json(const nlohmann::json& j, CollectiveResult& c) {
  c.op = j.at("op").get<std::string>();
  c.algo = j.value("algo", "");
  c.backend = j.value("backend", "");
  c.dtype = j.value("dtype", "");
  c.redop = j.value("redop", "");
  c.root = j.value("root", -1);
  c.bytes = j.value("bytes", std::uint64_t{0});
  c.count = j.value("count", std::uint64_t{0});
  c.time_us = j.value("time_us", 0.0);
  c.time_min_us = j.value("time_min_us", 0.0);
  c.time_max_us = j.value("time_max_us", 0.0);
  c.spread = j.value("spread", 0.0);
  c.iters = j.value("iters", 0);
  c.algbw_gbps = j.value("algbw_gbps", 0.0);
  c.busbw_gbps = j.value("busbw_gbps", 0.0);
  c.wrong = j.value("wrong", std::int64_t{0});
  c.nranks = j.value("nranks", 0);
  c.host = j.value("host", "");
}

void to_json(nlohmann::json& j, const LinkResult& l) {
  j = nlohmann::json{{"src_host", l.src_host}, {"dst_host", l.dst_host},
                     {"src_rank", l.src_rank}, {"dst_rank", l.dst_rank},
                     {"bytes", l.bytes},       {"gbps", l.gbps},
                     {"latency_us", l.latency_us}, {"class", l.cls},
                     {"ok", l.ok}};
}

void from_json(const nlohmann::json& j, LinkResult& l) {
  l.src_host = j.value("src_host", "");
  l.dst_host = j.value("dst_host", "");
  l.src_rank = j.value("src_rank", 0);
  l.dst_rank = j.value("dst_rank", 0);
  l.bytes = j.value("bytes", std::uint64_t{0});
  l.gbps = j.value("gbps", 0.0);
  l.latency_us = j.value("latency_us", 0.0);
  l.cls = j.value("class", "");
  l.ok = j.value("ok", true);
}

nlohmann::json report_to_json(const Report& r, int code) {
  nlohmann::json j;
  j["schema"] = kSchema;
  j["tool"] = {{"name", "nccl-doctor"},
               {"version", NCD_VERSION},
               {"features", {{"nccl", static_cast<bool>(NCD_HAVE_NCCL)},
                             {"nccl_build_version", NCD_NCCL_BUILD_VERSION}}}};
  j["command"] = r.command;
  j["args"] = r.args;
  j["started"] = r.started_unix;
  j["duration_s"] = r.duration_s;
  nlohmann::json hosts = nlohmann::json::array();
  for (const auto& h : r.hosts) {
    hosts.push_back({{"name", h.name}, {"ranks", h.ranks}, {"fingerprint", h.fingerprint},
                     {"topology", h.topology}});
  }
  j["hosts"] = hosts;
  j["measurements"] = {{"collectives", r.collectives}, {"links", r.links}};
  j["sections"] = r.sections;
  j["findings"] = r.findings;
  j["notes"] = r.notes;
  int counts[3] = {0, 0, 0};
  for (const auto& f : r.findings) ++counts[static_cast<int>(f.severity)];
  j["summary"] = {{"info", counts[0]},
                  {"warn", counts[1]},
                  {"error", counts[2]},
                  {"exit_code", code},
                  {"incomplete", r.incomplete}};
  if (r.incomplete) j["summary"]["incomplete_reason"] = r.incomplete_reason;
  return j;
}

Report report_from_json(const std::string& text, const std::string& source) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {  // parse_error, or out_of_range for 1e999
    throw InputError(source, std::string("not valid JSON: ") + e.what());
  }
  if (!j.is_object() || !j.contains("schema") || !j["schema"].is_string())
    throw InputError(source, std::string("not an nccl-doctor report (no \"schema\": \"") +
                                 kSchema + "\")");
  if (j["schema"].get<std::string>() != kSchema)
    throw InputError(source, "unsupported report schema '" + j["schema"].get<std::string>() +
                                 "' (expected " + kSchema + ")");
  Report r;
  try {
    r.command = j.value("command", "");
    r.started_unix = j.value("started", 0.0);
    r.duration_s = j.value("duration_s", 0.0);
    if (j.contains("hosts") && j["hosts"].is_array()) {
      for (const auto& h : j["hosts"]) {
        HostEntry e;
        e.name = h.value("name", "");
        e.ranks = h.value("ranks", std::vector<int>{});
        e.fingerprint = h.value("fingerprint", "");
        if (h.contains("topology")) e.topology = h["topology"];
        r.hosts.push_back(std::move(e));
      }
    }
    if (j.contains("measurements") && j["measurements"].is_object()) {
      const auto& m = j["measurements"];
      if (m.contains("collectives")) r.collectives = m["collectives"].get<std::vector<CollectiveResult>>();
      if (m.contains("links")) r.links = m["links"].get<std::vector<LinkResult>>();
    }
    if (j.contains("sections") && j["sections"].is_object()) r.sections = j["sections"];
    if (j.contains("findings")) r.findings = j["findings"].get<std::vector<Finding>>();
    r.notes = j.value("notes", std::vector<std::string>{});
    r.args = j.value("args", std::vector<std::string>{});
    if (j.contains("summary") && j["summary"].is_object()) {
      r.incomplete = j["summary"].value("incomplete", false);
      r.incomplete_reason = j["summary"].value("incomplete_reason", "");
    }
  } catch (const nlohmann::json::exception& e) {
    throw InputError(source, std::string("malformed report: ") + e.what());
  } catch (const UsageError& e) {
    throw InputError(source, std::string("malformed report: ") + e.what());
  }
  return r;
}

}  // namespace ncd::report
