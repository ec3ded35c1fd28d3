// SPDX-License-Identifier: Apache-2.0
#pragma once
/// Classifies one physical line of a job's output: NCCL debug records (every prefix drift from
/// 2.0 to 2.28, launcher and CI prefixes, stripped prefixes), and the lines that carry NCCL
/// errors elsewhere (PyTorch, nccl-tests, Slurm). Zero allocation: every field is a view into
/// the line. No regex; dispatch on the first tokens.
#include <cstdint>
#include <string_view>

namespace ncd::nccl {

enum class LineKind : std::uint8_t {
  kBlank,
  kOther,            ///< application output, tracebacks, anything else
  kNcclInfo,         ///< `host:pid:tid [dev] NCCL INFO msg` (or pre-2.3 `[dev] INFO msg`)
  kNcclWarn,         ///< `host:pid:tid [dev] file.cc:N NCCL WARN msg`
  kNcclOther,        ///< NCCL TRACE / CALL / ABORT records
  kVersionBanner,    ///< bare `NCCL version 2.7.8+cuda11.0`
  kTorchError,       ///< `... NCCL error in: file:N, <reason>, NCCL version X` / `ncclXxxError: ...`
  kLastErrorHeader,  ///< `Last error:` (the NCCL message follows on the next line)
  kWatchdog,         ///< PyTorch `WorkNCCL(SeqNum=.., OpType=..)` / `Timeout at NCCL work: N`
  kTestsFailure,     ///< nccl-tests `Test NCCL failure f:N 'msg'` / `Cuda failure f:N 'msg'`
  kTestsHeader,      ///< `# nThread 1 nGpus 8 ...`
  kTestsDevice,      ///< `#  Rank  0 Group  0 Pid 123 on host device  0 [0x1b] NAME`
  kTestsRow,         ///< a result row: size count type redop [root] time algbw busbw #wrong ...
  kTestsAvg,         ///< `# Avg bus bandwidth    : 70.742`
  kTestsComment,     ///< any other `#` line
  kNvidiaSmi,        ///< `| NVIDIA-SMI 384.81   Driver Version: 384.81 |`
  kSlurm,            ///< `cpu-bind=...`, `srun: error: ...`
};

/// One parsed line. Views point into the text given to classify_line.
struct LogLine {
  LineKind kind = LineKind::kOther;
  std::string_view host;      ///< "" when the prefix was stripped
  long pid = -1;
  long tid = -1;
  int dev = -1;               ///< the `[cudaDev]` field (may be garbage when CUDA failed)
  int launcher_rank = -1;     ///< Open MPI `[1,3]<stdout>:` -> 3, `[rank3]:` -> 3
  std::string_view src;       ///< `init.cc:497` on WARN lines
  std::string_view msg;       ///< the message after the level token (or the carried text)
  std::string_view prefix;    ///< everything before the NCCL prefix (launcher, timestamps)
  bool old_format = false;    ///< no `NCCL` token (NCCL <= 2.2)
};

/// Classifies and splits `line` (without its newline).
[[nodiscard]] LogLine classify_line(std::string_view line);

/// When a physical line holds two records (a terminal pasted with padding), the offset where
/// the second record starts; std::string_view::npos otherwise. `l` is `line` classified.
[[nodiscard]] std::size_t second_record(std::string_view line, const LogLine& l);

/// An error-trace line `file.cc:N -> R[ (text)][ [Async thread]]`.
struct TraceLine {
  std::string_view file;  ///< "misc/socket.cc"
  int line = 0;
  int result = -1;        ///< ncclResult_t
};
/// Parses a message as an error-trace line; false when it is not one.
[[nodiscard]] bool parse_trace(std::string_view msg, TraceLine& out);

/// A connection line's fields: `Channel 03/0 : 5[5] -> 12[4] [send] via NET/IB/3/GDRDMA`,
/// `Ring 00 : 2[3d000] -> 3[3e000] via direct shared memory`, `0 -> 1 via P2P/IPC` (2.0).
struct ConnLine {
  int channel = -1;
  int conn_index = 0;
  int from = -1;
  int to = -1;
  std::string_view from_dev;
  std::string_view to_dev;
  int dir = 0;  ///< 0 none, 1 send, 2 receive
  std::string_view via;   ///< text after "via "
  bool ring_syntax = false;
};
/// Parses a channel/ring connection message; false when it is not one.
[[nodiscard]] bool parse_connection(std::string_view msg, ConnLine& out);

/// Parses a ring listing (`Channel 00/04 :    0   1   2` or `Ring 00 :  0 1`): the channel and
/// the rank order. False when it is not one. `ranks` is filled up to `max` entries.
[[nodiscard]] bool parse_ring_listing(std::string_view msg, int& channel, int* ranks, int max,
                                      int& count);

/// Removes launcher and CI prefixes from the front of a non-NCCL line: Open MPI
/// `[1,3]<stdout>:`, PyTorch `[rank3]:`, TorchX `[trainer0|0]:`, Ray `(pid=N) `, CI timestamps
/// `[2026-04-22 21:34:20] `, ANSI residue `[0m `, CloudWatch `| 2024-...Z | `, pdsh `node01: `.
[[nodiscard]] std::string_view strip_launcher(std::string_view line);

/// Small helpers shared with the analyser (inline: they run on every line).
[[nodiscard]] inline bool starts_with(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.compare(0, p.size(), p) == 0;
}
[[nodiscard]] inline bool contains(std::string_view s, std::string_view p) {
  return s.find(p) != std::string_view::npos;
}
/// Parses a leading (optionally signed) decimal integer; false when there is none.
[[nodiscard]] bool parse_int(std::string_view s, long& out, std::size_t* used = nullptr);

}  // namespace ncd::nccl
