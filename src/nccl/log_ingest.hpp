// SPDX-License-Identifier: Apache-2.0
#pragma once
/// Reading NCCL debug logs: LogIngest streams files (plain, .gz, stdin) into a RunLog and
/// classifies each error-bearing message (Sig). The rules that turn a RunLog into findings live
/// in checks/ (checks/log_rules.hpp).
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "nccl/log_model.hpp"

namespace ncd::nccl {

/// What an error-bearing message means (LogEvent::sig).
enum Sig : int {
  kSigNone = 0,
  kSigDuplicateGpu,
  kSigShm,
  kSigOom,
  kSigDriverTooOld,
  kSigArch,
  kSigCuda802,
  kSigNvls,
  kSigCudaOther,
  kSigMaxSharedMem,
  kSigReversePath,
  kSigPathPattern,
  kSigIpcOpen,
  kSigIbvOpen,
  kSigIbNoDevice,
  kSigRegMr,
  kSigModifyQp,
  kSigIbCompletion,
  kSigGidChange,
  kSigAsyncWq,
  kSigAsyncOther,
  kSigIbverbsMissing,
  kSigOfiProvider,
  kSigOfiShm,
  kSigConnRefused,
  kSigNoRoute,
  kSigConnTimeout,
  kSigNetUnreachable,
  kSigBadFamily,
  kSigNoSocketIf,
  kSigPeerClosed,
  kSigProxyFailed,
  kSigVersionMismatch,
  kSigNoTransport,
  kSigGdrDisabledHca,
  kSigTorchError,
  kSigTrace,
  kSigOther,
  // Added by the structural reading (issue 15); values are in-memory only.
  kSigPortError,      ///< IB async event: port error / link down (a flapping link)
  kSigCollNet,        ///< CollNet/SHARP could not initialise; NCCL falls back
  kSigTopoXml,        ///< a topology XML lacks an attribute / cannot be read
  kSigGraphImport,    ///< an injected graph (NCCL_GRAPH_FILE) names devices that are not there
  kSigOfiError,       ///< aws-ofi-nccl / libfabric failure
  kSigShmCumem,       ///< SHM over cuMem host memory failed (CUDA error in the SHM transport)
  kSigFingerprint,    ///< PyTorch TORCH_DISTRIBUTED_DEBUG=DETAIL collective fingerprint mismatch
  kSigSocketType,     ///< socketFinalizeAccept: wrong type (peers use different transports)
  kSigPluginLoad,     ///< a net plugin exists but the dynamic loader failed to load it
  kSigCount
};

/// Classifies an error message (a WARN's text, a `Last error:` line, an nccl-tests failure).
/// `code` receives the numeric error where the message has one (IB completion status, errno).
[[nodiscard]] Sig classify_message(std::string_view msg, std::string_view src, int* code);

/// Streams inputs into a RunLog. Memory grows with hosts, ranks, channels and distinct events;
/// lines are never kept.
class LogIngest {
 public:
  LogIngest();
  ~LogIngest();
  LogIngest(const LogIngest&) = delete;
  LogIngest& operator=(const LogIngest&) = delete;

  /// Reads a file ("-" is stdin; gzip is detected by its magic bytes). Throws InputError
  /// naming the file when it is missing, a directory, empty, binary or unreadable.
  void add_file(const std::string& path);
  /// Feeds in-memory text as one input named `name` (tests, fuzzing). Throws like add_file
  /// for empty or binary text.
  void add_text(std::string_view text, const std::string& name);
  /// Lines in all inputs that carried NCCL information.
  [[nodiscard]] long relevant_lines() const;
  [[nodiscard]] const RunLog& log() const;
  [[nodiscard]] RunLog take();

 private:
  struct State;
  std::unique_ptr<State> st_;
};

}  // namespace ncd::nccl
