// SPDX-License-Identifier: Apache-2.0
// Structural reading of NCCL failure lines: subsystem by source file, codes by their printed
// forms (see log_structure.hpp).
#include "nccl/log_structure.hpp"

#include <fmt/format.h>

#include <array>
#include <vector>

#include "nccl/log_line.hpp"

namespace ncd::nccl {

namespace {

struct CudaCode {
  int num;
  std::string_view text;  ///< cudaGetErrorString wording (lower case as NCCL prints it)
};
// The CUDA errors NCCL's failures print, by their runtime/driver message.
constexpr std::array<CudaCode, 24> kCuda{{
    {1, "invalid argument"},
    {2, "out of memory"},
    {3, "initialization error"},
    {4, "driver shutting down"},
    {35, "CUDA driver version is insufficient"},
    {46, "busy or unavailable"},
    {98, "invalid device function"},
    {100, "no CUDA-capable device is detected"},
    {101, "invalid device ordinal"},
    {200, "invalid kernel image"},
    {201, "invalid device context"},
    {209, "no kernel image is available"},
    {217, "peer access is not supported"},
    {304, "OS call failed"},
    {400, "invalid resource handle"},
    {401, "the operation cannot be performed in the present state"},
    {500, "named symbol not found"},
    {700, "an illegal memory access"},
    {719, "unspecified launch failure"},
    {800, "operation not permitted"},
    {801, "operation not supported"},
    {802, "system not yet initialized"},
    {803, "system has unsupported display driver / cuda driver combination"},
    {999, "unknown error"},
}};

struct Errno {
  int num;
  std::string_view name;
  std::string_view text;  ///< strerror wording
};
constexpr std::array<Errno, 22> kErrno{{
    {1, "EPERM", "Operation not permitted"},
    {2, "ENOENT", "No such file or directory"},
    {4, "EINTR", "Interrupted system call"},
    {11, "EAGAIN", "Resource temporarily unavailable"},
    {12, "ENOMEM", "Cannot allocate memory"},
    {13, "EACCES", "Permission denied"},
    {16, "EBUSY", "Device or resource busy"},
    {19, "ENODEV", "No such device"},
    {22, "EINVAL", "Invalid argument"},
    {24, "EMFILE", "Too many open files"},
    {28, "ENOSPC", "No space left on device"},
    {32, "EPIPE", "Broken pipe"},
    {95, "EOPNOTSUPP", "Operation not supported"},
    {97, "EAFNOSUPPORT", "Address family not supported"},
    {98, "EADDRINUSE", "Address already in use"},
    {101, "ENETUNREACH", "Network is unreachable"},
    {103, "ECONNABORTED", "Software caused connection abort"},
    {104, "ECONNRESET", "Connection reset by peer"},
    {110, "ETIMEDOUT", "Connection timed out"},
    {111, "ECONNREFUSED", "Connection refused"},
    {113, "EHOSTUNREACH", "No route to host"},
    {115, "EINPROGRESS", "Operation now in progress"},
}};

constexpr std::array<std::string_view, 23> kWcStatus{{
    "IBV_WC_SUCCESS", "IBV_WC_LOC_LEN_ERR", "IBV_WC_LOC_QP_OP_ERR", "IBV_WC_LOC_EEC_OP_ERR",
    "IBV_WC_LOC_PROT_ERR", "IBV_WC_WR_FLUSH_ERR", "IBV_WC_MW_BIND_ERR", "IBV_WC_BAD_RESP_ERR",
    "IBV_WC_LOC_ACCESS_ERR", "IBV_WC_REM_INV_REQ_ERR", "IBV_WC_REM_ACCESS_ERR", "IBV_WC_REM_OP_ERR",
    "IBV_WC_RETRY_EXC_ERR", "IBV_WC_RNR_RETRY_EXC_ERR", "IBV_WC_LOC_RDD_VIOL_ERR", "IBV_WC_REM_INV_RD_REQ_ERR",
    "IBV_WC_REM_ABORT_ERR", "IBV_WC_INV_EECN_ERR", "IBV_WC_INV_EEC_STATE_ERR", "IBV_WC_FATAL_ERR",
    "IBV_WC_RESP_TIMEOUT_ERR", "IBV_WC_GENERAL_ERR", "IBV_WC_TM_ERR"}};

bool has(std::string_view m, std::string_view p) { return m.find(p) != std::string_view::npos; }

// Text between the first pair of single quotes after `from`.
std::string_view quoted_after(std::string_view m, std::size_t from) {
  std::size_t q = m.find('\'', from);
  if (q == std::string_view::npos) return {};
  std::size_t q2 = m.find('\'', q + 1);
  if (q2 == std::string_view::npos) return m.substr(q + 1);
  return m.substr(q + 1, q2 - q - 1);
}

const Errno* errno_by_num(long n) {
  for (const auto& e : kErrno)
    if (e.num == n) return &e;
  return nullptr;
}

}  // namespace

std::string_view to_string(Subsystem s) {
  switch (s) {
    case Subsystem::kUnknown: return "NCCL";
    case Subsystem::kBootstrap: return "bootstrap";
    case Subsystem::kSocket: return "socket layer";
    case Subsystem::kNetIb: return "NET/IB transport";
    case Subsystem::kNetSocket: return "NET/Socket transport";
    case Subsystem::kNet: return "NET transport";
    case Subsystem::kNetPlugin: return "external net plugin";
    case Subsystem::kProxy: return "proxy thread";
    case Subsystem::kShm: return "SHM transport";
    case Subsystem::kP2p: return "P2P transport";
    case Subsystem::kCuMem: return "CUDA memory (cuMem)";
    case Subsystem::kNvls: return "NVLS (NVLink SHARP)";
    case Subsystem::kCollNet: return "CollNet (SHARP)";
    case Subsystem::kGraph: return "topology/graph";
    case Subsystem::kTuning: return "tuning";
    case Subsystem::kInit: return "communicator init";
    case Subsystem::kGroup: return "group launch";
    case Subsystem::kTransport: return "transport setup";
    case Subsystem::kEnqueue: return "enqueue";
    case Subsystem::kRas: return "RAS";
    case Subsystem::kNvml: return "NVML";
    case Subsystem::kRegister: return "buffer registration";
    case Subsystem::kFramework: return "framework";
  }
  return "NCCL";
}

Subsystem subsystem_of(std::string_view src, std::string_view msg) {
  std::string_view f = src.substr(0, src.rfind(':') == std::string_view::npos ? src.size() : src.rfind(':'));
  auto in = [&](std::string_view p) { return has(f, p); };
  if (!f.empty()) {
    if (in("nvls")) return Subsystem::kNvls;
    if (in("coll_net") || in("collnet") || in("sharp")) return Subsystem::kCollNet;
    if (in("shm")) return Subsystem::kShm;
    if (in("p2p.c") && !in("plugin")) return Subsystem::kP2p;
    if (in("net_ib") || in("ibvwrap") || in("ibvcore") || in("ibvsymbols")) return Subsystem::kNetIb;
    if (in("net_socket")) return Subsystem::kNetSocket;
    if (in("nccl_net_ofi") || in("ofi") || in("ib_plugin") || in("p2p_plugin") || in("ucx") ||
        (in("plugin") && !in("plugin/")) || starts_with(f, "register_") || starts_with(f, "nccl_net"))
      return Subsystem::kNetPlugin;
    if (in("socket")) return Subsystem::kSocket;
    if (in("bootstrap")) return Subsystem::kBootstrap;
    if (in("proxy")) return Subsystem::kProxy;
    if (in("tuning")) return Subsystem::kTuning;
    if (in("graph/") || in("xml") || in("topo")) return Subsystem::kGraph;
    if (in("cudawrap") || in("alloc.h") || in("cumem") || in("mem_manager")) return Subsystem::kCuMem;
    if (in("ras")) return Subsystem::kRas;
    if (in("nvmlwrap")) return Subsystem::kNvml;
    if (in("register")) return Subsystem::kRegister;
    if (in("enqueue") || in("argcheck") || in("collectives")) return Subsystem::kEnqueue;
    if (in("group")) return Subsystem::kGroup;
    if (in("transport") || in("channel") || in("connect")) return Subsystem::kTransport;
    if (in("net.cc") || in("net.h") || in("net.cu")) return Subsystem::kNet;
    if (in("init")) return Subsystem::kInit;
  }
  // The message names its layer when the file does not.
  if (has(msg, "NET/OFI") || has(msg, "libfabric")) return Subsystem::kNetPlugin;
  if (has(msg, "NET/IB")) return Subsystem::kNetIb;
  if (has(msg, "NVLS") || has(msg, "NVLink SHARP")) return Subsystem::kNvls;
  if (has(msg, "CollNet") || has(msg, "SHARP")) return Subsystem::kCollNet;
  if (has(msg, "shared memory") || has(msg, "/dev/shm")) return Subsystem::kShm;
  if (has(msg, "Proxy")) return Subsystem::kProxy;
  if (has(msg, "socket") || has(msg, "Socket") || has(msg, "onnect")) return Subsystem::kSocket;
  if (has(msg, "Bootstrap") || has(msg, "bootstrap")) return Subsystem::kBootstrap;
  if (has(msg, "XML") || has(msg, "topology") || has(msg, "Topology")) return Subsystem::kGraph;
  return Subsystem::kUnknown;
}

DecodedCodes decode_codes(std::string_view m) {
  DecodedCodes d;
  // CUDA: "Cuda failure 217 'text'", "Cuda failure 'text'", "CUDA error 401 'text'",
  // "cuda error 1 'text'", "CUDA failure 'text'".
  for (std::string_view key : {"Cuda failure", "CUDA failure", "CUDA error", "Cuda error", "cuda error"}) {
    std::size_t p = m.find(key);
    if (p == std::string_view::npos) continue;
    std::string_view r = m.substr(p + key.size());
    while (!r.empty() && r.front() == ' ') r.remove_prefix(1);
    long n = -1;
    if (parse_int(r, n)) d.cuda = static_cast<int>(n);
    d.cuda_name = std::string(quoted_after(m, p));
    break;
  }
  if (!d.cuda_name.empty() || d.cuda >= 0) {
    if (d.cuda < 0)
      for (const auto& c : kCuda)
        if (has(d.cuda_name, c.text)) d.cuda = c.num;
    if (d.cuda_name.empty())
      for (const auto& c : kCuda)
        if (c.num == d.cuda) d.cuda_name = std::string(c.text);
  } else {
    // CUDA wording without the "Cuda failure" head (carried through frameworks).
    for (const auto& c : kCuda)
      if (c.num >= 200 && has(m, c.text)) {
        d.cuda = c.num;
        d.cuda_name = std::string(c.text);
        break;
      }
  }
  // IB work completion: "with error 12", "status=12", "status=IBV_WC_RETRY_EXC_ERR(12)".
  if (has(m, "Got completion") || has(m, "completion with")) {
    long v = -1;
    std::size_t p;
    if ((p = m.find("with error ")) != std::string_view::npos) (void)parse_int(m.substr(p + 11), v);
    else if ((p = m.find("status=")) != std::string_view::npos) {
      std::string_view r = m.substr(p + 7);
      if (!parse_int(r, v)) {
        std::size_t paren = r.find('(');
        if (paren != std::string_view::npos && paren < 40) (void)parse_int(r.substr(paren + 1), v);
      }
    }
    if (v >= 0 && v < static_cast<long>(kWcStatus.size())) {
      d.ib_status = static_cast<int>(v);
      d.ib_status_name = std::string(kWcStatus[static_cast<std::size_t>(v)]);
    }
  }
  // libfabric: "RC: -22, ERROR: Invalid argument", "RC: 113. Error: 2 (UNDELIVERABLE)".
  if (has(m, "NET/OFI") || has(m, "fi_") || has(m, "libfabric")) {
    std::size_t p = m.find("RC: ");
    long v = 0;
    if (p != std::string_view::npos && parse_int(m.substr(p + 4), v)) d.ofi = static_cast<int>(v);
    std::size_t o = m.find('(', p == std::string_view::npos ? 0 : p);
    if (o != std::string_view::npos) {
      std::size_t c = m.find(')', o);
      std::string_view t = m.substr(o + 1, c == std::string_view::npos ? 0 : c - o - 1);
      bool upper = !t.empty() && t.size() < 32;
      for (char ch : t) upper = upper && ((ch >= 'A' && ch <= 'Z') || ch == '_');
      if (upper) d.ofi_text = std::string(t);
    }
    if (d.ofi != 0 && d.err_no < 0) {
      if (const Errno* e = errno_by_num(d.ofi < 0 ? -d.ofi : d.ofi)) {
        d.err_no = e->num;
        d.errno_name = std::string(e->name);
      }
    }
  }
  // errno: "(28)" after a strerror text, "returned 113(No route to host)", or the text alone.
  if (d.err_no < 0 && d.ib_status < 0) {
    for (const auto& e : kErrno) {
      if (!has(m, e.text)) continue;
      d.err_no = e.num;
      d.errno_name = std::string(e.name);
      break;
    }
  }
  return d;
}

std::string DecodedCodes::text() const {
  std::vector<std::string> parts;
  if (cuda >= 0 || !cuda_name.empty())
    parts.push_back(cuda >= 0 ? fmt::format("CUDA error {}{}", cuda, cuda_name.empty() ? "" : " '" + cuda_name + "'")
                              : "CUDA error '" + cuda_name + "'");
  if (ib_status >= 0) parts.push_back(fmt::format("IB completion status {} ({})", ib_status, ib_status_name));
  if (!ofi_text.empty() || ofi != 0)
    parts.push_back(fmt::format("libfabric {}{}", ofi != 0 ? fmt::format("RC {}", ofi) : std::string(),
                                ofi_text.empty() ? "" : (ofi != 0 ? " " : "") + ofi_text));
  if (err_no >= 0) parts.push_back(fmt::format("errno {} ({})", err_no, errno_name));
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : ", ") + p;
  return out;
}

std::string_view nccl_result_name(int r) {
  switch (r) {
    case 1: return "unhandled cuda error";
    case 2: return "unhandled system error";
    case 3: return "internal error";
    case 4: return "invalid argument";
    case 5: return "invalid usage";
    case 6: return "remote error";
    case 7: return "in progress";
    default: return "";
  }
}

std::string hint_for(Subsystem s, const DecodedCodes& c) {
  // What the code says first: it is the most specific evidence.
  switch (c.cuda) {
    case 2: return "Free GPU memory for NCCL's buffers (smaller batch or NCCL_BUFFSIZE, fewer communicators).";
    case 3: case 999:
      return "The CUDA driver is in a bad state on this node (driver updated without reboot, GPU fallen off the bus): "
             "check nvidia-smi and dmesg (Xid), then reboot or reset the GPU.";
    case 35: return "Upgrade the NVIDIA driver to one that supports the CUDA runtime in use.";
    case 46: return "Another process holds the GPU in exclusive mode: check nvidia-smi's compute mode and processes.";
    case 98: case 200: case 209:
      return "The binary has no code for this GPU architecture: use an NCCL/framework build that includes it.";
    case 100: case 101:
      return "The process does not see the GPU it uses (CUDA_VISIBLE_DEVICES / --gpus-per-task isolation): let "
             "processes of one node see each other's GPUs or disable the path (NCCL_P2P_DISABLE=1).";
    case 217:
      return s == Subsystem::kShm || s == Subsystem::kCuMem
                 ? "These GPUs have no peer access: share host memory the legacy way with NCCL_CUMEM_HOST_ENABLE=0 "
                   "(or NCCL_SHM_DISABLE=1)."
                 : "These GPUs have no peer access (PCIe topology, ACS, virtualisation): NCCL_P2P_DISABLE=1, or fix "
                   "the platform.";
    case 401:
      return s == Subsystem::kNvls ? "The NVSwitch fabric refuses multicast: check nvidia-fabricmanager and reset the "
                                     "GPUs; NCCL_NVLS_ENABLE=0 runs without NVLS meanwhile."
                                   : "The GPU/driver is in a state that refuses the operation: reset the GPU or "
                                     "reboot; check nvidia-smi -q for fabric state.";
    case 700: case 719:
      return "A kernel faulted (illegal address / launch failure): usually the application's buffers; rerun with "
             "CUDA_LAUNCH_BLOCKING=1 and compute-sanitizer, check dmesg for Xid.";
    case 800: case 801:
      return s == Subsystem::kCuMem || s == Subsystem::kShm || s == Subsystem::kP2p
                 ? "This platform does not support the cuMem/VMM feature NCCL used (vGPU, UVM off, old driver): "
                   "NCCL_CUMEM_ENABLE=0 (and NCCL_CUMEM_HOST_ENABLE=0)."
                 : "The driver or platform does not support this operation (virtualised GPU, old driver).";
    case 802: case 803:
      return "Start nvidia-fabricmanager (NVSwitch systems) with the driver's exact version, then retry.";
    default: break;
  }
  if (c.ib_status == 12 || c.ib_status == 13)
    return "The HCAs cannot exchange RDMA traffic: check link state and errors (ibstat, ibdiagnet / perfquery), "
           "routing between the ports and, on RoCE, the GID index and traffic class.";
  if (c.ib_status == 4 || c.ib_status == 10)
    return "The NIC cannot access the buffer: PCIe ACS/IOMMU breaking GPUDirect RDMA, or memory registration; test "
           "with NCCL_NET_GDR_LEVEL=0 and check ACS (lspci -vvv | grep ACSCtl).";
  if (c.ib_status == 5) return "Flushed work requests follow an earlier QP error: look for the first error on either end.";
  switch (c.err_no) {
    case 12: return "Raise the locked-memory limit (ulimit -l unlimited; memlock in the container runtime).";
    case 28: return "Enlarge /dev/shm (docker --shm-size, a Kubernetes emptyDir medium: Memory) or NCCL_SHM_DISABLE=1.";
    case 13: case 1: return "Permissions: expose the devices to the container (/dev/infiniband, IPC_LOCK) or run with "
                            "the needed rights.";
    case 95: return "The kernel/driver stack does not support this (e.g. DMA-BUF registration): NCCL_DMABUF_ENABLE=0 or "
                    "upgrade the driver stack.";
    case 104: case 32: case 103:
      return "The peer closed the connection: it exited or its node failed; the cause is in the first rank that "
             "failed (collect every rank's log).";
    case 110: case 113: case 101: case 111:
      return "Hosts cannot reach each other on the interface NCCL uses: pin NCCL_SOCKET_IFNAME to a routable "
             "interface and check firewalls between the nodes.";
    default: break;
  }
  switch (s) {
    case Subsystem::kBootstrap: case Subsystem::kSocket:
      return "Check that every rank reaches the others on the bootstrap interface (NCCL_SOCKET_IFNAME, firewalls, "
             "same NCCL version and unique id on all ranks).";
    case Subsystem::kNetIb:
      return "Check the HCAs and ports (ibstat, ibv_devinfo), NCCL_IB_HCA, and that the container sees /dev/infiniband.";
    case Subsystem::kNetPlugin:
      return "The external net plugin failed: check its version against NCCL's, its provider (libfabric/EFA, "
             "SHARP) and its own log; NCCL_NET selects the plugin.";
    case Subsystem::kNet: case Subsystem::kNetSocket:
      return "The network transport failed between two ranks: check links between the hosts and the network NCCL "
             "selected ('Using network ...').";
    case Subsystem::kProxy:
      return "A proxy operation failed: the proxy forwards another failure (network, memory); find the first WARN of "
             "that rank or its peer.";
    case Subsystem::kShm:
      return "Check /dev/shm (size, free space, shared between the processes of a node) and, on NCCL >= 2.23, the "
             "cuMem host path (NCCL_CUMEM_HOST_ENABLE=0).";
    case Subsystem::kP2p:
      return "GPU peer access failed: check that the processes see each other's GPUs and the PCIe/NVLink topology; "
             "NCCL_P2P_DISABLE=1 works around it.";
    case Subsystem::kCuMem:
      return "NCCL's cuMem allocation failed: check free GPU memory and driver support; NCCL_CUMEM_ENABLE=0 uses "
             "legacy allocations.";
    case Subsystem::kNvls:
      return "NVLS needs a healthy NVSwitch fabric (nvidia-fabricmanager, IMEX on multi-node NVLink, /dev/nvidia-caps "
             "in containers); NCCL_NVLS_ENABLE=0 runs without it.";
    case Subsystem::kCollNet:
      return "CollNet/SHARP is unavailable (no aggregation manager, unsupported fabric): NCCL_COLLNET_ENABLE=0 if "
             "it is not intended.";
    case Subsystem::kGraph:
      return "Topology detection or an injected topology/graph file failed: check NCCL_TOPO_FILE / NCCL_GRAPH_FILE "
             "(environment, /etc/nccl.conf, plugin defaults) and what the container exposes of /sys.";
    case Subsystem::kTuning: return "Check NCCL_ALGO / NCCL_PROTO and tuner plugin settings.";
    case Subsystem::kEnqueue:
      return "An NCCL call was invalid or its communicator is broken: check the arguments and that every rank "
             "calls the same collectives.";
    case Subsystem::kRas: return "NCCL's RAS service reported a problem: run ncclras to see the communicators' state.";
    case Subsystem::kRegister: return "Buffer registration failed: NCCL_LOCAL_REGISTER=0 / NCCL_NVLS_ENABLE=0 to test.";
    default:
      return "Rerun with NCCL_DEBUG=INFO on every rank and read the first WARN of the rank that failed first.";
  }
}

}  // namespace ncd::nccl
