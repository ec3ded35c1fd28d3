// SPDX-License-Identifier: Apache-2.0
// Streaming ingestion of NCCL logs into the RunLog (declared in log_ingest.hpp).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <functional>
#include <unordered_map>
#include <cctype>
#include <tuple>
#include <cerrno>
#include <cstring>
#include <map>
#include <unordered_set>

#include "core/error.hpp"
#include "core/fs.hpp"
#include "nccl/log_ingest.hpp"
#include "nccl/log_line.hpp"

namespace ncd::nccl {

namespace {

constexpr std::size_t kChunk = std::size_t{1} << 20;      // read size
constexpr std::size_t kMaxLine = std::size_t{64} << 10;   // longer lines are cut (NCCL caps at 1023)
constexpr std::size_t kMaxEventsPerKey = 6;               // per (signature, host)
constexpr std::size_t kMaxTracesPerProcess = 24;
constexpr std::size_t kMaxEvents = 4096;
constexpr std::size_t kMaxQuoteLen = 600;

std::string quote_text(std::string_view s) {
  if (s.size() > kMaxQuoteLen) return std::string(s.substr(0, kMaxQuoteLen)) + "...";
  return std::string(s);
}

inline std::string_view trim_sv(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

void classify_iface(NetInterface& i) {
  const std::string& n = i.name;
  auto sw = [&n](std::string_view p) { return n.compare(0, p.size(), p) == 0; };
  i.ipv6 = i.address.find(':') != std::string::npos;
  std::string a = i.address;
  std::transform(a.begin(), a.end(), a.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  i.link_local = a.rfind("fe8", 0) == 0 || a.rfind("fe9", 0) == 0 || a.rfind("fea", 0) == 0 || a.rfind("feb", 0) == 0;
  i.loopback = n == "lo" || a.rfind("127.", 0) == 0 || a == "::1";
  i.ipoib = sw("ib") && n.size() > 2;
  i.virtual_if = sw("docker") || sw("veth") || sw("virbr") || sw("br-") || sw("cni") || sw("flannel") ||
                 sw("cali") || sw("vxlan") || sw("tun") || sw("tap") || sw("lxc") || sw("weave") ||
                 sw("kube") || sw("podman") || sw("cilium") || sw("genev") || sw("vnet");
}

// "[0]eth0:10.1.2.3<0> [1]veth1:fe80::1%veth1<0>" or "lo:127.0.0.1<0>" -> interfaces.
std::vector<NetInterface> parse_ifaces(std::string_view s) {
  std::vector<NetInterface> out;
  while (!s.empty() && out.size() < 32) {
    s = trim_sv(s);
    if (s.empty()) break;
    std::size_t e = s.find(' ');
    std::string_view tok = s.substr(0, e);
    s = e == std::string_view::npos ? std::string_view() : s.substr(e + 1);
    if (!tok.empty() && tok[0] == '[') {
      std::size_t b = tok.find(']');
      if (b == std::string_view::npos) continue;
      tok = tok.substr(b + 1);
    }
    std::size_t colon = tok.find(':');
    if (colon == std::string_view::npos || colon == 0) continue;
    NetInterface i;
    i.name = std::string(tok.substr(0, colon));
    std::string_view addr = tok.substr(colon + 1);
    std::size_t lt = addr.find('<');
    if (lt != std::string_view::npos) addr = addr.substr(0, lt);
    std::size_t pct = addr.find('%');
    if (pct != std::string_view::npos) addr = addr.substr(0, pct);
    i.address = std::string(addr);
    classify_iface(i);
    out.push_back(std::move(i));
  }
  return out;
}

}  // namespace

Sig classify_message(std::string_view m, std::string_view src, int* code) {
  auto has = [m](std::string_view p) { return m.find(p) != std::string_view::npos; };
  if (code) *code = -1;
  if (has("Duplicate GPU detected")) return kSigDuplicateGpu;
  if (has("Mismatched NCCL version")) return kSigVersionMismatch;
  if (has("Error while creating shared memory segment") || has("failed to extend /dev/shm") ||
      (has("No space left on device") &&
       (has("posix_fallocate") || has("/dev/shm") || has("shm") || src.find("shm") != std::string_view::npos)))
    return kSigShm;
  if (has("insufficient for CUDA runtime") || has("driver version is insufficient")) return kSigDriverTooOld;
  if (has("invalid device function") || has("no kernel image is available")) return kSigArch;
  if (has("system not yet initialized") || has("Cuda failure 802") || has("error 802")) return kSigCuda802;
  if (has("out of memory") || has("Failed to CUDA calloc") || has("Failed to CUDA malloc") ||
      has("OUT_OF_MEMORY") || (has("cudaMalloc") && has("fail")))
    return kSigOom;
  if ((src.find("nvls") != std::string_view::npos || has("NVLS") || has("NVLink SHARP")) &&
      (has("Cuda failure") || has("CUDA")))
    return kSigNvls;
  // SHM over cuMem host memory (2.23+): a CUDA error raised by the SHM transport, or a peer's
  // cuMem descriptor read as a /dev/shm name (size 0).
  if ((src.find("shm") != std::string_view::npos && (has("Cuda failure") || has("CUDA error"))) ||
      (has("attaching to shared memory segment") && has("(size 0)")))
    return kSigShmCumem;
  if (has("Cannot initialize CollNet") || has("SHARP coll init error") ||
      (has("CollNet") && has("using point-to-point")))
    return kSigCollNet;
  if ((has("Attribute ") && has(" of node ") && has("not found")) ||
      (src.find("xml") != std::string_view::npos && (has("Could not open") || has("Failed to open") ||
                                                      has("Unexpected") || has("XML"))))
    return kSigTopoXml;
  if (has("XML Import") || has("Graph file") || has("graph file")) return kSigGraphImport;
  if (has("socketFinalizeAccept") && has("wrong type")) return kSigSocketType;
  if (has("exceeds device/fn maxSharedMem")) return kSigMaxSharedMem;
  if (has("Failed to find reverse path")) return kSigReversePath;
  if (has("Could not find a path for pattern")) return kSigPathPattern;
  if (has("open CUDA IPC handle") || has("cudaIpcOpenMemHandle")) {
    if (code && has("217")) *code = 217;
    return kSigIpcOpen;
  }
  if (has("ibv_open_device") || has("Unable to open device")) return kSigIbvOpen;
  if (has("NET/IB : No device found")) return kSigIbNoDevice;
  if (has("ibv_reg_mr") || has("ibv_reg_dmabuf_mr") || has("reg_mr")) {
    if (code && (has("Cannot allocate memory") || has("ENOMEM"))) *code = 12;
    return kSigRegMr;
  }
  if (has("ibv_modify_qp")) {
    if (code) {
      std::size_t p = m.find("failed with ");
      long v = -1;
      if (p != std::string_view::npos && parse_int(m.substr(p + 12), v)) *code = static_cast<int>(v);
    }
    return kSigModifyQp;
  }
  if (has("Got completion")) {
    if (code) {
      long v = -1;
      std::size_t p;
      if ((p = m.find("with error ")) != std::string_view::npos) (void)parse_int(m.substr(p + 11), v);
      else if ((p = m.find("status=")) != std::string_view::npos) {
        std::string_view r = m.substr(p + 7);
        if (!parse_int(r, v)) {  // 2.28: status=IBV_WC_RETRY_EXC_ERR(12)
          std::size_t paren = r.find('(');
          if (paren != std::string_view::npos && paren < 40) (void)parse_int(r.substr(paren + 1), v);
        }
      }
      *code = static_cast<int>(v);
    }
    return kSigIbCompletion;
  }
  if (has("async") && has("event")) {
    if (has("GID table change")) return kSigGidChange;
    if (has("port error") || has("PORT_ERR") || has("link down") || has("LID change")) return kSigPortError;
    if (has("work queue") || has("access violation") || has("WQ_") || has(" QP") || has("QP ")) return kSigAsyncWq;
    return kSigAsyncOther;
  }
  if (has("libibverbs")) return kSigIbverbsMissing;
  if (has("Disabling shared memory failed")) return kSigOfiShm;
  if (has("Selected Provider is") || has("Selected provider is")) return kSigOfiProvider;
  // A WARN the OFI plugin itself prints (its NET/OFI tag, libfabric, or a plugin source) is the
  // plugin's failure whatever its wording: the level is the signal.
  // (NCCL's own plugin loader naming libfabric.so in a dlerror is not the plugin speaking.)
  if ((has("NET/OFI") || has("libfabric") || src.find("nccl_net_ofi") != std::string_view::npos) &&
      !has("NET/Plugin"))
    return kSigOfiError;
  if (has("No IP interface found")) return kSigNoSocketIf;
  if (has("GPU Direct RDMA Disabled")) return kSigGdrDisabledHca;
  if (has("neither AF_INET") || has("with family")) return kSigBadFamily;
  if (has("no socket interface found") || has("No usable listening interface")) return kSigNoSocketIf;
  if (has("Connection refused")) return kSigConnRefused;
  if (has("No route to host") || has("returned 113")) return kSigNoRoute;
  if (has("Network is unreachable")) return kSigNetUnreachable;
  if (has("no POLLOUT") || has("timed out") || has("Connection timed out")) return kSigConnTimeout;
  // Any other failed connect ("socketStartConnect: Connect to X failed : Software caused ...").
  if ((has("onnect to ") || has("connect(")) && (has("failed") || has("returned"))) return kSigNetUnreachable;
  if (has("Connection closed by remote peer") || has("Connection reset") || has("Socket recv failed") ||
      has("Broken pipe") || has("Message truncated") || has("remote process exited"))
    return kSigPeerClosed;
  if (has("Proxy Service") || has("Proxy Call") || has("Failed to execute operation") || has("abort state") ||
      has("Error encountered progressing operation"))
    return kSigProxyFailed;
  if (has("No transport found")) return kSigNoTransport;
  if (has("Cuda failure") || has("CUDA error") || has("cuda error") || has("cudaError")) return kSigCudaOther;
  return kSigOther;
}

struct LogIngest::State {
  RunLog log;
  long relevant = 0;
  // Per input.
  int file = -1;
  long line_no = 0;
  bool chunk_has_esc = true;   // the current read chunk holds an ESC byte (colour codes)
  bool padded = false;         // this line is padded like a terminal copy: may hold two records
  bool prev_ends_nccl = false;  // "NCCL" hard-wrapped before "version X"
  bool pending_last_error = false;
  std::string last_error_prefix;
  std::string scratch;  // ANSI-stripped copy
  // Indexes: lookups by string_view without allocating; the last hit is cached because most
  // consecutive lines come from the same process.
  struct SvHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  struct ProcHash {
    std::size_t operator()(const std::pair<const HostInfo*, long>& k) const noexcept {
      return std::hash<const void*>{}(k.first) * 31u + std::hash<long>{}(k.second);
    }
  };
  std::unordered_map<std::string, HostInfo*, SvHash, std::equal_to<>> host_index;
  std::unordered_map<std::pair<const HostInfo*, long>, ProcessInfo*, ProcHash> proc_index;
  HostInfo* host_cache = nullptr;
  ProcessInfo* proc_cache = nullptr;
  const HostInfo* proc_cache_host = nullptr;
  long proc_cache_pid = -2;
  struct Slot {
    HostInfo* h = nullptr;
    ProcessInfo* p = nullptr;
    long pid = 0;
    std::uint64_t hash = 0;
    std::uint64_t devs = 0;
  };
  static constexpr std::size_t kSlots = 1024;
  std::vector<Slot> slots = std::vector<Slot>(kSlots);
  // Parsed prefixes of recent records, and what each resolved to: with an interleaved job log,
  // the prefix bytes identify host, process and device for almost every record.
  std::unique_ptr<PrefixCache> prefix_cache = std::make_unique<PrefixCache>();
  struct PrefixSlot {
    std::uint32_t gen = 0;
    HostInfo* h = nullptr;
    ProcessInfo* p = nullptr;
  };
  std::vector<PrefixSlot> prefix_slots = std::vector<PrefixSlot>(PrefixCache::kSlots);
  std::unordered_set<std::uint64_t> conn_keys;
  std::unordered_set<std::uint64_t> tree_keys;
  std::unordered_map<std::uint64_t, std::size_t> event_counts;
  std::unordered_map<std::uint64_t, std::pair<int, int>> sig_cache;  // message hash -> (sig, code)
  std::array<long, kSigCount> sig_counts{};
  std::unordered_set<std::uint64_t> device_lines_seen;

  HostInfo& host(std::string_view name) {
    if (host_cache && host_cache->name == name) return *host_cache;
    auto hit = host_index.find(name);
    if (hit != host_index.end()) return *(host_cache = hit->second);
    auto it = log.hosts.emplace(std::string(name), HostInfo{}).first;
    it->second.name = std::string(name);
    host_index.emplace(std::string(name), &it->second);
    return *(host_cache = &it->second);
  }

  ProcessInfo& process(HostInfo& h, long pid) {
    if (proc_cache && proc_cache_pid == pid && proc_cache_host == &h) return *proc_cache;
    auto hit = proc_index.find({&h, pid});
    if (hit == proc_index.end()) {
      auto key = std::make_pair(h.name, pid);
      auto it = log.processes.emplace(key, ProcessInfo{}).first;
      it->second.host = h.name;
      it->second.pid = pid;
      if (pid >= 0) h.pids.insert(pid);
      hit = proc_index.emplace(std::make_pair(&h, pid), &it->second).first;
    }
    proc_cache = hit->second;
    proc_cache_host = &h;
    proc_cache_pid = pid;
    return *proc_cache;
  }

  /// Counts an event and says whether to keep it (bounded per signature, host and, for traces,
  /// process): callers build the strings only when it is kept.
  bool keep_event(int sig, const HostInfo* h, long pid, EventKind kind) {
    if (sig >= 0 && sig < kSigCount) ++sig_counts[static_cast<std::size_t>(sig)];
    // HostInfo nodes live as long as the RunLog: their address identifies the host.
    std::uint64_t key = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(h)) * 1000003u ^
                        static_cast<std::uint64_t>(sig) * 7919u ^
                        (kind == EventKind::kTrace ? static_cast<std::uint64_t>(pid) * 104729u + 1 : 0);
    auto& n = event_counts[key];
    std::size_t cap = kind == EventKind::kTrace ? kMaxTracesPerProcess : kMaxEventsPerKey;
    if (n >= cap || log.events.size() >= kMaxEvents) {
      ++log.dropped_events;
      return false;
    }
    ++n;
    return true;
  }

  Sig classify_cached(std::string_view msg, std::string_view src, int* code) {
    std::uint64_t key = std::hash<std::string_view>{}(msg) ^ (std::hash<std::string_view>{}(src) * 31u);
    auto it = sig_cache.find(key);
    if (it != sig_cache.end()) {
      *code = it->second.second;
      return static_cast<Sig>(it->second.first);
    }
    Sig sig = classify_message(msg, src, code);
    if (sig_cache.size() > 8192) sig_cache.clear();
    sig_cache.emplace(key, std::make_pair(static_cast<int>(sig), *code));
    return sig;
  }

  SourceRef here() const { return SourceRef{file, line_no}; }

  static void advance(Stage& s, Stage to) {
    if (static_cast<int>(to) > static_cast<int>(s)) s = to;
  }


  void set_version(std::string_view text_after_version, std::string_view record, const std::string& hostname) {
    auto v = NcclVersion::parse(text_after_version);
    if (!v) return;
    if (!hostname.empty() || log.hosts.count(hostname)) host(hostname).versions.insert(v->text);
    if (!log.version.known()) {
      log.version = *v;
      log.version_quote = Quote{quote_text(record), here()};
    }
  }

  /// An NCCL_* setting seen on host `h`: set by the user's environment (`by_user`: the last
  /// value wins on the host, and differing values across the log are all kept) or by a net
  /// plugin on its own (the user's own setting is not overwritten).
  void note_env(const std::string& name, const std::string& value, std::string_view rec, HostInfo& h, bool by_user) {
    if (by_user) h.env[name] = value;
    else h.env.emplace(name, value);
    auto& e = log.env[name];
    if (e.name.empty()) {
      e.name = name;
      e.value = value;
      e.text = quote_text(rec);
      e.at = here();
    } else if (by_user && e.value != value && e.value.find(" | ") == std::string::npos && e.value.size() < 200) {
      if (e.value.find(value) == std::string::npos) e.value += " | " + value;
    }
    if (e.hosts.size() < 256) e.hosts.insert(h.name);
  }

  void rank_seen(int rank, const std::string& hostname, ProcessInfo* p) {
    if (rank < 0 || rank > (1 << 22)) return;
    auto& r = log.ranks[rank];
    r.rank = rank;
    if (r.host.empty() && !hostname.empty()) {
      r.host = hostname;
      if (p) r.pid = p->pid;
    }
    if (!hostname.empty()) host(hostname).ranks.insert(rank);
  }

  void feed(std::string_view line);
  void feed_record(std::string_view rec, std::string_view physical);
  void on_nccl(const LogLine& l, std::string_view rec);
  void on_info(const LogLine& l, std::string_view rec, HostInfo& h, ProcessInfo& p);
  /// An event of one log line: its kind and signature, host, pid, device, message and quote.
  LogEvent line_event(EventKind kind, Sig sig, const LogLine& l, std::string_view rec, const HostInfo& h);
  void info_signal(Sig sig, const LogLine& l, std::string_view rec, HostInfo& h);
  void on_ring_listing(std::string_view m, std::string_view rec, ProcessInfo& p, bool legacy_syntax);
  void on_trace_or_running(const LogLine& l, std::string_view rec, HostInfo& h, ProcessInfo& p);
  void on_bootstrap(std::string_view m, std::string_view rec, HostInfo& h, ProcessInfo& p);
  void on_info_n(const LogLine& l, std::string_view rec, HostInfo& h, ProcessInfo& p);
  void on_net(const LogLine& l, std::string_view rec, HostInfo& h, ProcessInfo& p);
  void on_net_ib_using(std::string_view m, std::string_view rec, HostInfo& h, ProcessInfo& p);
  void on_net_plugin(std::string_view r, const LogLine& l, std::string_view rec, HostInfo& h);
  void on_net_ofi(std::string_view r, const LogLine& l, std::string_view rec, HostInfo& h);
  void on_connection(const ConnLine& c, std::string_view rec, HostInfo& h, ProcessInfo& p, const LogLine& l);
  void on_comm(std::string_view msg, std::string_view rec, HostInfo& h, ProcessInfo& p);
  void on_trees(std::string_view msg, ProcessInfo& p);
  void on_carried(std::string_view msg, std::string_view rec, const LogLine& l, EventKind kind);
  void on_tests(const LogLine& l, std::string_view rec);
  void on_watchdog(const LogLine& l, std::string_view rec);
  void on_other(std::string_view rec);
  void begin_file(const std::string& name);
  void read_fd_plain(int fd, const std::string& name);
  void read_gz(gzFile gz, const std::string& name);
  void consume_buffer(const char* data, std::size_t n, std::string& carry, bool& skipping, bool& first,
                      const std::string& name);
  void finish_file(std::string& carry, bool skipping);
};

void LogIngest::State::begin_file(const std::string& name) {
  log.files.push_back(name);
  file = static_cast<int>(log.files.size()) - 1;
  line_no = 0;
  padded = false;
  prev_ends_nccl = false;
  pending_last_error = false;
  host_cache = nullptr;
  proc_cache = nullptr;
  proc_cache_host = nullptr;
  // Stripped prefixes map to a per-file pseudo-process: forget what prefixes resolved to.
  std::fill(prefix_slots.begin(), prefix_slots.end(), PrefixSlot{});
}

void LogIngest::State::feed(std::string_view line) {
  ++line_no;
  ++log.total_lines;
  log.bytes += line.size() + 1;
  // Terminal padding: a copy from a terminal pads each record to the terminal's width, and may
  // put two records on one physical line. Only padded lines pay for the split search.
  padded = line.size() >= 8 && line.back() == ' ' && line.substr(line.size() - 8) == "        ";
  if (chunk_has_esc && std::memchr(line.data(), '\x1b', line.size())) {
    scratch.clear();
    for (std::size_t i = 0; i < line.size(); ++i) {
      if (line[i] == '\x1b') {
        std::size_t j = i + 1;
        if (j < line.size() && line[j] == '[') {
          ++j;
          while (j < line.size() && !((line[j] >= '@' && line[j] <= '~') && line[j] != '[')) ++j;
        }
        i = j;
        continue;
      }
      scratch.push_back(line[i]);
    }
    line = scratch;
  }
  feed_record(line, line);
}

void LogIngest::State::feed_record(std::string_view rec, std::string_view physical) {
  if (pending_last_error) {
    std::string_view t = trim_sv(rec);
    if (!t.empty() && t != std::string_view(last_error_prefix).substr(0, t.size())) {
      pending_last_error = false;
      std::string_view msg = rec;
      std::size_t p = msg.find(last_error_prefix);
      if (!last_error_prefix.empty() && p != std::string_view::npos && p < 8) msg = msg.substr(p + last_error_prefix.size());
      LogLine l;
      l.kind = LineKind::kOther;
      on_carried(trim_sv(msg), rec, l, EventKind::kCarried);
      prev_ends_nccl = false;
      return;
    }
  }
  LogLine l = classify_line(rec, *prefix_cache);
  switch (l.kind) {
    case LineKind::kNcclInfo:
    case LineKind::kNcclWarn:
    case LineKind::kNcclOther: {
      if (padded) {
        std::size_t s = second_record(rec, l);
        if (s != std::string_view::npos) {
          ++log.split_records;
          std::string_view first = rec.substr(0, s);
          std::string_view second = rec.substr(s);
          l = classify_line(first, *prefix_cache);
          on_nccl(l, trim_sv(first));
          feed_record(second, physical);
          return;
        }
      }
      on_nccl(l, trim_sv(rec));
      break;
    }
    case LineKind::kVersionBanner: {
      ++relevant;
      ++log.nccl_lines;
      std::string hostname;
      set_version(l.msg.substr(13), trim_sv(rec), hostname);
      break;
    }
    case LineKind::kTorchError: {
      ++relevant;
      std::size_t v = l.msg.find("NCCL version ");
      if (v != std::string_view::npos) set_version(l.msg.substr(v + 13), trim_sv(rec), "");
      on_carried(l.msg, rec, l, EventKind::kCarried);
      break;
    }
    case LineKind::kLastErrorHeader:
      ++relevant;
      if (!l.msg.empty()) {
        on_carried(l.msg, rec, l, EventKind::kCarried);
      } else {
        pending_last_error = true;
        last_error_prefix.assign(l.prefix);
      }
      break;
    case LineKind::kWatchdog:
      ++relevant;
      on_watchdog(l, rec);
      break;
    case LineKind::kTestsFailure: {
      ++relevant;
      // "Test NCCL failure common.cu:891 'unhandled cuda error'" -> the quoted text.
      std::string_view m = l.msg;
      std::size_t q = m.find('\'');
      std::size_t q2 = m.rfind('\'');
      std::string_view inner = (q != std::string_view::npos && q2 > q) ? m.substr(q + 1, q2 - q - 1) : m;
      on_carried(inner, rec, l, EventKind::kCarried);
      if (log.tests.failures.size() < 16) {
        LogEvent f;
        f.kind = EventKind::kCarried;
        f.message = std::string(inner);
        f.text = quote_text(trim_sv(rec));
        f.at = here();
        log.tests.failures.push_back(std::move(f));
      }
      break;
    }
    case LineKind::kTestsHeader:
    case LineKind::kTestsDevice:
    case LineKind::kTestsRow:
    case LineKind::kTestsAvg:
      ++relevant;
      on_tests(l, rec);
      break;
    case LineKind::kNvidiaSmi: {
      std::size_t p = l.msg.find("Driver Version:");
      if (p != std::string_view::npos) {
        std::string_view v = trim_sv(l.msg.substr(p + 15));
        std::size_t e = v.find(' ');
        log.driver_version = std::string(v.substr(0, e));
        log.driver_quote = Quote{quote_text(trim_sv(rec)), here()};
      }
      break;
    }
    default: {
      on_other(rec);
      // A hard wrap inside "NCCL version X": "...NCCL" then "version 2.14.3".
      if (prev_ends_nccl) {
        std::string_view t = trim_sv(strip_launcher(rec));
        if (starts_with(t, "version ") && t.size() > 8 && is_digit(t[8])) {
          ++relevant;
          set_version(t.substr(8), t, "");
        }
      }
      break;
    }
  }
  // Only the tail matters: does the record end with "NCCL" (before trailing blanks)?
  std::size_t e = rec.size();
  while (e > 0 && (rec[e - 1] == ' ' || rec[e - 1] == '\t' || rec[e - 1] == '\r')) --e;
  prev_ends_nccl = e >= 4 && rec.substr(e - 4, 4) == "NCCL";
}

void LogIngest::State::on_nccl(const LogLine& l, std::string_view rec) {
  ++relevant;
  ++log.nccl_lines;
  if (l.old_format && log.version_hint.empty()) log.version_hint = "<= 2.3 (no NCCL token in the prefix)";
  std::string_view hname = l.host;
  PrefixSlot* ps = l.prefix_slot >= 0 ? &prefix_slots[static_cast<std::size_t>(l.prefix_slot)] : nullptr;
  HostInfo* hp = nullptr;
  ProcessInfo* pp = nullptr;
  if (ps && ps->gen == l.prefix_gen) {
    // Same prefix bytes as a record seen before: same host, process and device (already noted).
    hp = ps->h;
    pp = ps->p;
  } else {
    long pid = l.pid;
    if (hname.empty() && pid < 0) pid = -1 - file;  // stripped prefixes: one pseudo-process per file
    // Direct-mapped cache of (host, pid) -> process: interleaved streams alternate between a
    // bounded set of processes, and a hash table lookup per line costs more than the parse.
    std::uint64_t hh = 1469598103934665603ull;
    for (char c : hname) hh = (hh ^ static_cast<unsigned char>(c)) * 1099511628211ull;
    hh ^= static_cast<std::uint64_t>(pid) * 0x9E3779B97F4A7C15ull;
    Slot& slot = slots[hh & (kSlots - 1)];
    if (!(slot.p && slot.hash == hh && slot.pid == pid && slot.h->name == hname)) {
      HostInfo& hn = host(hname);
      slot.p = &process(hn, pid);
      slot.h = &hn;
      slot.hash = hh;
      slot.pid = pid;
      slot.devs = 0;
    }
    hp = slot.h;
    pp = slot.p;
    if (l.dev >= 0 && l.dev < 4096) {
      // Devices below 64 are remembered in the slot's bit mask; the set is touched once per device.
      bool known = l.dev < 64 && (slot.devs >> l.dev) & 1u;
      if (!known) {
        pp->cuda_devs.insert(l.dev);
        if (l.dev < 64) slot.devs |= std::uint64_t{1} << l.dev;
      }
    }
    if (ps) *ps = PrefixSlot{l.prefix_gen, hp, pp};
  }
  HostInfo& h = *hp;
  ProcessInfo& p = *pp;
  ++h.lines;
  if (l.launcher_rank >= 0 && p.ranks.empty()) {
    // Open MPI's rank is usually the NCCL rank of the world communicator; used only until
    // an NCCL line names the rank.
  }
  advance(p.stage, Stage::kStarted);
  p.last_at = here();
  p.last_line.assign(rec.substr(0, std::min<std::size_t>(rec.size(), kMaxQuoteLen)));
  if (l.kind == LineKind::kNcclWarn) {
    ++log.warn_lines;
    ++h.warns;
    p.failed = true;
    int code = -1;
    Sig sig = classify_cached(l.msg, l.src, &code);
    if (!keep_event(sig, &h, l.pid, EventKind::kWarn)) return;
    LogEvent ev;
    ev.kind = EventKind::kWarn;
    ev.sig = sig;
    ev.host = std::string(hname);
    ev.pid = l.pid;
    ev.tid = l.tid;
    ev.dev = l.dev;
    ev.rank = l.launcher_rank;
    ev.src = std::string(l.src);
    ev.message = quote_text(l.msg);
    ev.text = quote_text(rec);
    ev.result = code;
    ev.at = here();
    log.events.push_back(std::move(ev));
    return;
  }
  if (l.kind == LineKind::kNcclInfo) on_info(l, rec, h, p);
}

LogEvent LogIngest::State::line_event(EventKind kind, Sig sig, const LogLine& l, std::string_view rec,
                                      const HostInfo& h) {
  LogEvent ev;
  ev.kind = kind;
  ev.sig = sig;
  ev.host = h.name;
  ev.pid = l.pid;
  ev.dev = l.dev;
  ev.message = quote_text(l.msg);
  ev.text = quote_text(rec);
  ev.at = here();
  return ev;
}

void LogIngest::State::info_signal(Sig sig, const LogLine& l, std::string_view rec, HostInfo& h) {
  if (!keep_event(sig, &h, l.pid, EventKind::kInfoSignal)) return;
  log.events.push_back(line_event(EventKind::kInfoSignal, sig, l, rec, h));
}

/// "Channel 00 :    0 1 2 3" (or "Ring 00 : ..." before 2.7): the ring order of one channel.
void LogIngest::State::on_ring_listing(std::string_view m, std::string_view rec, ProcessInfo& p, bool legacy_syntax) {
  int ch = 0, count = 0;
  int ranks[512];
  if (!parse_ring_listing(m, ch, ranks, 512, count)) return;
  advance(p.stage, Stage::kTopology);
  auto& ring = log.rings[ch];
  if (ring.empty()) ring.assign(ranks, ranks + std::min(count, 512));
  if (count > log.nranks && m.find("...") == std::string_view::npos) log.nranks = count;
  if (log.ring_quotes.size() < 4) log.ring_quotes.push_back(Quote{quote_text(rec), here()});
  if (legacy_syntax && log.version_hint.empty()) log.version_hint = "<= 2.6 (Ring syntax)";
}

void LogIngest::State::on_info(const LogLine& l, std::string_view rec, HostInfo& h, ProcessInfo& p) {
  std::string_view m = l.msg;
  if (m.empty()) return;
  switch (m[0]) {
    case 'C': {
      ConnLine c;
      if (starts_with(m, "Channel ")) {
        if (parse_connection(m, c)) {
          on_connection(c, rec, h, p, l);
          return;
        }
        on_ring_listing(m, rec, p, false);
        return;
      }
      if (starts_with(m, "Connected all rings") || starts_with(m, "Connected all trees") ||
          starts_with(m, "Connected binomial") || starts_with(m, "Connected NVLS")) {
        advance(p.stage, Stage::kConnected);
        return;
      }
      if (starts_with(m, "CUDA Dev ")) {
        // 2.3: "CUDA Dev 0, IP Interfaces : lo(SOC) eth0(PXB)"
        advance(p.stage, Stage::kBootstrap);
        return;
      }
      if (starts_with(m, "Could not find a path")) info_signal(kSigPathPattern, l, rec, h);
      return;
    }
    case 'R': {
      ConnLine c;
      if (starts_with(m, "Ring ")) {
        if (parse_connection(m, c)) {
          on_connection(c, rec, h, p, l);
          return;
        }
        on_ring_listing(m, rec, p, true);
      }
      return;
    }
    case 'T':
      if (starts_with(m, "Trees")) on_trees(m, p);
      return;
    case 'B':
      if (starts_with(m, "Bootstrap")) on_bootstrap(m, rec, h, p);
      return;
    case 'U':
      if (starts_with(m, "Using network ")) {
        std::string net(trim_sv(m.substr(14)));
        if (h.networks.insert(net).second && h.network_quote.empty())
          h.network_quote = Quote{quote_text(rec), here()};
        advance(p.stage, Stage::kBootstrap);
      }
      return;
    case 'N':
      on_info_n(l, rec, h, p);
      return;
    case 'P':
      if (starts_with(m, "Plugin Path : ") || starts_with(m, "Plugin Path: ")) {
        h.plugin = PluginState::kExternal;
        h.plugin_text = std::string(trim_sv(m.substr(m.find(':') + 1)));
        h.plugin_quote = Quote{quote_text(rec), here()};
      } else if (starts_with(m, "Pattern ")) {
        advance(p.stage, Stage::kTopology);
        if (contains(m, "type NVL")) ++h.nvlink_paths;
      }
      return;
    case 'S':
      if (starts_with(m, "Successfully loaded external") ) {
        h.plugin = PluginState::kExternal;
        h.plugin_text = std::string(trim_sv(m.substr(m.find("plugin") + 6)));
        h.plugin_quote = Quote{quote_text(rec), here()};
      } else if (starts_with(m, "Setting affinity")) {
        advance(p.stage, Stage::kTopology);
      }
      return;
    case 'F':
      if (starts_with(m, "Failed to open libibverbs")) info_signal(kSigIbverbsMissing, l, rec, h);
      return;
    case 'G':
      if (contains(m, "GPU Direct RDMA Disabled")) info_signal(kSigGdrDisabledHca, l, rec, h);
      else if (starts_with(m, "GPU/") && contains(m, "/NVL)")) ++h.nvlink_paths;
      return;
    case 'c':
      if (starts_with(m, "comm ")) {
        on_comm(m, rec, h, p);
        return;
      }
      if (starts_with(m, "cudaDriverVersion ")) {
        h.cuda_driver = std::string(trim_sv(m.substr(18)));
        return;
      }
      break;
    case 'n':
      if (starts_with(m, "nranks ")) {
        // 2.4: "nranks 4"
        long n = 0;
        if (parse_int(m.substr(7), n) && n > log.nranks && n < (1 << 22)) log.nranks = static_cast<int>(n);
        advance(p.stage, Stage::kInitStart);
        if (log.init_quotes.size() < 4) log.init_quotes.push_back(Quote{quote_text(rec), here()});
        return;
      }
      if (starts_with(m, "nccl")) {
        std::size_t c = m.find(" comm ");
        if (c != std::string_view::npos && c < 40) {
          on_comm(m.substr(c + 1), rec, h, p);
          return;
        }
        if (starts_with(m, "ncclMaxSharedMem") && contains(m, "exceeds")) {
          info_signal(kSigMaxSharedMem, l, rec, h);
          return;
        }
      }
      break;
    default:
      break;
  }
  on_trace_or_running(l, rec, h, p);
}

/// Error traces "file.cc:N -> R" and the COLL lines of running collectives.
void LogIngest::State::on_trace_or_running(const LogLine& l, std::string_view rec, HostInfo& h, ProcessInfo& p) {
  std::string_view m = l.msg;
  TraceLine t;
  if (m[0] >= 'a' && m[0] <= 'z' && parse_trace(m, t)) {
    p.failed = true;
    if (!keep_event(kSigTrace, &h, l.pid, EventKind::kTrace)) return;
    LogEvent ev = line_event(EventKind::kTrace, kSigTrace, l, rec, h);
    ev.tid = l.tid;
    ev.src = std::string(t.file) + ":" + std::to_string(t.line);
    ev.result = t.result;
    log.events.push_back(std::move(ev));
    return;
  }
  std::size_t oc = m.find(": opCount ");
  if (oc != std::string_view::npos && oc < 20) advance(p.stage, Stage::kRunning);
}

/// "Bootstrap : Using eth0:10.0.0.1<0>": this process's address and the host's bootstrap interfaces.
void LogIngest::State::on_bootstrap(std::string_view m, std::string_view rec, HostInfo& h, ProcessInfo& p) {
  advance(p.stage, Stage::kBootstrap);
  if (p.address.empty()) {
    // The address of this process's machine.
    std::size_t u = m.find("Using");
    if (u != std::string_view::npos) {
      std::string_view a = trim_sv(m.substr(u + 5));
      std::size_t c = a.find(':');
      std::size_t e = a.find('<');
      if (c != std::string_view::npos && e != std::string_view::npos && e > c) {
        p.address = std::string(a.substr(c + 1, e - c - 1));
        p.address_quote = Quote{quote_text(rec), here()};
      }
    }
  }
  if (!h.bootstrap_ifs.empty()) return;  // every rank repeats it: parse the host's first
  std::size_t u = m.find("Using");
  if (u == std::string_view::npos) return;
  auto ifs = parse_ifaces(m.substr(u + 5));
  if (!ifs.empty()) {
    h.bootstrap_ifs = std::move(ifs);
    h.bootstrap_quote = Quote{quote_text(rec), here()};
  }
  advance(p.stage, Stage::kBootstrap);
}

/// INFO lines starting with N: "NET/..." (the network transports and plugins), the 2.3 socket
/// interface lines, the NCCL version and the NCCL_* settings.
void LogIngest::State::on_info_n(const LogLine& l, std::string_view rec, HostInfo& h, ProcessInfo& p) {
  std::string_view m = l.msg;
  if (starts_with(m, "NET/")) {
    on_net(l, rec, h, p);
    return;
  }
  if (starts_with(m, "NET : Using interface ")) {
    // 2.3: one line per socket interface, the first one is used for bootstrap.
    auto ifs = parse_ifaces(m.substr(22));
    if (!ifs.empty()) {
      if (h.socket_ifs.empty()) h.socket_quote = Quote{quote_text(rec), here()};
      if (h.socket_ifs.size() < 32) h.socket_ifs.push_back(ifs.front());
    }
    advance(p.stage, Stage::kBootstrap);
    return;
  }
  if (starts_with(m, "NCCL version ")) {
    set_version(m.substr(13), rec, h.name);
    return;
  }
  if (starts_with(m, "NCCL_")) {
    std::size_t s = m.find(" set by environment to ");
    std::size_t vlen = 23;
    if (s == std::string_view::npos) return;
    std::string value(trim_sv(m.substr(s + vlen)));
    if (!value.empty() && value.back() == '.') value.pop_back();
    note_env(std::string(m.substr(0, s)), value, rec, h, true);
  }
}

void LogIngest::State::on_net(const LogLine& l, std::string_view rec, HostInfo& h, ProcessInfo& p) {
  std::string_view m = l.msg;
  std::string_view r = m.substr(4);
  // A net plugin that sets NCCL variables itself ("NET/OFI ... Setting NCCL_TOPO_FILE
  // environment variable to X"): configuration the user did not write, recorded as such.
  if (std::size_t sv = m.find("Setting NCCL_"); sv != std::string_view::npos) {
    std::string_view a = m.substr(sv + 8);
    std::size_t to = a.find(" to ");
    std::size_t nm = a.find_first_of(" =");
    if (to != std::string_view::npos && nm != std::string_view::npos) {
      note_env(std::string(a.substr(0, nm)), std::string(trim_sv(a.substr(to + 4))), rec, h, false);
    }
  }
  if (starts_with(r, "IB : Using") || starts_with(r, "IB: Using") || starts_with(r, "IBext : Using")) {
    on_net_ib_using(m, rec, h, p);
    return;
  }
  if (starts_with(r, "IB : No device found") || starts_with(r, "IB: No device found")) {
    if (h.ib_quote.empty()) h.ib_quote = Quote{quote_text(rec), here()};
    info_signal(kSigIbNoDevice, l, rec, h);
    return;
  }
  if (starts_with(r, "Socket : Using") || starts_with(r, "Socket: Using")) {
    advance(p.stage, Stage::kBootstrap);
    if (!h.socket_ifs.empty()) return;
    std::size_t u = m.find("Using");
    auto ifs = parse_ifaces(m.substr(u + 5));
    if (!ifs.empty() && h.socket_ifs.empty()) {
      h.socket_ifs = std::move(ifs);
      h.socket_quote = Quote{quote_text(rec), here()};
    }
    advance(p.stage, Stage::kBootstrap);
    return;
  }
  if (starts_with(r, "Plugin")) {
    on_net_plugin(r, l, rec, h);
    return;
  }
  if (starts_with(r, "OFI ")) {
    on_net_ofi(r, l, rec, h);
    return;
  }
  if (contains(r, "GPU Direct RDMA Disabled")) info_signal(kSigGdrDisabledHca, l, rec, h);
  // "NET/IB: Dev 0 Port 1 qpn 1234 mtu 5 LID 7 ..." (NET subsystem): the QP MTU per host.
  if (starts_with(r, "IB") && h.ib_mtus.size() < 8) {
    std::size_t mt = r.find(" mtu ");
    long v = -1;
    if (mt != std::string_view::npos && parse_int(r.substr(mt + 5), v) && !h.ib_mtus.count(static_cast<int>(v)))
      h.ib_mtus.emplace(static_cast<int>(v), Quote{quote_text(rec), here()});
  }
}

namespace {

/// " [0]mlx5_0:1/IB/SHARP [8]mlx5_8:1/RoCE [RO];": the RDMA devices of "NET/IB : Using".
void parse_rdma_devices(std::string_view devs, std::vector<RdmaDevice>& out) {
  std::size_t pos = 0;
  while ((pos = devs.find('[', pos)) != std::string_view::npos && out.size() < 64) {
    std::size_t e = devs.find(']', pos);
    if (e == std::string_view::npos) break;
    long idx = -1;
    if (!parse_int(devs.substr(pos + 1, e - pos - 1), idx)) {
      pos = e;
      continue;
    }
    std::size_t end = devs.find(' ', e);
    std::string_view tok = devs.substr(e + 1, end == std::string_view::npos ? std::string_view::npos : end - e - 1);
    RdmaDevice d;
    d.index = static_cast<int>(idx);
    std::size_t slash = tok.find('/');
    d.name = std::string(tok.substr(0, slash));
    if (slash != std::string_view::npos) {
      std::string_view ll = tok.substr(slash + 1);
      d.link_layer = std::string(ll.substr(0, ll.find('/')));
    }
    if (!d.link_layer.empty() && d.link_layer.back() == ';') d.link_layer.pop_back();
    out.push_back(std::move(d));
    pos = e;
  }
}

}  // namespace

/// "NET/IB : Using [0]mlx5_0:1/IB ... ; OOB eth0:10.0.0.1<0>": the host's RDMA devices and OOB interfaces.
void LogIngest::State::on_net_ib_using(std::string_view m, std::string_view rec, HostInfo& h, ProcessInfo& p) {
  advance(p.stage, Stage::kBootstrap);
  if (!h.ib_quote.empty() && !h.rdma_devs.empty()) return;
  std::size_t u = m.find("Using");
  std::string_view list = m.substr(u + 5);
  std::size_t oob = list.find("OOB ");
  std::string_view devs = oob == std::string_view::npos ? list : list.substr(0, oob);
  if (h.rdma_devs.empty()) parse_rdma_devices(devs, h.rdma_devs);
  if (oob != std::string_view::npos && h.oob_ifs.empty()) h.oob_ifs = parse_ifaces(list.substr(oob + 4));
  if (h.ib_quote.empty()) h.ib_quote = Quote{quote_text(rec), here()};
  advance(p.stage, Stage::kBootstrap);
}

/// "NET/Plugin ...": which net plugin was loaded, or why none was.
void LogIngest::State::on_net_plugin(std::string_view r, const LogLine& l, std::string_view rec, HostInfo& h) {
  // The dynamic loader's verdict: "returned 2 : libnccl-net.so: cannot open shared object
  // file: No such file or directory" means no plugin; any other text (an undefined
  // symbol, a missing dependency, a wrong ELF class) means a plugin that exists and failed.
  std::string_view dl;
  if (std::size_t q = r.find("dlerror="); q != std::string_view::npos) dl = r.substr(q + 8);
  else if (std::size_t q2 = r.find("returned "); q2 != std::string_view::npos) {
    std::size_t c = r.find(" : ", q2);
    if (c != std::string_view::npos) dl = r.substr(c + 3);
  }
  if (!dl.empty()) {
    std::string_view lib = dl.substr(0, dl.find(':'));
    bool absent = contains(dl, "No such file or directory") && contains(lib, "libnccl-net") &&
                  lib.find('/') == std::string_view::npos && !h.env.count("NCCL_NET_PLUGIN");
    if (!absent && h.plugin_error.empty()) {
      h.plugin_error = std::string(trim_sv(dl.substr(0, dl.find(" : when loading"))));
      info_signal(kSigPluginLoad, l, rec, h);
    }
  }
  // Internal: "Could not find: libnccl-net.so. Using internal ..." / "No plugin found".
  if (contains(r, "Could not find") || contains(r, "No plugin found") || contains(r, "using internal") ||
      contains(r, "Using internal")) {
    if (contains(r, "libnccl-net") || contains(r, "net plugin") || contains(r, "network plugin") ||
        contains(r, "internal implementation")) {
      if (h.plugin == PluginState::kUnknown) {
        h.plugin = PluginState::kInternal;
        h.plugin_text = "internal";
        h.plugin_quote = Quote{quote_text(rec), here()};
      }
    }
  } else if (contains(r, "Loaded net plugin") || contains(r, "Loaded plugin")) {
    h.plugin = PluginState::kExternal;
    h.plugin_text = std::string(trim_sv(r.substr(r.find("plugin") + 6)));
    h.plugin_quote = Quote{quote_text(rec), here()};
  }
}

/// "NET/OFI ...": aws-ofi-nccl and the libfabric provider it selected.
void LogIngest::State::on_net_ofi(std::string_view r, const LogLine& l, std::string_view rec, HostInfo& h) {
  std::size_t s = r.find("Selected Provider is ");
  if (s == std::string_view::npos) s = r.find("Selected provider is ");
  if (s != std::string_view::npos) {
    std::string_view prov = r.substr(s + 21);
    h.ofi_provider = std::string(prov.substr(0, prov.find_first_of(" ,")));
    h.ofi_quote = Quote{quote_text(rec), here()};
    if (h.ofi_provider != "efa") info_signal(kSigOfiProvider, l, rec, h);
  }
  if (h.plugin == PluginState::kUnknown || h.plugin == PluginState::kInternal) {
    h.plugin = PluginState::kExternal;
    h.plugin_text = "aws-ofi-nccl";
    if (h.plugin_quote.empty()) h.plugin_quote = Quote{quote_text(rec), here()};
  }
}

void LogIngest::State::on_connection(const ConnLine& c, std::string_view rec, HostInfo& h, ProcessInfo& p,
                                     const LogLine& l) {
  advance(p.stage, Stage::kConnecting);
  std::uint64_t key = (static_cast<std::uint64_t>(static_cast<std::uint32_t>(c.channel)) << 48) ^
                      (static_cast<std::uint64_t>(static_cast<std::uint32_t>(c.conn_index) & 0xff) << 40) ^
                      (static_cast<std::uint64_t>(static_cast<std::uint32_t>(c.from)) << 20) ^
                      static_cast<std::uint64_t>(static_cast<std::uint32_t>(c.to)) ^
                      (static_cast<std::uint64_t>(c.dir) << 62);
  if (!conn_keys.insert(key).second) return;
  Connection k;
  k.channel = c.channel;
  k.conn_index = c.conn_index;
  k.from_rank = c.from;
  k.to_rank = c.to;
  k.from_dev = std::string(c.from_dev);
  k.to_dev = std::string(c.to_dev);
  k.transport = std::string(c.via);
  k.dir = c.dir == 1 ? ConnDir::kSend : c.dir == 2 ? ConnDir::kRecv : ConnDir::kNone;
  k.ring_syntax = c.ring_syntax;
  k.host = h.name;
  k.pid = p.pid;
  k.at = here();
  k.text = quote_text(rec);
  std::string_view v = c.via;
  if (starts_with(v, "P2P")) {
    k.kind = TransportKind::kP2P;
  } else if (starts_with(v, "SHM") || starts_with(v, "direct shared memory") || contains(v, "shared memory")) {
    k.kind = TransportKind::kShm;
    if (starts_with(v, "direct shared memory") && log.version_hint.empty()) log.version_hint = "< 2.13 (SHM wording)";
  } else if (starts_with(v, "NET/")) {
    k.kind = TransportKind::kNet;
    std::string_view r = v.substr(4);
    // The net name may contain spaces ("AWS Libfabric"); the device index follows the next '/'.
    std::size_t slash = r.find('/');
    k.net = std::string(r.substr(0, slash));
    if (slash != std::string_view::npos) {
      std::string_view d = r.substr(slash + 1);
      long dev = -1;
      std::size_t used = 0;
      if (parse_int(d, dev, &used)) {
        k.net_dev = static_cast<int>(dev);
        d = d.substr(used);
        if (!d.empty() && d[0] == '(') {
          long pr = -1;
          if (parse_int(d.substr(1), pr)) k.proxy_rank = static_cast<int>(pr);
        }
      }
    }
    k.gdr = contains(v, "GDRDMA");
    ++h.net_connections;
    if (k.gdr) ++h.gdr_connections;
  } else if (starts_with(v, "COLLNET") || starts_with(v, "CollNet")) {
    k.kind = TransportKind::kCollNet;
  }
  // Which endpoint is local: NET [send] -> from, [receive] -> to; P2P/SHM -> both.
  if (k.kind == TransportKind::kNet) {
    int local = k.dir == ConnDir::kRecv ? k.to_rank : k.from_rank;
    rank_seen(local, h.name, &p);
    p.ranks.insert(local);
  } else {
    rank_seen(k.from_rank, h.name, &p);
    rank_seen(k.to_rank, h.name, nullptr);
    if (k.kind != TransportKind::kUnknown) p.ranks.insert(k.from_rank);
  }
  if (k.from_rank + 1 > log.nranks && k.from_rank < (1 << 22) && log.rings.empty()) {
    // nranks from connections only when nothing better is known.
  }
  (void)l;
  log.connections.push_back(std::move(k));
}

void LogIngest::State::on_comm(std::string_view msg, std::string_view rec, HostInfo& h, ProcessInfo& p) {
  // "comm 0x.. rank 3 nranks 16 cudaDev 3 [nvmlDev 3] busId 1b000 [commId 0x..] - Init COMPLETE"
  long rank = -1, nranks = -1, cuda_dev = -1, nnodes = -1;
  std::string bus;
  std::string comm;
  std::size_t pos = 0;
  int guard = 0;
  while (pos < msg.size() && guard++ < 40) {
    std::size_t e = msg.find(' ', pos);
    std::string_view key = msg.substr(pos, e == std::string_view::npos ? std::string_view::npos : e - pos);
    if (e == std::string_view::npos) break;
    std::size_t e2 = msg.find(' ', e + 1);
    std::string_view val = msg.substr(e + 1, e2 == std::string_view::npos ? std::string_view::npos : e2 - e - 1);
    if (key == "rank") (void)parse_int(val, rank);
    else if (key == "nranks" || key == "nRanks") (void)parse_int(val, nranks);
    else if (key == "cudaDev") (void)parse_int(val, cuda_dev);
    else if (key == "nNodes") (void)parse_int(val, nnodes);
    else if (key == "busId") bus = std::string(val);
    else if (key == "comm") comm = std::string(val);
    else {
      pos = e + 1;
      continue;
    }
    pos = e2 == std::string_view::npos ? msg.size() : e2 + 1;
  }
  Stage st = Stage::kInitStart;
  if (contains(msg, "Init COMPLETE")) st = Stage::kInitComplete;
  else if (contains(msg, "Destroy COMPLETE") || contains(msg, "Abort COMPLETE")) st = Stage::kFinished;
  else if (nnodes >= 0) st = Stage::kTopology;
  advance(p.stage, st);
  if (nnodes > log.nnodes && nnodes < (1 << 20)) log.nnodes = static_cast<int>(nnodes);
  if (nranks > 0 && nranks < (1 << 22) && nranks > log.nranks) log.nranks = static_cast<int>(nranks);
  if (rank >= 0 && rank < (1 << 22)) {
    rank_seen(static_cast<int>(rank), h.name, &p);
    p.ranks.insert(static_cast<int>(rank));
    RankInfo& r = log.ranks[static_cast<int>(rank)];
    if (nranks >= r.nranks) {
      r.nranks = static_cast<int>(nranks);
      r.host = h.name;
      r.pid = p.pid;
      if (cuda_dev >= 0) r.cuda_dev = static_cast<int>(cuda_dev);
      if (!bus.empty()) r.bus_id = bus;
      if (!comm.empty()) r.comm = comm;
    }
    advance(r.stage, st);
    if (st == Stage::kInitStart && r.init_start.line == 0) r.init_start = here();
    if (st == Stage::kInitComplete) r.init_complete = here();
    if (nranks > 0) {
      auto& claim = log.rank_claims[{static_cast<int>(rank), static_cast<int>(nranks)}];
      if (claim.hosts.size() < 64 && claim.hosts.insert(h.name).second && claim.quotes.size() < 8)
        claim.quotes.push_back(Quote{quote_text(rec), here()});
    }
  }
  if (cuda_dev >= 0 && cuda_dev < 4096) p.cuda_devs.insert(static_cast<int>(cuda_dev));
  if ((st == Stage::kInitStart || st == Stage::kInitComplete) && log.init_quotes.size() < 4)
    log.init_quotes.push_back(Quote{quote_text(rec), here()});
}

void LogIngest::State::on_trees(std::string_view msg, ProcessInfo& p) {
  advance(p.stage, Stage::kTopology);
  // "Trees [0] 1/-1/-1->0->-1|-1->0->1/-1/-1 [1] -1/-1/-1->0->1"
  std::size_t pos = 0;
  int guard = 0;
  while ((pos = msg.find('[', pos)) != std::string_view::npos && guard++ < 256) {
    long ch = -1;
    std::size_t used = 0;
    if (!parse_int(msg.substr(pos + 1), ch, &used)) break;
    std::size_t sp = msg.find(' ', pos);
    if (sp == std::string_view::npos) break;
    std::size_t end = msg.find(' ', sp + 1);
    std::string_view tok = msg.substr(sp + 1, end == std::string_view::npos ? std::string_view::npos : end - sp - 1);
    tok = tok.substr(0, tok.find('|'));
    // down0/down1/down2->rank->up
    std::size_t a1 = tok.find("->");
    std::size_t a2 = a1 == std::string_view::npos ? a1 : tok.find("->", a1 + 2);
    if (a2 != std::string_view::npos) {
      TreeLink t;
      t.channel = static_cast<int>(ch);
      long r = -1, up = -1;
      (void)parse_int(tok.substr(a1 + 2), r);
      (void)parse_int(tok.substr(a2 + 2), up);
      t.rank = static_cast<int>(r);
      t.up = static_cast<int>(up);
      std::string_view downs = tok.substr(0, a1);
      while (!downs.empty()) {
        long d = -1;
        std::size_t u = 0;
        if (!parse_int(downs, d, &u)) break;
        if (d >= 0) t.down.push_back(static_cast<int>(d));
        downs = downs.substr(u);
        if (!downs.empty() && downs[0] == '/') downs.remove_prefix(1);
      }
      std::uint64_t key = (static_cast<std::uint64_t>(static_cast<std::uint32_t>(t.channel)) << 32) |
                          static_cast<std::uint32_t>(t.rank);
      if (t.rank >= 0 && tree_keys.insert(key).second && log.trees.size() < (1u << 20)) log.trees.push_back(std::move(t));
    }
    pos = sp;
  }
}

void LogIngest::State::on_carried(std::string_view msg, std::string_view rec, const LogLine& l, EventKind kind) {
  int code = -1;
  Sig sig = classify_cached(msg, "", &code);
  if (l.kind == LineKind::kTorchError && (sig == kSigOther || sig == kSigCudaOther || sig == kSigPeerClosed))
    sig = kSigTorchError;
  if (!keep_event(sig, nullptr, -1, kind)) return;
  LogEvent ev;
  ev.kind = kind;
  ev.sig = sig;
  ev.rank = l.launcher_rank;
  ev.message = quote_text(msg);
  ev.text = quote_text(trim_sv(rec));
  ev.result = code;
  ev.at = here();
  log.events.push_back(std::move(ev));
}

// Lines that are not NCCL records but carry NCCL's failure structure: error-trace lines whose
// prefix was stripped (`init.cc:1138 -> 1`), NCCL messages re-printed by a framework without the
// NCCL prefix (`[rank1]: Error while attaching to shared memory segment ...`), and PyTorch's
// TORCH_DISTRIBUTED_DEBUG=DETAIL collective fingerprint check.
void LogIngest::State::on_other(std::string_view rec) {
  std::string_view t = trim_sv(strip_launcher(rec));
  if (t.size() < 6) return;
  char c = t.front();
  if (c >= 'a' && c <= 'z') {
    TraceLine tr;
    std::size_t arrow = t.find(" -> ");
    if (arrow != std::string_view::npos && arrow < 64 && parse_trace(t, tr)) {
      ++relevant;
      if (!keep_event(kSigTrace, nullptr, -1, EventKind::kTrace)) return;
      LogEvent ev;
      ev.kind = EventKind::kTrace;
      ev.sig = kSigTrace;
      ev.src = std::string(tr.file) + ":" + std::to_string(tr.line);
      ev.message = quote_text(t);
      ev.text = quote_text(trim_sv(rec));
      ev.result = tr.result;
      ev.at = here();
      log.events.push_back(std::move(ev));
      return;
    }
  }
  std::size_t fp = t.find("mismatch between collectives");
  if (fp != std::string_view::npos) {
    ++relevant;
    LogLine l;
    l.launcher_rank = -1;
    if (!keep_event(kSigFingerprint, nullptr, -1, EventKind::kCarried)) return;
    LogEvent ev;
    ev.kind = EventKind::kCarried;
    ev.sig = kSigFingerprint;
    ev.message = quote_text(t);
    ev.text = quote_text(trim_sv(rec));
    ev.at = here();
    log.events.push_back(std::move(ev));
    return;
  }
  // NCCL's own failure messages, printed again by a framework without NCCL's prefix.
  static constexpr std::string_view kHeads[] = {
      "Error while attaching to shared memory", "Error while creating shared memory", "NET/IB : Got completion",
      "NET/IB: Got completion", "NET/OFI ", "Failed to bind NVLink SHARP", "Failed to CUDA calloc",
      "Call to ibv_", "socketProgress", "socketStartConnect", "socketPollConnect"};
  for (std::string_view h : kHeads)
    if (starts_with(t, h)) {
      ++relevant;
      LogLine l;
      on_carried(t, rec, l, EventKind::kCarried);
      return;
    }
}

void LogIngest::State::on_watchdog(const LogLine& l, std::string_view rec) {
  WatchdogEvent w;
  std::size_t p = rec.find("[Rank ");
  long v = -1;
  if (p != std::string_view::npos && parse_int(rec.substr(p + 6), v)) w.rank = static_cast<int>(v);
  else w.rank = l.launcher_rank;
  std::string_view m = l.msg;
  auto field = [&m](std::string_view key, long& out) {
    std::size_t q = m.find(key);
    if (q != std::string_view::npos) (void)parse_int(m.substr(q + key.size()), out);
  };
  field("SeqNum=", w.seq);
  field("NumelIn=", w.numel_in);
  field("NumelOut=", w.numel_out);
  if (w.seq < 0) field("NCCL work: ", w.seq);
  std::size_t q = m.find("OpType=");
  if (q != std::string_view::npos) {
    std::string_view o = m.substr(q + 7);
    w.op_type = std::string(o.substr(0, o.find_first_of(",) ")));
  }
  w.text = quote_text(trim_sv(rec));
  w.at = here();
  // Bounded: the first report per (rank, seq, op).
  for (const auto& e : log.watchdog)
    if (e.rank == w.rank && e.seq == w.seq && e.op_type == w.op_type) return;
  if (log.watchdog.size() < 4096) log.watchdog.push_back(std::move(w));
}

void LogIngest::State::on_tests(const LogLine& l, std::string_view rec) {
  TestsRun& t = log.tests;
  std::string_view m = l.msg;
  switch (l.kind) {
    case LineKind::kTestsHeader: {
      ++t.headers;
      std::size_t g = m.find("nGpus ");
      long n = 0;
      if (g != std::string_view::npos && parse_int(m.substr(g + 6), n) && n > t.ngpus_per_proc && n < 4096)
        t.ngpus_per_proc = static_cast<int>(n);
      return;
    }
    case LineKind::kTestsDevice: {
      // Headers repeat per run: parse each distinct one once.
      if (device_lines_seen.size() < 65536 && !device_lines_seen.insert(std::hash<std::string_view>{}(m)).second) return;
      // "Rank  0 Group  0 Pid   6899 on ztan-mig-235z device  0 [0000:04:00] NVIDIA H100 80GB HBM3"
      long rank = -1, pid = -1;
      (void)parse_int(trim_sv(m.substr(4)), rank);
      std::size_t pp = m.find("Pid ");
      if (pp != std::string_view::npos) (void)parse_int(trim_sv(m.substr(pp + 4)), pid);
      std::size_t on = m.find(" on ");
      std::size_t dv = m.find(" device ");
      if (on == std::string_view::npos || dv == std::string_view::npos || dv < on) return;
      std::string hostname(trim_sv(m.substr(on + 4, dv - on - 4)));
      std::size_t close = m.find("] ", dv);
      if (close != std::string_view::npos) {
        std::string name(trim_sv(m.substr(close + 2)));
        if (std::find(t.gpu_names.begin(), t.gpu_names.end(), name) == t.gpu_names.end() && t.gpu_names.size() < 16)
          t.gpu_names.push_back(name);
      }
      if (t.device_lines.size() < 64) t.device_lines.push_back(quote_text(trim_sv(rec)));
      if (rank >= 0 && rank < (1 << 22)) {
        if (t.rank_hosts[static_cast<int>(rank)].size() < 16) t.rank_hosts[static_cast<int>(rank)].insert(hostname);
        HostInfo& h = host(hostname);
        if (pid >= 0 && h.pids.size() < 4096) h.pids.insert(pid);
        rank_seen(static_cast<int>(rank), hostname, nullptr);
        if (rank + 1 > log.nranks) log.nranks = static_cast<int>(rank + 1);
      }
      return;
    }
    case LineKind::kTestsAvg: {
      std::size_t c = m.find(':');
      if (c == std::string_view::npos) return;
      std::string_view v = trim_sv(m.substr(c + 1));
      char* end = nullptr;
      std::string tmp(v.substr(0, 32));
      double d = std::strtod(tmp.c_str(), &end);
      if (end == tmp.c_str()) return;
      if (t.avg_busbw.size() < 64) {
        t.avg_busbw.emplace_back(d, here());
        t.avg_text.push_back(quote_text(trim_sv(rec)));
      }
      return;
    }
    case LineKind::kTestsRow: {
      std::string_view tok[20];
      int n = 0;
      const char* q = m.data();
      const char* const end = q + m.size();
      while (q < end && n < 20) {
        while (q < end && (*q == ' ' || *q == '\t')) ++q;
        if (q >= end) break;
        const char* e = q;
        while (e < end && *e != ' ' && *e != '\t') ++e;
        tok[n++] = std::string_view(q, static_cast<std::size_t>(e - q));
        q = e;
      }
      if (n < 8) return;
      int base = n >= 13 ? 5 : 4;  // with or without the root column
      auto num = [](std::string_view s) {
        double d = -1.0;
        auto r = std::from_chars(s.data(), s.data() + s.size(), d);
        return r.ec == std::errc() ? d : -1.0;
      };
      TestsRow row;
      long bytes = 0;
      (void)parse_int(tok[0], bytes);
      row.bytes = static_cast<std::uint64_t>(bytes);
      row.busbw = num(tok[base + 2]);
      if (row.busbw < 0) return;
      long wrong = -1;
      if (base + 3 < n && parse_int(tok[base + 3], wrong)) row.wrong = wrong;
      else row.wrong = -1;
      if (base + 6 < n) row.busbw_inplace = num(tok[base + 6]);
      ++t.rows;
      if (row.wrong > 0) t.wrong_total += row.wrong;
      auto it = std::find_if(t.peak_rows.begin(), t.peak_rows.end(),
                             [&](const TestsRow& r) { return r.bytes == row.bytes; });
      bool keep = it == t.peak_rows.end()
                      ? t.peak_rows.size() < 128
                      : std::max(row.busbw, row.busbw_inplace) > std::max(it->busbw, it->busbw_inplace);
      if (!keep) return;
      // Only a kept row pays for the rest of its fields and its quote.
      row.time_us = num(tok[base]);
      row.algbw = num(tok[base + 1]);
      row.text = quote_text(trim_sv(rec));
      row.at = here();
      if (it == t.peak_rows.end()) t.peak_rows.push_back(std::move(row));
      else *it = std::move(row);
      return;
    }
    default:
      return;
  }
}

/// "UTF-16LE", "UTF-32BE", ... when the first bytes are a byte-order mark or the NUL pattern of
/// ASCII text in a wide encoding; "" otherwise.
static std::string_view wide_encoding(const char* data, std::size_t n) {
  auto u = [&](std::size_t i) { return i < n ? static_cast<unsigned char>(data[i]) : 0x100u; };
  if (u(0) == 0xff && u(1) == 0xfe && u(2) == 0 && u(3) == 0) return "UTF-32LE";
  if (u(0) == 0 && u(1) == 0 && u(2) == 0xfe && u(3) == 0xff) return "UTF-32BE";
  if (u(0) == 0xff && u(1) == 0xfe) return "UTF-16LE";
  if (u(0) == 0xfe && u(1) == 0xff) return "UTF-16BE";
  // No mark: count NULs by position modulo 4 over the first characters.
  std::size_t probe = std::min<std::size_t>(n, 4096) & ~std::size_t{3};
  if (probe < 8) return "";
  std::size_t zero[4] = {0, 0, 0, 0};
  for (std::size_t i = 0; i < probe; ++i)
    if (data[i] == 0) ++zero[i % 4];
  std::size_t q = probe / 4;
  auto most = [&](std::size_t k) { return zero[k] * 10 >= q * 9; };
  auto few = [&](std::size_t k) { return zero[k] * 10 <= q; };
  if (few(0) && most(1) && most(2) && most(3)) return "UTF-32LE";
  if (most(0) && most(1) && most(2) && few(3)) return "UTF-32BE";
  if (few(0) && most(1) && few(2) && most(3)) return "UTF-16LE";
  if (most(0) && few(1) && most(2) && few(3)) return "UTF-16BE";
  return "";
}

void LogIngest::State::consume_buffer(const char* data, std::size_t n, std::string& carry, bool& skipping,
                                      bool& first, const std::string& name) {
  if (first && n > 0) {
    first = false;
    // Binary input: NUL bytes or mostly control characters in the first block.
    std::size_t probe = std::min<std::size_t>(n, 65536);
    std::size_t bad = 0, nul = 0;
    for (std::size_t i = 0; i < probe; ++i) {
      unsigned char c = static_cast<unsigned char>(data[i]);
      if (c == 0) ++nul;
      else if (c < 0x20 && c != '\n' && c != '\r' && c != '\t' && c != 0x1b && c != '\f' && c != '\b') ++bad;
    }
    if (nul > 0 || bad * 20 > probe) {
      std::string_view enc = wide_encoding(data, probe);
      if (!enc.empty())
        throw InputError(name, std::string(enc) + " text, not UTF-8: convert it first (iconv -f " +
                                   std::string(enc) + " -t UTF-8)");
      throw InputError(name, "binary data, not a text log");
    }
  }
  const char* p = data;
  const char* end = data + n;
  // One scan per chunk instead of one per line: most logs have no colour codes at all.
  chunk_has_esc = std::memchr(data, '\x1b', n) != nullptr || carry.find('\x1b') != std::string::npos;
  while (p < end) {
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p)));
    if (!nl) {
      if (!skipping) {
        std::size_t room = kMaxLine - std::min(kMaxLine, carry.size());
        std::size_t take = std::min(room, static_cast<std::size_t>(end - p));
        carry.append(p, take);
        if (carry.size() >= kMaxLine) {
          // A line longer than any log line: keep its head, skip to the next newline.
          ++log.truncated_lines;
          feed(carry);
          carry.clear();
          skipping = true;
        }
      }
      return;
    }
    std::size_t len = static_cast<std::size_t>(nl - p);
    if (skipping) {
      skipping = false;
    } else if (!carry.empty()) {
      std::size_t room = kMaxLine - std::min(kMaxLine, carry.size());
      carry.append(p, std::min(room, len));
      if (len > room) ++log.truncated_lines;
      feed(carry);
      carry.clear();
    } else if (len > kMaxLine) {
      ++log.truncated_lines;
      feed(std::string_view(p, kMaxLine));
    } else {
      if (len > 0 && p[len - 1] == '\r') feed(std::string_view(p, len - 1));
      else feed(std::string_view(p, len));
    }
    p = nl + 1;
  }
}

void LogIngest::State::finish_file(std::string& carry, bool skipping) {
  if (!skipping && !carry.empty()) feed(carry);
  carry.clear();
}

void LogIngest::State::read_fd_plain(int fd, const std::string& name) {
  std::vector<char> buf(kChunk);
  std::string carry;
  bool skipping = false, first = true;
  std::uint64_t total = 0;
  for (;;) {
    // Waits for a FIFO or device at most until the --timeout deadline.
    std::size_t got = read_input(fd, buf.data(), buf.size(), name);
    if (got == 0) break;
    total += static_cast<std::uint64_t>(got);
    consume_buffer(buf.data(), got, carry, skipping, first, name);
  }
  if (total == 0) throw InputError(name, "empty file");
  finish_file(carry, skipping);
}

void LogIngest::State::read_gz(gzFile gz, const std::string& name) {
  std::vector<char> buf(kChunk);
  std::string carry;
  bool skipping = false, first = true;
  std::uint64_t total = 0;
  for (;;) {
    int got = gzread(gz, buf.data(), static_cast<unsigned>(buf.size()));
    if (got <= 0) {
      // zlib checks the trailer (CRC-32 and length) at the end of each member: a stream cut
      // short ends with Z_BUF_ERROR, a corrupt one with Z_DATA_ERROR. Either way the lines
      // decoded before are analysed and the damage is reported, never read as a short log.
      int err = Z_OK;
      const char* msg = gzerror(gz, &err);
      std::string what;
      if (err == Z_BUF_ERROR)
        what = "gzip stream truncated: it ends before its trailer (CRC and length) after " +
               std::to_string(total) + " decompressed byte(s); only the lines before the cut were read";
      else if (got < 0 || (err != Z_OK && err != Z_STREAM_END))
        what = std::string("gzip data is corrupt (") + (msg && *msg ? msg : "unknown error") + ") after " +
               std::to_string(total) + " decompressed byte(s); only the lines before it were read";
      if (!what.empty()) {
        if (total == 0) throw InputError(name, what.substr(0, what.find(" after ")));
        log.damaged_inputs.push_back(name + ": " + what);
      }
      break;
    }
    total += static_cast<std::uint64_t>(got);
    consume_buffer(buf.data(), static_cast<std::size_t>(got), carry, skipping, first, name);
  }
  if (total == 0) throw InputError(name, "empty file");
  finish_file(carry, skipping);
}

LogIngest::LogIngest() : st_(std::make_unique<State>()) {}
LogIngest::~LogIngest() = default;

void LogIngest::add_file(const std::string& path) {
  State& s = *st_;
  if (path == "-") {
    s.begin_file("<stdin>");
    int fd = ::dup(STDIN_FILENO);
    if (fd < 0) throw InputError("<stdin>", "cannot read standard input");
    gzFile gz = gzdopen(fd, "rb");  // transparent: plain text and gzip
    if (!gz) {
      ::close(fd);
      throw InputError("<stdin>", "cannot read standard input");
    }
    (void)gzbuffer(gz, static_cast<unsigned>(kChunk));
    try {
      s.read_gz(gz, "<stdin>");
    } catch (...) {
      gzclose(gz);
      throw;
    }
    gzclose(gz);
    return;
  }
  // Non-blocking open: a FIFO without a writer is then read with the --timeout deadline.
  int fd = -1;
  try {
    fd = open_input(path);
  } catch (const InputError& e) {
    struct stat sb {};
    if (::stat(path.c_str(), &sb) == 0 && S_ISDIR(sb.st_mode)) throw InputError(path, "is a directory, not a log file");
    throw;
  }
  unsigned char magic[2] = {0, 0};
  ssize_t got = ::pread(fd, magic, 2, 0);
  s.begin_file(path);
  if (got == 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
    gzFile gz = gzdopen(fd, "rb");
    if (!gz) {
      ::close(fd);
      throw InputError(path, "cannot open gzip stream");
    }
    (void)gzbuffer(gz, static_cast<unsigned>(kChunk));  // zlib's default 8 KiB reads cost syscalls
    try {
      s.read_gz(gz, path);
    } catch (...) {
      gzclose(gz);
      throw;
    }
    gzclose(gz);
    return;
  }
  try {
    s.read_fd_plain(fd, path);
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
}

void LogIngest::add_text(std::string_view text, const std::string& name) {
  State& s = *st_;
  s.begin_file(name);
  if (text.empty()) throw InputError(name, "empty file");
  std::string carry;
  bool skipping = false, first = true;
  s.consume_buffer(text.data(), text.size(), carry, skipping, first, name);
  s.finish_file(carry, skipping);
}

long LogIngest::relevant_lines() const { return st_->relevant; }
const RunLog& LogIngest::log() const { return st_->log; }
RunLog LogIngest::take() {
  RunLog& log = st_->log;
  for (int i = 0; i < kSigCount; ++i)
    if (st_->sig_counts[static_cast<std::size_t>(i)] > 0) log.sig_counts[i] = st_->sig_counts[static_cast<std::size_t>(i)];
  // Per-host stages summarise their processes.
  for (auto& [key, p] : log.processes) {
    HostInfo& h = log.hosts[p.host];
    if (static_cast<int>(p.stage) > static_cast<int>(h.stage)) h.stage = p.stage;
    if (h.min_stage == Stage::kNone || static_cast<int>(p.stage) < static_cast<int>(h.min_stage)) h.min_stage = p.stage;
    if (h.last_quote.at.line == 0 || (p.last_at.file > h.last_quote.at.file) ||
        (p.last_at.file == h.last_quote.at.file && p.last_at.line > h.last_quote.at.line))
      h.last_quote = Quote{p.last_line, p.last_at};
  }
  // nccl-tests results carry no host: the hosts of its "# Rank" header reached the run (and its
  // end, with the summary line).
  if (log.tests.rows > 0 || !log.tests.avg_busbw.empty()) {
    Stage st = log.tests.avg_busbw.empty() ? Stage::kRunning : Stage::kFinished;
    for (const auto& [rank, hosts] : log.tests.rank_hosts)
      for (const auto& hn : hosts) {
        auto it = log.hosts.find(hn);
        if (it == log.hosts.end()) continue;
        State::advance(it->second.stage, st);
        State::advance(it->second.min_stage, st);
      }
  }
  return std::move(log);
}

}  // namespace ncd::nccl
