#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `cpack -G DEB`: the package's Depends are Debian packages read off the binary (libhwloc15,
# libopenmpi3, libfmt9, libpugixml1v5, zlib1g), its contents are the installed tree, and the
# binary it carries runs `explain` and `--version` (unpacked with dpkg-deb -x into a throwaway
# folder). Installing on a fresh Debian 12, without touching this machine:
#  - every Depends clause is met by a version the Debian 12 archive offers (apt-cache policy,
#    when the apt lists are there) or this Debian 12 system has;
#  - `dpkg -i` into a throwaway root with an empty package database (--instdir, --admindir,
#    --force-depends: that database knows no library packages), `explain` from the installed
#    tree, `dpkg -r` leaves nothing behind.
# The real `dpkg -i` / `dpkg -r` on this machine as root when CI=true or NCD_TEST_DPKG_INSTALL=1
# (never with NCD_TEST_DPKG_INSTALL=0), and only when no nccl-doctor package is installed.
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
         ./usr/share/nccl-doctor/scripts/nightly-sweep ./usr/share/doc/nccl-doctor/README.md \
         ./usr/share/doc/nccl-doctor/examples/grafana-nccl-doctor.json; do
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

# Depends met on Debian 12: each clause by the archive's candidate or the installed version.
if [[ $(cut -d. -f1 /etc/debian_version 2>/dev/null) == 12 ]]; then
  python3 - "$depends" <<'PY' || fail "a dependency is not met on this Debian 12"
import subprocess, sys
def ver(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=60).stdout
    except Exception:
        return ""
def available(name):
    out = []
    pol = ver(["apt-cache", "policy", name])
    for line in pol.splitlines():
        line = line.strip()
        if line.startswith("Candidate:") and "(none)" not in line:
            out.append(("archive", line.split(":", 1)[1].strip()))
    inst = ver(["dpkg-query", "-W", "-f=${Version}", name]).strip()
    if inst:
        out.append(("installed", inst))
    return out
def ok(v, op, want):
    if not op:
        return True
    return subprocess.run(["dpkg", "--compare-versions", v, {">=": "ge", "<=": "le", ">>": "gt", "<<": "lt", "=": "eq"}[op], want]).returncode == 0
for clause in sys.argv[1].split(","):
    met = []
    for alt in clause.split("|"):
        alt = alt.strip()
        name, op, want = alt.split(" ")[0], "", ""
        if "(" in alt:
            op, want = alt[alt.index("(") + 1:alt.index(")")].split()
        met += [f"{name} {where} {v}" for where, v in available(name) if ok(v, op, want)]
    if not met:
        sys.exit(f"FAIL: Depends '{clause.strip()}': no version on this Debian 12 (archive or installed) satisfies it")
    print(f"ok: {clause.strip()}: {met[0]}")
PY
else
  echo "note: not Debian 12 ($(cat /etc/debian_version 2>/dev/null)): dependency versions not checked"
fi

# dpkg -i into a throwaway root and package database.
inst=$tmp/inst
admin=$inst/var/lib/dpkg
mkdir -p "$admin/info" "$admin/updates" "$admin/triggers"
touch "$admin/status" "$admin/available"
dp=(dpkg --instdir="$inst" --admindir="$admin" --log="$tmp/dpkg-root.log" --force-not-root --force-script-chrootless)
"${dp[@]}" --force-depends -i "$deb" > "$tmp/dpkg-root.txt" 2>&1 || { cat "$tmp/dpkg-root.txt"; fail "dpkg -i into $inst"; }
[[ $("${dp[@]}" -s nccl-doctor | sed -n 's/^Status: //p') == "install ok installed" ]] || fail "not installed in the throwaway database"
"$inst/usr/bin/nccl-doctor" explain > "$tmp/explain2.txt" || fail "installed explain exited $?"
grep -q "finding ids" "$tmp/explain2.txt" || fail "installed explain printed no catalogue"
[[ -s $inst/usr/share/man/man1/nccl-doctor.1 && -s $inst/usr/share/bash-completion/completions/nccl-doctor ]] || fail "man page or completion not installed"
"${dp[@]}" -r nccl-doctor > "$tmp/dpkg-root-r.txt" 2>&1 || { cat "$tmp/dpkg-root-r.txt"; fail "dpkg -r in $inst"; }
left=$(cd "$inst" && find . -path ./var -prune -o -type f -print | head -5)
[[ -z $left ]] || fail "dpkg -r left files: $left"
echo "ok: dpkg -i into a throwaway root, explain, dpkg -r left nothing"

want_real=${NCD_TEST_DPKG_INSTALL:-}
[[ -z $want_real && ${CI:-} == true ]] && want_real=1
if [[ $want_real == 1 && $EUID -eq 0 ]]; then
  if dpkg-query -W -f='${Status}' nccl-doctor 2>/dev/null | grep -q "install ok installed"; then
    echo "skip dpkg -i: an nccl-doctor package is already installed here"
  elif [[ -e /usr/bin/nccl-doctor ]]; then
    echo "skip dpkg -i: /usr/bin/nccl-doctor exists and belongs to no package"
  else
    trap 'dpkg -r nccl-doctor >/dev/null 2>&1; rm -rf "$tmp"' EXIT
    # One dpkg at a time across this machine's test runs.
    flock -w 300 /tmp/ncd-dpkg-test.lock dpkg -i "$deb" > "$tmp/dpkg.log" 2>&1 || { cat "$tmp/dpkg.log"; fail "dpkg -i"; }
    /usr/bin/nccl-doctor explain > /dev/null || fail "installed explain"
    flock -w 300 /tmp/ncd-dpkg-test.lock dpkg -r nccl-doctor > /dev/null || fail "dpkg -r"
    [[ ! -e /usr/bin/nccl-doctor ]] || fail "dpkg -r left /usr/bin/nccl-doctor"
    echo "ok: dpkg -i, explain, dpkg -r"
  fi
else
  echo "note: the real dpkg -i is run as root with CI=true or NCD_TEST_DPKG_INSTALL=1"
fi
echo PASS
