#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `cmake --install` into a throwaway prefix: the binary runs (--version, explain), the man page
# renders and has every command, the bash and zsh completion name every command and every
# option of the binary, the operator scripts and documents are installed.
#   install_test.sh BUILD_DIR
set -u
build=$(readlink -f "$1")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
p=$tmp/p
cmake --install "$build" --prefix "$p" > "$tmp/install.log" 2>&1 || { cat "$tmp/install.log"; fail "cmake --install"; }
bin=$p/bin/nccl-doctor
[[ -x $bin ]] || fail "no $bin"
v=$("$bin" --version) || fail "--version exited $?"
[[ $v =~ ^nccl-doctor\ [0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "--version printed '$v'"
"$bin" explain pcie.link_degraded | grep -q "pcie.link_degraded" || fail "explain from the installed tree"
echo "ok: $v from $bin"

man=$p/share/man/man1/nccl-doctor.1
[[ -s $man ]] || fail "no man page at $man"
warn=$(groff -man -Tutf8 -ww -z "$man" 2>&1) 
[[ -z $warn ]] || fail "man page: groff warnings: $warn"
mapfile -t cmds < <("$bin" --help | awk '/^Subcommands:/{on=1; next} on && /^  [a-z]/{print $1} on && /^$/{on=0}')
[[ ${#cmds[@]} -ge 10 ]] || fail "only ${#cmds[@]} commands in --help"
for c in "${cmds[@]}"; do grep -q "^\.SS $c\$" "$man" || fail "man page has no section for '$c'"; done
echo "ok: man page with ${#cmds[@]} commands"

bash_c=$p/share/bash-completion/completions/nccl-doctor
zsh_c=$p/share/zsh/vendor-completions/_nccl-doctor
[[ -s $bash_c && -s $zsh_c ]] || fail "completion files missing"
opts_of() { grep -oE '(^|[ ,])--?[A-Za-z][A-Za-z0-9_-]*' | sed 's/^[ ,]//' | sort -u; }
mapfile -t global < <("$bin" --help | awk '/^Subcommands:/{exit} {print}' | opts_of)
[[ " ${global[*]} " == *" --timeout "* && " ${global[*]} " == *" --version "* ]] || fail "global options not read: ${global[*]}"
for f in "$bash_c" "$zsh_c"; do
  for c in "${cmds[@]}"; do grep -qw -- "$c" "$f" || fail "$f lacks the command $c"; done
  for o in "${global[@]}"; do grep -q -- "[ '(]$o[ ')]" "$f" || fail "$f lacks the global option $o"; done
  n=0
  for c in "${cmds[@]}"; do
    while read -r o; do
      grep -q "^ *$c) opts.*[ '(]$o[ ')]" "$f" || fail "$f: command $c lacks its option $o"
      n=$((n + 1))
    done < <("$bin" "$c" --help | awk '/^Global options/{exit} {print}' | opts_of)
  done
done
bash -n "$bash_c" || fail "bash completion does not parse"
# The bash completion completes: commands, then a command's options.
out=$(bash -c "source '$bash_c'; COMP_WORDS=(nccl-doctor sw); COMP_CWORD=1; _nccl_doctor; echo \${COMPREPLY[*]}")
[[ $out == sweep ]] || fail "bash completion of 'sw' gave '$out'"
out=$(bash -c "source '$bash_c'; COMP_WORDS=(nccl-doctor sweep --quic); COMP_CWORD=2; _nccl_doctor; echo \${COMPREPLY[*]}")
[[ $out == --quick ]] || fail "bash completion of 'sweep --quic' gave '$out'"
if command -v zsh >/dev/null; then zsh -n "$zsh_c" || fail "zsh completion does not parse"; fi
echo "ok: completion: ${#cmds[@]} commands, ${#global[@]} global options, $n command options in each file"

for s in nightly-sweep slurm-preflight.sbatch; do
  [[ -x $p/share/nccl-doctor/scripts/$s ]] || fail "script $s not installed"
done
"$p/share/nccl-doctor/scripts/nightly-sweep" --help | grep -q "nightly" || fail "nightly-sweep --help"
for d in README.md checks.md report-schema.md install.md; do
  [[ -s $p/share/doc/nccl-doctor/$d ]] || fail "document $d not installed"
done
echo PASS
