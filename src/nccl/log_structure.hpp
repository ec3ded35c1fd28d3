// SPDX-License-Identifier: Apache-2.0
#pragma once
/// What every NCCL failure line carries, read from its structure rather than its wording: the
/// source file that raised it and so the subsystem, the codes in the message (CUDA errors,
/// errno, IB work-completion status, libfabric errors, ncclResult of an error trace), and a fix
/// hint chosen from what is known. Pure functions; the analyser uses them for every failure,
/// including messages no rule has seen.
#include <string>
#include <string_view>

namespace ncd::nccl {

/// NCCL's subsystems, as its source tree divides them.
enum class Subsystem {
  kUnknown,
  kBootstrap,
  kSocket,
  kNetIb,       ///< internal IB verbs transport (net_ib, ibvwrap), also RoCE
  kNetSocket,   ///< internal socket transport
  kNet,         ///< the NET transport layer (net.cc, include/net.h)
  kNetPlugin,   ///< an external net plugin (aws-ofi-nccl, nccl-rdma-sharp-plugins, ...)
  kProxy,
  kShm,
  kP2p,
  kCuMem,       ///< CUDA driver wrapper / cuMem allocations (cudawrap, alloc.h)
  kNvls,
  kCollNet,
  kGraph,       ///< topology detection, XML, graph search
  kTuning,
  kInit,
  kGroup,
  kTransport,   ///< transport selection and setup (transport.cc, channel.cc)
  kEnqueue,     ///< enqueue and argument checks
  kRas,
  kNvml,
  kRegister,    ///< user buffer registration
  kFramework,   ///< PyTorch / DeepSpeed / Horovod / vLLM text carrying the error
};

[[nodiscard]] std::string_view to_string(Subsystem s);

/// The subsystem of a source location ("transport/nvls.cc:251", "misc/shmutils.cc",
/// "nccl_net_ofi_rdma.c:123", "ib_plugin.c:978"); the message refines it when the file says
/// little (e.g. "NET/OFI ..." from a plugin function name).
[[nodiscard]] Subsystem subsystem_of(std::string_view src, std::string_view msg = {});

/// The codes a failure message carries. Absent values are -1 / "".
struct DecodedCodes {
  int cuda = -1;            ///< CUDA error number (cudaError_t / CUresult)
  std::string cuda_name;    ///< "peer access is not supported between these two devices"
  int err_no = -1;          ///< errno
  std::string errno_name;   ///< "ECONNRESET"
  int ib_status = -1;       ///< ibv_wc_status
  std::string ib_status_name;  ///< "IBV_WC_RETRY_EXC_ERR"
  int ofi = 0;              ///< libfabric return code (negative errno) or completion error
  std::string ofi_text;     ///< "UNDELIVERABLE"
  [[nodiscard]] bool any() const { return cuda >= 0 || err_no >= 0 || ib_status >= 0 || ofi != 0 || !ofi_text.empty(); }
  /// "CUDA 217 (peer access is not supported ...)", "errno 104 ECONNRESET", joined with ", ".
  [[nodiscard]] std::string text() const;
};

[[nodiscard]] DecodedCodes decode_codes(std::string_view msg);

/// ncclResult_t names ("unhandled cuda error" for 1, ...); "" for unknown values.
[[nodiscard]] std::string_view nccl_result_name(int r);

/// A fix hint for a failure in `s` with `codes`: the most specific of what the code says and
/// what the subsystem usually needs.
[[nodiscard]] std::string hint_for(Subsystem s, const DecodedCodes& codes);

}  // namespace ncd::nccl
