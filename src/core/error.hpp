// SPDX-License-Identifier: Apache-2.0
#pragma once
/// Tool failures (not system problems: those are Findings). Every one maps to exit code 3.
#include <stdexcept>
#include <string>

namespace ncd {

/// Base of every failure that stops the tool from completing.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Bad command line: unknown flag, bad value, impossible combination.
class UsageError : public Error {
 public:
  using Error::Error;
};

/// An input file that is missing, unreadable or malformed. The message names the file
/// (and the line, where there is one) and what is wrong with it.
class InputError : public Error {
 public:
  InputError(const std::string& file, const std::string& what)
      : Error(file + ": " + what), file_(file) {}
  InputError(const std::string& file, long line, const std::string& what)
      : Error(file + ":" + std::to_string(line) + ": " + what), file_(file) {}
  [[nodiscard]] const std::string& file() const { return file_; }

 private:
  std::string file_;
};

/// A feature that was compiled out ("rebuild with -DNCD_WITH_NCCL=ON") or hardware that is
/// absent at run time ("no GPU").
class UnavailableError : public Error {
 public:
  using Error::Error;
};

}  // namespace ncd
