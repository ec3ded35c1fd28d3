#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the hand-made --sysfs-root trees used as fixtures (run from this directory).

Each tree mimics a real /sys of a 2-socket GPU node: NUMA nodes with cpulists, PCI devices
reached through bus/pci/devices symlinks into devices/pci0000:XX/... (root port -> switch
upstream port -> downstream ports -> GPU / RoCE NIC), class/infiniband ports, class/net
netdevs, kernel modules, and 4 KiB config-space images for the bridges (ACS capability).
Value formats follow shared/corpus/topologies/sysfs/value-formats.tsv (kernel sysfs.c).

Healthy tree traps (must raise nothing): idle GPUs at 2.5 GT/s below a 32 GT/s max, and the
switch ports above them following at 16 GT/s (power saving, not a fault).
"""
import os
import shutil
import struct

CPUS = {0: "0-15", 1: "16-31"}


def config_image(acs_ctl):
    """4 KiB config space: header type 1 (bridge), PCIe cap at 0x40, ACS ext cap at 0x100."""
    b = bytearray(4096)
    struct.pack_into("<HH", b, 0, 0x1000, 0xC030)    # vendor/device (Broadcom PEX89xxx)
    b[0x0E] = 0x01                                     # header type: PCI-PCI bridge
    b[0x34] = 0x40                                     # capabilities pointer
    struct.pack_into("<BB", b, 0x40, 0x10, 0x00)       # PCI Express capability, last
    if acs_ctl is not None:
        # ext cap header: id 0x000D (ACS), version 1, next 0
        struct.pack_into("<I", b, 0x100, 0x000D | (1 << 16) | (0 << 20))
        struct.pack_into("<HH", b, 0x104, 0x005F, acs_ctl)  # ACS capability, ACS control
    return bytes(b)


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    mode = "wb" if isinstance(text, bytes) else "w"
    with open(path, mode) as f:
        f.write(text if isinstance(text, bytes) else text + "\n")


def link(path, target):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    os.symlink(target, path)


def make(name, gpu0_width=16, port1_state=("4: ACTIVE", "5: LinkUp"), mtu1=9000, acs_above_gpu0=0,
         nic1_rate="400 Gb/sec (4X NDR)"):
    root = name
    shutil.rmtree(root, ignore_errors=True)
    for node, cpus in CPUS.items():
        write(f"{root}/devices/system/node/node{node}/cpulist", cpus)
        first = int(cpus.split("-")[0])
        write(f"{root}/devices/system/cpu/cpu{first}/topology/physical_package_id", str(node))
    write(f"{root}/module/nvidia/version", "570.124.06")
    write(f"{root}/module/nvidia_peermem/refcnt", "0")
    os.makedirs(f"{root}/kernel/iommu_groups", exist_ok=True)
    for side, dom_bus in ((0, 0x00), (1, 0x80)):
        numa = side
        rp = f"0000:{dom_bus:02x}:01.0"
        up = f"0000:{dom_bus + 1:02x}:00.0"
        dn_gpu = f"0000:{dom_bus + 2:02x}:00.0"
        dn_nic = f"0000:{dom_bus + 2:02x}:01.0"
        gpu = f"0000:{dom_bus + 3:02x}:00.0"
        nic = f"0000:{dom_bus + 4:02x}:00.0"
        top = f"devices/pci0000:{dom_bus:02x}"
        paths = {
            rp: f"{top}/{rp}",
            up: f"{top}/{rp}/{up}",
            dn_gpu: f"{top}/{rp}/{up}/{dn_gpu}",
            dn_nic: f"{top}/{rp}/{up}/{dn_nic}",
            gpu: f"{top}/{rp}/{up}/{dn_gpu}/{gpu}",
            nic: f"{top}/{rp}/{up}/{dn_nic}/{nic}",
        }
        gw = gpu0_width if side == 0 else 16
        # (class, vendor, device, cur speed, cur width, max speed, max width)
        devs = {
            rp: ("0x060400", "0x8086", "0x352a", "32.0 GT/s PCIe", 16, "32.0 GT/s PCIe", 16),
            up: ("0x060400", "0x1000", "0xc030", "16.0 GT/s PCIe", 16, "32.0 GT/s PCIe", 16),
            # downstream ports report the link below them: the GPU's (idle: 2.5 GT/s)
            dn_gpu: ("0x060400", "0x1000", "0xc030", "2.5 GT/s PCIe", gw, "32.0 GT/s PCIe", 16),
            dn_nic: ("0x060400", "0x1000", "0xc030", "32.0 GT/s PCIe", 16, "32.0 GT/s PCIe", 16),
            gpu: ("0x030200", "0x10de", "0x2330", "2.5 GT/s PCIe", gw, "32.0 GT/s PCIe", 16),
            nic: ("0x020000", "0x15b3", "0x1021", "32.0 GT/s PCIe", 16, "32.0 GT/s PCIe", 16),
        }
        for bdf, (cls, ven, dev, cs, cw, ms, mw) in devs.items():
            d = f"{root}/{paths[bdf]}"
            write(f"{d}/class", cls)
            write(f"{d}/vendor", ven)
            write(f"{d}/device", dev)
            write(f"{d}/subsystem_vendor", ven)
            write(f"{d}/subsystem_device", "0x0000")
            write(f"{d}/numa_node", str(numa))
            write(f"{d}/current_link_speed", cs)
            write(f"{d}/current_link_width", str(cw))
            write(f"{d}/max_link_speed", ms)
            write(f"{d}/max_link_width", str(mw))
            if cls == "0x060400":
                ctl = acs_above_gpu0 if (side == 0 and bdf == dn_gpu) else 0
                write(f"{d}/config", config_image(ctl))
            if bdf == gpu:
                write(f"{d}/local_cpulist", CPUS[numa])
            link(f"{root}/bus/pci/devices/{bdf}", "../../../" + paths[bdf])
        # RoCE NIC: RDMA device, one port, one netdev
        ibdev = f"mlx5_{side}"
        ifname = f"ens{side + 1}np0"
        link(f"{root}/class/infiniband/{ibdev}/device", "../../../" + paths[nic])
        state, phys = port1_state if side == 1 else ("4: ACTIVE", "5: LinkUp")
        rate = nic1_rate if side == 1 else "400 Gb/sec (4X NDR)"
        p = f"{root}/class/infiniband/{ibdev}/ports/1"
        write(f"{p}/state", state)
        write(f"{p}/phys_state", phys)
        write(f"{p}/rate", rate)
        write(f"{p}/link_layer", "Ethernet")
        write(f"{root}/class/infiniband/{ibdev}/node_guid", f"a088:c203:00{side}4:5e6f")
        link(f"{root}/class/net/{ifname}/device", "../../../" + paths[nic])
        write(f"{root}/class/net/{ifname}/mtu", str(mtu1 if side == 1 else 9000))
        write(f"{root}/class/net/{ifname}/operstate", "up" if state.endswith("ACTIVE") else "down")
        write(f"{root}/class/net/{ifname}/speed", "400000" if state.endswith("ACTIVE") else "-1")
        write(f"{root}/class/net/{ifname}/dev_port", "0")


if __name__ == "__main__":
    make("healthy")
    make("gpu-link-x8", gpu0_width=8)
    make("port-down", port1_state=("1: DOWN", "2: Polling"))
    make("mtu-mismatch", mtu1=1500)
    make("acs-enabled", acs_above_gpu0=0x001D)  # SrcValid, ReqRedir, CmpltRedir, UpstreamFwd
    make("port-half-rate", nic1_rate="200 Gb/sec (4X HDR)")


def make_overlay(name):
    """Link and port facts for hwloc/aws-p4d-hwloc2.10.xml (same bus ids, flat VM PCI):
    GPU 0000:10:1c.0 trained at x8, EFA rdmap16s27 port 1 down. Used with --hwloc-xml."""
    root = name
    shutil.rmtree(root, ignore_errors=True)
    devs = {
        "0000:10:1c.0": ("0x030200", "0x10de", "0x20b0", 8),
        "0000:10:1d.0": ("0x030200", "0x10de", "0x20b0", 16),
        "0000:10:1b.0": ("0x020000", "0x1d0f", "0xefa0", 16),
    }
    for bdf, (cls, ven, dev, width) in devs.items():
        d = f"{root}/devices/pci0000:10/{bdf}"
        write(f"{d}/class", cls)
        write(f"{d}/vendor", ven)
        write(f"{d}/device", dev)
        write(f"{d}/numa_node", "0")
        write(f"{d}/current_link_speed", "16.0 GT/s PCIe")
        write(f"{d}/current_link_width", str(width))
        write(f"{d}/max_link_speed", "16.0 GT/s PCIe")
        write(f"{d}/max_link_width", "16")
        link(f"{root}/bus/pci/devices/{bdf}", f"../../../devices/pci0000:10/{bdf}")
    link(f"{root}/class/infiniband/rdmap16s27/device", "../../../devices/pci0000:10/0000:10:1b.0")
    p = f"{root}/class/infiniband/rdmap16s27/ports/1"
    write(f"{p}/state", "1: DOWN")
    write(f"{p}/phys_state", "3: Disabled")
    write(f"{p}/rate", "100 Gb/sec (4X EDR)")
    write(f"{p}/link_layer", "Unknown")


if __name__ == "__main__":
    make_overlay("p4d-hwloc-overlay")


NIC_IDS = {
    # (class, vendor, device) of the NIC function
    "roce": ("0x020000", "0x15b3", "0x1021"),  # ConnectX-7
    "cxi": ("0x020000", "0x17db", "0x0501"),   # HPE Slingshot 11 Cassini
    "efa": ("0x020000", "0x1d0f", "0xefa1"),   # AWS EFA (second generation)
}


def make_fabric(name, fabric="roce", nics_on=((0, 0), (1, 1)), ena=False):
    """A 2-socket node, one GPU per socket behind a switch, and NICs of one fabric.

    nics_on lists (socket, index) pairs: NIC `index` hangs under socket `socket`'s switch, so
    ((1, 0), (1, 1)) puts both NICs on socket 1 and ((1, 1),) leaves socket 0 without one.
    How each fabric appears in sysfs (the layouts the drivers create):
    - roce: class/infiniband/mlx5_N/device -> the PCI function, ports/1/{state,phys_state,rate,
      link_layer}, and a netdev class/net/<if>/device -> the same function.
    - cxi: no verbs device; the HPE cxi driver's class/cxi/cxiN/device -> the Cassini PCI
      function (HPE's own tools read class/cxi/cxiN/device/numa_node and .../sriov_numvfs), and
      the Slingshot Ethernet netdev class/net/hsnN/device -> the same function.
    - efa: the kernel's EFA driver registers a verbs device (udev names it rdmap<bus>s<slot>) with
      link_layer "Unknown" (IB_LINK_LAYER_UNSPECIFIED) and no netdev of its own; the ENA
      (1d0f:ec20) is a separate Ethernet function.
    """
    root = name
    shutil.rmtree(root, ignore_errors=True)
    for node, cpus in CPUS.items():
        write(f"{root}/devices/system/node/node{node}/cpulist", cpus)
        first = int(cpus.split("-")[0])
        write(f"{root}/devices/system/cpu/cpu{first}/topology/physical_package_id", str(node))
    write(f"{root}/module/nvidia/version", "570.124.06")
    write(f"{root}/module/nvidia_peermem/refcnt", "0")
    os.makedirs(f"{root}/kernel/iommu_groups", exist_ok=True)
    ncls, nven, ndev = NIC_IDS[fabric]

    def add(bdf, path, cls, ven, dev, numa, speed="32.0 GT/s PCIe", width=16):
        d = f"{root}/{path}"
        for k, v in (("class", cls), ("vendor", ven), ("device", dev), ("subsystem_vendor", ven),
                     ("subsystem_device", "0x0000"), ("numa_node", str(numa)), ("current_link_speed", speed),
                     ("current_link_width", str(width)), ("max_link_speed", speed), ("max_link_width", str(width))):
            write(f"{d}/{k}", v)
        if cls == "0x060400":
            write(f"{d}/config", config_image(0))
        link(f"{root}/bus/pci/devices/{bdf}", "../../../" + path)
        return path

    for side, dom_bus in ((0, 0x00), (1, 0x80)):
        top = f"devices/pci0000:{dom_bus:02x}"
        rp = f"0000:{dom_bus:02x}:01.0"
        up = f"0000:{dom_bus + 1:02x}:00.0"
        dn_gpu = f"0000:{dom_bus + 2:02x}:00.0"
        gpu = f"0000:{dom_bus + 3:02x}:00.0"
        p_rp = add(rp, f"{top}/{rp}", "0x060400", "0x8086", "0x352a", side)
        p_up = add(up, f"{p_rp}/{up}", "0x060400", "0x1000", "0xc030", side)
        p_dn = add(dn_gpu, f"{p_up}/{dn_gpu}", "0x060400", "0x1000", "0xc030", side)
        p_gpu = add(gpu, f"{p_dn}/{gpu}", "0x030200", "0x10de", "0x2330", side)
        write(f"{root}/{p_gpu}/local_cpulist", CPUS[side])
        for slot, (sock, idx) in enumerate(x for x in nics_on if x[0] == side):
            dn_nic = f"0000:{dom_bus + 2:02x}:{slot + 1:02x}.0"
            nic = f"0000:{dom_bus + 4 + slot:02x}:00.0"
            p_dnn = add(dn_nic, f"{p_up}/{dn_nic}", "0x060400", "0x1000", "0xc030", side)
            p_nic = add(nic, f"{p_dnn}/{nic}", ncls, nven, ndev, side)
            bus = dom_bus + 4 + slot
            if fabric == "cxi":
                link(f"{root}/class/cxi/cxi{idx}/device", "../../../" + p_nic)
                ifname = f"hsn{idx}"
            elif fabric == "efa":
                ibdev = f"rdmap{bus}s0"
            else:
                ibdev = f"mlx5_{idx}"
                ifname = f"ens{idx + 1}np0"
            if fabric in ("roce", "efa"):
                link(f"{root}/class/infiniband/{ibdev}/device", "../../../" + p_nic)
                p = f"{root}/class/infiniband/{ibdev}/ports/1"
                write(f"{p}/state", "4: ACTIVE")
                write(f"{p}/phys_state", "5: LinkUp")
                write(f"{p}/rate", "400 Gb/sec (4X NDR)" if fabric == "roce" else "100 Gb/sec (4X EDR)")
                write(f"{p}/link_layer", "Ethernet" if fabric == "roce" else "Unknown")
            if fabric in ("roce", "cxi"):
                link(f"{root}/class/net/{ifname}/device", "../../../" + p_nic)
                write(f"{root}/class/net/{ifname}/mtu", "9000")
                write(f"{root}/class/net/{ifname}/operstate", "up")
                write(f"{root}/class/net/{ifname}/speed", "400000" if fabric == "roce" else "200000")
                write(f"{root}/class/net/{ifname}/dev_port", "0")
        if ena and side == 0:
            e = "0000:00:05.0"
            p_e = add(e, f"{top}/{e}", "0x020000", "0x1d0f", "0xec20", 0, "8.0 GT/s PCIe", 8)
            link(f"{root}/class/net/ens5/device", "../../../" + p_e)
            write(f"{root}/class/net/ens5/mtu", "9001")
            write(f"{root}/class/net/ens5/operstate", "up")
            write(f"{root}/class/net/ens5/dev_port", "0")


def make_ib_by_name(name):
    """A capture of class/infiniband alone, as gpud's testdata sys-class-infiniband-h100.0 is:
    no `device` links (and no devices/ tree), only the verbs devices and their ports. Used with
    --hwloc-xml hwloc/aws-p4d-hwloc2.10.xml, whose EFA OS devices have the same names: sysfs must
    be matched by name (second), so rdmap16s27's DOWN port is not hidden by the snapshot's
    Port1State=4. mlx5_9 names nothing in the model and must be ignored."""
    root = name
    shutil.rmtree(root, ignore_errors=True)
    for dev, state, phys in (("rdmap16s27", "1: DOWN", "3: Disabled"), ("rdmap32s27", "4: ACTIVE", "5: LinkUp"),
                             ("mlx5_9", "4: ACTIVE", "5: LinkUp")):
        p = f"{root}/class/infiniband/{dev}/ports/1"
        write(f"{p}/state", state)
        write(f"{p}/phys_state", phys)
        write(f"{p}/rate", "100 Gb/sec (4X EDR)")
        write(f"{p}/link_layer", "Unknown")
        write(f"{root}/class/infiniband/{dev}/node_type", "1: CA")


if __name__ == "__main__":
    make_fabric("slingshot-cxi", "cxi")
    make_fabric("efa-ena", "efa", ena=True)
    make_fabric("nic-one-socket-design", "roce", nics_on=((1, 0),))
    make_fabric("nic-moved-socket", "roce", nics_on=((1, 0), (1, 1)))
    make_ib_by_name("p4d-ib-by-name")
