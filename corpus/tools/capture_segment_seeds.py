#!/usr/bin/env python3
"""Generate the seed corpus for the TCP/IP segment parser fuzzer.

Writes raw IP packets (IPv4 or IPv6 header first, no link-layer header, no
packet-info prefix) to ``corpus/fuzz/segment/*.bin`` plus a ``README.md``
describing every file.

Part A captures real segments emitted by the running Linux kernel.  The
script re-executes itself inside a private network namespace
(``unshare --net``), creates a TUN device there and plays the remote host
192.0.2.2 / 2001:db8::2 by writing hand-built packets into the TUN and
reading what the kernel answers.  Nothing in the caller's network
namespace is ever configured.

Part B derives malformed (and some unusual-but-valid) packets from the
captured ones, deterministically.

Usage (as root):  python3 corpus/tools/capture_segment_seeds.py [--out DIR]

Only the Python 3 standard library is used.  Every read from the TUN device
or a kernel socket is bounded by a timeout of at most 2 seconds; on a timeout
the script fails loudly and writes nothing.
"""

import argparse
import errno
import fcntl
import os
import select
import socket
import struct
import subprocess
import sys
import time

# --------------------------------------------------------------------------
# Constants: everything the script controls is fixed.
# --------------------------------------------------------------------------

CHILD_ENV = "TCPCHECK_SEED_PARENT_NETNS"
UNSHARE = "/usr/bin/unshare"

TUN_NAME = "tun0"
TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000

READ_TIMEOUT = 2.0  # seconds; upper bound for every single read

FAMILIES = {
    "v4": {
        "af": socket.AF_INET,
        "local": "192.0.2.1",
        "remote": "192.0.2.2",
    },
    "v6": {
        "af": socket.AF_INET6,
        "local": "2001:db8::1",
        "remote": "2001:db8::2",
    },
}

LISTEN_PORT = 8080          # kernel listening socket
CLOSED_PORT = 9             # nothing listens here
ACTIVE_LOCAL_PORT = 43210   # kernel side of the active connect()
ACTIVE_REMOTE_PORT = 5001   # script side of the active connect()
REMOTE_PORT_MAIN = 40000    # script side of the main passive connection
REMOTE_PORT_UNREAD = 40001  # script side of the "unread data" connection
REMOTE_PORT_PROBE = 40002   # script side of the closed-port SYN

ISN_MAIN = 1000000000
ISN_UNREAD = 1100000000
ISN_ACTIVE = 2000000000
ISN_PROBE = 3000000000

TS_BASE = 0x00C0FFEE        # first TSval the script sends on a connection
SYN_WINDOW = 64240          # unscaled window in SYN / SYN-ACK
WINDOW = 502                # scaled by 2**7 -> 64256 bytes
WSCALE = 7

KERNEL_HELLO = b"hello, tcpcheck\n"
SCRIPT_HELLO = b"hello, kernel\n"
GAP_PAYLOAD = b"gap-bytes\n"            # the hole, sent last
OOO_PAYLOAD = b"out-of-order data\n"    # sent first, after the hole
UNREAD_PAYLOAD = b"never read by the application\n"

FIN, SYN, RST, PSH, ACK, URG, ECE, CWR = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80

SEED_PREFIXES = ("kernel-", "injected-", "malformed-")


class CaptureError(Exception):
    pass


def log(msg):
    print("[capture_segment_seeds] " + msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# Checksums and packet construction
# --------------------------------------------------------------------------

def inet_checksum(data):
    if len(data) % 2:
        data += b"\x00"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return (~total) & 0xFFFF


def pseudo_header(version, src, dst, length, proto=6):
    if version == 4:
        return src + dst + struct.pack("!BBH", 0, proto, length)
    return src + dst + struct.pack("!I3xB", length, proto)


def tcp_checksum(version, src, dst, segment):
    return inet_checksum(pseudo_header(version, src, dst, len(segment)) + segment)


def pad_options(opts):
    """Pad an option byte string to a multiple of 4 with EOL (zero) bytes."""
    return opts + b"\x00" * (-len(opts) % 4)


def opt_mss(mss):
    return struct.pack("!BBH", 2, 4, mss)


def opt_ws(shift):
    return struct.pack("!BBB", 3, 3, shift)


def opt_sackok():
    return b"\x04\x02"


def opt_sack(blocks):
    return struct.pack("!BB", 5, 2 + 8 * len(blocks)) + b"".join(
        struct.pack("!II", l, r) for l, r in blocks)


def opt_ts(val, ecr):
    return struct.pack("!BBII", 8, 10, val, ecr)


NOP = b"\x01"


def build_tcp(version, src, dst, sport, dport, seq, ack, flags, window,
              options=b"", payload=b"", urg=0, reserved=0, doff=None):
    options = pad_options(options)
    if doff is None:
        doff = 5 + len(options) // 4
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF,
                      ack & 0xFFFFFFFF, (doff << 4) | (reserved & 0x0F),
                      flags & 0xFF, window, 0, urg)
    seg = hdr + options + payload
    csum = tcp_checksum(version, src, dst, seg)
    return seg[:16] + struct.pack("!H", csum) + seg[18:]


def build_ipv4(src, dst, payload, proto=6, ident=0, ttl=64, df=True):
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident,
                      0x4000 if df else 0, ttl, proto, 0, src, dst)
    hdr = hdr[:10] + struct.pack("!H", inet_checksum(hdr)) + hdr[12:]
    return hdr + payload


def build_ipv6(src, dst, payload, next_header=6, hop_limit=64, flow=0):
    hdr = struct.pack("!IHBB16s16s", (6 << 28) | (flow & 0xFFFFF),
                      len(payload), next_header, hop_limit, src, dst)
    return hdr + payload


def build_packet(version, src, dst, sport, dport, seq, ack, flags, window,
                 options=b"", payload=b""):
    seg = build_tcp(version, src, dst, sport, dport, seq, ack, flags, window,
                    options, payload)
    if version == 4:
        return build_ipv4(src, dst, seg)
    return build_ipv6(src, dst, seg)


# --------------------------------------------------------------------------
# Parsing (only what is needed for well-formed kernel output)
# --------------------------------------------------------------------------

def parse_options(opts):
    """Return a list of (kind, data) for a well-formed option block."""
    out = []
    i = 0
    while i < len(opts):
        kind = opts[i]
        if kind == 0:
            out.append((0, b""))
            break
        if kind == 1:
            out.append((1, b""))
            i += 1
            continue
        if i + 1 >= len(opts):
            raise CaptureError("option %d truncated" % kind)
        length = opts[i + 1]
        if length < 2 or i + length > len(opts):
            raise CaptureError("option %d has bad length %d" % (kind, length))
        out.append((kind, bytes(opts[i + 2:i + length])))
        i += length
    return out


def parse_packet(buf):
    """Parse IPv4/IPv6 + TCP.  Returns None for anything that is not TCP."""
    if not buf:
        return None
    version = buf[0] >> 4
    if version == 4:
        if len(buf) < 20:
            return None
        ihl = (buf[0] & 0x0F) * 4
        total = struct.unpack("!H", buf[2:4])[0]
        proto = buf[9]
        if proto != 6:
            return {"version": 4, "proto": proto}
        src, dst = bytes(buf[12:16]), bytes(buf[16:20])
        ip_hdr_len = ihl
        end = total
        ip_ok = inet_checksum(bytes(buf[:ihl])) == 0
    elif version == 6:
        if len(buf) < 40:
            return None
        plen = struct.unpack("!H", buf[4:6])[0]
        proto = buf[6]
        if proto != 6:
            info = {"version": 6, "proto": proto}
            if proto == 58 and len(buf) > 40:
                info["icmp6_type"] = buf[40]
            return info
        src, dst = bytes(buf[8:24]), bytes(buf[24:40])
        ip_hdr_len = 40
        end = 40 + plen
        ip_ok = True
    else:
        return None
    if end > len(buf):
        raise CaptureError("IP length field exceeds captured packet")
    seg = bytes(buf[ip_hdr_len:end])
    if len(seg) < 20:
        raise CaptureError("TCP segment too short")
    sport, dport, seq, ack, off, flags, window, csum, urg = struct.unpack(
        "!HHIIBBHHH", seg[:20])
    doff = (off >> 4) * 4
    options = parse_options(seg[20:doff])
    return {
        "version": version, "proto": 6, "src": src, "dst": dst,
        "sport": sport, "dport": dport, "seq": seq, "ack": ack,
        "flags": flags, "window": window, "urg": urg, "doff": doff,
        "options": options, "payload": seg[doff:], "ip_hdr_len": ip_hdr_len,
        "ip_csum_ok": ip_ok,
        "tcp_csum_ok": tcp_checksum(version, src, dst, seg) == 0,
    }


def opt_value(pkt, kind):
    for k, data in pkt["options"]:
        if k == kind:
            return data
    return None


def flag_names(flags):
    names = ["FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"]
    return "|".join(n for i, n in enumerate(names) if flags & (1 << i)) or "none"


def describe(pkt):
    kinds = {0: "EOL", 1: "NOP", 2: "MSS", 3: "WS", 4: "SACKOK", 5: "SACK", 8: "TS"}
    opts = ",".join(kinds.get(k, str(k)) for k, _ in pkt["options"])
    return "%d->%d %s seq=%d ack=%d win=%d opts=[%s] len=%d" % (
        pkt["sport"], pkt["dport"], flag_names(pkt["flags"]), pkt["seq"],
        pkt["ack"], pkt["window"], opts, len(pkt["payload"]))


# --------------------------------------------------------------------------
# Namespace handling
# --------------------------------------------------------------------------

def netns_id():
    st = os.stat("/proc/self/ns/net")
    return "%d:%d" % (st.st_dev, st.st_ino)


def reexec_in_private_netns(argv):
    if os.geteuid() != 0:
        sys.exit("capture_segment_seeds: must run as root (needs unshare and /dev/net/tun)")
    if not os.path.exists(UNSHARE):
        sys.exit("capture_segment_seeds: %s not found" % UNSHARE)
    env = dict(os.environ)
    env[CHILD_ENV] = netns_id()
    cmd = [UNSHARE, "--net", "--", sys.executable, os.path.abspath(__file__)] + argv
    log("re-executing in a private network namespace: " + " ".join(cmd))
    return subprocess.call(cmd, env=env)


def assert_private_netns():
    parent = os.environ.get(CHILD_ENV)
    here = netns_id()
    if not parent or parent == here:
        raise CaptureError(
            "refusing to configure networking: not inside a private network "
            "namespace (parent=%r, here=%r)" % (parent, here))
    names = sorted(name for _, name in socket.if_nameindex())
    if names != ["lo"]:
        raise CaptureError("network namespace is not fresh: interfaces %r" % names)


def run(cmd):
    log("  (netns) " + " ".join(cmd))
    subprocess.run(cmd, check=True, stdin=subprocess.DEVNULL)


def write_sysctl(path, value):
    full = "/proc/sys/" + path.replace(".", "/")
    with open(full, "w") as f:
        f.write(str(value))


def setup_netns():
    assert_private_netns()
    run(["ip", "link", "set", "lo", "up"])
    fd = os.open("/dev/net/tun", os.O_RDWR)
    ifr = struct.pack("16sH22x", TUN_NAME.encode(), IFF_TUN | IFF_NO_PI)
    fcntl.ioctl(fd, TUNSETIFF, ifr)
    # Per-namespace settings; set before the link comes up so that no
    # router solicitation is ever emitted.  The TCP ones are the kernel
    # defaults, pinned so the captured option sets are predictable.
    for key, value in [
        ("net.ipv6.conf.tun0.router_solicitations", 0),
        ("net.ipv6.conf.tun0.accept_ra", 0),
        ("net.ipv4.tcp_timestamps", 1),
        ("net.ipv4.tcp_sack", 1),
        ("net.ipv4.tcp_window_scaling", 1),
        ("net.ipv4.tcp_ecn", 2),
    ]:
        write_sysctl(key, value)
    run(["ip", "link", "set", TUN_NAME, "up"])
    run(["ip", "addr", "add", "192.0.2.1/24", "dev", TUN_NAME])
    run(["ip", "-6", "addr", "add", "2001:db8::1/64", "dev", TUN_NAME, "nodad"])
    return fd


# --------------------------------------------------------------------------
# The fake remote peer
# --------------------------------------------------------------------------

class Tun:
    def __init__(self, fd):
        self.fd = fd

    def inject(self, pkt):
        n = os.write(self.fd, pkt)
        if n != len(pkt):
            raise CaptureError("short write to TUN (%d of %d)" % (n, len(pkt)))

    def read_packet(self, deadline):
        remaining = min(READ_TIMEOUT, deadline - time.monotonic())
        if remaining <= 0:
            return None
        r, _, _ = select.select([self.fd], [], [], remaining)
        if not r:
            return None
        return os.read(self.fd, 65535)

    def expect(self, what, match):
        """Read until a TCP packet satisfying ``match`` arrives (<= 2 s)."""
        deadline = time.monotonic() + READ_TIMEOUT
        while True:
            raw = self.read_packet(deadline)
            if raw is None:
                raise CaptureError("timed out after %.1fs waiting for %s" % (READ_TIMEOUT, what))
            pkt = parse_packet(raw)
            if pkt is None or pkt["proto"] != 6:
                extra = ""
                if pkt and "icmp6_type" in pkt:
                    extra = " (ICMPv6 type %d)" % pkt["icmp6_type"]
                log("  ignoring non-TCP packet, %d bytes%s" % (len(raw), extra))
                continue
            if not pkt["tcp_csum_ok"] or not pkt["ip_csum_ok"]:
                raise CaptureError("kernel packet with bad checksum: " + describe(pkt))
            if match(pkt):
                log("  kernel -> %s" % describe(pkt))
                return raw, pkt
            log("  ignoring unrelated TCP packet: " + describe(pkt))


class Peer:
    """One TCP connection as seen by the fake remote host."""

    def __init__(self, tun, fam, remote_port, local_port, isn):
        self.tun = tun
        self.fam = fam
        self.version = 4 if fam == "v4" else 6
        af = FAMILIES[fam]["af"]
        self.local_ip = FAMILIES[fam]["local"]
        self.remote_ip = FAMILIES[fam]["remote"]
        self.src = socket.inet_pton(af, self.remote_ip)
        self.dst = socket.inet_pton(af, self.local_ip)
        self.sport = remote_port
        self.dport = local_port
        self.snd_nxt = isn
        self.rcv_nxt = 0
        self.ts_val = TS_BASE
        self.ts_recent = 0

    def packet(self, flags, options=b"", payload=b"", seq=None, ack=None,
               window=WINDOW):
        return build_packet(self.version, self.src, self.dst, self.sport,
                            self.dport, self.snd_nxt if seq is None else seq,
                            self.rcv_nxt if ack is None else ack, flags,
                            window, options, payload)

    def next_ts(self):
        val = self.ts_val
        self.ts_val += 1
        return opt_ts(val, self.ts_recent)

    def send(self, pkt, desc):
        log("  script -> %s" % describe(parse_packet(pkt)) + "  [%s]" % desc)
        self.tun.inject(pkt)
        return pkt

    def expect(self, what, match):
        def full(p):
            return (p["version"] == self.version and p["src"] == self.dst
                    and p["dst"] == self.src and p["sport"] == self.dport
                    and p["dport"] == self.sport and match(p))
        raw, pkt = self.tun.expect(what, full)
        ts = opt_value(pkt, 8)
        if ts is not None and len(ts) == 8:
            self.ts_recent = struct.unpack("!I", ts[:4])[0]
        return raw, pkt

    # ---- segments -------------------------------------------------------

    def syn_options(self):
        # MSS 1460, SACK-permitted, TS val/ecr, NOP, wscale 7 (20 bytes)
        return opt_mss(1460) + opt_sackok() + self.next_ts() + NOP + opt_ws(WSCALE)

    def send_syn(self):
        pkt = self.packet(SYN, self.syn_options(), ack=0, window=SYN_WINDOW)
        self.snd_nxt += 1
        return self.send(pkt, "SYN")

    def send_syn_ack(self, kernel_syn):
        self.rcv_nxt = (kernel_syn["seq"] + 1) & 0xFFFFFFFF
        opts = opt_mss(1400) + opt_sackok() + self.next_ts() + NOP + opt_ws(WSCALE)
        pkt = self.packet(SYN | ACK, opts, window=SYN_WINDOW)
        self.snd_nxt += 1
        return self.send(pkt, "SYN-ACK")

    def send_ack(self):
        return self.send(self.packet(ACK, NOP + NOP + self.next_ts()), "ACK")

    def send_data(self, payload, seq=None, flags=PSH | ACK):
        pkt = self.packet(flags, NOP + NOP + self.next_ts(), payload, seq=seq)
        if seq is None:
            self.snd_nxt += len(payload)
        return self.send(pkt, "data")

    def send_fin_ack(self):
        pkt = self.packet(FIN | ACK, NOP + NOP + self.next_ts())
        self.snd_nxt += 1
        return self.send(pkt, "FIN-ACK")

    def passive_handshake(self, seeds=None):
        """SYN -> kernel SYN-ACK -> ACK.  Returns (syn, synack_raw, ack)."""
        syn = self.send_syn()
        synack_raw, synack = self.expect(
            "SYN-ACK", lambda p: p["flags"] == SYN | ACK and p["ack"] == self.snd_nxt)
        for kind, name in [(2, "MSS"), (4, "SACK-permitted"), (8, "timestamps"), (3, "window scale")]:
            if opt_value(synack, kind) is None:
                raise CaptureError("kernel SYN-ACK lacks %s option" % name)
        self.rcv_nxt = (synack["seq"] + 1) & 0xFFFFFFFF
        ack = self.send_ack()
        return syn, synack_raw, ack


def wait_readable(sock, what):
    r, _, _ = select.select([sock], [], [], READ_TIMEOUT)
    if not r:
        raise CaptureError("timed out waiting for %s" % what)


def recv_exactly(sock, n, what):
    data = b""
    while len(data) < n:
        wait_readable(sock, what)
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise CaptureError("EOF while reading %s" % what)
        data += chunk
    return data


def accept_one(listener):
    wait_readable(listener, "accept()")
    conn, _ = listener.accept()
    conn.settimeout(READ_TIMEOUT)
    return conn


# --------------------------------------------------------------------------
# Capture scenarios
# --------------------------------------------------------------------------

def capture_active(tun, fam, seeds):
    """Items 1 and 7: kernel SYN from connect(); RST from SO_LINGER 0 close."""
    log("[%s] active open from a kernel socket" % fam)
    peer = Peer(tun, fam, ACTIVE_REMOTE_PORT, ACTIVE_LOCAL_PORT, ISN_ACTIVE)
    s = socket.socket(FAMILIES[fam]["af"], socket.SOCK_STREAM)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((peer.local_ip, ACTIVE_LOCAL_PORT))
        s.setblocking(False)
        rc = s.connect_ex((peer.remote_ip, ACTIVE_REMOTE_PORT))
        if rc not in (errno.EINPROGRESS, 0):
            raise CaptureError("connect() failed: %s" % os.strerror(rc))
        raw, syn = peer.expect("kernel SYN", lambda p: p["flags"] == SYN)
        for kind, name in [(2, "MSS"), (4, "SACK-permitted"), (8, "timestamps"), (3, "window scale")]:
            if opt_value(syn, kind) is None:
                raise CaptureError("kernel SYN lacks %s option" % name)
        seeds["kernel-%s-syn.bin" % fam] = raw
        seeds["injected-%s-syn-ack.bin" % fam] = peer.send_syn_ack(syn)
        raw, _ = peer.expect("kernel ACK completing the active open",
                             lambda p: p["flags"] == ACK and p["ack"] == peer.snd_nxt)
        seeds["kernel-%s-handshake-ack.bin" % fam] = raw
        _, w, _ = select.select([], [s], [], READ_TIMEOUT)
        err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if not w or err:
            raise CaptureError("active connect did not complete (err=%d)" % err)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    finally:
        s.close()
    raw, _ = peer.expect("kernel RST after SO_LINGER 0 close",
                         lambda p: p["flags"] & RST)
    seeds["kernel-%s-rst-linger0.bin" % fam] = raw


def capture_passive(tun, fam, listener, seeds):
    """Items 2-5: SYN-ACK, data, pure ACK, dup ACK with SACK, FIN."""
    log("[%s] passive open to a listening kernel socket" % fam)
    peer = Peer(tun, fam, REMOTE_PORT_MAIN, LISTEN_PORT, ISN_MAIN)
    syn, synack, ack = peer.passive_handshake()
    seeds["injected-%s-syn.bin" % fam] = syn
    seeds["kernel-%s-syn-ack.bin" % fam] = synack
    seeds["injected-%s-ack.bin" % fam] = ack
    conn = accept_one(listener)
    try:
        # Item 3: kernel data segment.
        conn.sendall(KERNEL_HELLO)
        raw, data = peer.expect("kernel data segment",
                                lambda p: p["payload"] == KERNEL_HELLO)
        seeds["kernel-%s-data.bin" % fam] = raw
        peer.rcv_nxt = (data["seq"] + len(data["payload"])) & 0xFFFFFFFF

        # Item 4a: inject in-order data (also ACKs the kernel's data).
        seeds["injected-%s-data.bin" % fam] = peer.send_data(SCRIPT_HELLO)
        raw, _ = peer.expect(
            "kernel pure ACK of injected data",
            lambda p: p["flags"] == ACK and not p["payload"] and p["ack"] == peer.snd_nxt)
        seeds["kernel-%s-ack.bin" % fam] = raw

        # Item 4b: leave a hole, kernel answers with a duplicate ACK + SACK.
        hole_seq = peer.snd_nxt
        ooo_seq = hole_seq + len(GAP_PAYLOAD)
        seeds["injected-%s-data-out-of-order.bin" % fam] = peer.send_data(
            OOO_PAYLOAD, seq=ooo_seq)
        raw, dup = peer.expect(
            "kernel duplicate ACK with SACK block",
            lambda p: p["flags"] == ACK and p["ack"] == hole_seq
            and opt_value(p, 5) is not None)
        sack = opt_value(dup, 5)
        if sack != struct.pack("!II", ooo_seq, ooo_seq + len(OOO_PAYLOAD)):
            raise CaptureError("unexpected SACK block %r" % sack)
        seeds["kernel-%s-dup-ack-sack.bin" % fam] = raw

        # Fill the hole; the kernel acknowledges everything.
        seeds["injected-%s-data-fill-hole.bin" % fam] = peer.send_data(
            GAP_PAYLOAD, seq=hole_seq)
        peer.snd_nxt = ooo_seq + len(OOO_PAYLOAD)
        raw, _ = peer.expect(
            "kernel ACK after hole filled",
            lambda p: p["flags"] == ACK and p["ack"] == peer.snd_nxt
            and opt_value(p, 5) is None)
        seeds["kernel-%s-ack-hole-filled.bin" % fam] = raw

        want = SCRIPT_HELLO + GAP_PAYLOAD + OOO_PAYLOAD
        got = recv_exactly(conn, len(want), "application data")
        if got != want:
            raise CaptureError("kernel socket received %r, expected %r" % (got, want))

        # Item 5: kernel FIN.
        conn.shutdown(socket.SHUT_WR)
        raw, fin = peer.expect("kernel FIN", lambda p: p["flags"] & FIN)
        seeds["kernel-%s-fin.bin" % fam] = raw
        peer.rcv_nxt = (fin["seq"] + len(fin["payload"]) + 1) & 0xFFFFFFFF
        seeds["injected-%s-fin-ack.bin" % fam] = peer.send_fin_ack()
        raw, _ = peer.expect(
            "kernel ACK of our FIN",
            lambda p: p["flags"] == ACK and p["ack"] == peer.snd_nxt)
        seeds["kernel-%s-ack-of-fin.bin" % fam] = raw
        if conn.recv(16) != b"":
            raise CaptureError("expected EOF on the accepted socket")
    finally:
        conn.close()


def capture_unread_close(tun, fam, listener, seeds):
    """Item 7 (second variant): close() with unread data sends RST."""
    log("[%s] close() with unread data" % fam)
    peer = Peer(tun, fam, REMOTE_PORT_UNREAD, LISTEN_PORT, ISN_UNREAD)
    peer.passive_handshake()
    conn = accept_one(listener)
    try:
        seeds["injected-%s-data-unread.bin" % fam] = peer.send_data(UNREAD_PAYLOAD)
        wait_readable(conn, "unread data to arrive")
    finally:
        conn.close()
    raw, _ = peer.expect("kernel RST after close() with unread data",
                         lambda p: p["flags"] & RST and p["seq"] == peer.rcv_nxt)
    seeds["kernel-%s-rst-unread-data.bin" % fam] = raw


def capture_closed_port(tun, fam, seeds):
    """Item 6: SYN to a closed port is answered with RST+ACK."""
    log("[%s] SYN to a closed port" % fam)
    peer = Peer(tun, fam, REMOTE_PORT_PROBE, CLOSED_PORT, ISN_PROBE)
    seeds["injected-%s-syn-closed-port.bin" % fam] = peer.send_syn()
    raw, _ = peer.expect(
        "kernel RST+ACK from closed port",
        lambda p: p["flags"] == RST | ACK and p["ack"] == peer.snd_nxt)
    seeds["kernel-%s-rst-ack-closed-port.bin" % fam] = raw


def capture_all():
    fd = setup_netns()
    tun = Tun(fd)
    seeds = {}
    try:
        for fam in ("v4", "v6"):
            listener = socket.socket(FAMILIES[fam]["af"], socket.SOCK_STREAM)
            try:
                listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                listener.bind((FAMILIES[fam]["local"], LISTEN_PORT))
                listener.listen(4)
                capture_active(tun, fam, seeds)
                capture_passive(tun, fam, listener, seeds)
                capture_unread_close(tun, fam, listener, seeds)
                capture_closed_port(tun, fam, seeds)
            finally:
                listener.close()
    finally:
        os.close(fd)
    return seeds


# --------------------------------------------------------------------------
# Part B: malformed / unusual packets derived from the captured ones
# --------------------------------------------------------------------------

def split(pkt):
    """Return (ip_header, tcp_segment) of a well-formed captured packet."""
    if pkt[0] >> 4 == 4:
        ihl = (pkt[0] & 0x0F) * 4
        return bytearray(pkt[:ihl]), bytearray(pkt[ihl:])
    return bytearray(pkt[:40]), bytearray(pkt[40:])


def fix_ipv4(hdr):
    hdr[10:12] = b"\x00\x00"
    hdr[10:12] = struct.pack("!H", inet_checksum(bytes(hdr[:20])))
    return hdr


def set_ip_length(hdr, seg_len):
    if hdr[0] >> 4 == 4:
        hdr[2:4] = struct.pack("!H", len(hdr) + seg_len)
        fix_ipv4(hdr)
    else:
        hdr[4:6] = struct.pack("!H", seg_len)
    return hdr


def ip_addrs(hdr):
    if hdr[0] >> 4 == 4:
        return 4, bytes(hdr[12:16]), bytes(hdr[16:20])
    return 6, bytes(hdr[8:24]), bytes(hdr[24:40])


def fix_tcp(hdr, seg):
    version, src, dst = ip_addrs(hdr)
    seg[16:18] = b"\x00\x00"
    seg[16:18] = struct.pack("!H", tcp_checksum(version, src, dst, bytes(seg)))
    return seg


def rebuild(pkt, options=None, doff=None, reserved=None, flags=None):
    """Re-emit a captured packet with some TCP header fields replaced.

    Lengths (IP total/payload length, data offset unless given) and both
    checksums are recomputed so that only the requested change differs."""
    hdr, seg = split(pkt)
    old_doff = (seg[12] >> 4) * 4
    payload = seg[old_doff:]
    opts = seg[20:old_doff] if options is None else bytearray(pad_options(options))
    new = bytearray(seg[:20]) + opts + payload
    d = 5 + len(opts) // 4 if doff is None else doff
    r = (seg[12] & 0x0F) if reserved is None else reserved
    new[12] = (d << 4) | r
    if flags is not None:
        new[13] = flags
    set_ip_length(hdr, len(new))
    return bytes(hdr + fix_tcp(hdr, new))


def option_offsets(pkt):
    """List of (kind, offset-within-packet) for options of a captured packet."""
    hdr, seg = split(pkt)
    doff = (seg[12] >> 4) * 4
    base = len(hdr) + 20
    out, i = [], 20
    while i < doff:
        kind = seg[i]
        if kind == 0:
            break
        if kind == 1:
            i += 1
            continue
        out.append((kind, base + i - 20))
        i += seg[i + 1]
    return out


def patch_option_length(pkt, kind, new_len):
    """Overwrite the length byte of the first option ``kind``, fix checksum."""
    buf = bytearray(pkt)
    for k, off in option_offsets(pkt):
        if k == kind:
            buf[off + 1] = new_len
            hdr, seg = split(bytes(buf))
            return bytes(hdr + fix_tcp(hdr, seg))
    raise CaptureError("option %d not present" % kind)


def tcp_ts_option(pkt):
    ts = opt_value(parse_packet(pkt), 8)
    return struct.pack("!BB", 8, 10) + ts


def with_ipv6_ext(pkt, ext_chain, first_nh):
    """Insert IPv6 extension headers (already linked) between IPv6 and TCP."""
    hdr, seg = split(pkt)
    hdr[6] = first_nh
    hdr[4:6] = struct.pack("!H", len(ext_chain) + len(seg))
    return bytes(hdr) + ext_chain + bytes(seg)


def make_malformed(seeds):
    v4_synack = seeds["kernel-v4-syn-ack.bin"]
    v6_synack = seeds["kernel-v6-syn-ack.bin"]
    v4_data = seeds["kernel-v4-data.bin"]
    v6_data = seeds["kernel-v6-data.bin"]
    v4_ack = seeds["kernel-v4-ack.bin"]
    v4_rst = seeds["kernel-v4-rst-ack-closed-port.bin"]
    v4_dup = seeds["kernel-v4-dup-ack-sack.bin"]
    v4_syn = seeds["kernel-v4-syn.bin"]
    out = {}

    def add(name, data, desc):
        out["malformed-%s.bin" % name] = (bytes(data), desc)

    add("empty", b"", "INVALID: zero-length input")
    add("one-byte", v4_data[:1], "INVALID: a single byte (0x45, IPv4 version/IHL)")
    add("ipv4-truncated-header", v4_data[:12],
        "INVALID: first 12 bytes of an IPv4 header")
    add("ipv6-truncated-header", v6_data[:24],
        "INVALID: first 24 bytes of a 40-byte IPv6 header")

    hdr, seg = split(v4_data)
    add("ipv4-truncated-tcp-header", set_ip_length(hdr, 12) + seg[:12],
        "INVALID: IPv4 (lengths and checksum consistent) carrying only 12 bytes of TCP header")
    hdr, seg = split(v6_data)
    add("ipv6-truncated-tcp-header", set_ip_length(hdr, 12) + seg[:12],
        "INVALID: IPv6 (payload length consistent) carrying only 12 bytes of TCP header")

    add("tcp-data-offset-4", rebuild(v4_data, doff=4),
        "INVALID: TCP data offset 4 (< 5); TCP checksum correct")
    add("tcp-data-offset-0", rebuild(v4_synack, doff=0),
        "INVALID: TCP data offset 0; TCP checksum correct")
    add("tcp-data-offset-past-end", rebuild(v4_ack, doff=15),
        "INVALID: TCP data offset 15 (60 bytes) but the segment is only 32 bytes; checksum correct")
    add("tcp-data-offset-past-payload", rebuild(v4_data, doff=15),
        "INVALID: TCP data offset 15 (60 bytes) swallows the payload and runs past the segment end")

    add("tcp-option-length-0", patch_option_length(v4_synack, 4, 0),
        "INVALID: SYN-ACK whose SACK-permitted option has length 0; checksum correct")
    add("tcp-option-length-1", patch_option_length(v4_synack, 4, 1),
        "INVALID: SYN-ACK whose SACK-permitted option has length 1; checksum correct")
    add("tcp-option-length-past-header", patch_option_length(v4_synack, 3, 40),
        "INVALID: SYN-ACK whose last option (window scale) claims length 40, past the header end")
    add("tcp-option-ts-length-past-header",
        rebuild(v4_data, options=NOP + NOP + b"\x08\x10" + tcp_ts_option(v4_data)[2:]),
        "INVALID: timestamp option claims length 16 in a 12-byte option area")
    add("tcp-option-truncated-kind",
        rebuild(v4_syn, options=opt_mss(1460) + NOP + NOP + NOP + b"\x02"),
        "INVALID: option area ends with a lone MSS kind byte (no length byte)")
    add("tcp-mss-length-6",
        rebuild(v4_synack, options=b"\x02\x06\x05\xb4\x00\x00" + NOP + NOP + opt_sackok()
                + NOP + NOP),
        "INVALID: MSS option with length 6 (must be 4); lengths otherwise consistent")
    add("tcp-mss-length-3",
        rebuild(v4_synack, options=b"\x02\x03\x05" + NOP + opt_sackok() + NOP + NOP),
        "INVALID: MSS option with length 3 (must be 4)")
    add("tcp-ws-length-4",
        rebuild(v4_synack, options=opt_mss(1460) + b"\x03\x04\x07\x00"),
        "INVALID: window-scale option with length 4 (must be 3)")
    add("tcp-ws-shift-15",
        rebuild(v4_synack, options=opt_mss(1460) + NOP + opt_ws(15)),
        "VALID syntax, out-of-range value: window scale 15 (> 14; RFC 7323 says treat as 14)")
    add("tcp-ts-length-8",
        rebuild(v4_data, options=NOP + NOP + b"\x08\x08" + tcp_ts_option(v4_data)[2:8] + NOP + NOP + NOP + NOP),
        "INVALID: timestamp option with length 8 (must be 10)")

    ts = tcp_ts_option(v4_dup)
    add("tcp-sack-length-2", rebuild(v4_dup, options=NOP + NOP + ts + NOP + NOP + b"\x05\x02"),
        "INVALID: SACK option with length 2 (no blocks); lengths otherwise consistent")
    sack = opt_value(parse_packet(v4_dup), 5)
    add("tcp-sack-length-11",
        rebuild(v4_dup, options=NOP + NOP + ts + b"\x05\x0b" + sack + b"\x00"),
        "INVALID: SACK option with length 11 (not 2+8n): one block plus a stray byte")
    add("tcp-sack-length-past-header",
        rebuild(v4_dup, options=b"\x05\x2a" + sack * 4 + b"\x00\x00"),
        "INVALID: SACK option claims length 42 (5 blocks) in a 36-byte option area")

    add("tcp-bad-checksum-v4", _flip_tcp_checksum(v4_data),
        "INVALID: IPv4 data segment with a wrong TCP checksum (everything else intact)")
    add("tcp-bad-checksum-v6", _flip_tcp_checksum(v6_data),
        "INVALID: IPv6 data segment with a wrong TCP checksum (everything else intact)")
    # Use a base whose real checksum is non-zero, so the result is really wrong.
    zero_base = next(p for p in (v6_data, seeds["kernel-v6-ack.bin"], seeds["kernel-v6-fin.bin"])
                     if split(p)[1][16:18] != b"\x00\x00")
    add("tcp-zero-checksum-v6", _set_tcp_checksum(zero_base, 0),
        "INVALID: IPv6 segment with TCP checksum field 0 (checksum is mandatory for IPv6)")

    buf = bytearray(v4_data)
    buf[10] ^= 0xFF
    add("ipv4-bad-header-checksum", buf,
        "INVALID: IPv4 header checksum wrong (TCP checksum correct)")

    hdr, seg = split(v4_data)
    hdr[0] = 0x44
    add("ipv4-ihl-4", fix_ipv4(hdr) + seg,
        "INVALID: IPv4 IHL 4 (< 5); checksum computed over the 20 header bytes")
    hdr, seg = split(v4_data)
    hdr[0] = 0x40
    add("ipv4-ihl-0", fix_ipv4(hdr) + seg, "INVALID: IPv4 IHL 0")
    hdr, seg = split(v4_rst)
    hdr[0] = 0x4F
    add("ipv4-ihl-past-end", fix_ipv4(hdr) + seg,
        "INVALID: IPv4 IHL 15 (60 bytes) in a 40-byte packet (so total length < header too)")
    hdr, seg = split(v4_data)
    buf = bytearray([0x46]) + hdr[1:10] + b"\x00\x00" + hdr[12:] + seg
    buf[10:12] = struct.pack("!H", inet_checksum(bytes(buf[:24])))
    add("ipv4-ihl-6-swallows-tcp", buf,
        "INVALID: IPv4 IHL 6 (24 bytes, header checksum correct over them) swallows the TCP ports, "
        "so TCP is parsed 4 bytes late and its checksum/offset are garbage")

    hdr, seg = split(v4_data)
    hdr[2:4] = struct.pack("!H", 16)
    add("ipv4-total-length-lt-header", fix_ipv4(hdr) + seg,
        "INVALID: IPv4 total length 16 (< 20-byte header); header checksum correct")
    hdr, seg = split(v4_data)
    hdr[2:4] = struct.pack("!H", 20 + len(seg) + 100)
    add("ipv4-total-length-gt-buffer", fix_ipv4(hdr) + seg,
        "INVALID: IPv4 total length 100 bytes larger than the buffer; header checksum correct")
    hdr, seg = split(v4_data)
    hdr[2:4] = struct.pack("!H", 20 + len(seg))
    add("ipv4-trailing-garbage", fix_ipv4(hdr) + seg + b"\xde\xad\xbe\xef" * 4,
        "VALID packet followed by 16 bytes of link-layer-style padding beyond the total length")
    hdr, seg = split(v4_data)
    hdr[0] = 0x55
    add("ipv4-version-5", fix_ipv4(hdr) + seg,
        "INVALID: IP version field 5 (IHL 5, otherwise an intact IPv4 TCP packet)")
    hdr, seg = split(v4_data)
    hdr[0] = 0x65
    add("ipv4-version-6-in-v4-header", fix_ipv4(hdr) + seg,
        "INVALID: IPv4 packet whose version nibble says 6 (parsed as IPv6 it is nonsense)")
    hdr, seg = split(v4_data)
    hdr[9] = 17
    add("ipv4-protocol-udp", fix_ipv4(hdr) + seg,
        "NOT TCP: IPv4 protocol 17 (UDP), TCP bytes as payload; header checksum correct")
    hdr, seg = split(v4_data)
    hdr[6:8] = struct.pack("!H", 0x2000)
    add("ipv4-fragment-mf", fix_ipv4(hdr) + seg,
        "FRAGMENT: IPv4 first fragment (MF set, offset 0, DF clear); header checksum correct")
    hdr, seg = split(v4_data)
    hdr[6:8] = struct.pack("!H", 0x0003)
    add("ipv4-fragment-offset", fix_ipv4(hdr) + seg,
        "FRAGMENT: IPv4 last fragment at offset 24 bytes (MF clear, offset 3); checksum correct")
    hdr, seg = split(v4_data)
    hdr[6:8] = struct.pack("!H", 0xC000)
    add("ipv4-reserved-flag", fix_ipv4(hdr) + seg,
        "UNUSUAL: IPv4 reserved (evil) flag bit set together with DF; header checksum correct")
    hdr, seg = split(v4_data)
    opts = b"\x01\x01\x01\x00"  # NOP NOP NOP EOL
    hdr = bytearray([0x46]) + hdr[1:] + opts
    hdr[2:4] = struct.pack("!H", 24 + len(seg))
    hdr[10:12] = b"\x00\x00"
    hdr[10:12] = struct.pack("!H", inet_checksum(bytes(hdr)))
    add("ipv4-with-options", hdr + seg,
        "VALID: IPv4 header with 4 bytes of IP options (NOP NOP NOP EOL), IHL 6, checksums right")

    hdr, seg = split(v6_data)
    hdr[4:6] = struct.pack("!H", len(seg) + 100)
    add("ipv6-payload-length-gt-buffer", hdr + seg,
        "INVALID: IPv6 payload length 100 bytes larger than the buffer")
    hdr, seg = split(v6_data)
    hdr[4:6] = struct.pack("!H", 12)
    add("ipv6-payload-length-lt-tcp-header", hdr + seg,
        "INVALID: IPv6 payload length 12 (< 20-byte TCP header), buffer holds the full segment")
    hdr, seg = split(v6_data)
    hdr[4:6] = struct.pack("!H", 0)
    add("ipv6-payload-length-0", hdr + seg,
        "INVALID: IPv6 payload length 0 without a jumbo option")

    # Hop-by-hop: next=TCP, len 0 (8 bytes), PadN with 4 zero bytes.
    hbh = bytes([6, 0, 1, 4, 0, 0, 0, 0])
    add("ipv6-hop-by-hop-then-tcp", with_ipv6_ext(v6_data, hbh, 0),
        "VALID: IPv6 hop-by-hop header (PadN) then TCP; TCP checksum unchanged and correct")
    # Destination options (PadN) -> fragment header (atomic: offset 0, M=0) -> TCP.
    dst = bytes([44, 0, 1, 4, 0, 0, 0, 0])
    frag = bytes([6, 0, 0, 0]) + struct.pack("!I", 0x12345678)
    add("ipv6-dstopts-atomic-fragment-then-tcp", with_ipv6_ext(v6_data, dst + frag, 60),
        "VALID: IPv6 destination-options then atomic fragment header (offset 0, M=0) then TCP")
    frag_mf = bytes([6, 0, 0, 1]) + struct.pack("!I", 0x12345678)
    add("ipv6-fragment-more-fragments", with_ipv6_ext(v6_data, frag_mf, 44),
        "FRAGMENT: IPv6 fragment header with M=1 (first of several fragments) then TCP bytes")
    hbh_long = bytes([6, 255, 1, 4, 0, 0, 0, 0])
    add("ipv6-ext-header-length-past-end", with_ipv6_ext(v6_data, hbh_long, 0),
        "INVALID: IPv6 hop-by-hop header with Hdr Ext Len 255 (2048 bytes), past the packet end")
    hdr, seg = split(v6_data)
    hdr[6] = 0
    add("ipv6-ext-header-truncated", set_ip_length(hdr, 1) + b"\x06",
        "INVALID: IPv6 says next header hop-by-hop but only 1 byte of it follows")
    hdr, seg = split(v6_data)
    hdr[6] = 59
    add("ipv6-next-header-59", hdr + seg,
        "NOT TCP: IPv6 next header 59 (No Next Header); the TCP bytes after it must be ignored")
    hdr, seg = split(v6_data)
    hdr[6] = 17
    add("ipv6-next-header-udp", hdr + seg,
        "NOT TCP: IPv6 next header 17 (UDP), TCP bytes as payload")
    hdr, seg = split(v6_data)
    hdr[0] = 0x70 | (hdr[0] & 0x0F)
    add("ipv6-version-7", hdr + seg, "INVALID: IPv6 header with version field 7")

    add("tcp-all-flags-reserved-v4", rebuild(v4_data, reserved=0x0F, flags=0xFF),
        "VALID (syntax): all 4 reserved bits and all 8 flags CWR ECE URG ACK PSH RST SYN FIN set; checksum correct")
    add("tcp-all-flags-reserved-v6", rebuild(v6_data, reserved=0x0F, flags=0xFF),
        "VALID (syntax): IPv6 variant of all reserved bits and all 8 flags set; checksum correct")
    add("tcp-no-flags", rebuild(v4_data, flags=0),
        "VALID (syntax): no flags at all (null segment); checksum correct")
    add("tcp-unknown-option-253",
        rebuild(v4_data, options=NOP + NOP + tcp_ts_option(v4_data) + b"\xfd\x06\xca\xfe\x00\x01" + NOP + NOP),
        "VALID: unknown/experimental option kind 253, length 6 (4 data bytes) after timestamps")
    add("tcp-eol-zero-padding",
        rebuild(v4_syn, options=opt_mss(1460) + b"\x00\x00\x00\x00" + b"\x00" * 4),
        "VALID: MSS then EOL followed by zero padding to a 12-byte option area")
    add("tcp-eol-then-garbage",
        rebuild(v4_syn, options=opt_mss(1460) + b"\x00" + b"\x02\x01\xff"),
        "VALID: bytes after EOL are padding and must be ignored even if they look like a bad option")
    add("tcp-max-options-nop",
        rebuild(v4_data, options=NOP * 40),
        "VALID: 40 bytes of NOP options (data offset 15)")
    return out


def _flip_tcp_checksum(pkt):
    hdr, seg = split(pkt)
    csum = struct.unpack("!H", seg[16:18])[0]
    seg[16:18] = struct.pack("!H", csum ^ 0x5A5A)
    return bytes(hdr + seg)


def _set_tcp_checksum(pkt, value):
    hdr, seg = split(pkt)
    seg[16:18] = struct.pack("!H", value)
    return bytes(hdr + seg)


# --------------------------------------------------------------------------
# Descriptions for the captured / injected seeds
# --------------------------------------------------------------------------

CAPTURED_DESC = {
    "kernel-{f}-syn.bin": "VALID: kernel SYN from an active connect() (MSS, SACK-permitted, TS, NOP, WS)",
    "injected-{f}-syn-ack.bin": "VALID: script's SYN-ACK to that SYN (MSS 1400, SACK-permitted, TS, NOP, WS 7)",
    "kernel-{f}-handshake-ack.bin": "VALID: kernel ACK completing its active open (NOP NOP TS)",
    "kernel-{f}-rst-linger0.bin": "VALID: kernel RST|ACK from close() with SO_LINGER {{1, 0}} (abortive close)",
    "injected-{f}-syn.bin": "VALID: script's SYN to the listener (MSS 1460, SACK-permitted, TS, NOP, WS 7)",
    "kernel-{f}-syn-ack.bin": "VALID: kernel SYN-ACK from a listening socket (MSS, SACK-permitted, TS, NOP, WS)",
    "injected-{f}-ack.bin": "VALID: script's ACK completing the handshake (NOP NOP TS)",
    "kernel-{f}-data.bin": "VALID: kernel PSH|ACK data segment \"hello, tcpcheck\\n\" with timestamps",
    "injected-{f}-data.bin": "VALID: script's PSH|ACK data segment \"hello, kernel\\n\" with timestamps",
    "kernel-{f}-ack.bin": "VALID: kernel pure ACK of the script's data (NOP NOP TS)",
    "injected-{f}-data-out-of-order.bin": "VALID: script's data segment sent beyond a 10-byte hole",
    "kernel-{f}-dup-ack-sack.bin": "VALID: kernel duplicate ACK carrying one SACK block (NOP NOP TS NOP NOP SACK)",
    "injected-{f}-data-fill-hole.bin": "VALID: script's data segment filling the hole",
    "kernel-{f}-ack-hole-filled.bin": "VALID: kernel ACK covering all data once the hole is filled",
    "kernel-{f}-fin.bin": "VALID: kernel FIN|ACK after shutdown(SHUT_WR) of the accepted socket",
    "injected-{f}-fin-ack.bin": "VALID: script's FIN|ACK acknowledging the kernel FIN",
    "kernel-{f}-ack-of-fin.bin": "VALID: kernel ACK of the script's FIN (connection enters TIME-WAIT)",
    "injected-{f}-data-unread.bin": "VALID: script's data segment that the application never reads",
    "kernel-{f}-rst-unread-data.bin": "VALID: kernel RST|ACK from close() of a socket with unread data",
    "injected-{f}-syn-closed-port.bin": "VALID: script's SYN (with options) to closed port 9",
    "kernel-{f}-rst-ack-closed-port.bin": "VALID: kernel RST|ACK (seq 0) answering a SYN to a closed port",
}


def captured_description(name):
    for fam in ("v4", "v6"):
        for pattern, desc in CAPTURED_DESC.items():
            if pattern.format(f=fam) == name:
                return "IP%s, %s" % (fam, desc.format(f=fam))
    raise CaptureError("no description for %s" % name)


def write_readme(out_dir, captured, malformed):
    lines = [
        "# Seed corpus: TCP/IP segment parser",
        "",
        "Generated by `corpus/tools/capture_segment_seeds.py` (run it as root; it",
        "works inside a private network namespace and never touches the host",
        "network). Do not edit the `.bin` files by hand: rerun the script, which",
        "overwrites them.",
        "",
        "Every `.bin` file is the raw bytes of one IP packet, starting with the",
        "IPv4 or IPv6 header (no link-layer header, no TUN packet-info prefix).",
        "",
        "* `kernel-*`: captured from the Linux kernel (%s) through a TUN device;"
        % os.uname().release,
        "  ISNs, timestamps, IPv4 IDs and IPv6 flow labels differ on every run.",
        "* `injected-*`: packets the script itself wrote into the TUN device while",
        "  playing the remote peer (192.0.2.2 / 2001:db8::2); fixed ports, ISNs,",
        "  payloads and TSvals (TSecr echoes the kernel).",
        "* `malformed-*`: derived deterministically from the captured packets.",
        "  Unless stated otherwise, every length and checksum except the described",
        "  defect is consistent. Some entries are unusual but VALID on purpose.",
        "",
        "## Captured and injected (all valid)",
        "",
    ]
    for name in sorted(captured):
        lines.append("- `%s` (%d bytes): %s" % (name, len(captured[name]), captured_description(name)))
    lines += ["", "## Malformed / edge cases", ""]
    for name in sorted(malformed):
        data, desc = malformed[name]
        lines.append("- `%s` (%d byte%s): %s" % (name, len(data), "" if len(data) == 1 else "s", desc))
    lines.append("")
    with open(os.path.join(out_dir, "README.md"), "w") as f:
        f.write("\n".join(lines))


def write_outputs(out_dir, captured, malformed):
    os.makedirs(out_dir, exist_ok=True)
    files = dict(captured)
    files.update({k: v[0] for k, v in malformed.items()})
    for name, data in files.items():
        tmp = os.path.join(out_dir, "." + name + ".tmp")
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, os.path.join(out_dir, name))
    # Remove stale seeds from earlier runs that this run no longer produces.
    for name in os.listdir(out_dir):
        if (name.endswith(".bin") and name.startswith(SEED_PREFIXES)
                and name not in files):
            os.unlink(os.path.join(out_dir, name))
    write_readme(out_dir, captured, malformed)
    return sorted(files)


def child_main(args):
    try:
        captured = capture_all()
        malformed = make_malformed(captured)
    except (CaptureError, OSError, subprocess.CalledProcessError) as exc:
        log("FAILED: %s" % exc)
        return 1
    names = write_outputs(args.out, captured, malformed)
    log("wrote %d seed files and README.md to %s" % (len(names), args.out))
    return 0


def main():
    default_out = os.path.normpath(os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "fuzz", "segment"))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=default_out,
                    help="output directory (default: %(default)s)")
    args = ap.parse_args()
    args.out = os.path.abspath(args.out)
    if CHILD_ENV in os.environ:
        return child_main(args)
    return reexec_in_private_netns(["--out", args.out])


if __name__ == "__main__":
    sys.exit(main())
