// SPDX-License-Identifier: Apache-2.0
#include <iostream>
#include <string>
#include <vector>

#include "cli/cli.hpp"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  int code = ncd::cli::run_cli(args, std::cout, std::cerr);
  // Output that never reached stdout (a full disk, a closed descriptor) is a failed run, for
  // every command: `nccl-doctor env >&-` must not exit 0.
  std::cout.flush();
  if (!std::cout && code != 3) {
    std::cerr << "nccl-doctor: cannot write standard output: write failed (disk full, closed or broken pipe)\n";
    return 3;
  }
  return code;
}
