// SPDX-License-Identifier: Apache-2.0
#pragma once
/// The run model rebuilt from NCCL debug logs: hosts, ranks, versions, interfaces, transports
/// per channel and peer, rings, trees, env overrides, warnings and how far each process got.
/// Pure data (no I/O); filled by LogIngest (log_ingest.hpp), read by the checks and by
/// `nccl-doctor rings`. Memory grows with ranks, channels and distinct events, never with the
/// size of the input.
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace ncd::nccl {

/// A position in the input: index into RunLog::files and the 1-based physical line number.
struct SourceRef {
  int file = -1;
  long line = 0;
};

/// A quoted input line: the record as printed and where it is (evidence for findings).
struct Quote {
  std::string text;
  SourceRef at;
  [[nodiscard]] bool empty() const { return text.empty(); }
};

/// An NCCL release ("2.18.3"); major 0 means unknown.
struct NcclVersion {
  int major = 0;
  int minor = 0;
  int patch = 0;
  std::string text;  ///< as printed, e.g. "2.7.8+cuda11.0"
  [[nodiscard]] bool known() const { return major > 0; }
  /// Compares major.minor.patch; an unknown version compares below everything.
  [[nodiscard]] bool at_least(int ma, int mi, int pa = 0) const;
  [[nodiscard]] bool before(int ma, int mi, int pa = 0) const { return known() && !at_least(ma, mi, pa); }
  /// Parses "2.18.3", "2.7.8+cuda11.0", "2.20.3-1"; nullopt when it does not start with a version.
  [[nodiscard]] static std::optional<NcclVersion> parse(std::string_view s);
};

/// NCCL's path type name for a numeric value printed by a given version (reference §1.2: the
/// numbers changed meaning across releases). Unknown version: the 2.27.5+ table.
[[nodiscard]] std::string path_type_name(int value, const NcclVersion& v);

/// How a pair of ranks is connected.
enum class TransportKind { kUnknown, kP2P, kShm, kNet, kCollNet };
[[nodiscard]] std::string_view to_string(TransportKind k);

/// Which side printed a connection line (NET lines say [send]/[receive]; P2P/SHM lines are
/// printed by the sender).
enum class ConnDir { kNone, kSend, kRecv };

/// One transport connection of one channel, as NCCL logged it:
/// `Channel 03/0 : 5[5] -> 12[4] [send] via NET/IB/3/GDRDMA`. Stable contract: `rings` reuses it.
struct Connection {
  int channel = -1;
  int conn_index = 0;          ///< the "/N" after the channel (0 before 2.14)
  int from_rank = -1;
  int to_rank = -1;
  std::string from_dev;        ///< the bracketed id: busId hex (2.5-2.18.2) or nvmlDev (2.18.3+)
  std::string to_dev;
  std::string transport;       ///< as printed after "via ": "P2P/IPC/read", "SHM/direct/direct", "NET/IB/3/GDRDMA"
  TransportKind kind = TransportKind::kUnknown;
  std::string net;             ///< NET only: "IB", "Socket", "IBext_v8", "AWS Libfabric", ...
  int net_dev = -1;            ///< NET only: the NET device index
  bool gdr = false;            ///< NET only: "/GDRDMA" present (GPUDirect RDMA in use)
  int proxy_rank = -1;         ///< NET only: PXN proxy rank, "NET/IB/0(4)"
  ConnDir dir = ConnDir::kNone;
  bool ring_syntax = false;    ///< printed as "Ring NN" (NCCL <= 2.6)
  std::string host;            ///< host that printed it
  long pid = -1;               ///< process that printed it
  SourceRef at;
  std::string text;            ///< the line as printed (first occurrence)
};

/// One rank's place in one tree channel (`Trees [0] 1/-1/-1->0->-1`).
struct TreeLink {
  int channel = -1;
  int rank = -1;
  int up = -1;
  std::vector<int> down;
};

/// A socket interface NCCL listed or chose (`eth0:10.1.2.3<0>`).
struct NetInterface {
  std::string name;
  std::string address;  ///< without the "<port>" suffix; may be redacted ("X.X.X.X")
  bool ipv6 = false;
  bool link_local = false;  ///< fe80::/10
  bool loopback = false;    ///< lo or 127.0.0.0/8 or ::1
  bool ipoib = false;       ///< ib*, ibp*, ibs* names (IP over InfiniBand)
  bool virtual_if = false;  ///< docker*, veth*, virbr*, br-*, cni*, flannel*, cali*, vxlan*, tun/tap
};

/// An RDMA device NCCL listed (`[0]mlx5_0:1/IB`, `[8]mlx5_8:1/RoCE`).
struct RdmaDevice {
  int index = -1;
  std::string name;  ///< "mlx5_0:1"
  std::string link_layer;  ///< "IB" or "RoCE"
};

/// How far a process got, in order.
enum class Stage {
  kNone = 0,
  kStarted,        ///< any NCCL line
  kBootstrap,      ///< a Bootstrap/NET interface was chosen
  kInitStart,      ///< "Init START" / "comm 0x.. rank r nranks n" seen
  kTopology,       ///< topology/graph/ring-order lines
  kConnecting,     ///< "Channel .. via" lines
  kConnected,      ///< "Connected all rings/trees"
  kInitComplete,   ///< "Init COMPLETE"
  kRunning,        ///< collectives or nccl-tests result rows
  kFinished,       ///< "Destroy COMPLETE" / nccl-tests summary
};
[[nodiscard]] std::string_view to_string(Stage s);

/// What the log shows of one process (host, pid): its ranks, devices and progress.
struct ProcessInfo {
  std::string host;
  long pid = -1;
  std::set<int> ranks;
  std::set<int> cuda_devs;
  Stage stage = Stage::kNone;
  SourceRef last_at;
  std::string last_line;  ///< the last NCCL line it printed (for "where did it stop")
  bool failed = false;    ///< printed a WARN or an error trace
  std::string address;    ///< its bootstrap address ("10.0.0.1"): tells apart machines sharing a host name
  Quote address_quote;    ///< the line that gave it
};

/// One rank of a communicator (`comm 0x.. rank 3 nranks 16 cudaDev 3 busId 1b000`).
struct RankInfo {
  int rank = -1;
  int nranks = 0;
  std::string host;
  long pid = -1;
  int cuda_dev = -1;
  std::string bus_id;
  std::string comm;  ///< the comm pointer as printed
  Stage stage = Stage::kNone;
  SourceRef init_start;
  SourceRef init_complete;
};

/// NET plugin state as logged on a host.
enum class PluginState { kUnknown, kInternal, kExternal };

/// Everything learned about one host.
struct HostInfo {
  std::string name;  ///< "" for lines without a host prefix
  std::set<long> pids;
  std::set<int> ranks;
  std::set<std::string> versions;  ///< NCCL versions printed on this host (normally one)
  std::string cuda_driver;         ///< "12040" from cudaDriverVersion, or "384.81" (nvidia-smi)
  std::vector<NetInterface> bootstrap_ifs;
  std::vector<NetInterface> socket_ifs;
  std::vector<NetInterface> oob_ifs;  ///< NET/IB "OOB" interface
  std::vector<RdmaDevice> rdma_devs;
  std::set<std::string> networks;  ///< "Using network X": IB, Socket, IBext, AWS Libfabric ...
  PluginState plugin = PluginState::kUnknown;
  std::string plugin_text;         ///< external plugin path or name; "internal"
  std::string ofi_provider;        ///< aws-ofi-nccl "Selected Provider is X"
  std::map<std::string, std::string> env;  ///< NCCL_* set by environment
  int gdr_connections = 0;         ///< NET connections with /GDRDMA printed on this host
  int net_connections = 0;         ///< NET connections printed on this host
  int nvlink_paths = 0;            ///< NVL/NVB paths or P2P connections over NVLink seen
  Stage stage = Stage::kNone;      ///< the furthest stage of any process on it
  Stage min_stage = Stage::kNone;  ///< the least advanced process
  long lines = 0;
  long warns = 0;
  Quote bootstrap_quote;           ///< "Bootstrap : Using ..." (or the first "NET : Using interface")
  Quote socket_quote;              ///< "NET/Socket : Using ..."
  Quote ib_quote;                  ///< "NET/IB : Using ..." (or "NET/IB : No device found.")
  Quote network_quote;             ///< "Using network X"
  Quote plugin_quote;              ///< the NET plugin line
  Quote ofi_quote;                 ///< "NET/OFI Selected Provider is X"
  Quote last_quote;                ///< the last NCCL line of the host
  std::map<int, Quote> ib_mtus;    ///< QP MTU values in "NET/IB: Dev N Port P qpn Q mtu M" lines
  std::string plugin_error;        ///< dlerror text of a net plugin that exists but failed to load
};

/// An error-bearing line: an NCCL WARN, an error trace (`file.cc:N -> R`), a PyTorch
/// `Last error:` message, an nccl-tests failure, or an INFO line with diagnostic meaning.
enum class EventKind { kWarn, kTrace, kCarried, kInfoSignal };

struct LogEvent {
  EventKind kind = EventKind::kWarn;
  int sig = 0;           ///< the signature (log_ingest.hpp: Sig), 0 = unclassified
  std::string host;
  long pid = -1;
  long tid = -1;
  int dev = -1;
  int rank = -1;         ///< launcher or NCCL rank when the line says
  std::string src;       ///< "init.cc:497"
  std::string message;   ///< the text after "NCCL WARN " (or the carried message)
  std::string text;      ///< the record as printed (evidence)
  int result = -1;       ///< ncclResult_t of a trace line
  SourceRef at;
};

/// A PyTorch ProcessGroupNCCL watchdog report.
struct WatchdogEvent {
  int rank = -1;
  long seq = -1;
  std::string op_type;
  long numel_in = -1;
  long numel_out = -1;
  std::string text;
  SourceRef at;
};

/// One nccl-tests result row (out-of-place columns).
struct TestsRow {
  std::uint64_t bytes = 0;
  double time_us = 0;
  double algbw = 0;
  double busbw = 0;
  double busbw_inplace = 0;
  long wrong = 0;  ///< -1 when the column is "N/A"
  std::string text;
  SourceRef at;
};

/// What nccl-tests printed.
struct TestsRun {
  int headers = 0;                 ///< "# nThread" headers (one per independent run)
  int ngpus_per_proc = 0;
  std::vector<std::string> device_lines;  ///< "#  Rank  0 Group 0 Pid .. on host device 0 [..] NAME"
  std::map<int, std::set<std::string>> rank_hosts;  ///< header rank -> hosts claiming it
  std::vector<std::string> gpu_names;
  std::vector<TestsRow> peak_rows;  ///< the best row per size (bounded by distinct sizes)
  std::vector<std::pair<double, SourceRef>> avg_busbw;  ///< "# Avg bus bandwidth" values
  std::vector<std::string> avg_text;
  long rows = 0;
  long wrong_total = 0;
  std::vector<LogEvent> failures;  ///< "Test NCCL failure", "Cuda failure common.cu"
};

/// Who claims a (rank, nranks) pair: several hosts claiming rank 0 of the same size are
/// independent jobs (or separate sub-communicators).
struct RankClaim {
  std::set<std::string> hosts;
  std::vector<Quote> quotes;  ///< one per host (bounded)
};

/// An environment setting NCCL echoed.
struct EnvSetting {
  std::string name;
  std::string value;
  std::set<std::string> hosts;
  std::string text;
  SourceRef at;
};

/// The whole run as the logs show it.
struct RunLog {
  std::vector<std::string> files;
  std::map<std::string, HostInfo> hosts;
  std::map<std::pair<std::string, long>, ProcessInfo> processes;
  std::map<int, RankInfo> ranks;   ///< by NCCL rank of the largest communicator seen
  int nranks = 0;                  ///< largest nranks printed
  int nnodes = 0;                  ///< "nNodes N" (2.19+ comm layout line)
  NcclVersion version;             ///< the first banner; see HostInfo::versions for all
  Quote version_quote;             ///< evidence line of the version
  std::string version_hint;        ///< version range deduced from formats when no banner
  std::vector<Connection> connections;                 ///< deduplicated
  std::map<int, std::vector<int>> rings;               ///< channel -> ring order (rank 0's listing)
  std::vector<TreeLink> trees;                         ///< deduplicated by (channel, rank)
  std::map<std::string, EnvSetting> env;               ///< NCCL_* overrides by name
  std::vector<LogEvent> events;    ///< bounded: first few per (signature, host)
  std::map<int, long> sig_counts;  ///< occurrences per signature (all of them)
  std::vector<WatchdogEvent> watchdog;
  TestsRun tests;
  std::map<std::pair<int, int>, RankClaim> rank_claims;  ///< (rank, nranks) -> hosts
  std::vector<Quote> init_quotes;  ///< first few Init START/COMPLETE / "nranks" lines
  std::vector<Quote> ring_quotes;  ///< first few ring listings ("Channel 00/04 :  0 1 ...")
  std::string driver_version;      ///< nvidia-smi "Driver Version: X"
  Quote driver_quote;
  std::vector<std::string> gpu_names;  ///< from nccl-tests headers / nvidia-smi
  long total_lines = 0;
  long nccl_lines = 0;
  long warn_lines = 0;
  std::uint64_t bytes = 0;
  long truncated_lines = 0;        ///< lines longer than the reader's limit (cut)
  long split_records = 0;          ///< physical lines that held two records
  long dropped_events = 0;         ///< events counted but not stored (bound reached)
  /// Inputs read only in part: "FILE: gzip stream truncated after N bytes ..." (the lines
  /// before the cut are analysed).
  std::vector<std::string> damaged_inputs;

  /// Distinct named hosts (ignores lines without a host).
  [[nodiscard]] std::vector<std::string> host_names() const;
  /// True when the log shows ranks on more than one host (hosts, or NET connections).
  [[nodiscard]] bool multi_node() const;
  /// True when the log proves a single host (one host and no NET connection between ranks).
  [[nodiscard]] bool single_node() const;
  [[nodiscard]] std::string file_name(const SourceRef& r) const;
  /// "file:line" of a reference.
  [[nodiscard]] std::string where(const SourceRef& r) const;
};

void to_json(nlohmann::json& j, const Connection& c);
void to_json(nlohmann::json& j, const RunLog& r);

}  // namespace ncd::nccl
