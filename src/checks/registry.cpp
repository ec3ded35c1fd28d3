// SPDX-License-Identifier: Apache-2.0
#include "checks/registry.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace ncd::checks {

bool CheckFamily::covers(std::string_view id) const {
  // Only ids of the family's own domain: "gdr." of topo is not the log's gdr.disabled.
  const CheckInfo* c = Catalogue::instance().find(id);
  if (c && c->domain != domain) return false;
  for (const auto& key : ids) {
    if (key == "*") {
      if (c) return true;
    } else if (!key.empty() && (key.back() == '.' ? id.substr(0, key.size()) == key : id == key)) {
      return true;
    }
  }
  return false;
}

Registry& Registry::instance() {
  static Registry registry;
  return registry;
}

void Registry::add(CheckFamily family) {
  for (const auto& f : families_)
    if (f.name == family.name) {
      std::fprintf(stderr, "nccl-doctor: internal error: check family '%s' registered twice\n", f.name.c_str());
      std::abort();
    }
  families_.push_back(std::move(family));
  std::sort(families_.begin(), families_.end(),
            [](const CheckFamily& a, const CheckFamily& b) { return a.name < b.name; });
}

std::vector<const CheckFamily*> Registry::families(std::string_view domain) const {
  std::vector<const CheckFamily*> out;
  for (const auto& f : families_)
    if (domain.empty() || f.domain == domain) out.push_back(&f);
  return out;
}

std::vector<const CheckFamily*> Registry::families_of(std::string_view id) const {
  std::vector<const CheckFamily*> out;
  for (const auto& f : families_)
    if (f.covers(id)) out.push_back(&f);
  return out;
}

void CheckRun::merge(CheckRun&& other) {
  findings.insert(findings.end(), std::make_move_iterator(other.findings.begin()),
                  std::make_move_iterator(other.findings.end()));
  notes.insert(notes.end(), std::make_move_iterator(other.notes.begin()), std::make_move_iterator(other.notes.end()));
  for (auto& [id, o] : other.outcomes) outcomes.emplace(id, std::move(o));
  families_run.insert(families_run.end(), other.families_run.begin(), other.families_run.end());
  families_no_input.insert(families_no_input.end(), other.families_no_input.begin(), other.families_no_input.end());
  if (other.links) links = std::move(other.links);
  rings.insert(rings.end(), std::make_move_iterator(other.rings.begin()), std::make_move_iterator(other.rings.end()));
  unmeasured_copies.insert(unmeasured_copies.end(), other.unmeasured_copies.begin(), other.unmeasured_copies.end());
  if (!other.root.empty()) root = std::move(other.root);
  if (!other.verdict.empty()) verdict = std::move(other.verdict);
  if (incomplete.empty()) incomplete = std::move(other.incomplete);
}

void CheckRun::add_to(RunFacts& facts) const {
  for (const auto& [id, o] : outcomes) facts.overrides.emplace(id, o);
  for (const auto& f : findings) facts.raised.insert(f.id);
}

bool CheckRun::ran(std::string_view family) const {
  return std::find(families_run.begin(), families_run.end(), family) != families_run.end();
}

CheckRun run_checks(std::string_view domain, const Evidence& ev) {
  CheckRun run;
  std::vector<const CheckFamily*> missing;
  for (const CheckFamily* f : Registry::instance().families(domain)) {
    if (!f->has_input(ev)) {
      run.families_no_input.push_back(f->name);
      missing.push_back(f);
      continue;
    }
    f->run(ev, run);
    run.families_run.push_back(f->name);
  }
  // An id evaluated by no family that ran: it could not run, whatever the needs say.
  for (const CheckFamily* f : missing)
    for (const CheckInfo* c : Catalogue::instance().all()) {
      if (c->domain != domain || !f->covers(c->id)) continue;
      bool evaluated = false;
      for (const CheckFamily* g : Registry::instance().families_of(c->id))
        evaluated = evaluated || run.ran(g->name);
      if (!evaluated) run.outcomes.emplace(c->id, CheckOutcome{c->id, CheckStatus::kCouldNotRun, 0, "no " + f->input});
    }
  return run;
}

CheckRun run_family(std::string_view name, const Evidence& ev) {
  CheckRun run;
  for (const CheckFamily* f : Registry::instance().families()) {
    if (f->name != name) continue;
    if (!f->has_input(ev)) {
      run.families_no_input.push_back(f->name);
      return run;
    }
    f->run(ev, run);
    run.families_run.push_back(f->name);
    return run;
  }
  std::fprintf(stderr, "nccl-doctor: internal error: no check family '%.*s'\n", static_cast<int>(name.size()),
               name.data());
  std::abort();
}

}  // namespace ncd::checks
