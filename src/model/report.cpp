// SPDX-License-Identifier: Apache-2.0
#include "model/report.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <istream>
#include <map>
#include <memory>
#include <streambuf>

#include "core/build_info.hpp"
#include "core/error.hpp"
#include "core/fs.hpp"
#include "core/text.hpp"
#include "ncd/config.hpp"

namespace ncd::model {

int exit_code(const Report& r, FailOn fail_on) {
  int worst = -1;
  for (const auto& f : r.findings) worst = std::max(worst, static_cast<int>(f.severity));
  int code = 0;
  if (worst == static_cast<int>(Severity::kError)) code = 2;
  else if (worst == static_cast<int>(Severity::kWarn)) code = fail_on == FailOn::kWarn ? 1 : 0;
  if (r.incomplete) return worst == static_cast<int>(Severity::kError) ? 2 : 3;
  return code;
}

std::optional<std::vector<StageRecord>> stages_of(const Report& r) {
  if (!r.sections.is_object()) return std::nullopt;
  const auto it = r.sections.find("stages");
  if (it == r.sections.end() || !it->is_array()) return std::nullopt;
  auto text = [](const nlohmann::json& st, const char* k) {
    const auto f = st.find(k);
    return f != st.end() && f->is_string() ? f->get<std::string>() : std::string();
  };
  auto number = [](const nlohmann::json& st, const char* k) -> std::optional<double> {
    const auto f = st.find(k);
    if (f != st.end() && f->is_number()) return f->get<double>();
    return std::nullopt;
  };
  std::vector<StageRecord> out;
  for (const auto& st : *it) {
    if (!st.is_object()) continue;
    out.push_back({text(st, "name"), text(st, "status"), number(st, "budget_s"), number(st, "elapsed_s"),
                   text(st, "note"), text(st, "reason")});
  }
  return out;
}

namespace {

/// A section of the report by name, or null when absent or not an object.
const nlohmann::json* section(const Report& r, const char* name) {
  if (!r.sections.is_object()) return nullptr;
  const auto it = r.sections.find(name);
  return it != r.sections.end() && it->is_object() ? &*it : nullptr;
}
std::string text_of(const nlohmann::json& j, const char* k) {
  if (!j.is_object()) return "";
  const auto f = j.find(k);
  return f != j.end() && f->is_string() ? f->get<std::string>() : std::string();
}
double number_of(const nlohmann::json& j, const char* k) {
  if (!j.is_object()) return 0;
  const auto f = j.find(k);
  return f != j.end() && f->is_number() ? f->get<double>() : 0.0;
}

}  // namespace

std::map<std::string, LinkClassRecord> link_classes_of(const Report& r) {
  std::map<std::string, LinkClassRecord> out;
  const nlohmann::json* links = section(r, "links");
  if (!links || !links->contains("classes") || !(*links)["classes"].is_object()) return out;
  for (const auto& [cls, v] : (*links)["classes"].items())
    if (number_of(v, "median_gbps") > 0)
      out[cls] = {number_of(v, "median_gbps"), std::max(0.0, number_of(v, "slow_below_gbps"))};
  return out;
}

std::optional<DiffRecord> diff_of(const Report& r) {
  const nlohmann::json* d = section(r, "diff");
  if (!d) return std::nullopt;
  DiffRecord out;
  out.old_file = text_of(d->contains("old") ? (*d)["old"] : nlohmann::json(), "file");
  out.new_file = text_of(d->contains("new") ? (*d)["new"] : nlohmann::json(), "file");
  if (d->contains("changes") && (*d)["changes"].is_array())
    for (const auto& c : (*d)["changes"]) {
      if (!c.is_object()) continue;
      const auto w = c.find("worse");
      out.changes.push_back({w != c.end() && w->is_boolean() && w->get<bool>(), text_of(c, "kind"),
                             text_of(c, "subject"), text_of(c, "text")});
    }
  return out;
}

std::vector<CollectiveResult> baseline_rows_of(const Report& r) {
  const nlohmann::json* b = section(r, "baseline");
  if (!b || !b->contains("collectives")) return {};
  try {
    return (*b)["collectives"].get<std::vector<CollectiveResult>>();
  } catch (const nlohmann::json::exception&) {
    return {};
  }
}

std::vector<std::string> unmeasured_stages(const Report& r) {
  std::vector<std::string> out;
  for (const auto& st : stages_of(r).value_or(std::vector<StageRecord>{}))
    if (st.status == "skipped") out.push_back(st.name + " (" + (st.reason.empty() ? st.note : st.reason) + ")");
  return out;
}

std::vector<CheckOutcome> derived_outcomes(const Report& r) {
  if (r.command != "topo") return {};
  RunFacts f;
  f.domains["topo"] = {};
  bool known = false, nvml_missing = false;
  for (const auto& h : r.hosts) {
    f.ranks += static_cast<int>(h.ranks.size());
    if (!h.topology.is_object()) continue;
    known = true;
    if (h.topology.contains("gpus") && h.topology["gpus"].is_array()) f.gpus += static_cast<int>(h.topology["gpus"].size());
    if (h.topology.contains("nics") && h.topology["nics"].is_array()) f.nics += static_cast<int>(h.topology["nics"].size());
    // Live NVLink state comes from NVML on this machine; a file or a sysfs fixture never had it.
    if (h.topology.value("source", "") == "live" && h.topology.contains("notes") && h.topology["notes"].is_array())
      for (const auto& n : h.topology["notes"])
        if (n.is_string() && n.get<std::string>().rfind("NVML:", 0) == 0) nvml_missing = true;
  }
  if (!known) return {};
  f.hosts = static_cast<int>(std::max<std::size_t>(1, r.hosts.size()));
  if (f.gpus == 0) f.missing[need::kGpu] = {"no GPU", true};
  if (f.nics == 0) f.missing[need::kNic] = {"no NIC", true};
  if (r.hosts.size() < 2) f.missing[need::kMultiNode] = {"one node", true};
  if (f.gpus > 0 && nvml_missing) f.missing[need::kNvml] = {"NVML unavailable", false};
  for (const auto& x : r.findings) f.raised.insert(x.id);
  return record_outcomes(f);
}

void apply_outcomes(Report& r) {
  std::vector<std::string> why;
  auto stages = unmeasured_stages(r);
  if (!stages.empty()) why.push_back("not measured: " + join(stages, "; "));
  std::map<std::string, std::vector<std::string>> cnr;  // reason -> ids
  for (const auto& c : r.checks)
    if (c.status == CheckStatus::kCouldNotRun) cnr[c.reason].push_back(c.id);
  std::vector<std::string> parts;
  for (const auto& [reason, ids] : cnr) {
    // Checks of a skipped stage are already named by the stage.
    bool by_stage = false;
    for (const auto& st : stages)
      if (st.find(reason) != std::string::npos) by_stage = true;
    if (by_stage) continue;
    parts.push_back(fmt::format("{} ({})", ids.size() <= 3 ? join(ids, ", ") : fmt::format("{} checks", ids.size()),
                                reason));
  }
  if (!parts.empty()) why.push_back("could not run: " + join(parts, "; "));
  if (why.empty()) return;
  // How to get it measured, from the reasons.
  auto hint = [&r](const std::string& line) {
    if (std::find(r.to_measure.begin(), r.to_measure.end(), line) == r.to_measure.end()) r.to_measure.push_back(line);
  };
  for (const auto& part : why) {
    if (part.find("one rank") != std::string::npos || part.find("too few ranks") != std::string::npos)
      hint("run under mpirun or srun with 2 or more ranks (e.g. mpirun -np 2 nccl-doctor ...)");
    if (part.find("deadline") != std::string::npos || part.find("--timeout") != std::string::npos)
      hint("raise --timeout (the stages did not fit in the deadline)");
    if (part.find("NVML") != std::string::npos) hint("install the NVIDIA driver's NVML (libnvidia-ml.so.1)");
    if (part.find("did not report") != std::string::npos || part.find("did not finish") != std::string::npos ||
        part.find("did not meet") != std::string::npos)
      hint("find the ranks that did not answer (bench.timeout and notes above) and run again");
    if (part.find("no bandwidth model") != std::string::npos || part.find("no model") != std::string::npos)
      hint("pass --expected-busbw GB/s for this GPU (NCCL's model does not know it)");
  }
  r.incomplete = true;
  const std::string text = join(why, "; ");
  if (r.incomplete_reason.empty()) r.incomplete_reason = text;
  else if (r.incomplete_reason.find(text) == std::string::npos) r.incomplete_reason += "; " + text;
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
                     {"spread_iqr", c.spread_iqr >= 0 ? nlohmann::json(c.spread_iqr) : nlohmann::json(nullptr)},
                     {"iters", c.iters},
                     {"algbw_gbps", c.algbw_gbps},
                     {"busbw_gbps", c.busbw_gbps},
                     {"nranks", c.nranks}};
  // Not checked is null, never 0 ("checked, correct").
  j["wrong"] = c.wrong >= 0 ? nlohmann::json(c.wrong) : nlohmann::json(nullptr);
  if (!c.host.empty()) j["host"] = c.host;
  auto measured = [](double v) { return v > 0 ? nlohmann::json(v) : nlohmann::json(nullptr); };
  j["nccltests_avg_time_us"] = measured(c.nccltests_avg_time_us);
  j["nccltests_algbw_gbps"] = measured(c.nccltests_algbw_gbps);
  j["nccltests_busbw_gbps"] = measured(c.nccltests_busbw_gbps);
  j["expected_busbw_gbps"] = c.expected_busbw_gbps ? nlohmann::json(*c.expected_busbw_gbps) : nlohmann::json(nullptr);
  if (!c.expected_from.empty()) j["expected_from"] = c.expected_from;
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
  c.spread_iqr = j.contains("spread_iqr") && j["spread_iqr"].is_number() ? j["spread_iqr"].get<double>() : -1.0;
  c.iters = j.value("iters", 0);
  c.algbw_gbps = j.value("algbw_gbps", 0.0);
  c.busbw_gbps = j.value("busbw_gbps", 0.0);
  auto number = [&j](const char* k) { return j.contains(k) && j[k].is_number() ? j[k].get<double>() : 0.0; };
  c.nccltests_avg_time_us = number("nccltests_avg_time_us");
  c.nccltests_algbw_gbps = number("nccltests_algbw_gbps");
  c.nccltests_busbw_gbps = number("nccltests_busbw_gbps");
  // Absent or null: not checked (-1). A reader must not turn "unknown" into "correct".
  c.wrong = j.contains("wrong") && j["wrong"].is_number_integer() ? j["wrong"].get<std::int64_t>() : -1;
  if (j.contains("expected_busbw_gbps") && j["expected_busbw_gbps"].is_number())
    c.expected_busbw_gbps = j["expected_busbw_gbps"].get<double>();
  c.expected_from = j.value("expected_from", "");
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
               {"features", {{"nccl", build_info().nccl}, {"nccl_build_version", build_info().nccl_build_version}}}};
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
  nlohmann::json checks = nlohmann::json::array();
  for (const auto& c : r.checks)
    checks.push_back({{"id", c.id}, {"status", to_string(c.status)}, {"subjects", c.subjects},
                      {"reason", c.reason.empty() ? nlohmann::json(nullptr) : nlohmann::json(c.reason)}});
  j["checks"] = checks;
  j["stages"] = r.sections.is_object() && r.sections.contains("stages") ? r.sections["stages"]
                                                                        : nlohmann::json::array();
  int counts[3] = {0, 0, 0};
  for (const auto& f : r.findings) ++counts[static_cast<int>(f.severity)];
  j["summary"] = {{"info", counts[0]},
                  {"warn", counts[1]},
                  {"error", counts[2]},
                  {"exit_code", code},
                  {"incomplete", r.incomplete}};
  if (r.incomplete) j["summary"]["incomplete_reason"] = r.incomplete_reason;
  if (!r.to_measure.empty()) j["summary"]["to_measure"] = r.to_measure;
  int evaluated = 0, not_applicable = 0, could_not_run = 0;
  for (const auto& c : r.checks) {
    if (c.status == CheckStatus::kEvaluated) ++evaluated;
    else if (c.status == CheckStatus::kCouldNotRun) ++could_not_run;
    else ++not_applicable;
  }
  j["summary"]["checks"] = {{"evaluated", evaluated}, {"not_applicable", not_applicable},
                            {"could_not_run", could_not_run}};
  return j;
}

namespace {

void check_schema(const nlohmann::json& j, const std::string& source) {
  if (!j.is_object() || !j.contains("schema") || !j["schema"].is_string())
    throw InputError(source, std::string("not an nccl-doctor report (no \"schema\": \"") +
                                 kSchema + "\")");
  if (j["schema"].get<std::string>() != kSchema && j["schema"].get<std::string>() != kSchemaV1)
    throw InputError(source, "unsupported report schema '" + j["schema"].get<std::string>() +
                                 "' (expected " + kSchema + ")");
}

HostEntry host_from_json(const nlohmann::json& h) {
  HostEntry e;
  e.name = h.value("name", "");
  e.ranks = h.value("ranks", std::vector<int>{});
  e.fingerprint = h.value("fingerprint", "");
  if (h.contains("topology")) e.topology = h["topology"];
  return e;
}

/// Fills `r` from the parsed tree, appending to rows already read as a stream.
void fill_report(const nlohmann::json& j, Report& r, const std::string& source) {
  try {
    r.command = j.value("command", "");
    r.started_unix = j.value("started", 0.0);
    r.duration_s = j.value("duration_s", 0.0);
    if (j.contains("hosts") && j["hosts"].is_array())
      for (const auto& h : j["hosts"]) r.hosts.push_back(host_from_json(h));
    if (j.contains("measurements") && j["measurements"].is_object()) {
      const auto& m = j["measurements"];
      if (m.contains("collectives"))
        for (auto& c : m["collectives"].get<std::vector<CollectiveResult>>()) r.collectives.push_back(std::move(c));
      if (m.contains("links"))
        for (auto& l : m["links"].get<std::vector<LinkResult>>()) r.links.push_back(std::move(l));
    }
    if (j.contains("sections") && j["sections"].is_object()) r.sections = j["sections"];
    if (j.contains("findings"))
      for (auto& f : j["findings"].get<std::vector<Finding>>()) r.findings.push_back(std::move(f));
    r.notes = j.value("notes", std::vector<std::string>{});
    r.args = j.value("args", std::vector<std::string>{});
    if (j.contains("summary") && j["summary"].is_object()) {
      r.incomplete = j["summary"].value("incomplete", false);
      r.incomplete_reason = j["summary"].value("incomplete_reason", "");
      r.to_measure = j["summary"].value("to_measure", std::vector<std::string>{});
    }
    if (j.contains("checks") && j["checks"].is_array())
      for (const auto& c : j["checks"]) {
        CheckOutcome o;
        o.id = c.at("id").get<std::string>();
        o.status = parse_check_status(c.at("status").get<std::string>());
        o.subjects = c.value("subjects", 0);
        if (c.contains("reason") && c["reason"].is_string()) o.reason = c["reason"].get<std::string>();
        r.checks.push_back(std::move(o));
      }
  } catch (const nlohmann::json::exception& e) {
    throw InputError(source, std::string("malformed report: ") + e.what());
  } catch (const UsageError& e) {
    throw InputError(source, std::string("malformed report: ") + e.what());
  }
}

/// A read-only stream over a file descriptor that stops at `cap` bytes and at the input
/// deadline (read_input), throwing InputError naming the file.
class CappedFdBuf final : public std::streambuf {
 public:
  CappedFdBuf(int fd, std::string path, std::size_t cap) : fd_(fd), path_(std::move(path)), cap_(cap) {}

 protected:
  int_type underflow() override {
    if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
    std::size_t n = read_input(fd_, buf_, sizeof buf_, path_);
    if (n == 0) return traits_type::eof();
    total_ += n;
    if (total_ > cap_)
      throw InputError(path_, "larger than " + std::to_string(cap_) +
                                  " bytes, more than any report (the yardstick: a 4,096-rank sweep)");
    setg(buf_, buf_, buf_ + n);
    return traits_type::to_int_type(*gptr());
  }

 private:
  int fd_;
  std::string path_;
  std::size_t cap_;
  std::size_t total_ = 0;
  char buf_[1 << 16];
};

}  // namespace

Report report_from_json(const std::string& text, const std::string& source) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {  // parse_error, or out_of_range for 1e999
    throw InputError(source, std::string("not valid JSON: ") + e.what());
  }
  check_schema(j, source);
  Report r;
  fill_report(j, r, source);
  return r;
}

Report read_report(const std::string& path) {
  int fd = open_input(path);
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  auto buf = std::make_unique<CappedFdBuf>(fd, path, kMaxReportBytes);
  std::istream in(buf.get());
  Report r;
  // The rows (collectives, links, findings, hosts) are converted as soon as each one is
  // parsed and dropped from the tree: a JSON tree costs about 8x its text.
  std::vector<std::string> stack;  // key of each open container ("#" inside an array)
  std::string last_key;
  using Event = nlohmann::json::parse_event_t;
  auto cb = [&](int /*depth*/, Event ev, nlohmann::json& parsed) -> bool {
    switch (ev) {
      case Event::key:
        last_key = parsed.is_string() ? parsed.get<std::string>() : std::string();
        return true;
      case Event::object_start:
      case Event::array_start: {
        bool in_array = !stack.empty() && stack.back() == "[";
        stack.push_back(in_array ? "#" : last_key);
        stack.push_back(ev == Event::array_start ? "[" : "{");
        last_key.clear();
        return true;
      }
      case Event::object_end:
      case Event::array_end: {
        // stack holds pairs (key, kind): root at 0-1, then one pair per level; a row of
        // "findings" is at 4-5 (n == 6), one of "measurements"."links" at 6-7 (n == 8).
        bool row = false;
        if (ev == Event::object_end && stack.size() >= 6 && stack[stack.size() - 2] == "#") {
          const std::size_t n = stack.size();
          try {
            if (n == 8 && stack[2] == "measurements" && stack[4] == "collectives") {
              r.collectives.push_back(parsed.get<CollectiveResult>());
              row = true;
            } else if (n == 8 && stack[2] == "measurements" && stack[4] == "links") {
              r.links.push_back(parsed.get<LinkResult>());
              row = true;
            } else if (n == 6 && stack[2] == "findings") {
              r.findings.push_back(parsed.get<Finding>());
              row = true;
            } else if (n == 6 && stack[2] == "hosts") {
              r.hosts.push_back(host_from_json(parsed));
              row = true;
            }
          } catch (const nlohmann::json::exception& e) {
            throw InputError(path, std::string("malformed report: ") + e.what());
          } catch (const UsageError& e) {
            throw InputError(path, std::string("malformed report: ") + e.what());
          }
        }
        stack.resize(stack.size() >= 2 ? stack.size() - 2 : 0);
        return !row;
      }
      default:
        return true;
    }
  };
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in, cb);
  } catch (const nlohmann::json::exception& e) {
    throw InputError(path, std::string("not valid JSON: ") + e.what());
  }
  check_schema(j, path);
  fill_report(j, r, path);
  return r;
}

}  // namespace ncd::model
