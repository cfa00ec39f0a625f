#!/usr/bin/env python3
"""What a busy client host does to a one-run-per-side comparison of the same storage.

Runs the real agent twice in a row on the same real filesystem (the shape of the test
`compare: two real agent runs of the same storage are not called a regression`: 8 s, 100 ops/s,
4 KiB, deliver/retrieve 60/40), each run beside a CPU load drawn at random (the load of a CI
host or a mail server's own work changes between runs), and judges the pair with `fwcanary
compare`. Prints, per pair, each side's CPU wait per operation (the records' cpu_run_delay_us:
how long the agent's threads waited for a CPU) and the verdict with its reason, then the
verdicts tallied by how much that differed.

  FWCANARY_BUILD=build bench/judge/host_load_pairs.py record DIR PAIRS SEED LOAD   into DIR (kept)
  bench/judge/host_load_pairs.py judge BUILD_DIR DIR [--fit]    judge every pair kept in DIR
LOAD: `hogs` (0-4 busy loops, drawn per run) or `mixed` (per run one of: nothing, gzip -9 of
random data on 1-3 threads, sha256sum of /dev/zero plus a busy loop, 2-4 sleeping/waking
python workers): the second is the load the first was fitted against, for validation.
`--fit` (judge with a build from before the widening) prints, per latency metric, the sd per
unit of CpuDelayShift difference that the pairs show beyond the judge's own noise (what
harness/judge/metrics.cc CpuDelayNoise holds). Nothing here is asserted: it is a measurement
(harness/judge/README.md has the table).
"""
import json
import math
import os
import random
import subprocess
import sys

SPEC = {"rate": 100, "duration_s": 8, "users": 10,
        "mix": {"deliver": 0.6, "retrieve": 0.4, "scan": 0},
        "size": {"dist": "fixed", "mean_bytes": 4096}}
LATENCY = ("p50", "p99", "p999")


def hogs(n):
    return [["sh", "-c", "while :; do :; done"]] * n


def mixed(rng):
    kind = rng.choice(["none", "gzip", "sha", "wakers"])
    if kind == "gzip":
        return kind, [["sh", "-c", "head -c 2000000000 /dev/urandom | gzip -9 > /dev/null"]] * rng.randint(1, 3)
    if kind == "sha":
        return kind, [["sha256sum", "/dev/zero"], ["sh", "-c", "while :; do :; done"]]
    if kind == "wakers":
        code = "import time\nwhile True:\n  t=time.time()\n  while time.time()-t<0.004: pass\n  time.sleep(0.002)"
        return kind, [["python3", "-c", code]] * rng.randint(2, 4)
    return kind, []


def cpu_delay_per_op(path):
    """The agent's wait for a CPU per operation over the run (us): the records' cpu_run_delay_us
    over their operations, as the judge takes it (None when the agent could not read it)."""
    delay = ops = 0.0
    with open(path, encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            if rec.get("type") != "interval":
                continue
            if "cpu_run_delay_us" not in rec:
                return None
            delay += rec["cpu_run_delay_us"]
            ops += sum(st.get("count", 0) for st in rec.get("ops", {}).values())
    return delay / ops if ops else None


def summary_latency(path, cls, metric):
    """The run's whole-run quantile of a class from its summary record (us)."""
    with open(path, encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            if rec.get("type") == "summary":
                return rec["ops"][cls][metric + "_us"]
    return None


def shift(delay_us, latency_us):
    """harness/judge/metrics.cc CpuDelayShift: ln(1 + delay / latency)."""
    return math.log1p(max(delay_us, 0.0) / max(latency_us, 1.0))


def run_agent(agent, workdir, out, load):
    procs = [subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for cmd in load]
    try:
        with open(out, "w", encoding="utf-8") as f:
            subprocess.run([agent, "--spec", "-", "--workdir", workdir, "--node", "node-1"],
                           input=json.dumps(SPEC), text=True, stdout=f, stderr=subprocess.DEVNULL,
                           check=True, timeout=120)
    finally:
        for p in procs:
            p.kill()
            p.wait()
        subprocess.run(["pkill", "-f", "head -c 2000000000 /dev/urandom"], check=False)


def record(build, out_dir, pairs, seed, load):
    rng = random.Random(seed)
    agent = os.path.join(build, "bin", "fwcanary-agent")
    os.makedirs(out_dir, exist_ok=True)
    for i in range(pairs):
        sides = []
        for side in "ab":
            if load == "hogs":
                n = rng.randint(0, 4)
                what, cmds = f"hogs{n}", hogs(n)
            else:
                what, cmds = mixed(rng)
            path = os.path.join(out_dir, f"{seed}-{i}-{side}.jsonl")
            run_agent(agent, os.path.join(out_dir, f"w{seed}-{i}-{side}"), path, cmds)
            subprocess.run([agent, "--workdir", os.path.join(out_dir, f"w{seed}-{i}-{side}"), "--cleanup"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
            sides.append(what)
        with open(os.path.join(out_dir, "pairs.txt"), "a", encoding="utf-8") as f:
            f.write(f"{seed}-{i} {sides[0]} {sides[1]}\n")
        print(f"recorded pair {seed}-{i}: {sides[0]} / {sides[1]}", flush=True)


def judge(build, out_dir, fit):
    fwcanary = os.path.join(build, "bin", "fwcanary")
    rows = []
    for line in open(os.path.join(out_dir, "pairs.txt"), encoding="utf-8"):
        pid, la, lb = line.split()
        a, b = os.path.join(out_dir, pid + "-a.jsonl"), os.path.join(out_dir, pid + "-b.jsonl")
        r = subprocess.run([fwcanary, "compare", a, b, "--json"], capture_output=True, text=True,
                           check=False, timeout=120)
        doc = json.loads(r.stdout) if r.stdout.strip().startswith("{") else {}
        pa, pb = cpu_delay_per_op(a), cpu_delay_per_op(b)
        rows.append({"pair": pid, "delay": (pa, pb), "verdict": doc.get("verdict", "ERROR"), "a": a,
                     "reason": doc.get("reason", r.stderr.strip()[:160]), "metrics": doc.get("metrics", [])})
        fmt = lambda p: "-" if p is None else f"{p:6.0f}"
        print(f"pair {pid:6} {la:7}/{lb:7} CPU wait/op {fmt(pa)}/{fmt(pb)} us  {rows[-1]['verdict']:12} "
              f"{rows[-1]['reason'][:140]}")
    total = {v: sum(1 for r in rows if r["verdict"] == v) for v in ("PASS", "INCONCLUSIVE", "FAIL", "ERROR")}
    print(f"\n{len(rows)} pairs: {total}")
    print("verdicts by the ratio of the sides' CPU wait per operation:")
    for lo, hi in ((1, 2), (2, 5), (5, 1e9)):
        sel = [r for r in rows if None not in r["delay"] and min(r["delay"]) > 0
               and lo <= max(r["delay"]) / min(r["delay"]) < hi]
        tally = {v: sum(1 for r in sel if r["verdict"] == v) for v in ("PASS", "INCONCLUSIVE", "FAIL")}
        print(f"  ratio {lo:g}-{hi:g}x: {len(sel):3} pairs, {tally}")
    if fit:
        print("fit: effect^2 - se^2 ~ (c * dx)^2, dx the difference of ln(1 + CPU wait per op / latency)")
        for metric in LATENCY:
            num = den = 0.0
            n = 0
            for r in rows:
                if None in r["delay"]:
                    continue
                for m in r["metrics"]:
                    vb = m.get("vs_baseline")
                    if m["metric"] != metric or m["class"] not in ("deliver", "retrieve") or not vb:
                        continue
                    lat = summary_latency(r["a"], m["class"], metric)
                    dw = abs(shift(r["delay"][1], lat) - shift(r["delay"][0], lat))
                    if dw < 0.05:
                        continue
                    e = math.log1p(vb["effect"])
                    se = (math.log1p(vb["high"]) - math.log1p(vb["low"])) / (2 * 1.645)
                    num += e * e - se * se  # se: within and the prior (the judge without widening)
                    den += dw * dw
                    n += 1
            c = math.sqrt(max(num, 0) / den) if den > 0 else float("nan")
            print(f"  {metric}: c = {c:.2f} over {n} comparisons")


def main():
    if len(sys.argv) >= 6 and sys.argv[1] == "record":
        record(os.environ.get("FWCANARY_BUILD", "build"), sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
    elif len(sys.argv) >= 4 and sys.argv[1] == "judge":
        judge(sys.argv[2], sys.argv[3], "--fit" in sys.argv)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
