// SPDX-License-Identifier: Apache-2.0
#include "report/report.hpp"

#include <unistd.h>

#include <istream>
#include <memory>
#include <streambuf>

#include "core/error.hpp"
#include "core/fs.hpp"
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

namespace {

void check_schema(const nlohmann::json& j, const std::string& source) {
  if (!j.is_object() || !j.contains("schema") || !j["schema"].is_string())
    throw InputError(source, std::string("not an nccl-doctor report (no \"schema\": \"") +
                                 kSchema + "\")");
  if (j["schema"].get<std::string>() != kSchema)
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

}  // namespace ncd::report
