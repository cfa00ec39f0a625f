"""The demo lab's resolving power (issue 19): ci/demo with each image, N times, and what the
judge said. The good images must PASS; a firmware that makes one class slower in one phase
must FAIL, and its reason must name that class.

  sudo bench/demo/resolving-power [RUNS] [IMAGE ...]
      default: 5 runs of 1.1, 1.1-reboot, 2.0-slow-reads, 2.0-surge-slow-reads (~5 min each)

Prints one line per run (exit code, verdict, the reason's first words, the canary's retrieve and
deliver p50 effects per phase from the wave-1 judgment) and a table per image.
"""
import json
import os
import subprocess
import sys
import time

args = sys.argv[1:]
runs = int(args[0]) if args and args[0].isdigit() else 5
images = [a for a in args if not a.isdigit()] or ["1.1", "1.1-reboot", "2.0-slow-reads",
                                                    "2.0-surge-slow-reads"]
VERDICT = {0: "PASS", 1: "FAIL", 2: "ERROR", 3: "INCONCLUSIVE"}


def latest_run():
    dirs = [os.path.join("runs", d) for d in os.listdir("runs")]
    return max(dirs, key=os.path.getmtime)


def effects(run_dir):
    """Wave 1's canary p50 effects vs baseline, by (class, phase), as ratios."""
    out = {}
    for name in sorted(os.listdir(run_dir)):
        if not (name.startswith("verdict-") and name.endswith(".json")):
            continue
        v = json.load(open(os.path.join(run_dir, name)))
        for m in v.get("metrics", []):
            if m.get("metric") == "p50" and m.get("class") in ("deliver", "retrieve"):
                vb = m.get("vs_baseline") or {}
                if "effect" in vb:
                    out[(m["class"], m["phase"])] = 1 + vb["effect"]
        break  # wave 1: the canary
    return out


table = {}
for image in images:
    for i in range(runs):
        t0 = time.monotonic()
        p = subprocess.run(["ci/demo", "--image", image], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
        wall = time.monotonic() - t0
        run_dir = latest_run()
        reason = ""
        try:
            reason = json.load(open(os.path.join(run_dir, "report.json")))["run"]["reason"]
        except (OSError, KeyError, ValueError):
            pass
        eff = effects(run_dir)
        shown = " ".join(f"{c[0]}/{c[1]} x{e:.2f}" for c, e in sorted(eff.items()))
        verdict = VERDICT.get(p.returncode, str(p.returncode))
        table.setdefault(image, []).append((verdict, reason))
        print(f"{image:22} run {i + 1}: exit {p.returncode} {verdict:12} {wall:5.0f} s  "
              f"p50 {shown}\n    {reason[:200]}", flush=True)

print("\n| image | runs | PASS | FAIL | INCONCLUSIVE | error | reason names retrieve |")
print("|---|---|---|---|---|---|---|")
for image, rows in table.items():
    count = {k: sum(1 for v, _ in rows if v == k) for k in ("PASS", "FAIL", "INCONCLUSIVE", "ERROR")}
    retrieve = sum(1 for v, r in rows
                   if v != "PASS" and (r.startswith("retrieve") or "cannot tell: retrieve" in r))
    print(f"| {image} | {len(rows)} | {count['PASS']} | {count['FAIL']} | "
          f"{count['INCONCLUSIVE']} | {count['ERROR']} | {retrieve} |")
