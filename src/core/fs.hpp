// SPDX-License-Identifier: Apache-2.0
#pragma once
/// File access with errors that name the file (InputError), deadline-bounded reads, and safe
/// report writes.
#include <sys/types.h>

#include <cstddef>
#include <optional>
#include <string>

namespace ncd {

/// Size caps of the offline reads, proportionate to what they parse. The yardstick is the JSON
/// report of a 4,096-rank sweep: 512 hosts' topologies (an 8-GPU p4d host is 50 KB), every
/// rank's environment and the ring links: about 50 MB. The cap leaves twenty times that (a
/// --full pairwise sweep of that size would not finish within any deadline).
inline constexpr std::size_t kMaxReportBytes = std::size_t{1} << 30;
/// Default cap of read_file (topology models, XML dumps): 256 MiB.
inline constexpr std::size_t kMaxInputBytes = std::size_t{256} << 20;

/// The deadline of every offline read, from --timeout (seconds from now; <= 0: none). A FIFO
/// with no writer, a terminal or a device that never ends then ends by this deadline with an
/// InputError instead of blocking forever.
void set_input_timeout(double seconds);
/// Seconds left before the input deadline (infinity when none is set).
[[nodiscard]] double input_time_left();

/// Opens `path` for reading without blocking on a FIFO that has no writer yet. Throws
/// InputError naming the file when it is missing, a directory or unreadable.
[[nodiscard]] int open_input(const std::string& path);
/// read(2) that waits for data at most until the input deadline (poll on FIFOs, terminals and
/// devices). Returns 0 at end of file; throws InputError naming `path` on error or expiry.
[[nodiscard]] std::size_t read_input(int fd, char* buf, std::size_t n, const std::string& path);

/// Reads a whole file (a regular file, FIFO or device), within the input deadline. Throws
/// InputError (naming the file) when it is missing, a directory, unreadable, larger than
/// `max_bytes`, or still sending when the deadline passes.
[[nodiscard]] std::string read_file(const std::string& path, std::size_t max_bytes = kMaxInputBytes);
/// Reads a small file (sysfs attribute), trimmed; nullopt when it cannot be read.
[[nodiscard]] std::optional<std::string> read_attr(const std::string& path);

/// How an output path is written.
enum class OutputKind {
  kStdout,   ///< "-", /dev/stdout, /dev/fd/1, /proc/self/fd/1: this process's standard output
  kInPlace,  ///< an existing character device, FIFO or socket: written in place, never replaced
  kReplace,  ///< a regular file (existing or not): replaced atomically
};
/// Classifies `path` and checks that it can be written (its directory exists and is writable,
/// it is not a directory), before any work is done. Throws UsageError naming the path.
OutputKind check_output_path(const std::string& path);
/// A key that is equal for two spellings of the same output (same string, same inode, or the
/// same file in the same directory), so two outputs on one path can be refused.
[[nodiscard]] std::string output_identity(const std::string& path);

/// Writes `data` to `path` so that a reader never sees half a file and nothing but `path` is
/// touched: a regular file is written to a new temporary file in the same directory (an
/// unpredictable name created with O_CREAT|O_EXCL|O_NOFOLLOW), fsynced and renamed over
/// `path`; "-", a character device or a FIFO is written in place. Every write, fsync and close
/// is checked. Throws Error("cannot write PATH: why") on failure (the temporary is removed).
void write_file_atomic(const std::string& path, const std::string& data);

namespace detail {
/// Tests only: the suffix of the next temporary names (nullptr: random). Lets a test plant a
/// link at the exact name the writer will try first.
void set_temp_suffix_for_test(std::string (*suffix)());
}  // namespace detail

}  // namespace ncd
