// SPDX-License-Identifier: Apache-2.0
#include "nccl/log_line.hpp"

#include <cstring>

namespace ncd::nccl {

bool parse_int(std::string_view s, long& out, std::size_t* used) {
  std::size_t i = 0;
  bool neg = false;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) {
    neg = s[i] == '-';
    ++i;
  }
  std::size_t start = i;
  long v = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9' && i - start < 18) v = v * 10 + (s[i++] - '0');
  if (i == start) return false;
  out = neg ? -v : v;
  if (used) *used = i;
  return true;
}

namespace {

inline bool is_digit(char c) { return c >= '0' && c <= '9'; }
inline bool is_space(char c) { return c == ' ' || c == '\t'; }

std::string_view rtrim(std::string_view s) {
  while (!s.empty() && (is_space(s.back()) || s.back() == '\r' || s.back() == '\n')) s.remove_suffix(1);
  return s;
}
std::string_view ltrim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  return s;
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!is_digit(c)) return false;
  return true;
}

bool host_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '-' || c == '_' || c == '.';
}

// A pid/tid field (digits, or a redaction such as "XXXXXX") and its value (-1 when redacted).
bool id_value(std::string_view s, long& v) {
  if (s.empty() || s.size() > 12) return false;
  if (is_digit(s[0])) {
    long x = 0;
    for (char c : s) {
      if (!is_digit(c)) return false;
      x = x * 10 + (c - '0');
    }
    v = x;
    return true;
  }
  for (char c : s)
    if (c != 'X' && c != 'x') return false;
  v = -1;
  return true;
}

// `file.cc:123` (a WARN's source location).
bool src_token(std::string_view t) {
  std::size_t c = t.rfind(':');
  if (c == std::string_view::npos || c == 0 || c + 1 >= t.size()) return false;
  if (!all_digits(t.substr(c + 1))) return false;
  std::string_view f = t.substr(0, c);
  if (f.find('[') != std::string_view::npos) return false;
  if (f.find('.') != std::string_view::npos) return true;
  // A plugin's function name (aws-ofi-nccl: "nccl_net_ofi_domain_get_ep:969 NCCL WARN"): a C
  // identifier with an underscore is a source location, never a host name.
  bool ident = f.find('_') != std::string_view::npos && f.size() < 96;
  for (char ch : f) ident = ident && ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_');
  return ident;
}

// `[12]` -> 12.
bool dev_token(std::string_view t, int& dev) {
  if (t.size() < 3 || t.front() != '[' || t.back() != ']') return false;
  std::string_view in = t.substr(1, t.size() - 2);
  if (!all_digits(in) || in.size() > 9) return false;
  long v = 0;
  (void)parse_int(in, v);
  dev = static_cast<int>(v);
  return true;
}

long to_long(std::string_view s) {
  long v = -1;
  if (!all_digits(s) || !parse_int(s, v)) return -1;
  return v;
}

// `host:pid:tid`, possibly glued to a launcher tag (`[1,3]<stdout>:host:pid:tid`), or the
// wrapper form `[host:pid=N]`, or `host:pid` (redacted tid).
bool host_token(std::string_view t, LogLine& l) {
  if (t.size() > 2 && t.front() == '[' && t.back() == ']') {
    std::size_t p = t.find(":pid=");
    if (p == std::string_view::npos) return false;
    std::string_view h = t.substr(1, p - 1);
    if (h.empty()) return false;
    l.host = h;
    l.pid = to_long(t.substr(p + 5, t.size() - p - 6));
    return true;
  }
  std::size_t c1 = t.rfind(':');
  if (c1 == std::string_view::npos || c1 == 0) return false;
  long last = -1;
  if (!id_value(t.substr(c1 + 1), last)) return false;
  std::string_view rest = t.substr(0, c1);
  std::size_t c2 = rest.rfind(':');
  std::string_view host;
  long mid = -1;
  if (c2 != std::string_view::npos && id_value(rest.substr(c2 + 1), mid)) {
    l.pid = mid;
    l.tid = last;
    host = rest.substr(0, c2);
  } else {
    l.pid = last;
    host = rest;
  }
  // Strip a glued launcher tag: keep the trailing run of hostname characters.
  std::size_t i = host.size();
  while (i > 0 && host_char(host[i - 1])) --i;
  host = host.substr(i);
  if (host.empty()) return false;
  l.host = host;
  return true;
}

int launcher_rank(std::string_view prefix) {
  // Open MPI --tag-output: "[1,3]<stdout>:" (jobid,rank)
  std::size_t p = prefix.find("]<std");
  if (p != std::string_view::npos) {
    std::size_t b = prefix.rfind(',', p);
    long v = -1;
    if (b != std::string_view::npos && parse_int(prefix.substr(b + 1, p - b - 1), v)) return static_cast<int>(v);
  }
  // PyTorch / torchrun: "[rank3]:", also "[default3]:" from torchrun --tee.
  for (std::string_view tag : {std::string_view("[rank"), std::string_view("[default")}) {
    p = prefix.find(tag);
    if (p != std::string_view::npos) {
      long v = -1;
      std::size_t used = 0;
      std::string_view r = prefix.substr(p + tag.size());
      if (parse_int(r, v, &used) && used < r.size() && r[used] == ']') return static_cast<int>(v);
    }
  }
  return -1;
}

enum class Level { kNone, kInfo, kWarn, kOther };

// Finds the level token. Returns the offset of "NCCL" (or of "INFO"/"WARN" in the pre-2.3
// format) and the offset of the message.
Level find_level(std::string_view line, std::size_t& at, std::size_t& msg, bool& old, bool& saw_nccl) {
  old = false;
  saw_nccl = false;
  std::size_t pos = 0;
  const char* base = line.data();
  const std::size_t size = line.size();
  auto next_token = [base, size, &saw_nccl](std::size_t from) -> std::size_t {
    // memchr for 'N', then compare the rest inline (a libc memcmp call per candidate costs more).
    while (from + 4 <= size) {
      const void* hit = std::memchr(base + from, 'N', size - from - 3);
      if (!hit) return std::string_view::npos;
      std::size_t i = static_cast<std::size_t>(static_cast<const char*>(hit) - base);
      if (base[i + 1] == 'C' && base[i + 2] == 'C' && base[i + 3] == 'L') {
        saw_nccl = true;
        if (i + 4 < size && base[i + 4] == ' ') return i;
      }
      from = i + 1;
    }
    return std::string_view::npos;
  };
  while ((pos = next_token(pos)) != std::string_view::npos) {
    bool boundary = pos == 0 || is_space(line[pos - 1]) || line[pos - 1] == ':' || line[pos - 1] == ']' ||
                    line[pos - 1] == '>' || line[pos - 1] == ')';
    std::string_view rest = line.substr(pos + 5);
    if (boundary) {
      Level lv = Level::kNone;
      std::size_t n = 0;
      if (starts_with(rest, "INFO")) lv = Level::kInfo, n = 4;
      else if (starts_with(rest, "WARN")) lv = Level::kWarn, n = 4;
      else if (starts_with(rest, "TRACE")) lv = Level::kOther, n = 5;
      else if (starts_with(rest, "CALL")) lv = Level::kOther, n = 4;
      else if (starts_with(rest, "ABORT")) lv = Level::kOther, n = 5;
      if (lv != Level::kNone && (rest.size() == n || is_space(rest[n]))) {
        at = pos;
        msg = pos + 5 + n;
        while (msg < line.size() && is_space(line[msg])) ++msg;
        return lv;
      }
    }
    pos += 5;
  }
  // NCCL <= 2.2: "host:pid:tid [0] INFO msg" / "include/socket.h:360 WARN msg". Not for
  // nccl-tests comment and result lines.
  std::size_t first = 0;
  while (first < size && is_space(base[first])) ++first;
  if (first < size && (base[first] == '#' || is_digit(base[first]))) return Level::kNone;
  for (std::string_view tok : {std::string_view(" INFO "), std::string_view(" WARN ")}) {
    // Inline search (memchr on the level's first letter): these run on every non-NCCL line.
    std::size_t p = std::string_view::npos;
    for (std::size_t from = 1; from + 5 <= size;) {
      const void* hit = std::memchr(base + from, tok[1], size - from);
      if (!hit) break;
      std::size_t i = static_cast<std::size_t>(static_cast<const char*>(hit) - base);
      if (i + 4 < size && base[i - 1] == ' ' && base[i + 1] == tok[2] && base[i + 2] == tok[3] && base[i + 3] == tok[4] &&
          base[i + 4] == ' ') {
        p = i - 1;
        break;
      }
      from = i + 1;
    }
    if (p == std::string_view::npos || p == 0) continue;
    std::string_view before = line.substr(0, p);
    std::size_t s = before.rfind(' ');
    std::string_view t = s == std::string_view::npos ? before : before.substr(s + 1);
    int dev = 0;
    if (dev_token(t, dev) || src_token(t)) {
      at = p + 1;
      msg = p + tok.size();
      while (msg < line.size() && is_space(line[msg])) ++msg;
      old = true;
      return tok[1] == 'I' ? Level::kInfo : Level::kWarn;
    }
  }
  return Level::kNone;
}

bool tests_row(std::string_view s) {
  // size count type redop ...: two integers then a type name.
  s = ltrim(s);
  long v = 0;
  std::size_t used = 0;
  if (!parse_int(s, v, &used) || used >= s.size() || !is_space(s[used])) return false;
  s = ltrim(s.substr(used));
  if (!parse_int(s, v, &used) || used >= s.size() || !is_space(s[used])) return false;
  s = ltrim(s.substr(used));
  return !s.empty() && ((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z'));
}

}  // namespace

std::string_view strip_launcher(std::string_view line) {
  std::string_view t = ltrim(line);
  for (int guard = 0; guard < 6 && !t.empty(); ++guard) {
    std::string_view before = t;
    if (t[0] == '[') {
      std::size_t close = t.find(']');
      if (close == std::string_view::npos || close > 64) break;
      std::string_view in = t.substr(1, close - 1);
      std::string_view after = t.substr(close + 1);
      if (starts_with(after, "<stdout>:") || starts_with(after, "<stderr>:")) {
        t = after.substr(9);
      } else if (!after.empty() && after[0] == ':') {
        t = after.substr(1);  // [rank3]: / [trainer0|0]:
      } else if (!in.empty() && is_digit(in[0]) && (in.find(':') != std::string_view::npos || in.find('-') != std::string_view::npos)) {
        t = after;  // [2026-04-22 21:34:20]
      } else if (in.size() <= 3 && !in.empty() && in.back() == 'm') {
        t = after;  // ANSI residue "[0m"
      } else {
        break;
      }
    } else if (t[0] == '(') {
      std::size_t close = t.find(')');
      if (close == std::string_view::npos || close > 80 || t.substr(0, close).find("pid=") == std::string_view::npos) break;
      t = t.substr(close + 1);
    } else if (t[0] == '|') {
      std::size_t bar = t.find('|', 1);
      if (bar == std::string_view::npos || bar > 40) break;
      std::string_view in = ltrim(t.substr(1, bar - 1));
      if (in.empty() || !is_digit(in[0])) break;
      t = t.substr(bar + 1);
    } else {
      // pdsh "node01: rest"
      std::size_t i = 0;
      while (i < t.size() && i < 64 && host_char(t[i])) ++i;
      if (i == 0 || i >= t.size() || t[i] != ':' || (i + 1 < t.size() && t[i + 1] != ' ')) break;
      t = t.substr(i + 1);
    }
    t = ltrim(t);
    if (t.size() == before.size()) break;
  }
  return t;
}

namespace {

void classify_other(std::string_view line, LogLine& l, bool saw_nccl) {
  std::string_view t = strip_launcher(line);
  if (t.empty()) {
    l.kind = LineKind::kBlank;
    return;
  }
  char c = t.front();
  if (c == '#') {
    std::string_view r = ltrim(t.substr(1));
    l.msg = r;
    if (starts_with(r, "nThread")) l.kind = LineKind::kTestsHeader;
    else if (starts_with(r, "Rank") && contains(r, " device ")) l.kind = LineKind::kTestsDevice;
    else if (starts_with(r, "Avg bus bandwidth")) l.kind = LineKind::kTestsAvg;
    else l.kind = LineKind::kTestsComment;
    return;
  }
  if (is_digit(c) && tests_row(t)) {
    l.kind = LineKind::kTestsRow;
    l.msg = t;
    return;
  }
  if (c == '|' && contains(t, "NVIDIA-SMI")) {
    l.kind = LineKind::kNvidiaSmi;
    l.msg = t;
    return;
  }
  std::size_t p = 0;
  if (saw_nccl) {  // find_level saw an "NCCL" somewhere in the line
    std::size_t w = line.find("WorkNCCL(");
    if (w != std::string_view::npos) {
      l.kind = LineKind::kWatchdog;
      l.msg = line.substr(w);
      l.launcher_rank = launcher_rank(line.substr(0, w));
      return;
    }
    std::size_t q;
    if ((q = line.find("Timeout at NCCL work:")) != std::string_view::npos) {
      l.kind = LineKind::kWatchdog;
      l.msg = line.substr(q);
      l.launcher_rank = launcher_rank(line.substr(0, q));
      return;
    }
    if ((q = line.find("Test NCCL failure")) != std::string_view::npos) {
      l.kind = LineKind::kTestsFailure;
      l.msg = line.substr(q);
      l.prefix = line.substr(0, q);
      return;
    }
    if ((q = line.find("NCCL error")) != std::string_view::npos) {
      l.kind = LineKind::kTorchError;
      l.msg = line.substr(q);
      l.prefix = line.substr(0, q);
      l.launcher_rank = launcher_rank(l.prefix);
      return;
    }
    if ((q = line.find("NCCL version ")) != std::string_view::npos) {
      l.kind = LineKind::kVersionBanner;
      l.msg = line.substr(q);
      l.prefix = line.substr(0, q);
      return;
    }
  }
  // ncclInternalError: / ncclSystemError: ... (PyTorch, Python bindings)
  std::size_t n = line.find("Error:") == std::string_view::npos ? std::string_view::npos : line.find("nccl");
  while (n != std::string_view::npos) {
    std::string_view r = line.substr(n + 4);
    std::size_t e = r.find("Error");
    if (e != std::string_view::npos && e > 0 && e < 20 && r[0] >= 'A' && r[0] <= 'Z' &&
        r.substr(e + 5, 1) == ":") {
      l.kind = LineKind::kTorchError;
      l.msg = line.substr(n);
      l.prefix = line.substr(0, n);
      l.launcher_rank = launcher_rank(l.prefix);
      return;
    }
    n = line.find("nccl", n + 4);
  }
  if ((p = line.find("Last error:")) != std::string_view::npos) {
    l.kind = LineKind::kLastErrorHeader;
    l.prefix = line.substr(0, p);
    l.msg = ltrim(line.substr(p + 11));
    return;
  }
  if ((p = line.find("Cuda failure ")) != std::string_view::npos ||
      (p = line.find("Test CUDA failure ")) != std::string_view::npos) {
    l.kind = LineKind::kTestsFailure;
    l.msg = line.substr(p);
    l.prefix = line.substr(0, p);
    return;
  }
  if (starts_with(t, "cpu-bind=") || starts_with(t, "srun: ") || starts_with(t, "slurmstepd")) {
    l.kind = LineKind::kSlurm;
    l.msg = t;
    return;
  }
  l.kind = LineKind::kOther;
}

}  // namespace

namespace {

// Splits the prefix `line[0, at)` of a record of level `lv` right to left:
// [src] [dev] host:pid:tid, then launcher text.
void parse_prefix(std::string_view line, std::size_t at, Level lv, LogLine& l) {
  std::string_view pre = rtrim(line.substr(0, at));
  auto pop = [&pre]() -> std::string_view {
    std::size_t s = pre.rfind(' ');
    std::string_view t = s == std::string_view::npos ? pre : pre.substr(s + 1);
    return t;
  };
  auto drop = [&pre](std::string_view t) { pre = rtrim(pre.substr(0, pre.size() - t.size())); };
  std::string_view t = pop();
  if (!t.empty() && lv != Level::kInfo && !src_token(t)) {
    // "[1,0]<stdout>:transport/nvls.cc:251": a launcher tag glued to a stripped record's source.
    std::size_t g = t.rfind(">:");
    std::size_t g2 = t.rfind("]:");
    std::size_t cut = g == std::string_view::npos ? 0 : g + 2;
    if (g2 != std::string_view::npos && g2 + 2 > cut) cut = g2 + 2;
    if (cut > 0 && cut < t.size() && src_token(t.substr(cut))) t = t.substr(cut);
  }
  if (!t.empty() && src_token(t) && lv != Level::kInfo) {
    // "[dev] file.cc:N NCCL WARN"; a stripped host prefix can leave "file.cc:N" glued to a tag.
    l.src = t;
    drop(t);
    t = pop();
  } else if (!t.empty() && lv == Level::kOther && all_digits(t)) {
    drop(t);  // TRACE: "<ms> file:line NCCL TRACE"
    t = pop();
  }
  int dev = -1;
  if (!t.empty() && dev_token(t, dev)) {
    l.dev = dev;
    drop(t);
    t = pop();
    if (!t.empty() && host_token(t, l)) {
      drop(t);
      // Keep the launcher tag glued in front of the host as part of the prefix.
      // l.host is a view into t: its offset is the glued tag's length.
      std::size_t hp = static_cast<std::size_t>(l.host.data() - t.data());
      if (hp > 0 && hp < t.size()) pre = std::string_view(pre.data(), pre.size() + hp);
    }
  } else if (!t.empty() && host_token(t, l)) {
    drop(t);
  }
  l.prefix = pre;
  if (!pre.empty()) l.launcher_rank = launcher_rank(pre);
}

// Word-at-a-time hash of the prefix bytes (they are compared on a hit, so quality only
// matters for spreading over the slots).
std::uint64_t prefix_hash(const char* p, std::size_t n, unsigned level) {
  std::uint64_t h = 0x9E3779B97F4A7C15ull ^ (n * 0x100000001B3ull) ^ level;
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, p + i, 8);
    h = (h ^ w) * 0xff51afd7ed558ccdull;
    h ^= h >> 32;
  }
  if (i < n) {
    std::uint64_t w = 0;
    std::memcpy(&w, p + i, n - i);
    h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
  }
  h ^= h >> 29;
  return h;
}

std::string_view sub_or_empty(std::string_view line, std::uint8_t off, std::uint8_t len) {
  return len == 0 ? std::string_view() : line.substr(off, len);
}

LogLine classify_impl(std::string_view line, PrefixCache* cache) {
  LogLine l;
  line = rtrim(line);
  if (line.empty()) {
    l.kind = LineKind::kBlank;
    return l;
  }
  std::size_t at = 0, msg = 0;
  bool old = false, saw_nccl = false;
  Level lv = find_level(line, at, msg, old, saw_nccl);
  if (lv == Level::kNone) {
    classify_other(line, l, saw_nccl);
    return l;
  }
  l.kind = lv == Level::kInfo ? LineKind::kNcclInfo : lv == Level::kWarn ? LineKind::kNcclWarn : LineKind::kNcclOther;
  l.old_format = old;
  l.msg = line.substr(msg);
  // TRACE prefixes carry a timestamp: never the same twice, not worth remembering.
  if (!cache || lv == Level::kOther || at > PrefixCache::kMaxPrefix) {
    parse_prefix(line, at, lv, l);
    return l;
  }
  const unsigned level = static_cast<unsigned>(lv) | (old ? 8u : 0u);
  std::uint64_t h = prefix_hash(line.data(), at, level);
  std::size_t idx = h & (PrefixCache::kSlots - 1);
  PrefixCache::Entry& e = cache->slots[idx];
  if (e.gen != 0 && e.hash == h && e.len == at && e.level == level && std::memcmp(e.bytes, line.data(), at) == 0) {
    l.host = sub_or_empty(line, e.host_off, e.host_len);
    l.src = sub_or_empty(line, e.src_off, e.src_len);
    l.prefix = line.substr(0, e.prefix_len);
    l.pid = e.pid;
    l.tid = e.tid;
    l.dev = e.dev;
    l.launcher_rank = e.launcher_rank;
  } else {
    parse_prefix(line, at, lv, l);
    e.hash = h;
    e.len = static_cast<std::uint8_t>(at);
    e.level = static_cast<std::uint8_t>(level);
    auto off = [&line](std::string_view v) {
      return v.empty() ? std::uint8_t{0} : static_cast<std::uint8_t>(v.data() - line.data());
    };
    e.host_off = off(l.host);
    e.host_len = static_cast<std::uint8_t>(l.host.size());
    e.src_off = off(l.src);
    e.src_len = static_cast<std::uint8_t>(l.src.size());
    e.prefix_len = static_cast<std::uint8_t>(l.prefix.size());
    e.pid = l.pid;
    e.tid = l.tid;
    e.dev = l.dev;
    e.launcher_rank = l.launcher_rank;
    std::memcpy(e.bytes, line.data(), at);
    if (++cache->next_gen == 0) cache->next_gen = 1;
    e.gen = cache->next_gen;
  }
  l.prefix_slot = static_cast<int>(idx);
  l.prefix_gen = e.gen;
  return l;
}

}  // namespace

LogLine classify_line(std::string_view line) { return classify_impl(line, nullptr); }
LogLine classify_line(std::string_view line, PrefixCache& cache) { return classify_impl(line, &cache); }

std::size_t second_record(std::string_view line, const LogLine& l) {
  if (l.msg.empty()) return std::string_view::npos;
  std::size_t base = static_cast<std::size_t>(l.msg.data() - line.data());
  std::size_t r = line.find("        ", base);
  if (r == std::string_view::npos) return std::string_view::npos;
  std::size_t s = r;
  while (s < line.size() && is_space(line[s])) ++s;
  if (s >= line.size()) return std::string_view::npos;
  return s;
}

bool parse_trace(std::string_view msg, TraceLine& out) {
  std::size_t sp = msg.find(' ');
  if (sp == std::string_view::npos || sp < 3 || sp > 120) return false;
  std::string_view tok = msg.substr(0, sp);
  std::size_t c = tok.rfind(':');
  if (c == std::string_view::npos || c == 0 || !all_digits(tok.substr(c + 1))) return false;
  if (tok.substr(0, c).find('.') == std::string_view::npos) return false;
  std::string_view rest = msg.substr(sp);
  if (!starts_with(rest, " -> ")) return false;
  long r = -1;
  if (!parse_int(rest.substr(4), r)) return false;
  long ln = 0;
  (void)parse_int(tok.substr(c + 1), ln);
  out.file = tok.substr(0, c);
  out.line = static_cast<int>(ln);
  out.result = static_cast<int>(r);
  return true;
}

namespace {

// "Channel 03/0 : " / "Ring 00 : " / "Channel 00 : " -> channel, conn index, remainder.
bool channel_head(std::string_view msg, int& channel, int& conn, bool& ring, std::string_view& rest) {
  std::string_view r;
  if (starts_with(msg, "Channel ")) {
    r = msg.substr(8);
    ring = false;
  } else if (starts_with(msg, "Ring ")) {
    r = msg.substr(5);
    ring = true;
  } else {
    return false;
  }
  long ch = 0;
  std::size_t used = 0;
  if (!parse_int(r, ch, &used) || ch < 0 || ch > 4096) return false;
  channel = static_cast<int>(ch);
  r = r.substr(used);
  conn = 0;
  if (!r.empty() && r[0] == '/') {
    long ci = 0;
    if (!parse_int(r.substr(1), ci, &used)) return false;
    conn = static_cast<int>(ci);
    r = r.substr(1 + used);
  }
  r = ltrim(r);
  if (r.empty() || r[0] != ':') return false;
  rest = ltrim(r.substr(1));
  return true;
}

// "5[5]" or "5" -> rank, dev text.
bool rank_ref(std::string_view& s, int& rank, std::string_view& dev) {
  long v = 0;
  std::size_t used = 0;
  if (!parse_int(s, v, &used) || v < 0) return false;
  rank = static_cast<int>(v);
  s = s.substr(used);
  if (!s.empty() && s[0] == '[') {
    std::size_t e = s.find(']');
    if (e == std::string_view::npos) return false;
    dev = s.substr(1, e - 1);
    s = s.substr(e + 1);
  }
  return true;
}

}  // namespace

bool parse_connection(std::string_view msg, ConnLine& out) {
  std::string_view rest;
  if (!msg.empty() && is_digit(msg[0])) {
    rest = msg;  // NCCL 2.0/2.1: "0 -> 1 via P2P/IPC"
    out.channel = 0;
  } else if (!channel_head(msg, out.channel, out.conn_index, out.ring_syntax, rest)) {
    return false;
  }
  if (!rank_ref(rest, out.from, out.from_dev)) return false;
  if (!starts_with(rest, " -> ")) return false;
  rest = rest.substr(4);
  if (!rank_ref(rest, out.to, out.to_dev)) return false;
  rest = ltrim(rest);
  if (starts_with(rest, "[send]")) {
    out.dir = 1;
    rest = ltrim(rest.substr(6));
  } else if (starts_with(rest, "[receive]")) {
    out.dir = 2;
    rest = ltrim(rest.substr(9));
  }
  if (!starts_with(rest, "via ")) return false;
  std::string_view via = rtrim(rest.substr(4));
  std::size_t cut = via.find(" comm ");
  if (cut != std::string_view::npos) via = via.substr(0, cut);
  cut = via.find("  ");
  if (cut != std::string_view::npos) via = via.substr(0, cut);
  out.via = via;
  return !via.empty();
}

bool parse_ring_listing(std::string_view msg, int& channel, int* ranks, int max, int& count) {
  int conn = 0;
  bool ring = false;
  std::string_view rest;
  if (!channel_head(msg, channel, conn, ring, rest)) return false;
  if (rest.empty() || rest.find("->") != std::string_view::npos) return false;
  count = 0;
  while (!rest.empty()) {
    long v = 0;
    std::size_t used = 0;
    if (!parse_int(rest, v, &used)) {
      if (starts_with(rest, "...")) break;  // truncated listing
      return false;
    }
    if (v < 0) return false;
    if (count < max) ranks[count] = static_cast<int>(v);
    ++count;
    rest = ltrim(rest.substr(used));
  }
  return count > 0;
}

}  // namespace ncd::nccl
