#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Writes the man page nccl-doctor(1) from the binary's own help (`--help` and every command's
# `COMMAND --help`), so the page cannot drift from the CLI. Run at build time by CMake.
#   packaging/gen-man.sh BIN OUT.1
set -euo pipefail
bin=$1
out=$2
tmp=$out.tmp
esc() { sed -e 's/\\/\\e/g' -e 's/^\([.'"'"']\)/\\\&\1/' -e 's/^-/\\-/'; }
version=$("$bin" --version | awk '{print $2}')
mapfile -t cmds < <("$bin" --help | awk '/^Subcommands:/{on=1; next} on && /^  [a-z]/{print $1} on && /^$/{on=0}')
[[ ${#cmds[@]} -gt 0 ]] || { echo "gen-man: no commands in '$bin --help'" >&2; exit 1; }
{
  echo ".TH NCCL-DOCTOR 1 \"\" \"nccl-doctor $version\" \"User Commands\""
  echo ".SH NAME"
  echo "nccl-doctor \\- is this GPU cluster's fabric healthy, and if not, what is wrong"
  echo ".SH SYNOPSIS"
  echo ".B nccl-doctor"
  echo "[\\fIGLOBAL OPTIONS\\fR] \\fICOMMAND\\fR [\\fIOPTIONS\\fR]"
  echo ".br"
  echo ".B mpirun"
  echo "\\-N 1 \\fBnccl-doctor sweep \\-\\-quick\\fR"
  echo ".SH DESCRIPTION"
  echo "Launched with mpirun or srun (srun \\-\\-mpi=pmix), nccl-doctor measures and inspects the fabric"
  echo "and answers with findings that name the part at fault. Offline commands (log, rings with"
  echo "dump files, diff, show, explain) need no GPU and no MPI launcher."
  echo ".SH OPTIONS"
  echo ".nf"
  "$bin" --help | esc
  echo ".fi"
  echo ".SH COMMANDS"
  for c in "${cmds[@]}"; do
    echo ".SS $c"
    echo ".nf"
    "$bin" "$c" --help | esc
    echo ".fi"
  done
  echo ".SH EXIT STATUS"
  echo "0 healthy, 1 warnings, 2 errors, 3 could not complete (usage, unreadable input, a step that did"
  echo "not finish, a launcher that started N processes which MPI sees as N one-rank jobs)."
  echo "\\fB\\-\\-fail\\-on error\\fR maps warnings to 0."
  echo ".SH FILES"
  echo "Scripts: share/nccl-doctor/scripts (nightly-sweep, slurm-preflight.sbatch); documents: share/doc/nccl-doctor."
  echo ".SH SEE ALSO"
  echo "\\fBmpirun\\fR(1), \\fBsrun\\fR(1), \\fBlstopo\\fR(1)"
} > "$tmp"
mv -f "$tmp" "$out"
