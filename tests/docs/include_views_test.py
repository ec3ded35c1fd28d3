#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A module compiles against its include view (src/CMakeLists.txt): an include of a module
outside its dependencies fails to compile, one inside compiles. Takes a real compile command of
each module from the build's compile_commands.json and compiles one-line probes with it."""
import json
import os
import shlex
import subprocess
import sys
import tempfile

build, src = sys.argv[1], os.path.realpath(sys.argv[2])
db = json.load(open(os.path.join(build, "compile_commands.json")))


def command_of(module):
    for e in db:
        f = os.path.realpath(e["file"])
        if f.startswith(os.path.join(src, module) + os.sep) and f.endswith(".cpp"):
            args = e["arguments"] if "arguments" in e else shlex.split(e["command"])
            out, skip = [], False
            for a in args:
                if skip:
                    skip = False
                    continue
                if a in ("-o", "-c", "-MF", "-MT", "-MQ"):
                    skip = True
                    continue
                if a in ("-MD", "-MMD") or os.path.realpath(a) == f:
                    continue
                out.append(a)
            if out and out[0].endswith("ccache"):
                out = out[1:]
            return out, e["directory"]
    sys.exit(f"FAIL: no compile command for src/{module} in {build}/compile_commands.json")


# (module, header, compiles?)
cases = [
    ("topo", "core/error.hpp", True),
    ("topo", "checks/link_checks.hpp", False),   # up to checks
    ("topo", "nccl/topo_xml.hpp", False),        # same layer, not a dependency (nccl -> topo)
    ("core", "model/report.hpp", False),
    ("checks", "topo/model.hpp", True),
    ("checks", "report/text.hpp", False),
    ("checks", "cli/context.hpp", False),
    ("report", "checks/link_checks.hpp", True),
    ("report", "gpu/backend.hpp", False),
]
failed = 0
with tempfile.TemporaryDirectory() as tmp:
    for module, header, ok in cases:
        probe = os.path.join(tmp, f"{module}_probe.cpp")
        with open(probe, "w") as fh:
            fh.write(f'#include "{header}"\n')
        cmd, cwd = command_of(module)
        r = subprocess.run(cmd + ["-fsyntax-only", probe], cwd=cwd, capture_output=True, text=True)
        got = r.returncode == 0
        missing = "No such file" in r.stderr or "not found" in r.stderr
        good = got == ok and (ok or missing)
        print(f"{'ok' if good else 'FAIL'}: {module} including {header}: "
              f"{'compiles' if got else 'does not compile'} (expected {'compiles' if ok else 'not found'})")
        if not good:
            failed += 1
            print(r.stderr[-2000:])
sys.exit(1 if failed else 0)
