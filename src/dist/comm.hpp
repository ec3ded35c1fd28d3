// SPDX-License-Identifier: Apache-2.0
#pragma once
/// The job as the tool sees it: ranks, their hosts, and deadline-bounded gathers to rank 0.
/// One interface for a single process (no launcher) and for an MPI job.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dist/deadline.hpp"

namespace ncd::dist {

/// Where each rank runs. Ranks with the same host name form one node.
struct NodeMap {
  std::vector<std::string> rank_host;  ///< host name of each rank
  std::vector<int> rank_node;          ///< node index of each rank
  std::vector<int> rank_local;         ///< rank within its node
  std::vector<std::string> node_names; ///< node index -> host name (in order of first rank)
  std::vector<std::vector<int>> node_ranks;
  /// Builds the map from each rank's host name.
  static NodeMap from_hosts(std::vector<std::string> hosts);
  [[nodiscard]] bool is_leader(int rank) const { return rank_local.at(rank) == 0; }
};

/// Ranks that did not answer a step before its deadline.
struct Timeout {
  std::vector<int> missing_ranks;
};

class Comm {
 public:
  virtual ~Comm() = default;
  [[nodiscard]] virtual int rank() const = 0;
  [[nodiscard]] virtual int size() const = 0;
  [[nodiscard]] virtual bool is_mpi() const = 0;
  [[nodiscard]] const NodeMap& nodes() const { return nodes_; }
  [[nodiscard]] const std::string& host() const { return nodes_.rank_host.at(rank()); }

  /// Gathers every rank's blob at rank 0 before `deadline`. On rank 0: one entry per rank,
  /// nullopt for ranks that did not answer. Elsewhere: empty. Memory on rank 0 is the sum of
  /// the blobs, nothing more.
  virtual std::vector<std::optional<std::string>> gather(const std::string& blob,
                                                         const Deadline& deadline) = 0;
  /// Sends rank 0's blob to every rank. Returns false on expiry.
  virtual bool broadcast(std::string& blob, const Deadline& deadline) = 0;
  /// Sleeping barrier. Returns false on expiry.
  virtual bool barrier(const Deadline& deadline) = 0;
  /// A block of `n` message tags for one multi-step exchange among some of the ranks
  /// (topo_gather.hpp). Every rank calls it once per exchange, in the same order, as for gather.
  virtual int reserve_tags(int /*n*/) { return 0; }
  /// Gathers the blobs of `members` (rank ids, `root` among them) at `root` before `deadline`,
  /// with message tags `tag` and `tag + 1`. Only members call it. On root: one entry per member,
  /// in the order of `members`, nullopt for those that did not answer; elsewhere: empty.
  virtual std::vector<std::optional<std::string>> gather_among(const std::string& blob, int root,
                                                               const std::vector<int>& members, int tag,
                                                               const Deadline& deadline) {
    (void)root, (void)members, (void)tag, (void)deadline;
    return {blob};
  }
  /// Sends `root`'s blob to `members` (tags `tag`, `tag + 1`). Only members call it. Returns
  /// false on expiry.
  virtual bool broadcast_among(std::string& blob, int root, const std::vector<int>& members, int tag,
                               const Deadline& deadline) {
    (void)blob, (void)root, (void)members, (void)tag, (void)deadline;
    return true;
  }
  /// True once a step has expired: the MPI state may be stuck, so the job must end with
  /// abort_job() after the report is written, not with a collective finalize.
  [[nodiscard]] bool broken() const { return broken_; }
  void mark_broken() { broken_ = true; }
  /// After an interrupt (termination_requested()), on rank 0: the ranks that announced that
  /// they were still alive when the signal came, waiting at most `max_wait_s` for all of them.
  /// A rank missing here died (or is stopped); the others were merely interrupted.
  [[nodiscard]] virtual std::vector<int> alive_after_interrupt(double /*max_wait_s*/) { return {}; }
  /// Ends the whole job at once (after a timeout, when peers may be stuck): MPI_Abort under
  /// MPI; without one, this process exits.
  [[noreturn]] virtual void abort_job(int code);
  /// Non-empty when the ranks were started with different commands or options (MPMD launch,
  /// different scripts): one line naming the groups of ranks and what each runs.
  [[nodiscard]] const std::string& disagreement() const { return disagreement_; }

 protected:
  NodeMap nodes_;
  bool broken_ = false;
  std::string disagreement_;
};

/// What this process was asked to do (command and options that change measurements, not the
/// output paths), compared across ranks at start-up. Set by the CLI before the job starts.
void set_job_signature(std::string signature);
[[nodiscard]] const std::string& job_signature();
/// Called from sleeping polls once termination_requested(): tells rank 0 this rank is alive
/// (set by MpiComm; idempotent).
void announce_alive_if_interrupted();
void set_alive_announcer(void (*announce)());

/// A one-rank job: the tool run without a launcher.
class SingleComm final : public Comm {
 public:
  SingleComm();
  [[nodiscard]] int rank() const override { return 0; }
  [[nodiscard]] int size() const override { return 1; }
  [[nodiscard]] bool is_mpi() const override { return false; }
  std::vector<std::optional<std::string>> gather(const std::string& blob, const Deadline&) override {
    return {blob};
  }
  bool broadcast(std::string&, const Deadline&) override { return true; }
  bool barrier(const Deadline&) override { return true; }
};

/// True when this process was started by mpirun/mpiexec/srun with a PMI(x) environment.
[[nodiscard]] bool launched_by_mpi_launcher();

/// The job's communicator: MPI's when a launcher started this process (MPI initialised and
/// every rank's host learnt within `deadline`), else a single rank. A build without MPI
/// (NCD_WITH_MPI=OFF) started by a launcher: UnavailableError.
[[nodiscard]] std::unique_ptr<Comm> make_world_comm(const Deadline& deadline);

/// The MPI library's version line ("none (built without MPI)" in a build without it).
[[nodiscard]] std::string mpi_library_version();

/// This machine's host name (gethostname).
[[nodiscard]] std::string local_hostname();

}  // namespace ncd::dist
