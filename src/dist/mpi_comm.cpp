// SPDX-License-Identifier: Apache-2.0
#include "dist/mpi_comm.hpp"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <utility>

#include "core/error.hpp"
#include "core/text.hpp"
#include "dist/fault.hpp"

namespace ncd::dist {
namespace {
constexpr int kHostLen = 256;
constexpr int kTagBase = 17000;
}  // namespace

bool launched_by_mpi_launcher() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE", "MV2_COMM_WORLD_SIZE"})
    if (std::getenv(v)) return true;
  return false;
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

  std::string me = local_hostname();
  std::vector<char> mine(kHostLen, 0), all(static_cast<std::size_t>(kHostLen) * size_, 0);
  std::memcpy(mine.data(), me.data(), std::min<std::size_t>(me.size(), kHostLen - 1));
  std::vector<MPI_Request> req(1);
  MPI_Iallgather(mine.data(), kHostLen, MPI_CHAR, all.data(), kHostLen, MPI_CHAR, comm_, req.data());
  if (!wait_all(req, deadline).empty()) {
    mark_broken();
    throw Error("MPI start-up: not every rank answered the host exchange within the deadline");
  }
  std::vector<std::string> hosts;
  for (int r = 0; r < size_; ++r) hosts.emplace_back(all.data() + static_cast<std::size_t>(r) * kHostLen);
  nodes_ = NodeMap::from_hosts(std::move(hosts));
}

MpiComm::~MpiComm() {
  if (broken()) return;  // peers may be stuck: a collective finalize could hang
  if (comm_ != MPI_COMM_NULL) MPI_Comm_free(&comm_);
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
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
  const int tag = next_tag();
  // Heap buffers, leaked on timeout (see gather).
  auto msg = std::make_unique<std::pair<std::uint64_t, std::string>>(0, std::string());
  if (rank_ == 0) {
    msg->first = blob.size();
    msg->second = blob;
    std::vector<MPI_Request> reqs;
    for (int r = 1; r < size_; ++r) {
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
  std::vector<MPI_Request> req(1);
  MPI_Irecv(&msg->first, 1, MPI_UINT64_T, 0, tag, comm_, req.data());
  if (!wait_all(req, deadline).empty()) {
    mark_broken();
    (void)msg.release();
    return false;
  }
  msg->second.resize(msg->first);
  MPI_Irecv(msg->second.data(), static_cast<int>(msg->first), MPI_BYTE, 0, tag + 1, comm_, req.data());
  if (!wait_all(req, deadline).empty()) {
    mark_broken();
    (void)msg.release();
    return false;
  }
  blob = std::move(msg->second);
  return true;
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

}  // namespace ncd::dist
