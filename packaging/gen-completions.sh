#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Writes bash and zsh completion for nccl-doctor from the binary's own help, so every command
# and option the binary has is completed (tests/packaging/install_test.sh checks it).
#   packaging/gen-completions.sh BIN OUTDIR     -> OUTDIR/nccl-doctor.bash, OUTDIR/_nccl-doctor
set -euo pipefail
bin=$1
dir=$2
mkdir -p "$dir"
opts_of() {  # every -x and --long option in a help text
  grep -oE '(^|[ ,])--?[A-Za-z][A-Za-z0-9_-]*' | sed 's/^[ ,]//' | grep -v '^-$' | sort -u | tr '\n' ' '
}
top=$("$bin" --help)
mapfile -t cmds < <(awk '/^Subcommands:/{on=1; next} on && /^  [a-z]/{print $1} on && /^$/{on=0}' <<< "$top")
[[ ${#cmds[@]} -gt 0 ]] || { echo "gen-completions: no commands in '$bin --help'" >&2; exit 1; }
global=$(awk '/^Subcommands:/{exit} {print}' <<< "$top" | opts_of)
alt=$(IFS='|'; echo "${cmds[*]}")

{
  echo "# bash completion for nccl-doctor (generated from its --help by packaging/gen-completions.sh)"
  echo "_nccl_doctor() {"
  echo "  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]} cmd= w"
  echo "  for w in \"\${COMP_WORDS[@]:1:COMP_CWORD-1}\"; do"
  echo "    case \$w in $alt) cmd=\$w; break ;; esac"
  echo "  done"
  echo "  case \$prev in"
  echo "    --json|--prom|--junit|--html|--save|--load|--baseline|--hwloc-xml|--nccl-topo|--topo-xml|--graph-xml|--log)"
  echo "      COMPREPLY=(\$(compgen -f -- \"\$cur\")); return ;;"
  echo "    --sysfs-root) COMPREPLY=(\$(compgen -d -- \"\$cur\")); return ;;"
  echo "    --format) COMPREPLY=(\$(compgen -W 'text json' -- \"\$cur\")); return ;;"
  echo "    --fail-on) COMPREPLY=(\$(compgen -W 'warn error' -- \"\$cur\")); return ;;"
  echo "    --color) COMPREPLY=(\$(compgen -W 'auto always never' -- \"\$cur\")); return ;;"
  echo "    --backend) COMPREPLY=(\$(compgen -W 'auto nccl mpi' -- \"\$cur\")); return ;;"
  echo "    --mode) COMPREPLY=(\$(compgen -W 'pairwise ring bisect' -- \"\$cur\")); return ;;"
  echo "  esac"
  echo "  local opts='$global'"
  echo "  case \$cmd in"
  for c in "${cmds[@]}"; do
    echo "    $c) opts+=' $("$bin" "$c" --help | awk '/^Global options/{exit} {print}' | opts_of)' ;;"
  done
  echo "  esac"
  echo "  if [[ -z \$cmd && \$cur != -* ]]; then"
  echo "    COMPREPLY=(\$(compgen -W '${cmds[*]}' -- \"\$cur\"))"
  echo "  elif [[ \$cur == -* ]]; then"
  echo "    COMPREPLY=(\$(compgen -W \"\$opts\" -- \"\$cur\"))"
  echo "  else"
  echo "    COMPREPLY=(\$(compgen -f -- \"\$cur\"))"
  echo "  fi"
  echo "}"
  echo "complete -o filenames -F _nccl_doctor nccl-doctor"
} > "$dir/nccl-doctor.bash"

{
  echo "#compdef nccl-doctor"
  echo "# zsh completion for nccl-doctor (generated from its --help by packaging/gen-completions.sh)"
  echo "_nccl_doctor() {"
  echo "  local -a commands global opts"
  echo "  commands=("
  "$bin" --help | awk '/^Subcommands:/{on=1; next} on && /^  [a-z]/{n=$1; $1=""; sub(/^ +/, ""); gsub(/'"'"'/, ""); gsub(/:/, " -"); printf "    '"'"'%s:%s'"'"'\n", n, $0} on && /^$/{on=0}'
  echo "  )"
  echo "  global=($global)"
  echo "  local cmd=\${words[(r)($alt)]}"
  echo "  case \$cmd in"
  for c in "${cmds[@]}"; do
    echo "    $c) opts=($("$bin" "$c" --help | awk '/^Global options/{exit} {print}' | opts_of)) ;;"
  done
  echo "    *) opts=() ;;"
  echo "  esac"
  echo "  if [[ -z \$cmd ]] && [[ \$PREFIX != -* ]]; then"
  echo "    _describe -t commands 'nccl-doctor command' commands"
  echo "  elif [[ \$PREFIX == -* ]]; then"
  echo "    compadd -- \$global \$opts"
  echo "  else"
  echo "    _files"
  echo "  fi"
  echo "}"
  echo "_nccl_doctor \"\$@\""
} > "$dir/_nccl-doctor"
