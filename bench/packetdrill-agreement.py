#!/usr/bin/env python3
"""Agreement between packetdrill and tcpcheck on a packetdrill corpus, script by script.

Runs every script of CORPUS (for example packetdrill's gtests/net/tcp) under both tools, each
over IPv4 and IPv6 as packetdrill's own run_all.py would choose them (a script named *v6.pkt
runs only over IPv6, *v4.pkt only over IPv4), and prints:

  - the agreement table: both pass, both fail, packetdrill only, tcpcheck only;
  - for every script packetdrill passes and tcpcheck does not, tcpcheck's first blocker
    (the first line of its error, or its first divergence), and a count of blockers by kind;
  - for every script tcpcheck passes and packetdrill fails, why packetdrill failed, found by
    running it again (alone; with the script's own addresses) or from its output (a program
    its commands need that is not installed);
  - each tool's fixed overhead per script, on the scripts both pass: its wall time for the
    script less the script's own timeline (which tcpcheck reports as script_ms), median and
    mean, and their ratio.

packetdrill runs as run_all.py runs it (its IP addresses unless the script sets its own,
-D definitions and --mtu=1520 for IPv6), each script in a fresh network namespace of its
own (`unshare --net`), from the script's own directory. Its TCP sockets are switched to CUBIC by an LD_PRELOAD shim built
from bench/cc-cubic.c, because the scripts assume CUBIC and a namespace may not choose it as
its default (see the shim). tcpcheck runs once per IP version over the same list of scripts,
with --allow-shell (the scripts source defaults.sh), the same -D definitions (TFO_COOKIE
for its own addresses) and --format json.

Nothing here changes the host: namespaces end with their process, the shim and logs live in a
temporary directory removed at exit.

Usage: bench/packetdrill-agreement.py --packetdrill PATH/packetdrill CORPUS
           [--tcpcheck target/release/tcpcheck] [--ip 4|6|both] [--jobs N] [--timeout S]
           [--json OUT]
"""
import argparse
import collections
import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

# run_all.py's settings per IP version (facts about how packetdrill's corpus expects to run).
PACKETDRILL_ARGS = {
    4: ["--ip_version=ipv4", "--local_ip=192.168.0.1", "--gateway_ip=192.168.0.1",
        "--netmask_ip=255.255.0.0", "--remote_ip=192.0.2.1",
        "-D", "TFO_COOKIE=3021b9d889017eeb", "-D", "CODE=host_unreachable",
        "-D", "CMSG_LEVEL_IP=SOL_IP", "-D", "CMSG_TYPE_RECVERR=IP_RECVERR"],
    6: ["--ip_version=ipv6", "--mtu=1520", "--local_ip=fd3d:0a0b:17d6::1",
        "--gateway_ip=fd3d:0a0b:17d6:8888::1", "--remote_ip=fd3d:fa7b:d17d::1",
        "-D", "TFO_COOKIE=c1d1e9742a47a9bc",
        "-D", "CMSG_LEVEL_IP=SOL_IPV6", "-D", "CMSG_TYPE_RECVERR=IPV6_RECVERR"],
}

# TFO_COOKIE is the Fast Open cookie Linux gives the script's remote address at its local one
# under defaults.sh's key (a1a1a1a1-b2b2b2b2-c3c3c3c3-d4d4d4d4): SipHash-2-4 of the two
# addresses (tcp_fastopen.c; model/src/conn/fast_open.rs linux_cookie). run_all.py's values
# are those of packetdrill's addresses (192.0.2.1 to 192.168.0.1, fd3d:fa7b:d17d::1 to
# fd3d:a0b:17d6::1). tcpcheck's sandbox plays the remote at 192.0.2.2 and 2001:db8::2 to the
# kernel's 192.0.2.1 and 2001:db8::1, where the same key gives these: with packetdrill's
# value every server script's SYN would carry a cookie the kernel rejects.
TCPCHECK_TFO_COOKIE = {4: "b3f936a51baeaf84", 6: "8be6ff5e4aed4d6c"}

# run_all.py's address options. packetdrill lets its command line override a script's own
# options (config.c parse_and_finalize_config()), so a script that sets its own addresses
# (fastopen/server/simple*.pkt, whose cookies are computed for them) would run at run_all.py's
# instead and fail on the cookie. tcpcheck has no address options on its command line and
# uses the script's; for the same run, packetdrill gets these only when the script does not
# set its own of the run's family (an IPv4 address in an IPv6 run is overridden, as before).
ADDRESS_OPTIONS = ("--local_ip=", "--remote_ip=", "--gateway_ip=", "--netmask_ip=")


def own_addresses(script, ip):
    try:
        with open(script, errors="replace") as f:
            values = [line.split("=", 1)[1].split()[0] for line in f
                      if line.startswith(("--local_ip=", "--remote_ip="))]
    except (OSError, IndexError):
        return False
    return bool(values) and all((":" in v) == (ip == 6) for v in values)


def fail(msg):
    print(f"packetdrill-agreement: {msg}", file=sys.stderr)
    sys.exit(2)


def scripts_of(corpus, ip):
    out = []
    for root, _dirs, files in os.walk(corpus):
        for f in files:
            if not f.endswith(".pkt"):
                continue
            if ip == 4 and f.endswith("v6.pkt"):
                continue
            if ip == 6 and f.endswith("v4.pkt"):
                continue
            out.append(os.path.realpath(os.path.join(root, f)))
    return sorted(out)


def build_shim(tmp):
    src = os.path.join(os.path.dirname(os.path.realpath(__file__)), "cc-cubic.c")
    so = os.path.join(tmp, "cc-cubic.so")
    cc = shutil.which("cc") or shutil.which("gcc")
    if not cc:
        fail("a C compiler (cc) is needed to build the CUBIC shim bench/cc-cubic.c")
    subprocess.run([cc, "-shared", "-fPIC", "-O2", "-o", so, src, "-ldl"], check=True)
    return so


def run_packetdrill(binary, shim, script, ip, timeout, args=None):
    # lo up first: packetdrill's own netns wrapper does the same.
    if args is None:
        args = PACKETDRILL_ARGS[ip]
        if own_addresses(script, ip):
            args = [a for a in args if not a.startswith(ADDRESS_OPTIONS)]
    cmd = ["unshare", "--net", "sh", "-c", 'ip link set lo up && exec "$@"', "sh", binary,
           "--send_omit_free", *args, os.path.basename(script)]
    env = dict(os.environ, LD_PRELOAD=shim)
    start = time.monotonic()
    try:
        p = subprocess.run(cmd, cwd=os.path.dirname(script), env=env, capture_output=True,
                           text=True, timeout=timeout)
        rc, err = p.returncode, (p.stderr or "") + (p.stdout or "")
    except subprocess.TimeoutExpired:
        rc, err = -1, f"timed out after {timeout} s"
    wall = time.monotonic() - start
    first = ""
    for line in err.splitlines():
        if "error" in line.lower() or "fail" in line.lower() or "timed out" in line:
            first = line.strip()
            break
    missing = sorted(set(re.findall(r"(\S+): (?:command )?not found", err)))
    return {"pass": rc == 0, "first": first or (err.strip().splitlines() or [""])[-1],
            "wall_s": wall, "missing": missing}


def without_addresses(ip):
    """run_all.py's arguments for `ip` less its --local_ip and --remote_ip."""
    return [a for a in PACKETDRILL_ARGS[ip]
            if not a.startswith(("--local_ip=", "--remote_ip=", "--gateway_ip=",
                                 "--netmask_ip="))]


def why_packetdrill_failed(binary, shim, script, ip, timeout, first_run, jiffy_s):
    """For a script tcpcheck passes and packetdrill failed: why, found by running packetdrill
    again. Alone and passing, its failure depended on the load; passing with the script's
    own --local_ip/--remote_ip, run_all.py's command line (which overrides them) was the
    cause; a program its commands run that is not installed is named."""
    r = first_run
    for attempt in range(2):
        r = run_packetdrill(binary, shim, script, ip, timeout)
        if r["pass"]:
            return (f"packetdrill passes run again alone (attempt {attempt + 1}): its failure "
                    f"depended on the machine's load")
    m = re.search(r"timing error: expected .* at ([\d.]+) sec but happened at ([\d.]+) sec; "
                  r"tolerance ([\d.]+) sec", r["first"])
    if m:
        want, got, tol = (float(x) for x in m.groups())
        beyond = abs(got - want) - tol
        if 0 < beyond <= jiffy_s:
            return (f"packetdrill fails every time by {beyond * 1e3:.1f} ms beyond its "
                    f"tolerance of {tol * 1e3:.1f} ms, within one jiffy ({jiffy_s * 1e3:.0f} "
                    f"ms): the kernel's timers fire on jiffies, and tcpcheck's tolerance "
                    f"includes the timer wheel's granularity")
    with open(script, errors="replace") as f:
        text = f.read()
    if re.search(r"^--(local|remote)_ip=", text, re.M):
        r = run_packetdrill(binary, shim, script, ip, timeout, without_addresses(ip))
        if r["pass"]:
            return ("packetdrill passes with the script's own --local_ip/--remote_ip, which "
                    "run_all.py's command line overrides")
    if first_run.get("missing"):
        return (f"not installed here: {', '.join(first_run['missing'])} (a command of the "
                f"script fails, and packetdrill runs on without its effect)")
    return "packetdrill fails every time: " + first_run["first"]


def blocker_of(scenario):
    if scenario.get("error"):
        return scenario["error"].splitlines()[0]
    d = scenario.get("first_divergence") or {}
    if d:
        return f"line {d.get('line')}: expected {d.get('expected')}; {d.get('actual')}"
    return scenario.get("verdict", "?")


def definitions(ip):
    """run_all.py's -D arguments for this IP version, as tcpcheck's own -D (TFO_COOKIE for
    tcpcheck's addresses)."""
    args = PACKETDRILL_ARGS[ip]
    defs = [x for i, x in enumerate(args) if i > 0 and args[i - 1] == "-D"]
    return [f"TFO_COOKIE={TCPCHECK_TFO_COOKIE[ip]}" if d.startswith("TFO_COOKIE=") else d
            for d in defs]


def run_tcpcheck(binary, scripts, ip, jobs, timeout):
    defines = [a for d in definitions(ip) for a in ("-D", d)]
    cmd = [binary, "run", "--allow-shell", "--format", "json", "--ip", str(ip),
           "--jobs", str(jobs), *defines, *scripts]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        fail(f"tcpcheck did not finish the IPv{ip} run within {timeout} s")
    try:
        report = json.loads(p.stdout)
    except json.JSONDecodeError:
        fail(f"tcpcheck's IPv{ip} output is not JSON (exit {p.returncode}):\n"
             f"{p.stderr.strip()[:2000]}")
    out = {}
    for s in report.get("scenarios", []):
        path = os.path.realpath(s["path"])
        out[path] = {"pass": s["verdict"] == "pass", "verdict": s["verdict"],
                     "first": blocker_of(s), "ms": s.get("duration_ms", 0.0),
                     "script_ms": s.get("script_ms")}
    return out


def kind_of(blocker):
    """A blocker reduced to its kind, so the summary can count alike ones together."""
    b = re.sub(r"^\S+\.pkt:\d+:\d+: ", "", blocker)
    b = re.sub(r"\d+", "N", b)
    return b[:90]


def overhead(rows):
    """Each tool's fixed cost per script, on the scripts both pass: wall time less the
    script's own timeline (tcpcheck's script_ms, the same for both tools)."""
    pd, tc = [], []
    for x in rows:
        t = x["tcpcheck"]
        if not (x["packetdrill"]["pass"] and t["pass"]) or t.get("script_ms") is None:
            continue
        script_s = t["script_ms"] / 1e3
        pd.append(max(x["packetdrill"]["wall_s"] - script_s, 0.0))
        tc.append(max(t["ms"] / 1e3 - script_s, 0.0))
    if not pd:
        return
    med = lambda v: sorted(v)[len(v) // 2]
    mean = lambda v: sum(v) / len(v)
    print(f"  fixed overhead per script, on the {len(pd)} both pass (wall time less the "
          f"script's timeline):")
    print(f"    packetdrill: median {med(pd) * 1e3:8.1f} ms, mean {mean(pd) * 1e3:8.1f} ms")
    print(f"    tcpcheck:    median {med(tc) * 1e3:8.1f} ms, mean {mean(tc) * 1e3:8.1f} ms")
    if med(tc) > 0 and mean(tc) > 0:
        print(f"    ratio packetdrill/tcpcheck: median {med(pd) / med(tc):.1f}x, "
              f"mean {mean(pd) / mean(tc):.1f}x")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpus")
    ap.add_argument("--packetdrill", required=True, help="a packetdrill binary")
    ap.add_argument("--tcpcheck", default=None, help="default: target/release/tcpcheck")
    ap.add_argument("--ip", choices=["4", "6", "both"], default="both")
    ap.add_argument("--jobs", type=int, default=8)
    ap.add_argument("--timeout", type=int, default=600, help="seconds per packetdrill script")
    ap.add_argument("--json", help="write every script's two verdicts here")
    ap.add_argument("--jiffy-ms", type=float, default=4.0,
                    help="the kernel's timer tick (1000/CONFIG_HZ), for explaining "
                         "packetdrill's timing errors; default 4 (HZ=250)")
    a = ap.parse_args()
    if a.jobs < 1:
        fail("--jobs must be at least 1")
    if not os.path.isdir(a.corpus):
        fail(f"{a.corpus}: not a directory")
    if not os.access(a.packetdrill, os.X_OK):
        fail(f"{a.packetdrill}: not an executable packetdrill")
    repo = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
    tcpcheck = a.tcpcheck or os.path.join(repo, "target", "release", "tcpcheck")
    if not os.access(tcpcheck, os.X_OK):
        fail(f"{tcpcheck}: not found; build it with `cargo build --release` or pass --tcpcheck")
    ips = [4, 6] if a.ip == "both" else [int(a.ip)]

    tmp = tempfile.mkdtemp(prefix="pd-agreement-")
    try:
        shim = build_shim(tmp)
        rows = []
        for ip in ips:
            scripts = scripts_of(a.corpus, ip)
            if not scripts:
                fail(f"{a.corpus}: no .pkt scripts for IPv{ip}")
            with concurrent.futures.ThreadPoolExecutor(a.jobs) as pool:
                pd = dict(zip(scripts, pool.map(
                    lambda s: run_packetdrill(a.packetdrill, shim, s, ip, a.timeout), scripts)))
            tc = run_tcpcheck(tcpcheck, scripts, ip, a.jobs, a.timeout * 4)
            for s in scripts:
                t = tc.get(s, {"pass": False, "verdict": "missing",
                               "first": "not in tcpcheck's report", "ms": 0.0})
                rows.append({"script": os.path.relpath(s, a.corpus), "ip": ip,
                             "packetdrill": pd[s], "tcpcheck": t})
        # Why packetdrill failed where tcpcheck passed, one script at a time (no load).
        for x in rows:
            if x["tcpcheck"]["pass"] and not x["packetdrill"]["pass"]:
                x["why"] = why_packetdrill_failed(
                    a.packetdrill, shim, os.path.join(os.path.realpath(a.corpus), x["script"]),
                    x["ip"], a.timeout, x["packetdrill"], a.jiffy_ms / 1e3)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    for ip in ips:
        r = [x for x in rows if x["ip"] == ip]
        both = sum(x["packetdrill"]["pass"] and x["tcpcheck"]["pass"] for x in r)
        none = sum(not x["packetdrill"]["pass"] and not x["tcpcheck"]["pass"] for x in r)
        pd_only = [x for x in r if x["packetdrill"]["pass"] and not x["tcpcheck"]["pass"]]
        tc_only = [x for x in r if not x["packetdrill"]["pass"] and x["tcpcheck"]["pass"]]
        pd_pass = both + len(pd_only)
        print(f"\nIPv{ip}: {len(r)} scripts; packetdrill passes {pd_pass}, "
              f"tcpcheck passes {both + len(tc_only)} ({both} of packetdrill's {pd_pass})")
        print(f"  {'both pass':<18}{both:>5}")
        print(f"  {'both fail':<18}{none:>5}")
        print(f"  {'packetdrill only':<18}{len(pd_only):>5}")
        print(f"  {'tcpcheck only':<18}{len(tc_only):>5}")
        kinds = collections.Counter(kind_of(x["tcpcheck"]["first"]) for x in pd_only)
        if kinds:
            print("  tcpcheck's first blockers where packetdrill passes, by kind:")
            for k, n in kinds.most_common():
                print(f"    {n:>4}  {k}")
            print("  script by script:")
            for x in pd_only:
                print(f"    {x['script']}: [{x['tcpcheck']['verdict']}] {x['tcpcheck']['first']}")
        for x in tc_only:
            print(f"  tcpcheck only: {x['script']} (packetdrill: {x['packetdrill']['first']})")
            print(f"    why: {x.get('why', '?')}")
        overhead(r)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
