// SPDX-License-Identifier: Apache-2.0
#include "core/fs.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <limits>

#include "core/error.hpp"
#include "core/text.hpp"

namespace ncd {
namespace {

using Clock = std::chrono::steady_clock;
// Nanoseconds since the clock's epoch; 0 = no deadline.
std::atomic<long long> g_input_deadline_ns{0};

std::string errno_text(int e) { return std::strerror(e); }

std::string parent_dir(const std::string& path) {
  std::size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string base_name(const std::string& path) {
  std::size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

bool is_stdout_alias(const std::string& path) {
  return path == "-" || path == "/dev/stdout" || path == "/dev/fd/1" || path == "/proc/self/fd/1";
}

bool is_in_place(mode_t m) { return S_ISCHR(m) || S_ISFIFO(m) || S_ISSOCK(m) || S_ISBLK(m); }

/// /dev/stderr, /dev/fd/N, /proc/self/fd/N: names of something already open, never replaced
/// even when they lead to a regular file (renaming over them would replace the link in /dev).
bool is_system_name(const std::string& path) { return path.rfind("/dev/", 0) == 0 || path.rfind("/proc/", 0) == 0; }

/// Writes all of `data` to `fd`, retrying short writes and EINTR. Returns 0 or an errno.
int write_all(int fd, const std::string& data) {
  std::size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {  // a FIFO opened non-blocking whose reader is slow
        pollfd p{fd, POLLOUT, 0};
        (void)::poll(&p, 1, 100);
        continue;
      }
      return errno;
    }
    if (n == 0) return EIO;
    off += static_cast<std::size_t>(n);
  }
  return 0;
}

std::string random_suffix() {
  unsigned char raw[12] = {};
  std::size_t got = 0;
  while (got < sizeof raw) {
    ssize_t n = ::getrandom(raw + got, sizeof raw - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    got += static_cast<std::size_t>(n);
  }
  if (got < sizeof raw) {  // no getrandom: still unpredictable enough to an observer
    auto t = static_cast<unsigned long long>(Clock::now().time_since_epoch().count());
    for (std::size_t i = 0; i < sizeof raw; ++i) raw[i] ^= static_cast<unsigned char>((t >> (8 * (i % 8))) ^ (::getpid() >> i));
  }
  static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::string s;
  for (unsigned char c : raw) s += kAlphabet[c % 62];
  return s;
}

std::string (*g_test_suffix)() = nullptr;

[[noreturn]] void write_error(const std::string& path, const std::string& why) {
  throw Error("cannot write " + path + ": " + why);
}

void write_in_place(const std::string& path, const std::string& data) {
  // O_NONBLOCK: opening a FIFO for writing blocks until a reader comes; wait for one within
  // 10 s instead, then write blocking.
  int fd = -1;
  for (int tries = 0;; ++tries) {
    fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd >= 0 || errno != ENXIO || tries >= 200) break;
    ::usleep(50000);
  }
  if (fd < 0) write_error(path, errno == ENXIO ? "no process is reading this FIFO" : errno_text(errno));
  int flags = ::fcntl(fd, F_GETFL);
  struct stat st {};
  // /dev/stderr leading to a regular file (2>log): append, never overwrite what is there.
  bool regular = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
  if (flags >= 0) (void)::fcntl(fd, F_SETFL, (flags & ~O_NONBLOCK) | (regular ? O_APPEND : 0));
  int e = write_all(fd, data);
  if (::close(fd) != 0 && e == 0 && errno != EINTR) e = errno;
  if (e != 0) write_error(path, errno_text(e));
}

void write_stdout(const std::string& path, const std::string& data) {
  std::cout << data;
  std::cout.flush();
  if (!std::cout) {
    std::cout.clear();
    write_error(path == "-" ? std::string("standard output") : path,
                "write failed (disk full, closed or broken pipe)");
  }
}

}  // namespace

void set_input_timeout(double seconds) {
  if (!(seconds > 0) || !std::isfinite(seconds)) {
    g_input_deadline_ns = 0;
    return;
  }
  auto end = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  g_input_deadline_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(end.time_since_epoch()).count();
}

double input_time_left() {
  long long end = g_input_deadline_ns.load();
  if (end == 0) return std::numeric_limits<double>::infinity();
  long long now = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
  return static_cast<double>(end - now) / 1e9;
}

int open_input(const std::string& path) {
  // O_NONBLOCK: open() of a FIFO without a writer would block forever; reads then poll.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) throw InputError(path, errno_text(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
    int e = errno;
    bool dir = S_ISDIR(st.st_mode);
    ::close(fd);
    throw InputError(path, dir ? "is a directory, not a file" : errno_text(e));
  }
  if (S_ISREG(st.st_mode)) {
    int flags = ::fcntl(fd, F_GETFL);
    if (flags >= 0) (void)::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  }
  return fd;
}

std::size_t read_input(int fd, char* buf, std::size_t n, const std::string& path) {
  struct stat st {};
  const bool regular = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
  for (;;) {
    double left = input_time_left();
    if (left <= 0)
      throw InputError(path, "still not read to its end when the --timeout deadline passed "
                             "(a FIFO without a writer, a terminal or an endless device?)");
    if (!regular) {
      // A FIFO that never had a writer reads as end of file at once; poll tells "no writer
      // yet" (nothing) from "the writer is gone" (POLLHUP).
      pollfd p{fd, POLLIN, 0};
      int ms = std::isinf(left) ? 1000 : static_cast<int>(std::min(1000.0, std::ceil(left * 1000)));
      int ready = ::poll(&p, 1, ms);
      if (ready == 0 || (ready < 0 && errno == EINTR)) continue;
    }
    ssize_t got = ::read(fd, buf, n);
    if (got >= 0) return static_cast<std::size_t>(got);
    if (errno == EINTR) continue;
    if (errno != EAGAIN) throw InputError(path, std::string("read failed: ") + errno_text(errno));
    pollfd p{fd, POLLIN, 0};
    int ms = std::isinf(left) ? 1000 : static_cast<int>(std::min(1000.0, std::ceil(left * 1000)));
    (void)::poll(&p, 1, ms);
  }
}

std::string read_file(const std::string& path, std::size_t max_bytes) {
  int fd = open_input(path);
  std::string data;
  char buf[1 << 16];
  try {
    for (;;) {
      std::size_t n = read_input(fd, buf, sizeof buf, path);
      if (n == 0) break;
      if (data.size() + n > max_bytes)
        throw InputError(path, "larger than " + std::to_string(max_bytes) + " bytes");
      data.append(buf, n);
    }
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
  return data;
}

std::optional<std::string> read_attr(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  char buf[4096];
  ssize_t n = ::read(fd, buf, sizeof buf);
  ::close(fd);
  if (n < 0) return std::nullopt;
  return std::string(trim(std::string_view(buf, static_cast<std::size_t>(n))));
}

OutputKind check_output_path(const std::string& path) {
  if (path.empty()) throw UsageError("an output path is empty");
  if (is_stdout_alias(path)) return OutputKind::kStdout;
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) throw UsageError("cannot write " + path + ": is a directory");
    if (is_in_place(st.st_mode) || is_system_name(path)) {
      if (::access(path.c_str(), W_OK) != 0)
        throw UsageError("cannot write " + path + ": " + errno_text(errno));
      return OutputKind::kInPlace;
    }
  } else if (errno != ENOENT || is_system_name(path)) {
    throw UsageError("cannot write " + path + ": " + errno_text(errno));
  }
  // A regular file (or a new one) is replaced by rename: its directory must take a new file.
  std::string dir = parent_dir(path);
  struct stat ds {};
  if (::stat(dir.c_str(), &ds) != 0)
    throw UsageError("cannot write " + path + ": directory " + dir + ": " + errno_text(errno));
  if (!S_ISDIR(ds.st_mode)) throw UsageError("cannot write " + path + ": " + dir + " is not a directory");
  if (::access(dir.c_str(), W_OK | X_OK) != 0)
    throw UsageError("cannot write " + path + ": directory " + dir + ": " + errno_text(errno));
  return OutputKind::kReplace;
}

std::string output_identity(const std::string& path) {
  if (is_stdout_alias(path)) return "stdout";
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0)
    return "inode:" + std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
  struct stat ds {};
  std::string dir = parent_dir(path);
  if (::stat(dir.c_str(), &ds) == 0)
    return "dir:" + std::to_string(ds.st_dev) + ":" + std::to_string(ds.st_ino) + "/" + base_name(path);
  return "path:" + path;
}

void write_file_atomic(const std::string& path, const std::string& data) {
  if (is_stdout_alias(path)) return write_stdout(path, data);
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) write_error(path, "is a directory");
    // /dev/null, a FIFO, a terminal, /dev/stderr: written in place. Replacing it would turn a
    // device node into a regular file (as root) or fail (as anyone else).
    if (is_in_place(st.st_mode)) return write_in_place(path, data);
  }
  if (is_system_name(path)) return write_in_place(path, data);
  // A new file in the same directory (so rename is atomic), with a name nobody can guess and
  // O_EXCL|O_NOFOLLOW: a link planted at any name cannot redirect the write.
  std::string dir = parent_dir(path);
  std::string stem = dir + "/." + base_name(path) + ".tmp.";
  std::string tmp;
  int fd = -1;
  for (int tries = 0; tries < 64 && fd < 0; ++tries) {
    tmp = stem + (g_test_suffix ? g_test_suffix() : random_suffix());
    fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0644);
    if (fd < 0 && errno != EEXIST) break;
  }
  if (fd < 0) write_error(path, errno_text(errno));
  int e = write_all(fd, data);
  if (e == 0 && ::fsync(fd) != 0 && errno != EINVAL && errno != EROFS) e = errno;
  if (::close(fd) != 0 && e == 0 && errno != EINTR) e = errno;
  if (e == 0 && ::rename(tmp.c_str(), path.c_str()) != 0) e = errno;
  if (e != 0) {
    ::unlink(tmp.c_str());
    write_error(path, errno_text(e));
  }
  // The rename itself reaches the disk with the directory (best effort: not every file system
  // can fsync a directory).
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    (void)::fsync(dfd);
    ::close(dfd);
  }
}

namespace detail {
void set_temp_suffix_for_test(std::string (*suffix)()) { g_test_suffix = suffix; }
}  // namespace detail

}  // namespace ncd
