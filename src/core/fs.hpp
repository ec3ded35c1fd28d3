// SPDX-License-Identifier: Apache-2.0
#pragma once
/// File access with errors that name the file (InputError), and atomic writes.
#include <cstddef>
#include <optional>
#include <string>

namespace ncd {

/// Reads a whole regular file. Throws InputError (naming the file) when it is missing, a
/// directory, unreadable, or larger than `max_bytes`.
[[nodiscard]] std::string read_file(const std::string& path,
                                    std::size_t max_bytes = std::size_t{1} << 30);
/// Reads a small file (sysfs attribute), trimmed; nullopt when it cannot be read.
[[nodiscard]] std::optional<std::string> read_attr(const std::string& path);
/// Writes `data` to `path` atomically (temporary file in the same directory, then rename), so a
/// reader never sees half a file. "-" writes to stdout. Throws Error on failure.
void write_file_atomic(const std::string& path, const std::string& data);

}  // namespace ncd
