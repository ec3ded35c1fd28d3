#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Plants one fault each into the healthy OCI BM.GPU.H100.8 NCCL dump (../nccl/) by text edits,
so each fixture differs from a real system by exactly the fault its .expect names."""
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(HERE, "..", "nccl", "oci-BM.GPU.H100.8-8xH100-16xCX7.xml")
base = open(SRC).read()


def element(text, busid):
    """The <pci busid=...> element (with its children) as a substring."""
    start = text.index(f'<pci busid="{busid}"')
    line_start = text.rindex("\n", 0, start) + 1
    indent = start - line_start
    end = text.index("\n" + " " * indent + "</pci>", start) + len("\n" + " " * indent + "</pci>")
    return text[line_start:end]


def save(name, text):
    with open(os.path.join(HERE, name), "w") as f:
        f.write(text)


# 1. NIC0 (mlx5_18/19, 0000:0c:00.0, GPU0's NIC) moved to a slot of the other socket.
nic = element(base, "0000:0c:00.0")
t = base.replace(nic + "\n", "", 1)
cpu1 = t.index('<cpu numaid="1"')
cpu1_end = t.index(">", cpu1) + 1
moved = "\n".join(l[4:] if l.startswith("    ") else l for l in nic.split("\n"))  # 2 levels shallower
t = t[:cpu1_end] + "\n" + moved + t[cpu1_end:]
save("oci-h100-nic-moved-socket.xml", t)

# 2. GPU3 (0000:5b:00.0) lost the 4 NVLinks to one NVSwitch.
g3 = element(base, "0000:5b:00.0")
g3_new = re.sub(r'\n\s*<nvlink target="0000:1a:00.0" count="4" tclass="0x068000"/>', "", g3, count=1)
assert g3_new != g3
save("oci-h100-gpu3-nvlinks-lost.xml", base.replace(g3, g3_new, 1))

# 3. mlx5_30 (port 1 of NIC3, 0000:58:00.0) at half rate.
t = base.replace('<net name="mlx5_30" dev="6" speed="180000"', '<net name="mlx5_30" dev="6" speed="90000"', 1)
assert t != base
save("oci-h100-port-half-rate.xml", t)

# 4. NIC3 (0000:58:00.0, mlx5_30/31) trained at x8 among its seven x16 ConnectX-7 siblings: a
# single host, no peer to compare with.
old = '<pci busid="0000:58:00.0" class="0x020000" vendor="0x15b3" device="0x1021"'
i = base.index(old)
line = base[i:base.index(">", i)]
assert 'link_width="16"' in line
save("oci-h100-nic3-x8.xml", base.replace(line, line.replace('link_width="16"', 'link_width="8"'), 1))

# Multi-host sets.
multi = os.path.join(HERE, "..", "multi")
os.makedirs(os.path.join(multi, "gpu-missing"), exist_ok=True)
os.makedirs(os.path.join(multi, "nic-rate-differs"), exist_ok=True)
for n in ("node1", "node2"):
    save(os.path.join("..", "multi", "gpu-missing", n + ".xml"), base)
    save(os.path.join("..", "multi", "nic-rate-differs", n + ".xml"), base)
# node3 lost GPU7 (0000:d8:00.0) off the bus.
g7 = element(base, "0000:d8:00.0")
save(os.path.join("..", "multi", "gpu-missing", "node3.xml"), base.replace(g7 + "\n", "", 1))
# node3's NICs all link at 200 Gb/s where the others run 180 Gb/s: a different build, no fault
# of one part.
save(os.path.join("..", "multi", "nic-rate-differs", "node3.xml"), base.replace('speed="180000"', 'speed="200000"'))
