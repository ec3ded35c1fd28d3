// SPDX-License-Identifier: Apache-2.0
#include "dist/mpi_comm.hpp"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <memory>
#include <mutex>
#include <numeric>
#include <thread>
#include <utility>

#include <unistd.h>

#include "core/error.hpp"
#include "core/text.hpp"
#include "dist/fault.hpp"

namespace ncd::dist {
namespace {
constexpr int kHostLen = 256;
constexpr int kSigLen = 768;  // 8 bytes of hash, then the signature's text (cut)
constexpr int kSlot = kHostLen + kSigLen;
constexpr int kTagBase = 17000;
constexpr int kAliveTag = 16999;
constexpr int kBlockTagBase = 20000;  // reserve_tags: blocks of up to 16 tags, 100 blocks in turn  // "I was interrupted, and alive": rank -> 0

MPI_Comm g_alive_comm = MPI_COMM_NULL;
int g_alive_rank = 0;

void send_alive() {
  if (g_alive_comm == MPI_COMM_NULL || g_alive_rank == 0) return;
  static int payload = 1;
  static MPI_Request req = MPI_REQUEST_NULL;  // never waited for: the job is ending
  MPI_Isend(&payload, 1, MPI_INT, 0, kAliveTag, g_alive_comm, &req);
}

std::uint64_t fnv1a(const std::string& s) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

/// One line naming the groups of ranks that run different things, or "" when all agree.
std::string describe_disagreement(const std::vector<std::uint64_t>& hashes,
                                  const std::vector<std::string>& texts) {
  std::vector<std::uint64_t> order;
  std::vector<std::vector<int>> groups;
  for (std::size_t r = 0; r < hashes.size(); ++r) {
    std::size_t g = 0;
    while (g < order.size() && order[g] != hashes[r]) ++g;
    if (g == order.size()) {
      order.push_back(hashes[r]);
      groups.emplace_back();
    }
    groups[g].push_back(static_cast<int>(r));
  }
  if (groups.size() <= 1) return "";
  std::string out;
  for (std::size_t g = 0; g < groups.size() && g < 8; ++g) {
    if (!out.empty()) out += "; ";
    const std::string& t = texts[static_cast<std::size_t>(groups[g].front())];
    out += (groups[g].size() == 1 ? "rank " : "ranks ") + format_ranges(groups[g]) + " run '" +
           (t.empty() ? std::string("(no command)") : t) + "'";
  }
  if (groups.size() > 8) out += "; and " + std::to_string(groups.size() - 8) + " more group(s)";
  return out;
}
}  // namespace

namespace {
/// MPI_Init is given at least this long, however short --timeout is: a launcher fence on a busy
/// or large machine takes seconds, and a short --timeout is meant for the measurements.
constexpr double kInitFloorS = 20;

/// The rank and size the launcher put in the environment (MPI cannot say before MPI_Init).
std::pair<std::string, std::string> launcher_rank_size() {
  std::string rank = "?", size = "?";
  for (const char* v : {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK", "SLURM_PROCID"})
    if (const char* e = std::getenv(v)) { rank = e; break; }
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "SLURM_NTASKS"})
    if (const char* e = std::getenv(v)) { size = e; break; }
  return {rank, size};
}

/// Ends the process (exit 3, one line on stderr) unless disarmed within `seconds`.
class InitWatchdog {
 public:
  explicit InitWatchdog(double seconds)
      : thread_([this, seconds] {
          std::unique_lock lock(mu_);
          if (cv_.wait_for(lock, std::chrono::duration<double>(seconds), [this] { return done_; })) return;
          auto [rank, size] = launcher_rank_size();
          std::string line = "nccl-doctor: [" + local_hostname() + " rank " + rank + " of " + size +
                             "] MPI start-up: MPI_Init did not finish within " +
                             std::to_string(static_cast<int>(seconds)) +
                             " s; it waits for every rank of the job, so a rank did not start, crashed or "
                             "stopped while starting (every rank still waiting prints this line; a rank that "
                             "never does is the first suspect)\n";
          [[maybe_unused]] auto n = ::write(STDERR_FILENO, line.data(), line.size());
          // The launcher ends the whole job when the first rank exits: a moment's grace lets
          // the other waiting ranks, whose watchdogs fire about now, say so too.
          std::this_thread::sleep_for(std::chrono::milliseconds(1500));
          std::_Exit(3);
        }) {}
  ~InitWatchdog() {
    {
      std::lock_guard lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  InitWatchdog(const InitWatchdog&) = delete;
  InitWatchdog& operator=(const InitWatchdog&) = delete;

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;  // last: started once the members it uses exist
};
}  // namespace

std::unique_ptr<Comm> make_world_comm(const Deadline& deadline) {
  if (launched_by_mpi_launcher()) return std::make_unique<MpiComm>(deadline);
  return std::make_unique<SingleComm>();
}

std::string mpi_library_version() {
  char buf[MPI_MAX_LIBRARY_VERSION_STRING] = {};
  int len = 0;
  if (MPI_Get_library_version(buf, &len) != MPI_SUCCESS) return {};
  std::string s(buf, static_cast<std::size_t>(len));
  return std::string(trim(s.substr(0, s.find_first_of("\n,"))));
}

std::vector<int> wait_all(std::vector<MPI_Request>& reqs, const Deadline& deadline) {
  for (;;) {
    int done = 0;
    MPI_Testall(static_cast<int>(reqs.size()), reqs.data(), &done, MPI_STATUSES_IGNORE);
    if (done) return {};
    if (deadline.expired()) {
      std::vector<int> pending;
      for (std::size_t i = 0; i < reqs.size(); ++i) {
        int flag = 1;
        if (reqs[i] != MPI_REQUEST_NULL) MPI_Test(&reqs[i], &flag, MPI_STATUS_IGNORE);
        if (!flag) pending.push_back(static_cast<int>(i));
      }
      if (pending.empty()) return {};
      return pending;
    }
    poll_pause();
  }
}

MpiComm::MpiComm(const Deadline& deadline) {
  int inited = 0;
  MPI_Initialized(&inited);
  if (!inited) {
    // MPI_Init waits for every rank of the job (the launcher's fence) and has no timeout of its
    // own: a rank that never starts, or is stopped while starting, would hold the others here
    // for ever. A watchdog ends this rank with one line if the fence has not passed in time.
    InitWatchdog watchdog(std::max(kInitFloorS, std::min(deadline.remaining_s(), 3600.0)));
    int provided = 0;
    MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
  }
  // mpirun sends SIGTERM, then SIGKILL 1 s later, when another rank dies: turn it into an
  // expired deadline so rank 0 still writes its report in time.
  install_termination_handler();
  MPI_Comm_dup(MPI_COMM_WORLD, &comm_);
  // Errors come back as codes, so a failed peer is a finding, not an abort inside MPI.
  MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
  MPI_Comm_rank(comm_, &rank_);
  MPI_Comm_size(comm_, &size_);

  g_alive_comm = comm_;
  g_alive_rank = rank_;
  set_alive_announcer(&send_alive);

  // Start-up exchange: every rank's host, and what it was asked to run (command and options),
  // so ranks started with different commands or options are named at once instead of waiting
  // for each other until a deadline.
  std::string me = local_hostname();
  const std::string& sig = job_signature();
  std::uint64_t hash = fnv1a(sig);
  std::vector<char> mine(kSlot, 0), all(static_cast<std::size_t>(kSlot) * size_, 0);
  std::memcpy(mine.data(), me.data(), std::min<std::size_t>(me.size(), kHostLen - 1));
  std::memcpy(mine.data() + kHostLen, &hash, sizeof hash);
  std::memcpy(mine.data() + kHostLen + sizeof hash, sig.data(),
              std::min<std::size_t>(sig.size(), kSigLen - sizeof hash - 1));
  std::vector<MPI_Request> req(1);
  MPI_Iallgather(mine.data(), kSlot, MPI_CHAR, all.data(), kSlot, MPI_CHAR, comm_, req.data());
  if (!wait_all(req, deadline).empty()) {
    mark_broken();
    throw Error("MPI start-up: not every rank answered the host exchange within the deadline");
  }
  std::vector<std::string> hosts, texts;
  std::vector<std::uint64_t> hashes;
  for (int r = 0; r < size_; ++r) {
    const char* slot = all.data() + static_cast<std::size_t>(r) * kSlot;
    hosts.emplace_back(slot, strnlen(slot, kHostLen));
    std::uint64_t h = 0;
    std::memcpy(&h, slot + kHostLen, sizeof h);
    hashes.push_back(h);
    const char* t = slot + kHostLen + sizeof h;
    texts.emplace_back(t, strnlen(t, kSigLen - sizeof h));
  }
  nodes_ = NodeMap::from_hosts(std::move(hosts));
  disagreement_ = describe_disagreement(hashes, texts);
}

MpiComm::~MpiComm() {
  if (g_alive_comm == comm_) g_alive_comm = MPI_COMM_NULL;
  if (broken()) return;  // peers may be stuck: a collective finalize could hang
  if (comm_ != MPI_COMM_NULL) MPI_Comm_free(&comm_);
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

std::vector<int> MpiComm::alive_after_interrupt(double max_wait_s) {
  static std::vector<char> seen;  // announcements already received (this may be called twice)
  if (rank_ != 0) return {};
  seen.resize(static_cast<std::size_t>(size_), 0);
  Deadline until = Deadline::after(max_wait_s);
  auto count = [&] {
    int n = 0;
    for (int r = 1; r < size_; ++r) n += seen[static_cast<std::size_t>(r)];
    return n;
  };
  // Deadline::expired() is true once interrupted: time this wait by the clock alone.
  while (count() < size_ - 1 && until.remaining_s() > 0) {
    int flag = 0;
    MPI_Status st;
    MPI_Iprobe(MPI_ANY_SOURCE, kAliveTag, comm_, &flag, &st);
    if (!flag) {
      timespec ts{0, 1000000};
      nanosleep(&ts, nullptr);
      continue;
    }
    int payload = 0;
    MPI_Recv(&payload, 1, MPI_INT, st.MPI_SOURCE, kAliveTag, comm_, MPI_STATUS_IGNORE);
    if (st.MPI_SOURCE > 0 && st.MPI_SOURCE < size_) seen[static_cast<std::size_t>(st.MPI_SOURCE)] = 1;
  }
  std::vector<int> alive{0};
  for (int r = 1; r < size_; ++r)
    if (seen[static_cast<std::size_t>(r)]) alive.push_back(r);
  return alive;
}

void MpiComm::abort_job(int code) { MPI_Abort(MPI_COMM_WORLD, code); std::_Exit(code); }

int MpiComm::next_tag() {
  tag_seq_ = (tag_seq_ + 1) % 1000;
  return kTagBase + 2 * tag_seq_;
}

std::vector<std::optional<std::string>> MpiComm::gather(const std::string& blob,
                                                        const Deadline& deadline) {
  const int tag = next_tag();
  fault_point("gather", rank_);
  // A step that times out leaves its requests posted: MPI may still read or write their buffers
  // later (found by ASan: a late message landing in a freed vector). Those buffers live on the
  // heap and are deliberately leaked when the deadline passes.
  if (rank_ != 0) {
    auto out_msg = std::make_unique<std::pair<std::uint64_t, std::string>>(blob.size(), blob);
    std::vector<MPI_Request> reqs(2, MPI_REQUEST_NULL);
    MPI_Isend(&out_msg->first, 1, MPI_UINT64_T, 0, tag, comm_, &reqs[0]);
    MPI_Isend(out_msg->second.data(), static_cast<int>(out_msg->second.size()), MPI_BYTE, 0, tag + 1, comm_, &reqs[1]);
    if (!wait_all(reqs, deadline).empty()) {
      mark_broken();
      (void)out_msg.release();
    }
    return {};
  }
  std::vector<std::optional<std::string>> out(static_cast<std::size_t>(size_));
  out[0] = blob;
  struct Pending {
    std::vector<std::uint64_t> sizes;
    std::vector<std::string> buf;
  };
  auto pending = std::make_unique<Pending>();
  std::vector<std::uint64_t>& sizes = pending->sizes;
  sizes.assign(static_cast<std::size_t>(size_), 0);
  std::vector<MPI_Request> size_req(static_cast<std::size_t>(size_), MPI_REQUEST_NULL);
  std::vector<MPI_Request> data_req(static_cast<std::size_t>(size_), MPI_REQUEST_NULL);
  std::vector<std::string>& buf = pending->buf;
  buf.resize(static_cast<std::size_t>(size_));
  std::vector<char> state(static_cast<std::size_t>(size_), 0);  // 0 size pending, 1 data pending, 2 done
  for (int r = 1; r < size_; ++r) MPI_Irecv(&sizes[r], 1, MPI_UINT64_T, r, tag, comm_, &size_req[r]);
  state[0] = 2;
  int remaining = size_ - 1;
  while (remaining > 0) {
    bool progressed = false;
    for (int r = 1; r < size_; ++r) {
      int flag = 0;
      if (state[r] == 0) {
        MPI_Test(&size_req[r], &flag, MPI_STATUS_IGNORE);
        if (flag) {
          buf[r].resize(sizes[r]);
          MPI_Irecv(buf[r].data(), static_cast<int>(sizes[r]), MPI_BYTE, r, tag + 1, comm_, &data_req[r]);
          state[r] = 1;
          progressed = true;
        }
      }
      if (state[r] == 1) {
        MPI_Test(&data_req[r], &flag, MPI_STATUS_IGNORE);
        if (flag) {
          out[r] = std::move(buf[r]);
          state[r] = 2;
          --remaining;
          progressed = true;
        }
      }
    }
    if (remaining == 0) break;
    if (deadline.expired()) {
      mark_broken();
      (void)pending.release();  // posted receives may still land in it
      break;
    }
    if (!progressed) poll_pause();
  }
  return out;
}

bool MpiComm::broadcast(std::string& blob, const Deadline& deadline) {
  std::vector<int> everyone(static_cast<std::size_t>(size_));
  std::iota(everyone.begin(), everyone.end(), 0);
  return broadcast_among(blob, 0, everyone, next_tag(), deadline);
}

bool MpiComm::barrier(const Deadline& deadline) {
  std::vector<MPI_Request> req(1);
  MPI_Ibarrier(comm_, req.data());
  if (!wait_all(req, deadline).empty()) {
    mark_broken();
    return false;
  }
  return true;
}

int MpiComm::reserve_tags(int n) {
  if (n > 16) throw Error("reserve_tags: at most 16 tags in a block");
  block_seq_ = (block_seq_ + 1) % 100;
  return kBlockTagBase + 16 * block_seq_;
}

std::vector<std::optional<std::string>> MpiComm::gather_among(const std::string& blob, int root,
                                                              const std::vector<int>& members, int tag,
                                                              const Deadline& deadline) {
  // As gather(), among some ranks: buffers of a step that times out are leaked on purpose.
  if (rank_ != root) {
    auto out_msg = std::make_unique<std::pair<std::uint64_t, std::string>>(blob.size(), blob);
    std::vector<MPI_Request> reqs(2, MPI_REQUEST_NULL);
    MPI_Isend(&out_msg->first, 1, MPI_UINT64_T, root, tag, comm_, &reqs[0]);
    MPI_Isend(out_msg->second.data(), static_cast<int>(out_msg->second.size()), MPI_BYTE, root, tag + 1, comm_, &reqs[1]);
    if (!wait_all(reqs, deadline).empty()) {
      mark_broken();
      (void)out_msg.release();
    }
    return {};
  }
  const std::size_t n = members.size();
  std::vector<std::optional<std::string>> out(n);
  struct Pending {
    std::vector<std::uint64_t> sizes;
    std::vector<std::string> buf;
  };
  auto pending = std::make_unique<Pending>();
  pending->sizes.assign(n, 0);
  pending->buf.resize(n);
  std::vector<MPI_Request> size_req(n, MPI_REQUEST_NULL), data_req(n, MPI_REQUEST_NULL);
  std::vector<char> state(n, 0);  // 0 size pending, 1 data pending, 2 done
  std::size_t remaining = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (members[i] == root) {
      out[i] = blob;
      state[i] = 2;
      continue;
    }
    MPI_Irecv(&pending->sizes[i], 1, MPI_UINT64_T, members[i], tag, comm_, &size_req[i]);
    ++remaining;
  }
  while (remaining > 0) {
    bool progressed = false;
    for (std::size_t i = 0; i < n; ++i) {
      int flag = 0;
      if (state[i] == 0) {
        MPI_Test(&size_req[i], &flag, MPI_STATUS_IGNORE);
        if (flag) {
          pending->buf[i].resize(pending->sizes[i]);
          MPI_Irecv(pending->buf[i].data(), static_cast<int>(pending->sizes[i]), MPI_BYTE, members[i], tag + 1, comm_,
                    &data_req[i]);
          state[i] = 1;
          progressed = true;
        }
      }
      if (state[i] == 1) {
        MPI_Test(&data_req[i], &flag, MPI_STATUS_IGNORE);
        if (flag) {
          out[i] = std::move(pending->buf[i]);
          state[i] = 2;
          --remaining;
          progressed = true;
        }
      }
    }
    if (remaining == 0) break;
    if (deadline.expired()) {
      mark_broken();
      (void)pending.release();
      break;
    }
    if (!progressed) poll_pause();
  }
  return out;
}

bool MpiComm::broadcast_among(std::string& blob, int root, const std::vector<int>& members, int tag,
                              const Deadline& deadline) {
  auto msg = std::make_unique<std::pair<std::uint64_t, std::string>>(0, std::string());
  std::vector<MPI_Request> reqs;
  if (rank_ == root) {
    msg->first = blob.size();
    msg->second = blob;
    reqs.reserve(2 * members.size());
    for (int r : members) {
      if (r == root) continue;
      reqs.emplace_back();
      MPI_Isend(&msg->first, 1, MPI_UINT64_T, r, tag, comm_, &reqs.back());
      reqs.emplace_back();
      MPI_Isend(msg->second.data(), static_cast<int>(msg->first), MPI_BYTE, r, tag + 1, comm_, &reqs.back());
    }
    if (!wait_all(reqs, deadline).empty()) {
      mark_broken();
      (void)msg.release();
      return false;
    }
    return true;
  }
  reqs.assign(1, MPI_REQUEST_NULL);
  MPI_Irecv(&msg->first, 1, MPI_UINT64_T, root, tag, comm_, reqs.data());
  if (!wait_all(reqs, deadline).empty()) {
    mark_broken();
    (void)msg.release();
    return false;
  }
  msg->second.resize(msg->first);
  MPI_Irecv(msg->second.data(), static_cast<int>(msg->first), MPI_BYTE, root, tag + 1, comm_, reqs.data());
  if (!wait_all(reqs, deadline).empty()) {
    mark_broken();
    (void)msg.release();
    return false;
  }
  blob = std::move(msg->second);
  return true;
}

}  // namespace ncd::dist
