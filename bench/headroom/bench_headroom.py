"""The ramp's cost against a closed-loop maximum search with fio, on the same lab node.

Per image, a fresh one-node lab (lab/labctl up 1, 4 GiB node, net 127.0.61):
  * ramp: the real agent over SSH, the demo's mail workload (30 msg/s, 50 users, lognormal 30 kB
    messages, 16 workers) climbing 1, 1.5, 2, 3, 4, 6, 8x in 5 s steps; the agent stops past the
    knee (agents/records/ramp_knee.h). Reported: the knee (the last step kept up, from the
    agent's "past the knee at" line) and the wall time from start to exit.
  * fio: what a storage team does without a ramp: a closed-loop search for the node's maximum,
    random 32 KiB writes with an fsync after each (psync, the mail path's unit of work), 5 s
    per run, doubling numjobs (1, 2, 4, ...) until the IOPS gain is under 5%. Reported: the
    maximum, the jobs it took, and the wall time of the whole search (file layout included).
They answer different questions: the ramp gives the mail rate at which this node stops keeping
up (what the scenario's surge is judged against); fio gives an I/O maximum with no mail rate
and no knee. The point here is the cost: seconds to an answer, side by side.
"""
import json
import os
import re
import subprocess
import sys
import time

NET = "127.0.61"
LAB = "/var/tmp/fwcanary-bench-headroom"
STEPS = [1, 1.5, 2, 3, 4, 6, 8]
SPEC = {"rate": 30, "users": 50, "workers": 16,
        "size": {"dist": "lognormal", "mean_bytes": 30000, "sigma": 1.0},
        "phases": [{"name": "ramp", "duration_s": 5 * len(STEPS), "steps": STEPS, "step_s": 5}]}


def labctl(*args, check=True):
    env = dict(os.environ, FWCANARY_LAB=LAB)
    return subprocess.run(["lab/labctl", *args], env=env, capture_output=True, text=True, check=check)


def ssh(command, stdin_text=None, timeout=600):
    return subprocess.run(["ssh", "-F", f"{LAB}/ssh_config", "node-1", command], input=stdin_text,
                          capture_output=True, text=True, timeout=timeout, check=False)


def ramp(node_dir):
    t0 = time.monotonic()
    r = ssh(f"fwcanary-agent --spec - --workdir {node_dir}/mnt/ramp --node node-1 --cleanup",
            json.dumps(SPEC))
    wall = time.monotonic() - t0
    if r.returncode != 0:
        raise SystemExit(f"agent failed ({r.returncode}): {r.stderr[-1500:]}")
    m = re.search(r"past the knee at ([0-9.]+)x", r.stderr)
    if not m:
        return f"at least {STEPS[-1]:g}x (kept up at every step)", wall
    past = float(m.group(1))
    i = STEPS.index(past) if past in STEPS else -1
    knee = f"{STEPS[i - 1]:g}x" if i > 0 else "none (not even 1x)"
    return f"{knee} ({SPEC['rate'] * STEPS[i - 1] if i > 0 else 0:g} msg/s)", wall


def fio_search(node_dir):
    t0 = time.monotonic()
    best, best_jobs, jobs, runs = 0.0, 0, 1, 0
    while jobs <= 64:
        cmd = (f"fio --name=mail --directory={node_dir}/mnt --rw=randwrite --bs=32k --size=32m "
               f"--fsync=1 --ioengine=psync --time_based --runtime=5 --numjobs={jobs} "
               f"--group_reporting --output-format=json")
        r = ssh(cmd, timeout=120)
        runs += 1
        if r.returncode != 0:
            raise SystemExit(f"fio failed ({r.returncode}): {r.stderr[-1500:]}")
        iops = json.loads(r.stdout[r.stdout.index("{"):])["jobs"][0]["write"]["iops"]
        if iops < best * 1.05:
            break
        best, best_jobs = iops, jobs
        jobs *= 2
    ssh(f"rm -f {node_dir}/mnt/mail.*")
    return f"{best:,.0f} IOPS at {best_jobs} job(s), {runs} runs", time.monotonic() - t0


def main():
    images = sys.argv[1:] or ["1.0", "2.0-surge-collapse"]
    rows = []
    for image in images:
        labctl("down", check=False)
        labctl("up", "1", "--net", NET, "--image", image)
        try:
            node_dir = f"{LAB}/nodes/node-1"
            knee, ramp_s = ramp(node_dir)
            fio_max, fio_s = fio_search(node_dir)
            rows.append((image, knee, ramp_s, fio_max, fio_s))
            print(f"{image}: ramp {knee} in {ramp_s:.0f} s; fio {fio_max} in {fio_s:.0f} s", flush=True)
        finally:
            labctl("down", check=False)
    print("\n| image | ramp: knee | ramp: seconds | fio: closed-loop maximum | fio: seconds | ramp / fio time |")
    print("|---|---|---|---|---|---|")
    for image, knee, ramp_s, fio_max, fio_s in rows:
        print(f"| {image} | {knee} | {ramp_s:.0f} | {fio_max} | {fio_s:.0f} | x{ramp_s / fio_s:.2f} |")


if __name__ == "__main__":
    main()
