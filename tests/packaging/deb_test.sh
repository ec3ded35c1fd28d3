#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `cpack -G DEB`: the package's Depends are Debian packages read off the binary (libhwloc15,
# libopenmpi3, libfmt9, libpugixml1v5, zlib1g), its contents are the installed tree, and the
# binary it carries runs `explain` and `--version` (unpacked with dpkg-deb -x into a throwaway
# folder). `dpkg -i` on this machine only with NCD_TEST_DPKG_INSTALL=1, as root, when no
# nccl-doctor package is installed; the package is removed again afterwards.
#   deb_test.sh BUILD_DIR
set -u
build=$(readlink -f "$1")
command -v dpkg-deb >/dev/null && command -v cpack >/dev/null || { echo "SKIP: no dpkg-deb/cpack"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
(cd "$tmp" && cpack --config "$build/CPackConfig.cmake" -G DEB -B "$tmp/out") > "$tmp/cpack.log" 2>&1 \
  || { tail -30 "$tmp/cpack.log"; fail "cpack -G DEB"; }
deb=$(ls "$tmp"/out/nccl-doctor_*.deb 2>/dev/null | head -1)
[[ -s $deb ]] || { ls -R "$tmp/out"; fail "no .deb produced"; }
echo "ok: $(basename "$deb"), $(stat -c %s "$deb") bytes"
info=$(dpkg-deb --info "$deb")
depends=$(dpkg-deb -f "$deb" Depends)
echo "Depends: $depends"
for pkg in libhwloc15 libopenmpi3 libfmt9 libpugixml1v5 zlib1g libc6 libstdc++6; do
  tr ',|' '\n\n' <<< "$depends" | sed 's/^ *//; s/ .*//' | grep -qxF "$pkg" || fail "Depends lacks $pkg"
done
# NCCL and CUDA are not Debian packages: never a hard dependency (a Recommends at most).
[[ $depends != *nccl* && $depends != *cuda* ]] || fail "Depends names NCCL/CUDA, which are not Debian packages"
[[ $(dpkg-deb -f "$deb" Package) == nccl-doctor ]] || fail "package name"
[[ $(dpkg-deb -f "$deb" Recommends) == *openmpi-bin* ]] || fail "Recommends lacks openmpi-bin"
contents=$(dpkg-deb --contents "$deb")
for f in ./usr/bin/nccl-doctor ./usr/share/man/man1/nccl-doctor.1 ./usr/share/bash-completion/completions/nccl-doctor \
         ./usr/share/zsh/vendor-completions/_nccl-doctor ./usr/share/nccl-doctor/scripts/slurm-preflight.sbatch \
         ./usr/share/nccl-doctor/scripts/nightly-sweep ./usr/share/doc/nccl-doctor/README.md; do
  grep -q " $f\$" <<< "$contents" || fail "package lacks $f"
done
if grep -q " ./usr/bin/ncd_\| ./usr/lib" <<< "$contents"; then fail "package carries test or build files"; fi
echo "ok: contents and Depends"
root=$tmp/root
dpkg-deb -x "$deb" "$root" || fail "dpkg-deb -x"
"$root/usr/bin/nccl-doctor" --version | grep -q "^nccl-doctor " || fail "unpacked --version"
"$root/usr/bin/nccl-doctor" explain > "$tmp/explain.txt" || fail "unpacked explain exited $?"
grep -q "finding ids" "$tmp/explain.txt" || fail "unpacked explain printed no catalogue"
echo "ok: the packaged binary runs explain"

if [[ ${NCD_TEST_DPKG_INSTALL:-0} == 1 && $EUID -eq 0 ]]; then
  if dpkg-query -W -f='${Status}' nccl-doctor 2>/dev/null | grep -q "install ok installed"; then
    echo "skip dpkg -i: an nccl-doctor package is already installed here"
  else
    trap 'dpkg -r nccl-doctor >/dev/null 2>&1; rm -rf "$tmp"' EXIT
    dpkg -i "$deb" > "$tmp/dpkg.log" 2>&1 || { cat "$tmp/dpkg.log"; fail "dpkg -i"; }
    /usr/bin/nccl-doctor explain > /dev/null || fail "installed explain"
    dpkg -r nccl-doctor > /dev/null || fail "dpkg -r"
    [[ ! -e /usr/bin/nccl-doctor ]] || fail "dpkg -r left /usr/bin/nccl-doctor"
    echo "ok: dpkg -i, explain, dpkg -r"
  fi
fi
echo PASS
