// SPDX-License-Identifier: Apache-2.0
#include "dist/comm.hpp"

#include <cstdlib>

#include <unistd.h>

#include <csignal>
#include <ctime>
#include <map>

namespace ncd::dist {

namespace {
volatile std::sig_atomic_t g_terminate = 0;
extern "C" void on_terminate(int) { g_terminate = 1; }

std::string& signature_store() {
  static std::string s;
  return s;
}
void (*g_announcer)() = nullptr;
bool g_announced = false;
}  // namespace

bool termination_requested() { return g_terminate != 0; }

void set_job_signature(std::string signature) { signature_store() = std::move(signature); }
const std::string& job_signature() { return signature_store(); }
void set_alive_announcer(void (*announce)()) { g_announcer = announce; }

void announce_alive_if_interrupted() {
  if (g_announced || !termination_requested() || !g_announcer) return;
  g_announced = true;
  g_announcer();
}

void install_termination_handler() {
  struct sigaction sa {};
  sa.sa_handler = on_terminate;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  // Open MPI's daemons end a job with SIGCONT, one second, then SIGTERM and SIGKILL within
  // milliseconds (odls_base_sigkill_timeout, measured with strace): SIGCONT is the only notice
  // long enough to write the report. A rank resumed by hand after SIGSTOP reads it the same way.
  sigaction(SIGCONT, &sa, nullptr);
}

void poll_pause() {
  announce_alive_if_interrupted();
  timespec ts{0, 200000};  // 200 us
  nanosleep(&ts, nullptr);
}

NodeMap NodeMap::from_hosts(std::vector<std::string> hosts) {
  NodeMap m;
  m.rank_host = std::move(hosts);
  std::map<std::string, int> index;
  for (std::size_t r = 0; r < m.rank_host.size(); ++r) {
    auto [it, added] = index.emplace(m.rank_host[r], static_cast<int>(m.node_names.size()));
    if (added) {
      m.node_names.push_back(m.rank_host[r]);
      m.node_ranks.emplace_back();
    }
    m.rank_node.push_back(it->second);
    m.rank_local.push_back(static_cast<int>(m.node_ranks[it->second].size()));
    m.node_ranks[it->second].push_back(static_cast<int>(r));
  }
  return m;
}

std::string local_hostname() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  return buf;
}

SingleComm::SingleComm() { nodes_ = NodeMap::from_hosts({local_hostname()}); }

bool launched_by_mpi_launcher() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE", "MV2_COMM_WORLD_SIZE"})
    if (std::getenv(v)) return true;
  return false;
}

void Comm::abort_job(int code) { std::_Exit(code); }

}  // namespace ncd::dist
