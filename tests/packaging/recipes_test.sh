#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The container recipe and the Kubernetes MPIJob cannot be built or applied here (no Docker
# engine, no cluster): lint what can be linted. hadolint when installed (it is not a Debian
# package); otherwise, and always, a structural check of the Dockerfile; the MPIJob parsed with
# python3-yaml and checked against the MPI Operator v2beta1 shape.
#   recipes_test.sh SOURCE_DIR
set -u
src=$1
fail() { echo "FAIL: $*"; exit 1; }
df=$src/packaging/Dockerfile
job=$src/packaging/k8s/mpijob.yaml
[[ -s $df && -s $job ]] || fail "missing $df or $job"
if command -v hadolint >/dev/null; then
  hadolint "$df" || fail "hadolint"
  echo "ok: hadolint"
fi
py=/usr/bin/python3
[[ -x $py ]] || py=$(command -v python3)
"$py" - "$df" "$job" <<'PY' || exit 1
import re, sys
import yaml

df, job = sys.argv[1], sys.argv[2]
def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)

# ---- Dockerfile: structure ----
lines, cont = [], ""
for raw in open(df):
    line = raw.rstrip("\n")
    if not cont and (not line.strip() or line.lstrip().startswith("#")):
        continue
    cont += line.rstrip("\\").strip() + " "
    if not line.endswith("\\"):
        lines.append(cont.strip())
        cont = ""
if cont:
    fail("Dockerfile ends inside a continued line")
known = {"FROM", "RUN", "COPY", "ADD", "ARG", "ENV", "WORKDIR", "ENTRYPOINT", "CMD", "LABEL", "USER", "EXPOSE",
         "VOLUME", "SHELL", "HEALTHCHECK", "STOPSIGNAL", "ONBUILD"}
stages, args = [], set()
for l in lines:
    ins = l.split()[0].upper()
    if ins not in known:
        fail(f"unknown instruction {ins!r} in: {l}")
    if ins == "ARG" and not stages:
        args.add(l.split()[1].split("=")[0])
    if ins == "FROM":
        m = re.match(r"FROM\s+(\S+)(?:\s+AS\s+(\S+))?$", l, re.I)
        if not m:
            fail(f"bad FROM: {l}")
        image = m.group(1)
        for v in re.findall(r"\$\{(\w+)\}", image):
            if v not in args:
                fail(f"FROM uses ${{{v}}} without a global ARG")
        stages.append((image, m.group(2)))
    if ins == "RUN" and "apt-get install" in l:
        if "--no-install-recommends" not in l or "rm -rf /var/lib/apt/lists" not in l or "apt-get update" not in l:
            fail(f"apt-get install without update / --no-install-recommends / list cleanup: {l[:80]}")
    if ins == "COPY":
        m = re.search(r"--from=(\S+)", l)
        if m and m.group(1) not in [s[1] for s in stages[:-1]]:
            fail(f"COPY --from={m.group(1)}: no earlier stage of that name")
if len(stages) < 2:
    fail("not a multi-stage build")
if not all(img.startswith("nvcr.io/nvidia/cuda:") for img, _ in stages):
    fail("every stage must be on an NVIDIA CUDA base image")
if not any("--from=" in l for l in lines if l.startswith("COPY")):
    fail("the runtime stage copies nothing from the build stage")
text = " ".join(lines)
for need in ["libnccl-dev", "libnccl2", "libopenmpi-dev", "openmpi-bin", "pmix", "-DNCD_WITH_NCCL=ON", "cmake --install"]:
    if need not in text:
        fail(f"Dockerfile does not mention {need}")
if not any(l.upper().startswith("ENTRYPOINT") for l in lines):
    fail("no ENTRYPOINT")
print(f"ok: Dockerfile: {len(stages)} stages ({', '.join(s[1] or s[0] for s in stages)}), {len(lines)} instructions")

# ---- MPIJob ----
docs = list(yaml.safe_load_all(open(job)))
if len(docs) != 1:
    fail(f"{job}: expected one document, found {len(docs)}")
j = docs[0]
if j.get("apiVersion") != "kubeflow.org/v2beta1" or j.get("kind") != "MPIJob":
    fail("not a kubeflow.org/v2beta1 MPIJob")
if not j.get("metadata", {}).get("name"):
    fail("no metadata.name")
spec = j["spec"]
allowed = {"slotsPerWorker", "runPolicy", "mpiReplicaSpecs", "mpiImplementation", "sshAuthMountPath",
           "launcherCreationPolicy", "runLauncherAsWorker"}
if set(spec) - allowed:
    fail(f"unknown spec fields {set(spec) - allowed}")
if spec.get("mpiImplementation", "OpenMPI") not in ("OpenMPI", "Intel", "MPICH"):
    fail("mpiImplementation")
reps = spec["mpiReplicaSpecs"]
if set(reps) != {"Launcher", "Worker"}:
    fail(f"replica specs {set(reps)}")
if reps["Launcher"].get("replicas") != 1:
    fail("one launcher")
slots = spec["slotsPerWorker"]
workers = reps["Worker"]["replicas"]
for role, r in reps.items():
    cs = r["template"]["spec"]["containers"]
    if not cs or not all(c.get("image") and c.get("name") for c in cs):
        fail(f"{role}: containers need a name and an image")
launcher = reps["Launcher"]["template"]["spec"]["containers"][0]
cmd = launcher["command"]
if not all(isinstance(a, str) for a in cmd):
    fail("launcher command: every argument must be a string (quote numbers)")
if cmd[0] != "mpirun" or "nccl-doctor" not in cmd:
    fail("the launcher runs mpirun ... nccl-doctor")
np_ = int(cmd[cmd.index("-np") + 1])
if np_ != slots * workers:
    fail(f"-np {np_} != slotsPerWorker {slots} x {workers} workers")
if "--timeout" not in cmd:
    fail("the launcher sets the tool's deadline")
deadline = spec.get("runPolicy", {}).get("activeDeadlineSeconds")
if not deadline or deadline <= int(cmd[cmd.index("--timeout") + 1]):
    fail("runPolicy.activeDeadlineSeconds must bound the job beyond the tool's own --timeout")
gpus = reps["Worker"]["template"]["spec"]["containers"][0]["resources"]["limits"].get("nvidia.com/gpu")
if gpus != slots:
    fail(f"workers ask for {gpus} GPUs but have {slots} slots")
print(f"ok: MPIJob {j['metadata']['name']}: {workers} workers x {slots} slots, mpirun -np {np_}")
PY
echo PASS
