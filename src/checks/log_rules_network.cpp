// SPDX-License-Identifier: Apache-2.0
// The NCCL log rules: network providers, interfaces and sockets. Pure over the run model.
#include "checks/log_rules_detail.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "core/catalogue.hpp"
#include "core/error.hpp"
#include "core/text.hpp"
#include "nccl/log_line.hpp"
#include "nccl/log_structure.hpp"

namespace ncd::checks::log_rules {

namespace {

/// Hosts where aws-ofi-nccl runs on a non-EFA libfabric provider, with the first quote.
struct OfiFallback {
  std::set<std::string> hosts;
  SourceRef first;
  std::vector<std::string> ev;
};

OfiFallback ofi_fallback(const RunLog& log, Builder& b) {
  OfiFallback o;
  for (const auto& [n, h] : log.hosts)
    if (!h.ofi_provider.empty() && h.ofi_provider != "efa") {
      o.hosts.insert(n);
      if (before(h.ofi_quote.at, o.first)) o.first = h.ofi_quote.at;
      if (o.ev.size() < 3) o.ev.push_back(b.ev(h.ofi_quote));
    }
  return o;
}

/// aws-ofi-nccl on a non-EFA provider.
void rule_efa_provider(const RunLog& log, Builder& b, const OfiFallback& ofi) {
  bool ofi_shm = any_event(log, {kSigOfiShm});
  if (!ofi.hosts.empty() || ofi_shm) {
    auto& f = b.add("net.efa_provider_fallback", kTierExplicit, hosts_text(ofi.hosts), "libfabric provider",
                    "aws-ofi-nccl is loaded but libfabric selected a non-EFA provider: EFA is not usable here, so "
                    "the plugin fails or runs over TCP.",
                    ofi.first);
    f.evidence = ofi.ev;
    for (const auto* e : events_of(log, kSigOfiShm)) f.evidence.push_back(b.ev(*e));
  }
}

/// RDMA devices that cannot be opened, and RDMA devices missing in a container.
void rule_rdma_devices(const RunLog& log, Builder& b, const OfiFallback& ofi) {
  const auto& tcp_hosts = ofi.hosts;
  const auto& first = ofi.first;
  const auto& ev = ofi.ev;
  auto open_fail = events_of(log, kSigIbvOpen);
  if (!open_fail.empty()) {
    auto& f = b.add("net.ib_device_open_failed", kTierExplicit, hosts_text(hosts_of(open_fail)), "RDMA device",
                    "An RDMA device is present but cannot be opened (ibv_open_device failed): permissions, or the "
                    "device is not exposed to the container.",
                    first_at(open_fail));
    add_evidence(f, b, open_fail);
    for (const auto* e : events_of(log, kSigIbNoDevice)) {
      f.evidence.push_back(b.ev(*e));
      break;
    }
  }
  bool container_host = false;
  for (const auto& n : log.host_names()) container_host = container_host || container_like(n);
  if (!open_fail.empty() || (!tcp_hosts.empty() && container_host) ||
      (container_host && any_event(log, {kSigIbNoDevice}) && log.multi_node())) {
    auto& g = b.add("container.rdma_devices_missing", kTierExplicit + 2,
                    hosts_text(open_fail.empty() ? tcp_hosts : hosts_of(open_fail)), "container",
                    "The RDMA/EFA devices or verbs libraries are not usable inside the container.",
                    open_fail.empty() ? first : first_at(open_fail));
    if (!open_fail.empty()) add_evidence(g, b, open_fail, 1);
    for (const auto& s : ev)
      if (g.evidence.size() < 3) g.evidence.push_back(s);
  }
}

/// Sockets although RDMA hardware is there.
void rule_socket_fallback(const RunLog& log, Builder& b) {
  const bool rdma_seen = !events_of(log, kSigIbvOpen).empty();
  bool rdma_hw = rdma_seen || env_value(log, "NCCL_IB_HCA").size() > 0;
  for (const auto& [n, h] : log.hosts) {
    rdma_hw = rdma_hw || !h.rdma_devs.empty();
    // An IPoIB interface means an InfiniBand HCA is on the machine, whatever NET/IB found.
    for (const auto* list : {&h.bootstrap_ifs, &h.socket_ifs})
      for (const auto& i : *list) rdma_hw = rdma_hw || i.ipoib;
  }
  std::vector<std::string> sock_ev;
  SourceRef sock_first;
  std::set<std::string> sock_hosts;
  for (const auto& [n, h] : log.hosts)
    if (h.networks.count("Socket")) {
      sock_hosts.insert(n);
      if (sock_ev.size() < 2) sock_ev.push_back(b.ev(h.network_quote));
      if (before(h.network_quote.at, sock_first)) sock_first = h.network_quote.at;
    }
  for (const auto& c : log.connections)
    if (c.kind == TransportKind::kNet && c.net == "Socket") {
      sock_hosts.insert(c.host);
      if (sock_ev.size() < 3) sock_ev.push_back(b.ev(c.at, c.text));
      if (before(c.at, sock_first)) sock_first = c.at;
      break;
    }
  if (!sock_hosts.empty() && rdma_hw && !log.single_node()) {
    auto& f = b.add("net.socket_fallback", kTierRisk, hosts_text(sock_hosts), "NET transport",
                    "Inter-node traffic goes over TCP sockets although RDMA hardware is present: expect a fraction "
                    "of the fabric's bandwidth.",
                    sock_first);
    for (const auto* e : events_of(log, kSigIbNoDevice)) {
      f.evidence.push_back(b.ev(*e));
      break;
    }
    for (const auto& s : sock_ev) f.evidence.push_back(s);
  }
}

/// Plugin / network backends per host: mixed, failed to load, or absent (benign).
void rule_net_plugins(const RunLog& log, Builder& b, const OfiFallback& ofi) {
  const auto& tcp_hosts = ofi.hosts;
  std::map<PluginState, std::vector<const HostInfo*>> by_plugin;
  for (const auto& [n, h] : log.hosts)
    if (h.plugin != PluginState::kUnknown && !n.empty()) by_plugin[h.plugin].push_back(&h);
  std::map<std::string, std::vector<const HostInfo*>> by_net;
  for (const auto& [n, h] : log.hosts)
    if (!h.networks.empty() && !n.empty()) by_net[join({h.networks.begin(), h.networks.end()}, "+")].push_back(&h);
  if (by_plugin.size() > 1 || by_net.size() > 1) {
    std::vector<std::string> evl;
    std::vector<std::string> parts;
    SourceRef first_p;
    for (const auto& [st, hs] : by_plugin) {
      parts.push_back(fmt::format("{} on {}", st == PluginState::kExternal ? "external plugin " + hs.front()->plugin_text
                                                                           : std::string("internal transport"),
                                  hs.size() == 1 ? hs.front()->name : fmt::format("{} hosts", hs.size())));
      for (const auto* h : hs) {
        if (evl.size() < 4) evl.push_back(b.ev(h->plugin_quote));
        if (before(h->plugin_quote.at, first_p)) first_p = h->plugin_quote.at;
      }
    }
    if (by_plugin.size() <= 1)
      for (const auto& [net, hs] : by_net) {
        parts.push_back(fmt::format("network {} on {}", net, hs.front()->name));
        for (const auto* h : hs)
          if (evl.size() < 4) evl.push_back(b.ev(h->network_quote));
      }
    auto& f = b.add("config.inconsistent_across_nodes", kTierExplicit, "", "net plugin",
                    "Hosts of one job use different network backends: " + join(parts, "; ") + ".", first_p);
    f.evidence = evl;
    auto& g = b.add("net.plugin_mismatch", kTierExplicit + 1, "", "net plugin",
                    "Peers with different NET implementations (external plugin vs internal) cannot talk to each "
                    "other: connections hang or fail.",
                    first_p);
    g.evidence = evl;
  } else if (any_event(log, {kSigPluginLoad})) {
    // A plugin that exists but does not load is not "no plugin": say what the loader said.
    auto evs = events_of(log, kSigPluginLoad);
    std::string err;
    for (const auto& [n, h] : log.hosts)
      if (!h.plugin_error.empty()) {
        err = h.plugin_error;
        break;
      }
    auto& f = b.add("net.plugin_load_failed", log.multi_node() ? kTierExplicit : kTierRisk, hosts_text(hosts_of(evs)),
                    "net plugin",
                    fmt::format("A net plugin is installed but the dynamic loader rejected it ({}); NCCL fell back to "
                                "its internal transport{}.",
                                err, log.multi_node() ? ", so the fabric the plugin drives (EFA, SHARP, ...) is not used"
                                                      : ""),
                    first_at(evs));
    if (!log.multi_node()) f.severity = Severity::kWarn;
    add_evidence(f, b, evs, 2);
  } else if (!by_plugin.empty() && by_plugin.begin()->first == PluginState::kInternal && tcp_hosts.empty()) {
    bool ofi = false;
    for (const auto& [n, h] : log.hosts) ofi = ofi || !h.ofi_provider.empty();
    if (!ofi) {
      const HostInfo* h = by_plugin.begin()->second.front();
      auto& f = b.add("net.plugin_absent_benign", kTierInfo, "", "libnccl-net.so",
                      "No external net plugin was found; NCCL uses its internal IB/Socket transport, which is what "
                      "this cluster needs unless it is AWS EFA or GCP TCPX.",
                      h->plugin_quote.at);
      f.evidence.push_back(b.ev(h->plugin_quote));
      for (const auto& [n, hh] : log.hosts)
        if (!hh.network_quote.empty()) {
          f.evidence.push_back(b.ev(hh.network_quote));
          break;
        }
    }
  }
}

/// libibverbs missing.
void rule_ibverbs_missing(const RunLog& log, Builder& b) {
  if (auto evs = events_of(log, kSigIbverbsMissing); !evs.empty()) {
    auto& f = b.add("net.ibverbs_missing_benign", kTierInfo, hosts_text(hosts_of(evs)), "libibverbs",
                    log.multi_node() ? "libibverbs is not installed: this multi-node job cannot use RDMA and runs "
                                       "over sockets."
                                     : "libibverbs is not installed; harmless for a single-node job.",
                    first_at(evs));
    add_evidence(f, b, evs, 2);
  }
}

}  // namespace

void rule_network_providers(const RunLog& log, Builder& b) {
  const OfiFallback ofi = ofi_fallback(log, b);
  rule_efa_provider(log, b, ofi);
  rule_rdma_devices(log, b, ofi);
  rule_socket_fallback(log, b);
  rule_net_plugins(log, b, ofi);
  rule_ibverbs_missing(log, b);
}

bool bootstrap_failure(const RunLog& log) {
  if (any_event(log, {kSigConnRefused, kSigNoRoute, kSigConnTimeout, kSigNetUnreachable, kSigBadFamily,
                      kSigNoSocketIf}))
    return true;
  for (const auto& e : log.events)
    if (e.kind == EventKind::kTrace && e.src.find("bootstrap") != std::string::npos) return true;
  return false;
}

namespace {

/// The loopback interface used for bootstrap in a job of several hosts.
void rule_loopback(const RunLog& log, Builder& b, bool failed) {
  bool multi = log.multi_node();
  bool single = log.single_node();
  std::set<std::string> hs;
  std::vector<std::string> evl;
  SourceRef first;
  for (const auto& [n, h] : log.hosts) {
    const NetInterface* i = bootstrap_if(h);
    if (!i || !i->loopback) continue;
    hs.insert(n);
    const Quote& q = bootstrap_quote(h);
    if (evl.size() < 3) evl.push_back(b.ev(q));
    if (before(q.at, first)) first = q.at;
  }
  if (!hs.empty() && !single) {
    std::string ifname = env_value(log, "NCCL_SOCKET_IFNAME");
    auto& f = b.add("net.wrong_interface_lo", failed ? kTierConfig : kTierRisk, hosts_text(hs), "lo",
                    fmt::format("NCCL bootstraps over the loopback interface{}{}: peers on other hosts cannot "
                                "reach 127.0.0.1.",
                                ifname.empty() ? "" : fmt::format(" (NCCL_SOCKET_IFNAME={} does not exclude lo)", ifname),
                                failed ? " and connections fail" : multi ? "" : " in what looks like a multi-node job"),
                    first);
    if (!failed && !multi) f.severity = Severity::kWarn;
    f.evidence = evl;
    if (!ifname.empty()) f.evidence.push_back(b.ev(log.env.at("NCCL_SOCKET_IFNAME").at, log.env.at("NCCL_SOCKET_IFNAME").text));
    for (const auto* e : events_of(log, kSigConnRefused))
      if (f.evidence.size() < 5) f.evidence.push_back(b.ev(*e));
  }
}

/// IPoIB for bootstrap (or as NET/IB's OOB interface) with bootstrap failures.
void rule_ipoib_bootstrap(const RunLog& log, Builder& b) {
  std::set<std::string> hs;
  std::vector<std::string> evl;
  SourceRef first;
  for (const auto& [n, h] : log.hosts) {
    const NetInterface* i = bootstrap_if(h);
    const Quote* q = &bootstrap_quote(h);
    if ((!i || !i->ipoib) && !h.oob_ifs.empty() && h.oob_ifs.front().ipoib) {
      i = &h.oob_ifs.front();
      q = &h.ib_quote;
    }
    if (!i || !i->ipoib) continue;
    hs.insert(n);
    if (evl.size() < 2) evl.push_back(b.ev(*q));
    if (before(q->at, first)) first = q->at;
  }
  if (!hs.empty()) {
    auto& f = b.add("net.wrong_interface_ipoib", kTierConfig, hosts_text(hs), "IPoIB interface",
                    "NCCL's default interface order picked an IP-over-InfiniBand interface for its bootstrap/OOB "
                    "sockets, and bootstrap connections fail over it.",
                    first);
    f.evidence = evl;
    for (const auto& e : log.events)
      if (e.kind == EventKind::kTrace && e.src.find("bootstrap") != std::string::npos && f.evidence.size() < 4)
        f.evidence.push_back(b.ev(e));
  }
}

/// The hosts, quotes and names of the bootstrap and socket interfaces that `pred` picks.
template <typename Pred>
void scan_interfaces(const RunLog& log, Builder& b, Pred pred, std::set<std::string>& hs, std::vector<std::string>& evl,
                     SourceRef& first, std::vector<std::string>& names) {
  for (const auto& [n, h] : log.hosts) {
    for (const auto* list : {&h.bootstrap_ifs, &h.socket_ifs}) {
      for (const auto& i : *list) {
        if (!pred(i)) continue;
        hs.insert(n);
        if (std::find(names.begin(), names.end(), i.name) == names.end()) names.push_back(i.name);
        const Quote& q = list == &h.bootstrap_ifs ? h.bootstrap_quote : h.socket_quote;
        std::string e = b.ev(q);
        if (evl.size() < 4 && std::find(evl.begin(), evl.end(), e) == evl.end()) evl.push_back(e);
        if (before(q.at, first)) first = q.at;
      }
    }
  }
}

/// Virtual interfaces in NCCL's socket interface list.
void rule_virtual_interfaces(const RunLog& log, Builder& b, bool failed) {
  bool single = log.single_node();
  std::set<std::string> hs;
  std::vector<std::string> evl, names;
  SourceRef first;
  scan_interfaces(log, b, [](const NetInterface& i) { return i.virtual_if; }, hs, evl, first, names);
  if (!hs.empty()) {
    auto& f = b.add("net.virtual_interface_in_use", single ? kTierInfo : failed ? kTierConfig : kTierRisk,
                    hosts_text(hs), join(names, ","),
                    fmt::format("Virtual interface(s) {} are in NCCL's socket interface list; they do not route "
                                "between hosts{}.",
                                join(names, ", "), single ? " (harmless on a single node)" : ""),
                    first);
    if (single) f.severity = Severity::kInfo;
    f.evidence = evl;
  }
}

/// Interfaces with only an IPv6 link-local address.
void rule_ipv6_link_local(const RunLog& log, Builder& b, bool failed) {
  bool single = log.single_node();
  std::set<std::string> hs;
  std::vector<std::string> evl, names;
  SourceRef first;
  scan_interfaces(log, b, [](const NetInterface& i) { return i.link_local && !i.loopback; }, hs, evl, first, names);
  if (!hs.empty()) {
    bool chosen = false;
    for (const auto& [n, h] : log.hosts)
      if (const NetInterface* i = bootstrap_if(h); i && i->link_local) chosen = true;
    auto& f = b.add("net.ipv6_link_local", single ? kTierInfo : (failed && chosen) ? kTierConfig : kTierRisk,
                    hosts_text(hs), join(names, ","),
                    fmt::format("Interface(s) {} carry only an IPv6 link-local address (fe80::), which does not "
                                "route between hosts{}.",
                                join(names, ", "),
                                single ? " (harmless on a single node)" : chosen ? "; one is used for bootstrap" : ""),
                    first);
    if (single) f.severity = Severity::kInfo;
    f.evidence = evl;
  }
}

/// Bootstrap interfaces differ across nodes.
void rule_bootstrap_mismatch(const RunLog& log, Builder& b) {
  std::map<std::string, std::vector<const HostInfo*>> by;
  for (const auto& [n, h] : log.hosts) {
    if (n.empty()) continue;
    const NetInterface* i = bootstrap_if(h);
    if (!i) continue;
    std::string fam = i->link_local ? "IPv6 link-local" : i->ipv6 ? "IPv6" : "IPv4";
    by[i->name + " (" + fam + ")"].push_back(&h);
  }
  if (by.size() > 1) {
    std::set<std::string> fams;
    for (const auto& [k, hs] : by) fams.insert(k.substr(k.find('(')));
    bool family_differs = fams.size() > 1;
    std::vector<std::string> parts, evl;
    SourceRef first;
    for (const auto& [k, hs] : by) {
      parts.push_back(fmt::format("{} on {}", k, hs.size() == 1 ? hs.front()->name : fmt::format("{} hosts", hs.size())));
      for (const auto* h : hs) {
        const Quote& q = bootstrap_quote(*h);
        if (evl.size() < 4) evl.push_back(b.ev(q));
        if (before(q.at, first)) first = q.at;
      }
    }
    auto& f = b.add("net.bootstrap_iface_mismatch_across_nodes", family_differs ? kTierConfig : kTierRisk, "",
                    "bootstrap interface",
                    fmt::format("Hosts bootstrap on different interfaces: {}{}.", join(parts, "; "),
                                family_differs ? "; the address families differ, so they cannot reach each other"
                                               : ""),
                    first);
    if (!family_differs) f.severity = Severity::kWarn;
    f.evidence = evl;
  }
}

/// NCCL_SOCKET_IFNAME that matches nothing, and connections to an invalid address family.
void rule_ifname_no_match(const RunLog& log, Builder& b) {
  auto bad = events_of(log, kSigBadFamily);
  auto noif = events_of(log, kSigNoSocketIf);
  std::string ifname = env_value(log, "NCCL_SOCKET_IFNAME");
  bool any_bootstrap = false;
  for (const auto& [n, h] : log.hosts) any_bootstrap = any_bootstrap || bootstrap_if(h) != nullptr;
  if (!ifname.empty() && (!bad.empty() || !noif.empty()) && !any_bootstrap) {
    const EnvSetting& e = log.env.at("NCCL_SOCKET_IFNAME");
    auto& f = b.add("net.ifname_no_match", kTierExplicit, hosts_text(e.hosts), "NCCL_SOCKET_IFNAME=" + ifname,
                    fmt::format("NCCL_SOCKET_IFNAME={} matches no interface on the host: NCCL found no socket "
                                "interface and then used an uninitialised address.",
                                ifname),
                    e.at);
    f.evidence.push_back(b.ev(e.at, e.text));
    add_evidence(f, b, bad, 2);
    add_evidence(f, b, noif, 2);
  }
  if (!bad.empty()) {
    auto& f = b.add("bootstrap.bad_address_family", kTierGeneric, hosts_text(hosts_of(bad)), "socket address",
                    "NCCL tried to connect to an address with an invalid family (uninitialised interface, mixed NCCL "
                    "versions or a corrupt unique id).",
                    first_at(bad));
    add_evidence(f, b, bad);
  }
}

}  // namespace

void rule_interfaces(const RunLog& log, Builder& b) {
  const bool failed = bootstrap_failure(log);
  rule_loopback(log, b, failed);
  if (failed) rule_ipoib_bootstrap(log, b);
  rule_virtual_interfaces(log, b, failed);
  rule_ipv6_link_local(log, b, failed);
  rule_bootstrap_mismatch(log, b);
  rule_ifname_no_match(log, b);
}

void rule_sockets(const RunLog& log, Builder& b) {
  auto trace_bootstrap = [&](Finding& f) {
    for (const auto& e : log.events)
      if (e.kind == EventKind::kTrace && e.src.find("bootstrap") != std::string::npos && f.evidence.size() < 5) {
        f.evidence.push_back(b.ev(e));
        break;
      }
  };
  if (auto evs = events_of(log, kSigConnRefused); !evs.empty()) {
    auto& f = b.add("bootstrap.connect_refused", kTierGeneric, hosts_text(hosts_of(evs)), "bootstrap",
                    fmt::format("Connections to a peer were refused: nothing listened at the address NCCL used{}.",
                                count_note(log, kSigConnRefused, evs.size())),
                    first_at(evs));
    add_evidence(f, b, evs, 3);
    trace_bootstrap(f);
  }
  auto noroute = events_of(log, kSigNoRoute);
  auto unreach = events_of(log, kSigNetUnreachable);
  if (!noroute.empty() || !unreach.empty()) {
    std::vector<const LogEvent*> all = noroute;
    all.insert(all.end(), unreach.begin(), unreach.end());
    auto& f = b.add("bootstrap.connect_failed", kTierGeneric, hosts_text(hosts_of(all)), "bootstrap",
                    noroute.empty() ? fmt::format("Socket connections to a peer fail ({}).",
                                                  all.front()->message.substr(0, 160))
                                    : "Socket connections to a peer fail with 'No route to host' (EHOSTUNREACH).",
                    first_at(all));
    add_evidence(f, b, all, 3);
    trace_bootstrap(f);
    if (!noroute.empty()) {
      auto& g = b.add("net.firewall_or_routing", kTierGeneric + 1, hosts_text(hosts_of(noroute)), "TCP between hosts",
                      "EHOSTUNREACH towards a host that is up is the signature of a host firewall REJECT rule "
                      "(icmp-host-prohibited) or a missing route.",
                      first_at(noroute));
      add_evidence(g, b, noroute, 2);
    }
  }
  if (auto evs = events_of(log, kSigConnTimeout); !evs.empty()) {
    bool retrying = std::any_of(evs.begin(), evs.end(), [](const LogEvent* e) {
      return e->message.find("retrying") != std::string::npos;
    });
    auto& f = b.add(retrying ? "net.connect_timeout" : "bootstrap.connect_timeout", kTierGeneric,
                    hosts_text(hosts_of(evs)), "socket connect",
                    "Socket connections to a peer time out (no answer: DROP firewall rule, routing, or the peer is "
                    "not listening on that interface).",
                    first_at(evs));
    add_evidence(f, b, evs, 3);
    trace_bootstrap(f);
    auto& g = b.add("net.firewall_or_routing", kTierGeneric + 1, hosts_text(hosts_of(evs)), "TCP between hosts",
                    "Connects that time out usually meet a firewall DROP rule or a route to nowhere.", first_at(evs));
    add_evidence(g, b, evs, 1);
  }
  // Bootstrap failures visible only as error traces (NCCL_DEBUG=INFO without the WARN).
  if (!b.has("bootstrap.connect_failed") && !b.has("bootstrap.connect_refused") &&
      !b.has("bootstrap.connect_timeout") && !b.has("net.connect_timeout") && !b.has("bootstrap.bad_address_family")) {
    std::vector<const LogEvent*> bt;
    for (const auto& e : log.events)
      if (e.kind == EventKind::kTrace && e.src.find("bootstrap") != std::string::npos) bt.push_back(&e);
    if (!bt.empty()) {
      std::vector<const LogEvent*> sock;
      for (const auto& e : log.events)
        if (e.kind == EventKind::kTrace && e.src.find("socket") != std::string::npos) sock.push_back(&e);
      auto& f = b.add("bootstrap.connect_failed", kTierGeneric, hosts_text(hosts_of(bt)), "bootstrap",
                      fmt::format("The bootstrap failed on {} host(s): error traces run through bootstrap.cc with "
                                  "result {} (system error: a socket call failed).",
                                  hosts_of(bt).size(), bt.front()->result),
                      first_at(bt));
      add_evidence(f, b, bt, 2);
      add_evidence(f, b, sock, 2);
    }
  }
}

}  // namespace ncd::checks::log_rules
