"""ci/demo end to end: wall time, and how much of it is overhead beyond the workload phases.

Runs ci/demo itself (arguments passed through), timestamps its section lines ("== lab", "== run",
...) as they arrive, then reads the run's report.json:
  workload   the time agents spent in the phases the scenario asks for, window by window
             (steady and surge for their asked duration, drain until the backlog is gone)
  overhead   everything else inside `fwcanary run`: preflight, agent start and stop, flashing,
             waiting for the reboot and for stability, health and drift checks, judging,
             rollback, reports; and outside it: bootstrap, build check, lab up and down.
Needs root (the lab).
"""
import json
import os
import subprocess
import sys
import time

args = sys.argv[1:]
t0 = time.monotonic()
marks = [("start", 0.0)]
p = subprocess.Popen(["ci/demo"] + args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                     text=True)
for line in p.stdout:
    if line.startswith("== "):
        marks.append((line[3:].strip(), time.monotonic() - t0))
p.wait()
wall = time.monotonic() - t0
marks.append(("end", wall))
print(f"ci/demo {' '.join(args)}: exit {p.returncode}, wall {wall:.1f} s")

# ci/demo's own section lines; before the first is ci/bootstrap, after the verdict line the exit
# trap takes the lab down.
LABELS = {"start": "bootstrap", "build": "build (up to date)", "lab": "lab up",
          "plan": "fwcanary plan", "run": "fwcanary run", "demo": "lab down"}
sections = {}
for (name, t), (_, t_next) in zip(marks, marks[1:]):
    key = name.split(":")[0].split()[0]  # "lab: 3 simulated..." -> "lab"
    key = LABELS.get(key, key)
    sections[key] = sections.get(key, 0.0) + (t_next - t)
for k, v in sections.items():
    print(f"  {k:20} {v:7.1f} s")

runs = sorted((os.path.join("runs", d) for d in os.listdir("runs")), key=os.path.getmtime)
report = json.load(open(os.path.join(runs[-1], "report.json")))
run = report["run"]
workload = 0.0
print(f"\nrun {run['id']}: {run['verdict']}, {run['duration_s']:.1f} s inside `fwcanary run`")
print(f"  {'window':28} {'span s':>7} {'phases s':>9}  phases")
for w in report["windows"]:
    if w.get("done") is None:
        continue
    phases = sum(ph["end"] - ph["start"] for ph in w["phases"])
    workload += phases
    names = ", ".join(f"{ph['name']} {ph['end'] - ph['start']:.0f}" for ph in w["phases"])
    print(f"  {w['name']:28} {w['done'] - w['started']:7.1f} {phases:9.1f}  {names}")
inside = run["duration_s"] - workload
print(f"  workload phases: {workload:.1f} s; overhead inside fwcanary run: {inside:.1f} s "
      f"({inside / run['duration_s']:.0%} of it)")
print("\n  steps of the journal (started to done; windows run inside their wave):")
for s in report["steps"]:
    if s["started"] is not None and s["done"] is not None:
        print(f"    {s['name']:36} {s['done'] - s['started']:7.1f} s")
print(f"\n=> ci/demo wall {wall:.1f} s: workload phases {workload:.1f} s "
      f"({workload / wall:.0%}), overhead {wall - workload:.1f} s ({(wall - workload) / wall:.0%})"
      f", of which outside `fwcanary run` {wall - run['duration_s']:.1f} s")
