// SPDX-License-Identifier: Apache-2.0
// Catalogue entries of the log analyser (src/checks/log_rules_*.cpp detect them): every tag of
// corpus/logs/TAXONOMY.md, plus three for what no tag covers. `version.mismatch` and `env.risky`
// are shared with the live env checks (src/checks/env_checks.cpp registers them).
#include "core/catalogue.hpp"

namespace ncd::nccl {

using S = Severity;

NCD_REGISTER_CHECK({"log.healthy", S::kInfo, "log", "The run looks healthy (TAXONOMY tag `healthy`)",
                    "Transports, interfaces and results are as expected and nothing failed.",
                    "No warning or error finding, and positive evidence: 'Using network IB', 'via NET/IB/N/GDRDMA', "
                    "Init COMPLETE, or nccl-tests rows without #wrong.",
                    "Nothing to do."});
NCD_REGISTER_CHECK({"env.override_info", S::kInfo, "log", "NCCL settings set by the environment",
                    "The job ran with NCCL_* variables set by the user; listed so that a reader sees what was tuned.",
                    "'NCCL_X set by environment to Y' lines, grouped by variable.",
                    "None; check that each override is still wanted."});
NCD_REGISTER_CHECK({"init.failed", S::kError, "log", "Communicator initialisation aborted",
                    "ncclCommInitRank (or a group of inits) returned an error. Always a consequence: the finding "
                    "names its cause.",
                    "Error-trace chains through init.cc / group.cc / bootstrap.cc ('file.cc:N -> R'), "
                    "'[Async thread]', nccl-tests 'Test NCCL failure' during setup.",
                    "Fix the root cause reported with it."});
NCD_REGISTER_CHECK({"net.wrong_interface_lo", S::kError, "log", "Loopback chosen for bootstrap in a multi-node job",
                    "NCCL bootstraps over lo (127.0.0.1): peers on other hosts connect to their own loopback and are "
                    "refused or time out.",
                    "'Bootstrap : Using lo:127.0.0.1' or 'NET : Using interface lo' first, with ranks on several hosts "
                    "or connection failures.",
                    "Set NCCL_SOCKET_IFNAME to the routable interface (e.g. eth0) or exclude lo: "
                    "NCCL_SOCKET_IFNAME=^lo,docker0."});
NCD_REGISTER_CHECK({"net.wrong_interface_ipoib", S::kError, "log", "Bootstrap over an unusable IPoIB interface",
                    "NCCL's default interface order prefers ib* (IP over InfiniBand); that interface is not reachable "
                    "between these peers (containers, unconfigured IPoIB), so the bootstrap fails.",
                    "Bootstrap or NET/IB 'OOB' interface named ib*/ibp* together with bootstrap.cc error traces or "
                    "socket connect failures.",
                    "Set NCCL_SOCKET_IFNAME to the Ethernet management interface; the IB data path is not affected."});
NCD_REGISTER_CHECK({"net.virtual_interface_in_use", S::kWarn, "log", "A virtual interface is used for NCCL sockets",
                    "docker0, veth*, virbr*, br-* or CNI interfaces are in NCCL's socket interface list; they do not "
                    "route between hosts.",
                    "Interfaces in 'Bootstrap : Using' / 'NET/Socket : Using' named veth*, docker*, virbr*, br-*, cni*, "
                    "flannel*, cali*.",
                    "Set NCCL_SOCKET_IFNAME to the physical interface (e.g. NCCL_SOCKET_IFNAME=ens5 or ^docker,veth,lo)."});
NCD_REGISTER_CHECK({"net.ipv6_link_local", S::kWarn, "log", "An IPv6 link-local address is used between hosts",
                    "An interface with only an fe80:: address is used; link-local addresses do not route between hosts.",
                    "'<if>:fe80::...%<if>' in Bootstrap / NET/Socket / NET : Using lines of a multi-node job.",
                    "Give the interface a routable address or pin NCCL_SOCKET_IFNAME to an interface with one; "
                    "NCCL_SOCKET_FAMILY=AF_INET forces IPv4."});
NCD_REGISTER_CHECK({"net.bootstrap_iface_mismatch_across_nodes", S::kError, "log",
                    "Hosts bootstrap on different interfaces or address families",
                    "Nodes of one job picked different bootstrap interfaces (e.g. ib0 with IPv6 link-local on one, "
                    "bond0 IPv4 on another), so they cannot reach each other's listener.",
                    "Per-host 'Bootstrap : Using' lines naming different interfaces / families.",
                    "Pin NCCL_SOCKET_IFNAME to one routable interface present on every node."});
NCD_REGISTER_CHECK({"net.ifname_no_match", S::kError, "log", "NCCL_SOCKET_IFNAME matches no interface",
                    "The interface named in NCCL_SOCKET_IFNAME does not exist on the host; NCCL finds no interface "
                    "and later uses an uninitialised address.",
                    "'NCCL_SOCKET_IFNAME set by environment to X' with no 'Bootstrap : Using' line, then a garbage "
                    "address family or 'no socket interface found'.",
                    "Fix NCCL_SOCKET_IFNAME (ip -br addr lists the names; a prefix matches, '=' forces exact)."});
NCD_REGISTER_CHECK({"net.socket_fallback", S::kWarn, "log", "Inter-node traffic over TCP sockets despite RDMA hardware",
                    "NCCL could not use the RDMA NICs and fell back to the socket transport: several times slower.",
                    "'NET/IB : No device found' / IB open failures then 'Using network Socket' or 'via NET/Socket/N' "
                    "with RDMA devices in evidence.",
                    "Make the RDMA devices usable (drivers, rdma-core, /dev/infiniband in the container) and check "
                    "NCCL_IB_DISABLE / NCCL_NET."});
NCD_REGISTER_CHECK({"net.ib_device_open_failed", S::kError, "log", "An RDMA device exists but cannot be opened",
                    "libibverbs is present but the HCA cannot be opened: permissions or devices not exposed to a "
                    "container.",
                    "'Call to ibv_open_device failed', 'NET/IB : Unable to open device mlx5_X'.",
                    "Expose /dev/infiniband (docker --device=/dev/infiniband --cap-add=IPC_LOCK, or the RDMA device "
                    "plugin in Kubernetes) and check the uverbs permissions."});
NCD_REGISTER_CHECK({"net.efa_provider_fallback", S::kError, "log", "aws-ofi-nccl selected a non-EFA libfabric provider",
                    "The OFI plugin loaded but libfabric chose tcp/sockets instead of efa: EFA is not usable here.",
                    "'NET/OFI Selected Provider is tcp' (or sockets/udp).",
                    "Expose the EFA devices to the container (--device=/dev/infiniband/uverbs*), install the EFA "
                    "libfabric, and check FI_PROVIDER."});
NCD_REGISTER_CHECK({"net.plugin_mismatch", S::kError, "log", "Hosts use different network backends",
                    "Some hosts load an external net plugin (libnccl-net.so) while others use NCCL's internal "
                    "transport; peers then speak different protocols and hang.",
                    "Per-host 'Plugin Path : .../libnccl-net.so' vs 'Could not find: libnccl-net.so. Using internal'; "
                    "different 'Using network X'.",
                    "Install the same plugin on every node (same image) or set NCCL_NET_PLUGIN identically."});
NCD_REGISTER_CHECK({"net.plugin_absent_benign", S::kInfo, "log", "No external net plugin (harmless here)",
                    "libnccl-net.so was not found and NCCL uses its internal IB/Socket transport, which is what an "
                    "InfiniBand/RoCE cluster without SHARP/EFA/GPUDirect-TCPX needs.",
                    "'NET/Plugin: Could not find: libnccl-net.so. Using internal ...' with 'Using network IB|Socket'.",
                    "None (only AWS EFA and GCP TCPX clusters need an external plugin)."});
NCD_REGISTER_CHECK({"net.ibverbs_missing_benign", S::kInfo, "log", "libibverbs absent (harmless on one node)",
                    "NCCL could not load libibverbs; it matters only for multi-node RDMA.",
                    "'Failed to open libibverbs.so[.1]' (WARN in 2.3-2.7, INFO later).",
                    "None for single-node jobs; install rdma-core for multi-node RDMA."});
NCD_REGISTER_CHECK({"net.rail_unreachable_cross_nic", S::kWarn, "log", "Rails cannot reach each other (cross-NIC)",
                    "On a rail-optimised fabric only same-index NICs are connected; NCCL connected across rails and "
                    "the QP could not reach RTR.",
                    "'ibv_modify_qp failed with 110 Connection timed out ... INIT -> RTR'.",
                    "Set NCCL_CROSS_NIC=0 (or fix the fabric routing between rails)."});
NCD_REGISTER_CHECK({"net.firewall_or_routing", S::kWarn, "log", "TCP connections between hosts are blocked",
                    "A firewall REJECT/DROP rule or a missing route stops NCCL's socket connections.",
                    "'returned 113(No route to host)', 'poll() returned 1, no POLLOUT events', 'Connection timed out' "
                    "on connects.",
                    "Open the NCCL ports between the nodes (or disable the host firewall) and check routes "
                    "(ip route get <peer>)."});
NCD_REGISTER_CHECK({"net.connect_timeout", S::kWarn, "log", "Socket connects time out",
                    "NCCL's socket connects to peers time out and are retried.",
                    "'Call to connect returned Connection timed out, retrying'.",
                    "Check reachability and firewalls between the nodes on the chosen interface."});
NCD_REGISTER_CHECK({"container.rdma_devices_missing", S::kWarn, "log", "RDMA devices not exposed inside the container",
                    "The job runs in a container without the RDMA/EFA devices or verbs libraries.",
                    "Container-like hostname or IB open failures / 'NET/IB : No device found' / OFI provider tcp.",
                    "Run with --device=/dev/infiniband (and --cap-add=IPC_LOCK, --ulimit memlock=-1), or the "
                    "Kubernetes RDMA/EFA device plugin; install rdma-core/EFA libs in the image."});
NCD_REGISTER_CHECK({"config.inconsistent_across_nodes", S::kError, "log", "Software or settings differ between nodes",
                    "Nodes of one job run different NCCL versions, net plugins or NCCL_* settings.",
                    "Per-host differences in version banners, plugin lines, 'Using network', env lines.",
                    "Run every node from the same image and export the same NCCL_* settings to every rank."});
NCD_REGISTER_CHECK({"config.cuda_visible_devices_isolation", S::kWarn, "log",
                    "Per-process CUDA_VISIBLE_DEVICES hides peer GPUs",
                    "Each process sees only its own GPU, so CUDA IPC between processes on one host fails.",
                    "Every rank reports local device [0] with different bus ids, plus 'failed to open CUDA IPC "
                    "handle : 217'.",
                    "Keep all GPUs visible and select one with cudaSetDevice(local_rank), or set NCCL_P2P_DISABLE=1."});
NCD_REGISTER_CHECK({"launch.independent_jobs_no_mpi", S::kError, "log", "The launcher started independent jobs",
                    "mpirun started copies that each formed their own communicator (nccl-tests built without "
                    "MPI=1): every host tested alone.",
                    "The same 'rank 0 nranks K' from several hosts; several '# Avg bus bandwidth' summaries.",
                    "Rebuild nccl-tests with MPI=1 (make clean; make MPI=1 MPI_HOME=...) and run one process per GPU."});
NCD_REGISTER_CHECK({"bootstrap.connect_refused", S::kError, "log", "Bootstrap connection refused",
                    "A rank connected to an address where nobody listens (wrong interface or address).",
                    "'Call to connect timeout : Connection refused', 'connect to ... failed : Connection refused'.",
                    "Check the bootstrap interface (NCCL_SOCKET_IFNAME) and NCCL_COMM_ID / MASTER_ADDR."});
NCD_REGISTER_CHECK({"bootstrap.connect_failed", S::kError, "log", "Bootstrap socket connection failed",
                    "NCCL's bootstrap could not connect to a peer.",
                    "'socketPollConnect: Connect to ... returned ...', error traces through bootstrap.cc.",
                    "Check reachability between the nodes on the bootstrap interface (NCCL_SOCKET_IFNAME), "
                    "firewalls and routes."});
NCD_REGISTER_CHECK({"bootstrap.connect_timeout", S::kError, "log", "Bootstrap connection timed out",
                    "Connecting to a peer's bootstrap socket timed out.",
                    "'socketPollConnect poll() returned 1, no POLLOUT events', 'Connection timed out'.",
                    "Check firewalls (DROP rules), routes and the bootstrap interface."});
NCD_REGISTER_CHECK({"bootstrap.bad_address_family", S::kError, "log", "Garbage socket address",
                    "NCCL tried to connect to an address with an invalid family: uninitialised interface, mixed "
                    "NCCL versions, or a corrupted unique id.",
                    "'connecting to address with family N is neither AF_INET(2) nor AF_INET6(10)'.",
                    "Check NCCL_SOCKET_IFNAME on every host and that all ranks run the same NCCL."});
NCD_REGISTER_CHECK({"ib.completion_error_12_timeout", S::kError, "log", "IB transport retry exceeded (error 12)",
                    "RDMA packets got no acknowledgement: the NICs cannot talk (routing, GID, link, switch).",
                    "'Got completion with error 12' / 'status=12' / IBV_WC_RETRY_EXC_ERR, vendor err 129.",
                    "Check the fabric between the two NICs (ibping/ib_write_bw), the RoCE GID index and "
                    "NCCL_IB_TIMEOUT."});
NCD_REGISTER_CHECK({"ib.completion_error_4_local_protection", S::kError, "log", "IB local protection error (error 4)",
                    "The NIC could not access the registered memory: usually PCIe ACS/IOMMU breaking GPUDirect RDMA.",
                    "'Got completion ... with error 4 ... vendor err 81' / 'status=4'.",
                    "Disable PCIe ACS on the switches between GPU and NIC (setpci or BIOS) and check the IOMMU; "
                    "NCCL_NET_GDR_LEVEL=0 confirms (slow)."});
NCD_REGISTER_CHECK({"ib.completion_error", S::kError, "log", "IB completion error",
                    "An RDMA work request completed with an error (status 5 = flushed after an earlier failure).",
                    "'Got completion from peer ... status=N' other than 4/12.",
                    "Look for the first IB error; status 5 is a consequence."});
NCD_REGISTER_CHECK({"ib.async_event_wq_error", S::kError, "log", "HCA async event on a work queue",
                    "The HCA reported a work-queue error (QP misconfiguration, MTU, access violation).",
                    "'Got async event : local access violation work queue error'.",
                    "Compare port settings (MTU, GID, link layer) on both ends."});
NCD_REGISTER_CHECK({"ib.roce_gid_index", S::kWarn, "log", "RoCE GID index probably wrong",
                    "NCCL uses a GID through which the NICs cannot reach each other (RoCEv1 or link-local).",
                    "Error 12 at the start of a RoCE run ('/RoCE' in NET/IB : Using).",
                    "Set NCCL_IB_GID_INDEX to the RoCEv2 IPv4-mapped GID (show_gids; often 3)."});
NCD_REGISTER_CHECK({"ib.gid_table_change", S::kError, "log", "RoCE GID table changed during the run",
                    "An address changed on a RoCE port while the job ran, invalidating the QPs' GID.",
                    "'Got async event : GID table change'.",
                    "Keep interface addresses stable during jobs (NetworkManager, DHCP, container networking)."});
NCD_REGISTER_CHECK({"ib.modify_qp_failed", S::kError, "log", "QP state transition failed",
                    "ibv_modify_qp failed: the remote QP is unreachable or the parameters are invalid.",
                    "'Call to ibv_modify_qp failed with ...'.",
                    "Check reachability between the NICs, GID index and NCCL_CROSS_NIC on rail-optimised fabrics."});
NCD_REGISTER_CHECK({"ib.mtu_mismatch", S::kError, "log", "IB/RoCE MTU differs between peers",
                    "The ports use different MTUs; NCCL >= 2.20 no longer clamps the QP MTU, so the QPs break.",
                    "Async work-queue error and status=5 completions (after an upgrade); differing 'mtu' in NET/IB "
                    "lines.",
                    "Compare 'ibv_devinfo | grep active_mtu' on both ends and configure the same MTU."});
NCD_REGISTER_CHECK({"ib.reg_mr_failed", S::kError, "log", "Memory registration with the HCA failed",
                    "ibv_reg_mr failed, usually for lack of lockable memory.",
                    "'Call to ibv_reg_mr[_iova2|_dmabuf_mr] failed with error Cannot allocate memory'.",
                    "Raise the memlock limit (ulimit -l unlimited; limits.conf; --ulimit memlock=-1 in docker)."});
NCD_REGISTER_CHECK({"sys.memlock_limit", S::kWarn, "log", "Locked-memory limit too low for RDMA",
                    "The memlock ulimit is too small to register NCCL's buffers.",
                    "reg_mr ENOMEM; confirm with 'ulimit -l' under the launcher.",
                    "Set memlock to unlimited for the job (limits.conf, systemd LimitMEMLOCK, docker --ulimit)."});
NCD_REGISTER_CHECK({"gdr.disabled", S::kWarn, "log", "GPUDirect RDMA not in use",
                    "NIC<->GPU transfers are staged through host memory: inter-node bandwidth drops sharply.",
                    "'via NET/IB/N' without '/GDRDMA'; 'GPU Direct RDMA Disabled for HCA'.",
                    "Load nvidia-peermem (or use DMA-BUF with a recent driver/kernel), check ACS, and "
                    "NCCL_NET_GDR_LEVEL."});
NCD_REGISTER_CHECK({"gdr.acs_enabled", S::kWarn, "log", "PCIe ACS suspected of breaking GPUDirect RDMA",
                    "ACS redirects peer-to-peer PCIe transactions through the root complex; GPU<->NIC RDMA fails.",
                    "IB error 4 / vendor err 81 with GDRDMA; not visible in the log itself.",
                    "Check 'lspci -vvv | grep ACSCtl' and disable ACS on the PCIe switches; NCCL_NET_GDR_LEVEL=0 to "
                    "confirm."});
NCD_REGISTER_CHECK({"p2p.hang_iommu_acs", S::kWarn, "log", "GPU P2P over PCIe likely blocked (IOMMU/ACS)",
                    "Peer-to-peer transfers over PCIe never complete because the IOMMU or ACS redirects them: the "
                    "job hangs with GPUs at 100%.",
                    "A hang after setup on one node with PCIe-only GPUs and P2P enabled, without any WARN.",
                    "Boot with intel_iommu=off / amd_iommu=off (or iommu=pt), disable ACS; NCCL_P2P_DISABLE=1 "
                    "confirms."});
NCD_REGISTER_CHECK({"p2p.ipc_open_failed", S::kError, "log", "CUDA IPC open of a peer buffer failed",
                    "A process could not map a peer process's GPU buffer.",
                    "'failed to open CUDA IPC handle : 217 peer access is not supported between these two devices'.",
                    "Keep all GPUs visible to every process (cudaSetDevice), or NCCL_P2P_DISABLE=1."});
NCD_REGISTER_CHECK({"p2p.cross_node_ipc", S::kError, "log", "P2P/SHM selected between ranks on different hosts",
                    "NCCL believed two ranks share a host and picked P2P/IPC or SHM between them, which cannot work.",
                    "'via P2P/IPC' or SHM edges between ranks whose device ids collide on one host name.",
                    "Give hosts unique names or set NCCL_HOSTID per host."});
NCD_REGISTER_CHECK({"host.duplicate_hostname", S::kError, "log", "Different hosts share one host name",
                    "Several machines report the same (short) hostname, so NCCL treats them as one node.",
                    "Ranks on one host name claiming the same GPU without a Duplicate GPU error; more ranks than one "
                    "node holds.",
                    "Give every node a unique hostname (NCCL uses the part before the first '.') or set NCCL_HOSTID."});
NCD_REGISTER_CHECK({"shm.too_small", S::kError, "log", "/dev/shm too small or full",
                    "NCCL's shared-memory segments could not be created; containers default to a 64 MB /dev/shm.",
                    "'posix_fallocate failed : No space left on device', 'failed to extend /dev/shm/nccl-*', 'Error "
                    "while creating shared memory segment'.",
                    "Run the container with --shm-size=1g (or --ipc=host; a tmpfs /dev/shm in Kubernetes); "
                    "NCCL_SHM_DISABLE=1 as a workaround."});
NCD_REGISTER_CHECK({"gpu.duplicate", S::kError, "log", "Two ranks on the same GPU",
                    "Several ranks of one communicator selected the same CUDA device.",
                    "'Duplicate GPU detected : rank A and rank B both on CUDA device X'. The GPU backend "
                    "(bench, sweep) also names ranks that drive one (host, GPU), and a process alone in its job "
                    "(srun --mpi=none, torchrun) whose launcher reports more processes on the node "
                    "(LOCAL_WORLD_SIZE, SLURM_NTASKS_PER_NODE) than it has GPUs.",
                    "Pin one GPU per local rank: torch.cuda.set_device(local_rank) / hvd.local_rank(), or "
                    "CUDA_VISIBLE_DEVICES per rank; check the launcher's local-rank variable."});
NCD_REGISTER_CHECK({"mem.gpu_oom", S::kError, "log", "GPU memory exhausted in NCCL",
                    "NCCL could not allocate its buffers: the GPU is full (application, or many communicators each "
                    "with their own buffers).",
                    "'Cuda failure 'out of memory'', 'Failed to CUDA calloc N bytes'.",
                    "Free GPU memory, create fewer communicators, or reduce NCCL_BUFFSIZE / NCCL_MAX_NCHANNELS."});
NCD_REGISTER_CHECK({"cuda.driver_too_old", S::kError, "log", "NVIDIA driver older than the CUDA runtime",
                    "The installed driver does not support the CUDA version NCCL or the application was built for.",
                    "'CUDA driver version is insufficient for CUDA runtime version'; cudaDriverVersion below the "
                    "'+cudaX.Y' of the NCCL banner.",
                    "Upgrade the driver, or use binaries built for the installed CUDA (or cuda-compat)."});
NCD_REGISTER_CHECK({"cuda.arch_unsupported", S::kError, "log", "NCCL not compiled for this GPU architecture",
                    "The NCCL build has no kernels for this GPU's compute capability.",
                    "'Cuda failure 'invalid device function'' / 'no kernel image is available'.",
                    "Use an NCCL built for the GPU (NVCC_GENCODE including its sm_XX) or a framework build that "
                    "supports it."});
NCD_REGISTER_CHECK({"cuda.system_not_initialized", S::kError, "log", "CUDA 'system not yet initialized' (802)",
                    "CUDA could not initialise: on NVSwitch systems the fabric manager is not running or not ready.",
                    "'system not yet initialized', Cuda failure 802.",
                    "Start nvidia-fabricmanager (same version as the driver) and wait for it; reboot if it failed."});
NCD_REGISTER_CHECK({"nvswitch.fabric_manager", S::kWarn, "log", "NVSwitch fabric manager problem suspected",
                    "The NVSwitch fabric is not set up (fabric manager stopped, restarted without GPU reset).",
                    "802 errors; NVLS 'Cuda failure 1 invalid argument' in transport/nvls.cc.",
                    "Check 'systemctl status nvidia-fabricmanager'; reset the GPUs or reboot after restarting it; "
                    "NCCL_NVLS_ENABLE=0 as a workaround."});
NCD_REGISTER_CHECK({"nvls.alloc_failed", S::kError, "log", "NVLink SHARP (NVLS) buffer allocation failed",
                    "NCCL could not allocate NVLS multicast memory.",
                    "'transport/nvls.cc:N NCCL WARN Cuda failure'.",
                    "Check the fabric manager and GPU reset state; NCCL_NVLS_ENABLE=0 to run without NVLS."});
NCD_REGISTER_CHECK({"version.nccl_too_old_for_gpu", S::kError, "log", "NCCL release predates this GPU",
                    "The NCCL version does not support the GPU generation (kernels, topology).",
                    "'ncclMaxSharedMem X exceeds device/fn maxSharedMem Y'; 'Failed to find reverse path' with an "
                    "NCCL older than 2.15 on H100.",
                    "Upgrade NCCL (the container's or the framework's bundled copy)."});
NCD_REGISTER_CHECK({"topo.path_search_failed", S::kError, "log", "Topology graph search failed",
                    "NCCL could not find paths through the detected topology.",
                    "'Failed to find reverse path ...', 'Could not find a path for pattern N'.",
                    "Upgrade NCCL; check NCCL_TOPO_FILE and what the container exposes of /sys."});
NCD_REGISTER_CHECK({"hang.after_init", S::kWarn, "log", "No progress after initialisation",
                    "Communicators were set up, then nothing: a collective never completed.",
                    "Last lines are Init COMPLETE / Connected all rings, no results, no WARN.",
                    "Look for P2P/IOMMU, network or plugin problems; rerun with NCCL_DEBUG=INFO "
                    "NCCL_DEBUG_SUBSYS=INIT,NET,P2P."});
NCD_REGISTER_CHECK({"hang.init", S::kWarn, "log", "The job stalled during communicator init",
                    "Some ranks never finished bootstrap or init.",
                    "Output stops at Bootstrap / Init START lines, or ranks stopped at different stages.",
                    "Check bootstrap reachability between hosts (interfaces, firewalls) and that every rank started."});
NCD_REGISTER_CHECK({"hang.watchdog_timeout", S::kError, "log", "PyTorch NCCL watchdog timeout",
                    "A collective did not complete within the process group timeout.",
                    "'Watchdog caught collective operation timeout: WorkNCCL(...)'.",
                    "Find the rank that was not in the collective (desync) or the failing link; "
                    "TORCH_NCCL_TRACE_BUFFER_SIZE gives a flight recorder."});
NCD_REGISTER_CHECK({"app.collective_mismatch", S::kError, "log", "Ranks called different collectives",
                    "At the same sequence number ranks are in different operations or sizes: an application bug "
                    "(desync), not the network.",
                    "Watchdog lines with the same SeqNum but different OpType/Numel across ranks.",
                    "Make every rank issue the same collectives in the same order (conditionals on rank, uneven "
                    "data, end-of-epoch logic); TORCH_DISTRIBUTED_DEBUG=DETAIL finds it."});
NCD_REGISTER_CHECK({"perf.low_busbw", S::kWarn, "log", "Bus bandwidth far below expectation",
                    "nccl-tests reports a bus bandwidth far below what the transports should give.",
                    "Peak busbw of the large sizes (never the average over all sizes) and the transports in use.",
                    "Fix the cause reported with it (GDR, sockets, launch) and rerun nccl-tests."});
NCD_REGISTER_CHECK({"log.unclassified_warn", S::kWarn, "log", "An NCCL warning without a known signature",
                    "NCCL printed a WARN that matches no signature. Kept for compatibility: the analyser now reports "
                    "such lines as log.subsystem_failure, read from their source file and codes.",
                    "'NCCL WARN' lines not matched by any rule.",
                    "Read the quoted line and its subsystem."});
NCD_REGISTER_CHECK({"log.subsystem_failure", S::kError, "log", "An NCCL failure, read from its structure",
                    "A failure no specific rule names, described by what every NCCL failure carries: the source file "
                    "that raised it (and so the subsystem: bootstrap, socket, NET/IB, net plugin, proxy, SHM, P2P, "
                    "cuMem, NVLS, CollNet, topology, init, enqueue, RAS), the codes in the message (CUDA error, errno, "
                    "IB completion status, libfabric error, ncclResult of the error trace), the propagation chain and "
                    "the phase of the run.",
                    "The first WARN / 'Last error:' message / error trace of a chain that no other rule classifies; "
                    "a plain WARN without failure codes or chain is reported as a warning.",
                    "Chosen from the code first (e.g. CUDA 217: no peer access; errno 28: /dev/shm full), then from "
                    "the subsystem."});
NCD_REGISTER_CHECK({"ib.port_error", S::kError, "log", "An IB/RoCE port went down or flapped",
                    "The HCA raised port-error async events: the link lost its state while the job ran; transfers over "
                    "it time out (error 12) or fail.",
                    "'NET/IB : Got async event : port error' (IBV_EVENT_PORT_ERR), often repeated, with later "
                    "completion errors.",
                    "Find the node and port that reports it, reseat or replace the cable/transceiver, and read the "
                    "port error counters (ibqueryerrors, perfquery, UFM)."});
NCD_REGISTER_CHECK({"collnet.fallback", S::kWarn, "log", "CollNet/SHARP unavailable: NCCL fell back",
                    "CollNet (in-network reduction through the SHARP plugin) could not be set up; NCCL continues over "
                    "the point-to-point network. Not an abort: the job runs without SHARP offload.",
                    "'Cannot initialize CollNet, using point-to-point network instead', SHARP plugin errors "
                    "('SHARP coll init error'); error traces through init.cc without a group/async abort.",
                    "If SHARP is intended, check the SHARP aggregation manager (sharp_am) and the fabric's support; "
                    "otherwise NCCL_COLLNET_ENABLE=0 removes the attempt."});
NCD_REGISTER_CHECK({"topo.xml_invalid", S::kError, "log", "A topology XML NCCL read is invalid",
                    "NCCL's topology XML (detected, or injected with NCCL_TOPO_FILE by the user, an image or a net "
                    "plugin) lacks an attribute NCCL needs, so topology detection fails and init aborts.",
                    "'graph/xml.h:N NCCL WARN Attribute X of node Y not found' and error traces through graph/*.cc; "
                    "'Setting NCCL_TOPO_FILE' from a net plugin or 'NCCL_TOPO_FILE set by environment'.",
                    "Fix or unset the injected file (upgrade the plugin that ships it); for a detection failure inject "
                    "a correct NCCL_TOPO_FILE and upgrade NCCL."});
NCD_REGISTER_CHECK({"topo.graph_file_mismatch", S::kError, "log", "An injected graph file does not fit the run",
                    "NCCL_GRAPH_FILE (environment, /etc/nccl.conf, ~/.nccl.conf or an image default) describes "
                    "channels over devices this run does not have.",
                    "'XML Import Channel : dev N not found' with 'NCCL_GRAPH_FILE set by environment to X'.",
                    "Unset NCCL_GRAPH_FILE: it is an experiment knob, never a production setting."});
NCD_REGISTER_CHECK({"net.ofi_error", S::kError, "log", "The libfabric (OFI) net plugin failed",
                    "aws-ofi-nccl (or another libfabric plugin) reported an error: endpoint or memory registration "
                    "failures, or completion errors from the provider.",
                    "'NET/OFI ... failed', 'Unable to register memory ... RC: -22', 'Request ... completed with error. "
                    "RC: 113. Error: 2 (UNDELIVERABLE)'; decoded libfabric/errno codes.",
                    "Check the EFA/libfabric installation against the plugin and NCCL versions, the provider "
                    "(FI_PROVIDER), and reachability between the nodes' endpoints."});
NCD_REGISTER_CHECK({"net.plugin_load_failed", S::kError, "log", "A net plugin exists but failed to load",
                    "NCCL found a net plugin library but the dynamic loader rejected it (undefined symbol, missing "
                    "dependency such as libfabric, wrong ELF class): NCCL falls back to its internal transport, so the "
                    "fabric the plugin drives is not used. Unlike 'no plugin found', this is not benign.",
                    "'NET/Plugin: Plugin load returned N : <dlerror>' or 'dlerror=<text>' whose text is not "
                    "'libnccl-net.so: cannot open shared object file: No such file or directory'.",
                    "Fix what the loader names (install the dependency, match the plugin build to the NCCL and "
                    "libfabric versions, LD_LIBRARY_PATH), then check 'Using network' names the plugin."});
NCD_REGISTER_CHECK({"shm.cumem_host_failed", S::kError, "log", "SHM over cuMem host memory failed",
                    "Since NCCL 2.23-2.27 the SHM transport shares host memory through cuMem handles. On GPUs without "
                    "peer access, or when ranks disagree on cuMem host support (memoryless NUMA nodes), importing the "
                    "peer's memory fails.",
                    "A CUDA error raised in transport/shm.cc or misc/shmutils.cc (e.g. 'Cuda failure 217 peer access "
                    "is not supported'), or 'attaching to shared memory segment ... (size 0)'.",
                    "NCCL_CUMEM_HOST_ENABLE=0 (legacy /dev/shm sharing); upgrade the driver/NCCL."});

NCD_REGISTER_CHECK({"log.nccl_error", S::kError, "log", "NCCL failed without a cause in the log",
                    "NCCL returned an error (seen through PyTorch or nccl-tests) but the log holds no WARN that "
                    "explains it.",
                    "'NCCL error in: ...', 'ncclXxxError', 'Test NCCL failure' without a classified WARN.",
                    "Rerun with NCCL_DEBUG=WARN (or INFO) and collect every rank's output."});
NCD_REGISTER_CHECK({"log.peer_exited", S::kError, "log", "A peer closed its connections",
                    "This rank failed because another process exited or lost its connection; the cause is in that "
                    "process's log.",
                    "'Connection closed by remote peer', 'Socket recv failed', proxy failures without a local cause.",
                    "Collect and analyse the logs of every rank (the one that failed first)."});

}  // namespace ncd::nccl
