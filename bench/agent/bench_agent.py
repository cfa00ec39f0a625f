"""Agent vs postmark vs fio on the same directory, in the same run. Prints ratios.

Two comparisons, each on tmpfs (exposes the generator's own CPU cost) and on the real disk:
  * postmark-like: no fsync, 16 KiB messages, deliver/retrieve 50/50, one worker.
  * fio-like: fsync on, 16 KiB messages, one deliver and one retrieve thread. fio's write job
    creates each file anew (create_on_open, and unlink_each_loop removes its 1000 files after
    every pass: create, write, fsync, unlink, the life of a queue file) instead of overwriting
    files that already exist, the closest fio comes to a delivery (it cannot rename).
What one operation is differs by tool, so three figures are printed per tool:
  ops/s and CPU/op   agent: deliveries + retrieves; postmark: files created + files read;
                     fio: fsyncs of the write job + reads of the read job
  syscalls/op        from a second, short run under `strace -f -c`: how much work one
                     operation asks of the kernel (a Maildir delivery is ~2.5x a postmark create)
  CPU/syscall        the generator's overhead normalised by that work
CPU = user + system time of the tool's process tree (getrusage of children).
"""
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

AGENT = os.path.abspath(sys.argv[1])
SECS = float(sys.argv[2])
SIZE = 16384
COMMANDS = []


def run(cmd, stdin_text=None, strace=False):
    """Runs cmd; returns (stdout, wall seconds, (user, system) cpu seconds, syscalls or None)."""
    trace = None
    if strace:
        trace = tempfile.NamedTemporaryFile(mode="r", suffix=".strace")
        cmd = ["strace", "-f", "-c", "-o", trace.name] + cmd
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    p = subprocess.run(cmd, input=stdin_text, capture_output=True, text=True)
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        raise SystemExit(f"{cmd[0]} failed ({p.returncode}): {p.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime)
    calls = None
    if trace:
        for ln in trace.read().splitlines():
            if ln.strip().endswith("total"):
                calls = int(ln.split()[3])
        trace.close()
    return p.stdout, wall, cpu, calls


def agent(directory, fsync, concurrency, secs, strace=False):
    spec = {"concurrency": concurrency, "duration_s": secs, "users": 100,
            "mix": {"deliver": 0.5, "retrieve": 0.5, "scan": 0},
            "size": {"dist": "fixed", "mean_bytes": SIZE},
            "fsync": fsync, "dir_fsync": fsync, "cold_read": False, "verify_at_end": False,
            "queue_minfree_bytes": 0}
    work = os.path.join(directory, "agent")
    cmd = [AGENT, "--spec", "-", "--workdir", work]
    out, wall, cpu, calls = run(cmd, json.dumps(spec), strace)
    s = json.loads(out.strip().splitlines()[-1])
    split = (s["ops"]["deliver"]["count"], s["ops"]["retrieve"]["count"])
    subprocess.run([AGENT, "--workdir", work, "--cleanup"], check=True, capture_output=True)
    if not strace:
        COMMANDS.append(" ".join(cmd) + " <<< '" + json.dumps(spec) + "'")
    return sum(split), s["duration_s"], cpu, calls, split


def postmark(directory, transactions, strace=False):
    loc = os.path.join(directory, "postmark")
    os.makedirs(loc, exist_ok=True)
    script = (f"set location {loc}\nset number 1000\nset transactions {transactions}\n"
              f"set size {SIZE} {SIZE}\nset subdirectories 100\nset read {SIZE}\n"
              f"set write {SIZE}\nrun\nquit\n")
    out, wall, cpu, calls = run(["postmark"], script, strace)
    created = int(out.split(" created (")[0].split()[-1])
    read = int(out.split(" read (")[0].split()[-1])
    shutil.rmtree(loc, ignore_errors=True)
    if not strace:
        COMMANDS.append("postmark <<< '" + script.replace("\n", "; ") + "'")
    return created + read, wall, cpu, calls, (created, read)


def fio(directory, secs, strace=False):
    d = os.path.join(directory, "fio")
    os.makedirs(d, exist_ok=True)
    job = (f"[global]\nioengine=psync\ndirectory={d}\nfilename_format=$jobname.$jobnum.$filenum\n"
           f"nrfiles=1000\nfilesize={SIZE}\nbs={SIZE}\nopenfiles=1\nfile_service_type=sequential\n"
           f"time_based=1\nruntime={int(secs)}\nfallocate=none\n"
           f"[deliver]\nrw=write\ncreate_on_open=1\nfsync=1\nunlink_each_loop=1\n[retrieve]\nrw=read\n")
    path = os.path.join(directory, "bench.fio")
    with open(path, "w") as f:
        f.write(job)
    out, wall, cpu, calls = run(["fio", "--output-format=json", path], None, strace)
    doc = json.loads(out[out.index("{"):])
    split = (sum(j["sync"]["total_ios"] for j in doc["jobs"] if j["jobname"] == "deliver"),
             sum(j["read"]["total_ios"] for j in doc["jobs"] if j["jobname"] == "retrieve"))
    ops = sum(split)
    runtime = max(j["job_runtime"] for j in doc["jobs"]) / 1000.0
    shutil.rmtree(d, ignore_errors=True)
    if not strace:
        COMMANDS.append("fio --output-format=json bench.fio  # " + job.replace("\n", "; "))
    return ops, runtime, cpu, calls, split


def row(name, measured, traced):
    ops, secs, (user, system), _, _ = measured
    t_ops, _, _, calls, _ = traced
    rate = ops / secs
    cpu_op = (user + system) / ops * 1e6
    user_op = user / ops * 1e6
    sys_op = calls / t_ops if calls and t_ops else float("nan")
    print(f"  {name:22} {rate:9.0f} ops/s {cpu_op:7.1f} us CPU/op ({user_op:5.1f} user) "
          f"{sys_op:6.1f} syscalls/op {cpu_op / sys_op * 1000:7.0f} ns CPU/syscall")
    return rate, cpu_op, cpu_op / sys_op, user_op


def ratio(label, a, b):
    print(f"  => agent / {label}: rate x{a[0] / b[0]:.2f}, CPU per op x{a[1] / b[1]:.2f}, "
          f"user CPU per op x{a[3] / b[3]:.2f}, CPU per syscall x{a[2] / b[2]:.2f}  "
          f"(x<1 is cheaper for CPU)")


def per_class(label, ours, other, write_name, read_name):
    """The two halves apart: the totals mix a write side and a read side of unequal cost."""
    (aw, ar), (ow, orr) = ours[4], other[4]
    a_s, o_s = ours[1], other[1]
    print(f"     per class: deliveries {aw / a_s:,.0f}/s vs {label} {write_name} {ow / o_s:,.0f}/s "
          f"(x{(aw / a_s) / (ow / o_s):.2f}); retrieves {ar / a_s:,.0f}/s vs {read_name} "
          f"{orr / o_s:,.0f}/s (x{(ar / a_s) / (orr / o_s):.2f})")


def main():
    tmpfs = tempfile.mkdtemp(prefix="fwbench-tmpfs-")
    disk = tempfile.mkdtemp(prefix="fwbench-disk-", dir="/var/tmp")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4g", "tmpfs", tmpfs]).returncode == 0
    targets = ([("tmpfs", tmpfs)] if mounted else []) + [("disk " + disk, disk)]
    try:
        for name, d in targets:
            print(f"\n== {name}: {SECS:.0f} s per measurement, 16 KiB messages")
            print(" postmark-like (no fsync, one worker)")
            a = agent(d, False, 1, SECS)
            a_t = agent(d, False, 1, 2, strace=True)
            ours = row("fwcanary-agent mail", a, a_t)
            txn = max(1000, int(a[0] * 0.6))  # about as long as the agent ran
            p = postmark(d, txn)
            p_t = postmark(d, max(1000, txn // 5), strace=True)
            ratio("postmark", ours, row("postmark 1.51", p, p_t))
            per_class("postmark", a, p, "files created", "files read")
            print(" fio-like (fsync on, deliver + retrieve threads)")
            a2 = agent(d, True, 2, SECS)
            a2_t = agent(d, True, 2, 2, strace=True)
            ours2 = row("fwcanary-agent mail", a2, a2_t)
            f = fio(d, SECS)
            f_t = fio(d, 2, strace=True)
            ratio("fio", ours2, row("fio 3.33", f, f_t))
            per_class("fio", a2, f, "write job's fsyncs", "read job's reads")
    finally:
        if mounted:
            subprocess.run(["umount", tmpfs])
        shutil.rmtree(tmpfs, ignore_errors=True)
        shutil.rmtree(disk, ignore_errors=True)
    print("\nCommands (measured runs):")
    for c in COMMANDS:
        print("  " + c)


main()
