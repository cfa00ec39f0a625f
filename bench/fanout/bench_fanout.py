#!/usr/bin/env python3
"""bench/fanout: `fwcanary exec` vs `parallel-ssh` running one command on N SSH nodes.

Both tools reach the same nodes with the same key, the same known_hosts (strict checking) and
32 connections at once, and run the same command (`fwsim-node version`: a round trip to the
node). Each measurement is repeated; the median wall time and the peak RSS are printed, with
the ratio. parallel-ssh runs one `ssh` process per connection: its memory is the Python
parent's peak plus ~one ssh per concurrent node (sampled from /proc while it runs).

  bench_fanout.py BIN_DIR N [N ...]
"""
import os
import statistics
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LAB = "/var/tmp/fwcanary-bench-fanout"
NET = "127.0.60"
SSHDS = 10
CONCURRENCY = 32
REPEATS = 3
COMMAND = "fwsim-node version"


def sh(args, **kw):
    return subprocess.run(args, check=True, capture_output=True, text=True, **kw)


def lab_env(bin_dir):
    env = dict(os.environ, FWCANARY_LAB=LAB, FWCANARY_BIN=os.path.abspath(bin_dir))
    env.pop("SSH_AUTH_SOCK", None)
    return env


def write_inventory(n):
    """N entries over the lab's 10 sshds, with the vars the demo scenario's templates use."""
    path = f"{LAB}/bench-inventory-{n}.yaml"
    with open(path, "w", encoding="utf-8") as f:
        f.write("all:\n  vars:\n    ansible_user: fwlab\n  hosts:\n")
        for k in range(1, n + 1):
            i = (k - 1) % SSHDS + 1
            d = f"{LAB}/nodes/node-{i}"
            f.write(f"    bench-{k}:\n      ansible_host: {NET}.{i}\n      workdir: {d}/mnt/mail\n"
                    f"      agent_path: {d}/sys/fwcanary-agent\n      fwsim_dir: {d}\n      state_dir: {d}/sys\n")
    return path


def write_scenario():
    text = open(os.path.join(ROOT, "scenarios/demo.yaml"), encoding="utf-8").read()
    text = text.replace("  concurrency: 8\n", f"  concurrency: {CONCURRENCY}\n")
    path = f"{LAB}/bench-scenario.yaml"
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


def tree_rss_kib(pid):
    """Sum of VmRSS over `pid` and its descendants (KiB)."""
    children = {}
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open(f"/proc/{p}/stat", encoding="utf-8") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(p))
        except (OSError, ValueError, IndexError):
            pass
    total, todo = 0, [pid]
    while todo:
        q = todo.pop()
        todo += children.get(q, [])
        try:
            with open(f"/proc/{q}/status", encoding="utf-8") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def measure(args, env):
    """Wall seconds and the peak RSS of the whole process tree (KiB), sampled every 20 ms."""
    start = time.monotonic()
    p = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = [0]

    def sample():
        while p.poll() is None:
            peak[0] = max(peak[0], tree_rss_kib(p.pid))
            time.sleep(0.02)

    t = threading.Thread(target=sample)
    t.start()
    out, err = p.communicate()
    wall = time.monotonic() - start
    t.join()
    return wall, peak[0], p.returncode, out, err


def main():
    bin_dir, ns = sys.argv[1], [int(x) for x in sys.argv[2:]]
    env = lab_env(bin_dir)
    labctl = os.path.join(ROOT, "lab/labctl")
    subprocess.run([labctl, "down"], env=env, capture_output=True)
    sh([labctl, "up", str(SSHDS), "--net", NET], env=env)
    fwcanary = os.path.join(bin_dir, "fwcanary")
    scenario = write_scenario()
    ssh_opts = (f"-i {LAB}/client/id_ed25519 -o IdentitiesOnly=yes -o UserKnownHostsFile={LAB}/known_hosts "
                "-o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes -o BatchMode=yes")
    rows, commands = [], []
    try:
        for n in ns:
            inventory = write_inventory(n)
            hosts = f"{LAB}/bench-hosts-{n}.txt"
            with open(hosts, "w", encoding="utf-8") as f:
                for k in range(1, n + 1):
                    f.write(f"fwlab@{NET}.{(k - 1) % SSHDS + 1}\n")
            ours = [fwcanary, "exec", scenario, "--inventory", inventory, "--", COMMAND]
            theirs = ["parallel-ssh", "-h", hosts, "-p", str(CONCURRENCY), "-t", "60", "-x", ssh_opts, COMMAND]
            commands += [" ".join(ours), " ".join(theirs[:-1]) + f" '{COMMAND}'"]
            res = {"ours": [], "theirs": []}
            for _ in range(REPEATS):
                for name, args in (("ours", ours), ("theirs", theirs)):
                    wall, rss, rc, out, err = measure(args, env)
                    if rc != 0:
                        sys.exit(f"{args[0]} failed (exit {rc}) at N={n}:\n{out[-2000:]}\n{err[-2000:]}")
                    res[name].append((wall, rss))
            ow = statistics.median(w for w, _ in res["ours"])
            tw = statistics.median(w for w, _ in res["theirs"])
            orss = max(r for _, r in res["ours"])
            trss = max(r for _, r in res["theirs"])
            rows.append((n, ow, tw, orss, trss))
    finally:
        subprocess.run([labctl, "down"], env=env, capture_output=True)

    print(f"one command on N nodes ({SSHDS} sshds, {CONCURRENCY} at once, median of {REPEATS}):")
    print(f"{'N':>5} {'fwcanary s':>11} {'pssh s':>8} {'time ratio':>11} {'fwcanary RSS':>13} {'per node':>9} {'pssh tree RSS':>14}")
    for n, ow, tw, orss, trss in rows:
        print(f"{n:>5} {ow:>11.2f} {tw:>8.2f} {'x%.2f' % (ow / tw):>11} {orss / 1024:>10.1f} MiB {orss / n:>6.0f} KiB "
              f"{trss / 1024:>10.1f} MiB")
    print("time ratio < 1: fwcanary faster. RSS: the whole process tree at its peak.")
    print("commands:")
    for c in commands:
        print("  " + c)


if __name__ == "__main__":
    main()
