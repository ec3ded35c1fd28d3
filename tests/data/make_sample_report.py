#!/usr/bin/env python3
# Writes sample_report.json: a 4-node H100-like job (topology per the topo model JSON,
# nccl-doctor/topology/v1) with a planted fault on node1 (GPU3 PCIe link at x8, one NVLink
# down), a slow node2 in the link sweep and a busbw_low finding. Used by the renderer unit tests
# and the HTML browser test; regenerate with: python3 make_sample_report.py > sample_report.json
import json

def host_topo(host, degraded=False):
    cpus = [{"numa": n, "package": n, "cpus": list(range(n * 56, n * 56 + 56)),
             "arch": "x86_64", "vendor": "GenuineIntel"} for n in (0, 1)]
    pci, gpus, nics = [], [], []
    nvswitches = [f"0000:{b:02x}:00.0" for b in (0x05, 0x06, 0x07, 0x08)]
    gpu_bus = [0x1b, 0x29, 0x45, 0x4e, 0x9a, 0xaa, 0xba, 0xcc]
    nic_bus = [0x1a, 0x28, 0x44, 0x4d, 0x99, 0xa9, 0xb9, 0xcb]
    for i in range(8):
        numa = 0 if i < 4 else 1
        root = f"0000:{gpu_bus[i] - 3:02x}:01.0"
        sw = f"0000:{gpu_bus[i] - 2:02x}:00.0"
        pci.append({"bus_id": root, "parent": "", "numa": numa, "kind": "bridge",
                    "link": {"cur_gts": 32.0, "cur_width": 16, "max_gts": 32.0, "max_width": 16}})
        pci.append({"bus_id": sw, "parent": root, "numa": numa, "kind": "bridge",
                    "link": {"cur_gts": 32.0, "cur_width": 16, "max_gts": 32.0, "max_width": 16}})
        g = f"0000:{gpu_bus[i]:02x}:00.0"
        width = 8 if (degraded and i == 3) else 16
        pci.append({"bus_id": g, "parent": sw, "numa": numa, "kind": "gpu",
                    "link": {"cur_gts": 32.0, "cur_width": width, "max_gts": 32.0, "max_width": 16}})
        n = f"0000:{nic_bus[i]:02x}:00.0"
        pci.append({"bus_id": n, "parent": sw, "numa": numa, "kind": "nic",
                    "link": {"cur_gts": 32.0, "cur_width": 16, "max_gts": 32.0, "max_width": 16}})
        nvl = []
        for s in nvswitches:
            down = degraded and i == 3 and s == nvswitches[0]
            nvl.append({"link": -1, "remote_bus_id": s, "remote": "nvswitch", "count": 4 if s in nvswitches[:2] else 5,
                        "active": "no" if down else "yes", "version": 4})
        gpus.append({"index": i, "bus_id": g, "name": "NVIDIA H100 80GB HBM3", "sm": 90,
                     "memory_bytes": 85520809984, "numa": numa, "nvlinks": nvl,
                     "pcie_gen_cur": 5, "pcie_gen_max": 5, "pcie_width_cur": width, "pcie_width_max": 16})
        nics.append({"bus_id": n, "name": f"mlx5_{i}", "numa": numa, "rdma": True,
                     "ports": [{"name": f"mlx5_{i}", "port": 1, "state": "ACTIVE", "phys_state": "LinkUp",
                                "rate_gbps": 400, "rate_text": "400 Gb/sec (4X NDR)", "link_layer": "InfiniBand",
                                "netdev": f"ibp{i}", "mtu": 4096}]})
    return {"host": host, "source": "live", "nccl_tree": False, "max_only": False, "cpus": cpus,
            "pci": pci, "gpus": gpus, "nics": nics, "nvswitches": nvswitches,
            "iommu_mode": "passthrough", "peermem": "yes", "dmabuf": "yes",
            "versions": {"driver": "550.90.07", "cuda": "12.4", "nccl": "2.28.9"}}

hosts = [f"node{i}" for i in range(4)]
report = {
    "schema": "nccl-doctor/report/v2",
    "tool": {"name": "nccl-doctor", "version": "0.1.0", "features": {"nccl": True, "nccl_build_version": "2.28.9"}},
    "command": "sweep", "args": ["--quick"], "started": 1795880000.0, "duration_s": 48.2,
    "hosts": [{"name": h, "ranks": [i], "fingerprint": ("b7e1d2c3a4f50617" if h != "node1" else "9f00aa11bb22cc33"),
               "topology": host_topo(h, degraded=(h == "node1"))} for i, h in enumerate(hosts)],
    "measurements": {"collectives": [], "links": []},
    "sections": {"stages": [
        {"name": "env", "status": "ran", "budget_s": 5, "elapsed_s": 0.4, "cause": None, "reason": None, "note": ""},
        {"name": "topo", "status": "ran", "budget_s": 10, "elapsed_s": 2.1, "cause": None, "reason": None, "note": ""},
        {"name": "rings", "status": "ran", "budget_s": 10, "elapsed_s": 6.3, "cause": None, "reason": None, "note": ""},
        {"name": "bench", "status": "ran", "budget_s": 25, "elapsed_s": 21.0, "cause": None, "reason": None, "note": ""},
        {"name": "links", "status": "ran", "budget_s": 15, "elapsed_s": 12.5, "cause": None, "reason": None, "note": ""}]},
    "findings": [], "notes": ["topo: node0, node1, node2, node3: NVML 550.90.07"],
}
colls = report["measurements"]["collectives"]
for algo, peak in (("ring", 360.0), ("tree", 300.0), ("native", 365.0)):
    for e in range(20, 27):
        b = 1 << e
        bus = peak * b / (b + (8 << 20))
        t = 2 * 3 / 4 * b / (bus * 1e9) * 1e6
        colls.append({"op": "allreduce", "algo": algo, "backend": "nccl", "dtype": "float32", "redop": "sum",
                      "root": -1, "bytes": b, "count": b // 4, "time_us": t, "time_min_us": t * 0.97,
                      "time_max_us": t * 1.05, "spread": 0.03, "iters": 20, "algbw_gbps": bus * 4 / 6,
                      "busbw_gbps": bus, "wrong": 0, "nranks": 32})
for h in hosts:
    for kind, bw in (("h2d", 53.1), ("d2h", 52.4), ("d2d", 368.0 if h != "node1" else 301.0)):
        colls.append({"op": kind, "algo": "", "backend": "cuda", "dtype": "", "redop": "none", "root": -1,
                      "bytes": 1 << 28, "count": 1 << 28, "time_us": 0, "time_min_us": 0, "time_max_us": 0,
                      "spread": 0.01, "iters": 10, "algbw_gbps": bw, "busbw_gbps": bw, "wrong": None,
                      "nranks": 1, "host": h})
links = report["measurements"]["links"]
for i, a in enumerate(hosts):
    for j, b in enumerate(hosts):
        if i == j:
            continue
        slow = "node2" in (a, b)
        links.append({"src_host": a, "dst_host": b, "src_rank": i, "dst_rank": j, "bytes": 64 << 20,
                      "gbps": 24.6 if slow else 46.8 + (i + j) * 0.3, "latency_us": 3.1 if not slow else 3.9,
                      "class": "net", "ok": True})
F = report["findings"]
F.append({"id": "pcie.link_degraded", "severity": "warn", "host": "node1", "subject": "GPU3 0000:4e:00.0",
          "message": "GPU3's PCIe link trained at x8, its maximum is x16 (Gen5): half its host bandwidth",
          "evidence": ["0000:4e:00.0 current_link_width=8 max_link_width=16",
                       "0000:4e:00.0 current_link_speed=32.0 GT/s PCIe max_link_speed=32.0 GT/s PCIe"],
          "expected": 16, "measured": 8, "unit": "lanes",
          "hint": "Reseat the GPU or its riser; check the slot in the BMC log; a retrain needs a reboot."})
F.append({"id": "nvlink.down", "severity": "error", "host": "node1", "subject": "GPU3 0000:4e:00.0",
          "message": "GPU3 has 4 of its 18 NVLinks down (to NVSwitch 0000:05:00.0)",
          "evidence": ["nvml: GPU3 links 0-3 state=inactive remote=0000:05:00.0"], "expected": 18, "measured": 14,
          "unit": "links", "hint": "Run nvidia-smi nvlink -s; a GPU with inactive NVLinks needs a field diagnostic."})
F.append({"id": "node.slow", "severity": "error", "host": "node2", "subject": "node2",
          "message": "every link of node2 is slow (24.6 GB/s median vs 47.5 GB/s for the other nodes): blame the node, not each pair",
          "evidence": [f"node2 -> {h}: 24.6 GB/s" for h in hosts if h != "node2"], "expected": 47.5,
          "measured": 24.6, "unit": "GB/s", "hint": "Check node2's NIC ports (ibstat) and its switch port."})
F.append({"id": "topo.differs", "severity": "warn", "host": "node1", "subject": "node1",
          "message": "node1: topology differs from the other 3 nodes (GPU3 PCIe x8, 4 NVLinks down)",
          "evidence": ["node1 fingerprint 9f00aa11bb22cc33, others b7e1d2c3a4f50617"], "expected": None,
          "measured": None, "hint": "Compare `nccl-doctor topo` on node1 with a healthy node."})
F.append({"id": "env.risky", "severity": "info", "host": "node0", "subject": "ranks 0",
          "message": "NCCL_DEBUG=INFO on ranks 0: verbose logging", "evidence": [], "expected": None,
          "measured": None, "hint": "Unset NCCL_DEBUG for production runs."})
F.append({"id": "bench.busbw_low", "severity": "warn", "host": "", "subject": "allreduce tree",
          "message": "allreduce tree busbw at 64M is 78% of what the topology should give <& \"quoted\"> \u001b[31m",
          "evidence": ["64M: 281 GB/s measured, 360 GB/s expected (NVLS off, 4x NDR per GPU)"], "expected": 360.0,
          "measured": 281.0, "unit": "GB/s", "hint": "Check NCCL_ALGO and the NVLink state of every GPU."})
# What each check of the sweep looked at (v2): 4 nodes with 8 GPUs and 8 NICs each, 4 ranks.
SUBJECTS = {"gpu": 32, "nic": 32, "rank": 4, "host": 4}
CHECKS = {
    "bench.algo_gap": "rank", "bench.busbw_low": "rank", "bench.data_corrupt": "rank", "bench.timeout": "rank",
    "bench.unstable": "rank", "env.gpu_count_mismatch": "gpu", "env.mismatch": "rank", "env.risky": "host",
    "version.mismatch": "rank", "link.asymmetric": "rank", "link.latency_high": "rank", "link.slow": "rank",
    "link.unresponsive": "rank", "node.slow": "rank", "ring.channels_low": "gpu", "ring.crosses_socket": "gpu",
    "ring.inconsistent": "gpu", "ring.net_socket": "gpu", "ring.nic_far": "gpu", "ring.path_degraded": "gpu",
    "bind.none": "host", "bind.rank_far_from_gpu": "gpu", "gdr.unavailable": "gpu", "gpu.count_mismatch": "gpu",
    "gpu.nic_far": "gpu", "iommu.translation_enabled": "host", "nic.mtu_mismatch": "nic", "nic.port_down": "nic",
    "nic.rate_low": "nic", "numa.affinity_invalid": "host", "nvlink.count_mismatch": "gpu", "nvlink.down": "gpu",
    "nvlink.target_suspect": "gpu", "pcie.acs_enabled": "host", "pcie.link_degraded": "host",
    "pcie.speed_misread": "host", "topo.differs": "host"}
report["checks"] = [{"id": i, "status": "evaluated", "subjects": SUBJECTS[k], "reason": None}
                    for i, k in sorted(CHECKS.items())]
report["stages"] = report["sections"]["stages"]
for c in colls:
    if c["op"] == "allreduce" and c["algo"] in ("ring", "tree"):
        peak = 360.0 if c["algo"] == "ring" else 360.0 * 0.92 * 31 / 32
        c["expected_busbw_gbps"] = round(peak * c["bytes"] / (c["bytes"] + (4 << 20)), 2)
        c["expected_from"] = "NCCL 2.28 model: 12 ch x 30 GB/s (NVL), 8 GPU(s) x 4 node(s), " + c["algo"] + " Simple"
    elif c["op"] == "allreduce":
        c["expected_busbw_gbps"] = None
counts = {"info": 0, "warn": 0, "error": 0}
for f in F:
    counts[f["severity"]] += 1
report["summary"] = {**counts, "exit_code": 2, "incomplete": False,
                     "checks": {"evaluated": len(CHECKS), "not_applicable": 0, "could_not_run": 0}}
print(json.dumps(report, indent=1))
