// SPDX-License-Identifier: Apache-2.0
#include "report/junit.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <map>
#include <pugixml.hpp>
#include <sstream>
#include <vector>

#include "core/catalogue.hpp"
#include "core/text.hpp"
#include "core/time.hpp"
#include "report/escape.hpp"

namespace ncd::report {
namespace {

/// Domains each command covers when it has no stage list. "dist" holds the job-level ids
/// (bench.timeout) of every distributed command.
const std::map<std::string, std::vector<std::string>>& command_domains() {
  static const std::map<std::string, std::vector<std::string>> kMap = {
      {"env", {"env", "dist"}},       {"topo", {"topo", "dist"}},   {"bench", {"bench", "dist"}},
      {"links", {"links", "dist"}},   {"rings", {"rings"}},         {"log", {"log"}},
      {"diff", {"baseline"}},
      {"sweep", {"env", "topo", "bench", "links", "rings", "dist"}}};
  return kMap;
}

std::string failure_text(const Finding& f) {
  std::ostringstream s;
  s << "[" << to_string(f.severity) << "] " << f.id;
  if (!f.host.empty()) s << " on " << f.host;
  if (!f.subject.empty()) s << " (" << f.subject << ")";
  s << "\n" << f.message << "\n";
  if (f.measured && f.expected)
    s << fmt::format("measured {:.4g} {} vs expected {:.4g} {}\n", *f.measured, f.unit, *f.expected, f.unit);
  else if (f.measured)
    s << fmt::format("measured {:.4g} {}\n", *f.measured, f.unit);
  for (const auto& e : f.evidence) s << "  | " << e << "\n";
  if (!f.hint.empty()) s << "fix: " << f.hint << "\n";
  return clean_text(s.str());
}

void set_attr(pugi::xml_node n, const char* name, const std::string& value) {
  n.append_attribute(name).set_value(clean_text(value).c_str());
}

}  // namespace

std::set<std::string> domains_run(const Report& r) {
  std::set<std::string> out;
  if (const auto stages = model::stages_of(r)) {
    for (const auto& st : *stages)
      if (st.status == "ran") out.insert(st.name);
    out.insert("dist");
  } else {
    auto it = command_domains().find(r.command);
    if (it != command_domains().end()) out.insert(it->second.begin(), it->second.end());
  }
  if (r.sections.is_object() && r.sections.contains("baseline")) out.insert("baseline");
  for (const auto& f : r.findings)
    if (const CheckInfo* c = Catalogue::instance().find(f.id)) out.insert(c->domain);
  return out;
}

std::map<std::string, std::string> domains_skipped(const Report& r) {
  std::map<std::string, std::string> out;
  for (const auto& st : model::stages_of(r).value_or(std::vector<model::StageRecord>{}))
    if (st.status == "skipped") out[st.name] = st.note.empty() ? "skipped" : st.note;
  return out;
}

namespace {

const std::string kClusterCase = "cluster";

/// Findings per (check id, testcase host): findings naming several hosts ("a,b") fail each of
/// them, findings naming none (or an unknown one) go to the job-level "cluster" testcase.
std::map<std::pair<std::string, std::string>, std::vector<const Finding*>> findings_by_case(
    const Report& r, const std::vector<std::string>& hosts) {
  std::map<std::pair<std::string, std::string>, std::vector<const Finding*>> by_case;
  for (const auto& f : r.findings) {
    std::vector<std::string> targets;
    for (const auto& part : split(f.host, ','))
      if (std::find(hosts.begin(), hosts.end(), std::string(trim(part))) != hosts.end())
        targets.emplace_back(trim(part));
    if (targets.empty()) targets.push_back(hosts.size() == 1 ? hosts[0] : kClusterCase);
    for (const auto& t : targets) by_case[{f.id, t}].push_back(&f);
  }
  return by_case;
}

/// Check ids per domain: with recorded outcomes exactly the checks of this run, otherwise (an
/// old report) the catalogue ids of the domains that ran; plus every raised id (a finding is
/// always a testcase; unknown ids, from a newer report, go to "other").
std::map<std::string, std::vector<std::string>> check_ids_by_domain(const Report& r,
                                                                    const std::map<std::string, std::string>& skipped) {
  std::map<std::string, std::vector<std::string>> ids_by_domain;
  auto add = [&](const std::string& domain, const std::string& id) {
    auto& v = ids_by_domain[domain];
    if (std::find(v.begin(), v.end(), id) == v.end()) v.push_back(id);
  };
  if (!r.checks.empty()) {
    std::set<std::string> recorded;
    for (const auto& c : r.checks) {
      const CheckInfo* info = Catalogue::instance().find(c.id);
      ids_by_domain[info ? info->domain : "other"].push_back(c.id);
      recorded.insert(c.id);
    }
    for (const auto& f : r.findings)
      if (const CheckInfo* info = Catalogue::instance().find(f.id); info && !recorded.count(f.id)) add(info->domain, f.id);
  } else {
    const std::set<std::string> domains = domains_run(r);
    for (const CheckInfo* c : Catalogue::instance().all())
      if (domains.count(c->domain) || skipped.count(c->domain)) ids_by_domain[c->domain].push_back(c->id);
  }
  for (const auto& f : r.findings)
    if (!Catalogue::instance().find(f.id)) add("other", f.id);
  return ids_by_domain;
}

/// Each suite's own time: its stage's elapsed time (sweep).
std::map<std::string, double> stage_times(const Report& r) {
  std::map<std::string, double> stage_time;
  for (const auto& st : model::stages_of(r).value_or(std::vector<model::StageRecord>{}))
    if (st.elapsed_s) stage_time[st.name] = *st.elapsed_s;
  return stage_time;
}

/// A testcase's failure (its warnings and errors) and system-out (its info findings).
/// Returns whether it failed.
bool fill_failure(pugi::xml_node tc, const std::vector<const Finding*>& found) {
  std::vector<const Finding*> failing;
  std::string info_text;
  for (const Finding* f : found) {
    if (f->severity == Severity::kInfo) info_text += failure_text(*f);
    else failing.push_back(f);
  }
  if (!failing.empty()) {
    Severity worst = Severity::kWarn;
    std::string text;
    for (const Finding* f : failing) {
      if (f->severity == Severity::kError) worst = Severity::kError;
      text += failure_text(*f);
    }
    pugi::xml_node fail = tc.append_child("failure");
    std::string msg = failing.front()->message;
    if (failing.size() > 1) msg += fmt::format(" (and {} more)", failing.size() - 1);
    set_attr(fail, "message", msg);
    set_attr(fail, "type", std::string(to_string(worst)));
    fail.append_child(pugi::node_pcdata).set_value(text.c_str());
  }
  if (!info_text.empty()) tc.append_child("system-out").append_child(pugi::node_pcdata).set_value(info_text.c_str());
  return !failing.empty();
}

/// A run that could not complete is a test error, not a pass with nothing to show.
void add_run_error(pugi::xml_node suites, const Report& r) {
  pugi::xml_node suite = suites.append_child("testsuite");
  set_attr(suite, "name", "nccl-doctor.run");
  pugi::xml_node tc = suite.append_child("testcase");
  set_attr(tc, "classname", "nccl-doctor.run");
  set_attr(tc, "name", "completed");
  set_attr(tc, "time", fmt::format("{:.3f}", r.duration_s));
  set_attr(tc.append_child("error"), "message",
           r.incomplete_reason.empty() ? "the run could not complete" : r.incomplete_reason);
  set_attr(suite, "tests", "1");
  set_attr(suite, "failures", "0");
  set_attr(suite, "time", fmt::format("{:.3f}", r.duration_s));
  set_attr(suite, "errors", "1");
  set_attr(suite, "skipped", "0");
}

}  // namespace

std::string render_junit(const Report& r, int code) {
  std::vector<std::string> hosts;
  for (const auto& h : r.hosts) hosts.push_back(h.name);
  const auto by_case = findings_by_case(r, hosts);
  std::vector<std::string> case_hosts = hosts;
  if (hosts.size() != 1) case_hosts.push_back(kClusterCase);
  const auto skipped = domains_skipped(r);
  const auto ids_by_domain = check_ids_by_domain(r, skipped);
  std::map<std::string, const CheckOutcome*> outcome_of;
  for (const auto& c : r.checks) outcome_of[c.id] = &c;
  const auto stage_time = stage_times(r);

  pugi::xml_document doc;
  auto decl = doc.append_child(pugi::node_declaration);
  decl.append_attribute("version").set_value("1.0");
  decl.append_attribute("encoding").set_value("UTF-8");
  pugi::xml_node suites = doc.append_child("testsuites");
  set_attr(suites, "name", "nccl-doctor " + r.command);
  int total_tests = 0, total_failures = 0, total_skipped = 0;

  for (const auto& [domain, ids] : ids_by_domain) {
    pugi::xml_node suite = suites.append_child("testsuite");
    set_attr(suite, "name", "nccl-doctor." + domain);
    int tests = 0, failures = 0, skipped_n = 0;
    auto skip_it = skipped.find(domain);
    for (const auto& id : ids) {
      for (const auto& host : case_hosts) {
        pugi::xml_node tc = suite.append_child("testcase");
        set_attr(tc, "classname", "nccl-doctor." + domain + "." + host);
        set_attr(tc, "name", id);
        set_attr(tc, "time", "0");
        ++tests;
        auto it = by_case.find({id, host});
        auto oc = outcome_of.find(id);
        if (it == by_case.end() && oc != outcome_of.end() && oc->second->status != CheckStatus::kEvaluated) {
          std::string why = std::string(to_string(oc->second->status)) + ": " + oc->second->reason;
          set_attr(tc.append_child("skipped"), "message", why);
          ++skipped_n;
        } else if (it == by_case.end()) {
          if (oc == outcome_of.end() && skip_it != skipped.end()) {
            set_attr(tc.append_child("skipped"), "message", skip_it->second);
            ++skipped_n;
          }
        } else if (fill_failure(tc, it->second)) {
          ++failures;
        }
      }
    }
    set_attr(suite, "tests", std::to_string(tests));
    set_attr(suite, "failures", std::to_string(failures));
    set_attr(suite, "errors", "0");
    set_attr(suite, "skipped", std::to_string(skipped_n));
    const auto st_it = stage_time.find(domain);
    set_attr(suite, "time", fmt::format("{:.3f}", st_it != stage_time.end() ? st_it->second
                                                   : stage_time.empty() ? r.duration_s : 0.0));
    set_attr(suite, "timestamp", ncd::format_utc(r.started_unix, kUtcIso8601));
    total_tests += tests;
    total_failures += failures;
    total_skipped += skipped_n;
  }
  int errors = 0;
  if (code == 3) {
    add_run_error(suites, r);
    errors = 1;
    ++total_tests;
  }
  set_attr(suites, "tests", std::to_string(total_tests));
  set_attr(suites, "failures", std::to_string(total_failures));
  set_attr(suites, "errors", std::to_string(errors));
  set_attr(suites, "skipped", std::to_string(total_skipped));
  set_attr(suites, "time", fmt::format("{:.3f}", r.duration_s));
  std::ostringstream out;
  doc.save(out, "  ", pugi::format_default, pugi::encoding_utf8);
  return out.str();
}

}  // namespace ncd::report
