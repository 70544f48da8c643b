#!/usr/bin/python3
"""Virtual-patient throughput of `soma trial run` on the bundled T1D model
(models/t1d-uva-padova.xml, the 24 h standard day with three meals) against
the same model written for SciPy (t1d_scipy.py), in one run:

  1. agreement: BG over the day of `soma scenario run` vs SciPy for the
     default patient, and for three population members;
  2. Soma: simulations per second with 1 and 2 threads (parallel efficiency)
     and with 1 and 2 MPI ranks (1 thread each);
  3. SciPy: seconds per simulation (solve_ivp BDF and LSODA, same tolerances);
     the target is judged against the faster of the two.

Writes bench/TRIAL_RESULTS.md.  Usage (from the repository root):
  /usr/bin/python3 bench/trial/bench_trial.py [--soma build/bin/soma] [--scipy-runs 3]
"""
import argparse
import csv
import datetime
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
MODEL = os.path.join(ROOT, "models", "t1d-uva-padova.xml")
SCENARIO = os.path.join(ROOT, "scenarios", "t1d-standard-day.json")
TRIAL = os.path.join(HERE, "t1d-day-population.json")
PY = "/usr/bin/python3"
# Both integrators at relative and absolute tolerance 1e-9 (Soma's CLI asks
# for output accuracy 1e-6 and runs CVODES 1000 times tighter).
RTOL = ATOL = 1e-9


CPU = {"last": 0.0}


def run(cmd, **kw):
    """Runs cmd; returns its wall time and output. CPU["last"] holds the CPU
    seconds (user + system) the command and its children used."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    dt = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU["last"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if r.returncode != 0:
        sys.exit("failed: %s\n%s%s" % (" ".join(cmd), r.stdout, r.stderr))
    return dt, r.stdout


def read_bg(path, column="BG"):
    with open(path) as fh:
        rows = list(csv.DictReader(fh))
    return [float(r["time"]) for r in rows], [float(r[column]) for r in rows]


def agreement(soma, work, sets=(), method="BDF", soma_method=None):
    """Max |BG_soma - BG_scipy| over the 5-min grid for one patient (Soma with
    the scenario's method, or with soma_method written into it)."""
    scen = SCENARIO
    if sets or soma_method:
        with open(SCENARIO) as fh:
            j = json.load(fh)
        if sets:
            j["parameters"] = dict(sets)
        if soma_method:
            j["method"] = soma_method
        scen = os.path.join(work, "scenario-%d-%s.json" % (abs(hash(tuple(sets))), soma_method))
        with open(scen, "w") as fh:
            json.dump(j, fh)
    out_soma = os.path.join(work, "soma.csv")
    out_py = os.path.join(work, "scipy.csv")
    run([soma, "scenario", "run", scen, "--model", MODEL, "-o", out_soma])
    args = [PY, os.path.join(HERE, "t1d_scipy.py"), "--model", MODEL, "--csv", out_py,
            "--rtol", str(RTOL), "--atol", str(ATOL), "--method", method]
    for k, v in sets:
        args += ["--set", "%s=%r" % (k, v)]
    run(args)
    t1, a = read_bg(out_soma)
    t2, b = read_bg(out_py)
    assert t1 == t2, "different output grids"
    diff = max(abs(x - y) for x, y in zip(a, b))
    return diff, max(a)


def summary_difference(a, b):
    """Largest |x - y| / max(|x|, 1e-9) over the numbers of two summary.json texts."""
    worst = [0.0]

    def walk(x, y):
        if isinstance(x, dict):
            for k in x:
                walk(x[k], y[k])
        elif isinstance(x, list):
            for u, v in zip(x, y):
                walk(u, v)
        elif isinstance(x, float) or isinstance(y, float):
            worst[0] = max(worst[0], abs(x - y) / max(abs(x), 1e-9))

    walk(json.loads(a), json.loads(b))
    return worst[0]


def soma_trial(soma, work, threads, ranks=None, trial=TRIAL, extra=(), cold=False):
    """Runs the trial; cold: without the machine-code cache (SOMA_JIT_CACHE=off,
    so LLVM compiles the model as in a first run)."""
    out = os.path.join(work, "trial-%s-%s" % (threads, ranks))
    os.environ["SOMA_JIT_CACHE"] = "off" if cold else "on"
    cmd = [soma, "trial", "run", trial, "--model", MODEL, "--out", out, "--threads", str(threads)] + list(extra)
    if ranks:
        # One machine: OpenMPI's shared-memory transport without probing UCX,
        # which took 0.2 s of every start here (docs/trials.md).
        os.environ.setdefault("OMPI_MCA_pml", "ob1")
        cmd = ["mpirun", "--allow-run-as-root", "--oversubscribe", "-np", str(ranks)] + cmd
    dt, _ = run(cmd)
    with open(os.path.join(out, "summary.json")) as fh:
        summary = fh.read()
    return dt, summary, CPU["last"]


def population_trial(work, name, size):
    """The benchmark trial with `size` members, written to work/name (scenario paths made absolute)."""
    with open(TRIAL) as fh:
        trial = json.load(fh)
    trial["population"]["size"] = size
    trial["scenarios"] = [os.path.normpath(os.path.join(HERE, sc)) for sc in trial["scenarios"]]
    path = os.path.join(work, name)
    with open(path, "w") as fh:
        json.dump(trial, fh)
    return path


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--soma", default=os.path.join(ROOT, "build", "bin", "soma"))
    ap.add_argument("--scipy-runs", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=5, help="Soma timings: best of N")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "TRIAL_RESULTS.md"))
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="soma-trial-bench-")
    soma = os.path.join(work, "soma")
    # A rebuild during the run cannot change the binaries. `soma trial` runs in
    # soma-full, which the light `soma` execs from its own directory.
    shutil.copy(a.soma, soma)
    shutil.copy(os.path.join(os.path.dirname(a.soma), "soma-full"), os.path.join(work, "soma-full"))
    # Native code is cached on disk (src/expr/jit.h): a cache of this run's
    # own, so the first run compiles and the user's cache is not touched.
    os.environ["SOMA_CACHE_DIR"] = os.path.join(work, "cache")
    members = 512

    load_before = os.getloadavg()
    diff0, bgmax = agreement(soma, work)
    member_sets = [(("Vmx", 0.02), ("kp3", 0.009), ("m30", 0.3)),
                   (("Vmx", 0.05), ("kp3", 0.016), ("m30", 0.18))]
    diffs = [agreement(soma, work, s)[0] for s in member_sets]

    def best(f):
        runs = [f() for _ in range(a.repeats)]
        return min(r[0] for r in runs), runs[0][1], min(r[2] for r in runs)

    # 1 and 2 threads in turn, so that both meet the same spells of load on
    # a shared machine (the efficiency compares them).
    runs1, runs2 = [], []
    for _ in range(a.repeats):
        runs1.append(soma_trial(soma, work, 1))
        runs2.append(soma_trial(soma, work, 2))
    t1, s1, c1 = min(r[0] for r in runs1), runs1[0][1], min(r[2] for r in runs1)
    t2, s2, c2 = min(r[0] for r in runs2), runs2[0][1], min(r[2] for r in runs2)
    # The bytecode interpreter alone (native code is the default from 64
    # simulations; --native-code off turns it off).
    tb, sb, cb = best(lambda: soma_trial(soma, work, 1, extra=["--native-code", "off"]))
    # Members one at a time (no SIMD lanes; the default is --lanes auto).
    tn, sn, cn = best(lambda: soma_trial(soma, work, 1, extra=["--lanes", "0"]))
    # The explicit Runge-Kutta method: the same trial with "method": "rk45"
    # written into its scenario (docs/scenarios.md).
    with open(SCENARIO) as fh:
        rk_scenario = json.load(fh)
    rk_scenario["method"] = "rk45"
    rk_scenario_path = os.path.join(work, "t1d-standard-day-rk45.json")
    with open(rk_scenario_path, "w") as fh:
        json.dump(rk_scenario, fh)
    with open(TRIAL) as fh:
        rk_trial = json.load(fh)
    rk_trial["scenarios"] = [rk_scenario_path]
    rk_trial_path = os.path.join(work, "trial-rk45.json")
    with open(rk_trial_path, "w") as fh:
        json.dump(rk_trial, fh)
    tr, sr, cr = best(lambda: soma_trial(soma, work, 1, trial=rk_trial_path))
    rk_diff, _ = agreement(soma, work, soma_method="rk45")
    # The fixed cost of a run (process start, reading and compiling the
    # model, native code included, writing the files): one member.
    one_trial = population_trial(work, "one-member.json", 1)
    tone, _, _ = best(lambda: soma_trial(soma, work, 1, trial=one_trial, extra=["--native-code", "on"]))
    # The same without the machine-code cache: what a model's first run pays.
    tone_cold, _, _ = best(lambda: soma_trial(soma, work, 1, trial=one_trial, extra=["--native-code", "on"],
                                              cold=True))
    t1_cold, s1_cold, c1_cold = best(lambda: soma_trial(soma, work, 1, cold=True))
    # Threads on a population 4 times larger (best of 2 each): the fixed
    # start weighs a quarter as much.
    four_trial = population_trial(work, "four-times.json", 4 * members)
    tf1 = tf2 = float("inf")
    for _ in range(2):
        tf1 = min(tf1, soma_trial(soma, work, 1, trial=four_trial)[0])
        tf2 = min(tf2, soma_trial(soma, work, 2, trial=four_trial)[0])
    rk_summary_diff = summary_difference(s1, sr)
    have_mpi = shutil.which("mpirun") is not None
    if have_mpi:
        m1, sm1, cm1 = best(lambda: soma_trial(soma, work, 1, 1))
        m2, sm2, cm2 = best(lambda: soma_trial(soma, work, 1, 2))
        # The same on a population 4 times larger (once each): each rank's
        # fixed start (MPI_Init, reading and compiling the model) weighs less.
        mb1, smb1, _ = soma_trial(soma, work, 1, 1, four_trial)
        mb2, smb2, _ = soma_trial(soma, work, 1, 2, four_trial)
    dt, out = run([PY, os.path.join(HERE, "t1d_scipy.py"), "--model", MODEL, "--runs", str(a.scipy_runs),
                   "--rtol", str(RTOL), "--atol", str(ATOL)])
    scipy_s = float(out.split()[-1])
    scipy_cpu = float(out.split()[1])  # the simulations' own CPU time (process_time)
    dt, out = run([PY, os.path.join(HERE, "t1d_scipy.py"), "--model", MODEL, "--runs", str(a.scipy_runs),
                   "--rtol", str(RTOL), "--atol", str(ATOL), "--method", "LSODA"])
    lsoda_s = float(out.split()[-1])
    lsoda_cpu = float(out.split()[1])
    lsoda_diff, _ = agreement(soma, work, method="LSODA")
    load_after = os.getloadavg()

    rate1 = members / t1
    rate2 = members / t2
    eff = (t1 / t2) / 2
    speedup = rate1 * scipy_s
    speedup_cpu = (members / c1) * scipy_cpu
    speedup_lsoda = rate1 * lsoda_s
    speedup_lsoda_cpu = (members / c1) * lsoda_cpu
    speedup_lsoda_cold = members / t1_cold * lsoda_s
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    lines = [
        "# Trial throughput: virtual patients per second",
        "",
        "Written by `bench/trial/bench_trial.py` (run it from the repository root with",
        "`/usr/bin/python3 bench/trial/bench_trial.py`).",
        "",
        "- Date: %s UTC" % datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M"),
        "- Machine: %s, %d logical CPUs, %s; load average %.1f before, %.1f after (a shared "
        "virtual machine: the same binary's single-thread time varied between 2.3 and 3.4 s within an "
        "hour, so compare only figures from one run)" % (cpu, os.cpu_count(), platform.platform(), load_before[0], load_after[0]),
        "- Workload: models/t1d-uva-padova.xml, scenarios/t1d-standard-day.json (24 h, three meals of "
        "45/70/80 g eaten at 5 g/min and three meal boluses: about 50 input events), outputs on a 5-min "
        "grid (289 rows); population bench/trial/t1d-day-population.json (%d members varying Vmx, kp3, "
        "m30). Soma time is the wall time of the whole `soma trial run` (reading, compiling once, "
        "simulating, summarising, writing files), best of %d (1 and 2 threads run in turn)." % (members, a.repeats),
        "- Per core: wall-clock rates divide by the cores used; on a loaded machine a process gets only part "
        "of a core, so the CPU-time column (user + system seconds of the whole command; for SciPy the "
        "simulations' own `process_time`) is the steadier per-core figure.",
        "- Soma runs as `soma trial run` does by default: the model's hot programs compiled to native code "
        "by LLVM (from 64 simulations, members x scenarios) and members integrated several at once in SIMD "
        "lanes (`--lanes auto`); members one at a time and the bytecode interpreter shown for comparison. "
        "The machine code comes from the on-disk cache after the first run (a cache of the benchmark's own, "
        "empty at its start; best of %d includes only one compile), as for any model run before; the row "
        "without the cache shows a model's first run." % a.repeats,
        "- Tolerances: Soma's default automatic method (CVODES' Adams with fixed-point iteration, BDF when "
        "stiffness is detected, Soma's explicit Runge-Kutta (Dormand-Prince 5(4)) on segments that are short for the model's time scales: "
        "all 47 segments of the T1D day) and SciPy `solve_ivp` (method 'BDF', pure Python, and 'LSODA', Fortran with the "
        "right-hand side called from it) all at rtol = atol = 1e-9; SciPy's time is "
        "the best of %d runs, like Soma's best of %d; "
        "SciPy integrates between input changes and applies them between calls, as Soma's events do." % (
            a.scipy_runs, a.repeats),
        "",
        "## Agreement (BG, mg/dL, at all 289 output times)",
        "",
        "| patient | max abs difference Soma vs SciPy | max BG |",
        "|---|---|---|",
        "| default (adult#001) | %.2e | %.1f |" % (diff0, bgmax),
    ]
    for s, d in zip(member_sets, diffs):
        lines.append("| %s | %.2e | |" % (", ".join("%s=%g" % kv for kv in s), d))
    lines += [
        "",
        "Stated tolerance: agreement within 1e-3 mg/dL (relative 1e-5 of BG); %s." % (
            "met" if max([diff0] + diffs) <= 1e-3 else "NOT met"),
        "",
        "## Throughput",
        "",
        "| run | wall s | CPU s | simulations/s (wall) | per core (wall) | simulations per CPU-second |",
        "|---|---|---|---|---|---|",
        "| Soma, 1 thread | %.3f | %.3f | %.1f | %.1f | %.1f |" % (t1, c1, rate1, rate1, members / c1),
        "| Soma, 2 threads | %.3f | %.3f | %.1f | %.1f | %.1f |" % (t2, c2, rate2, rate2 / 2, members / c2),
        "| Soma, 1 thread, machine code compiled (no cache: `SOMA_JIT_CACHE=off`) | %.3f | %.3f | %.1f | %.1f | "
        "%.1f |" % (t1_cold, c1_cold, members / t1_cold, members / t1_cold, members / c1_cold),
        "| Soma rk45 (scenario `\"method\": \"rk45\"`), 1 thread | %.3f | %.3f | %.1f | %.1f | %.1f |" % (
            tr, cr, members / tr, members / tr, members / cr),
        "| Soma, members one at a time (`--lanes 0`), 1 thread | %.3f | %.3f | %.1f | %.1f | %.1f |" % (
            tn, cn, members / tn, members / tn, members / cn),
        "| Soma, bytecode interpreter (`--native-code off`), 1 thread | %.3f | %.3f | %.1f | %.1f | %.1f |" % (
            tb, cb, members / tb, members / tb, members / cb),
    ]
    if have_mpi:
        lines += [
            "| Soma, MPI 1 rank x 1 thread | %.3f | %.3f | %.1f | %.1f | %.1f |" % (
                m1, cm1, members / m1, members / m1, members / cm1),
            "| Soma, MPI 2 ranks x 1 thread | %.3f | %.3f | %.1f | %.1f | %.1f |" % (
                m2, cm2, members / m2, members / m2 / 2, members / cm2),
        ]
    lines += [
        "| SciPy solve_ivp BDF, 1 core | %.3f per simulation | %.3f per simulation | %.2f | %.2f | %.2f |" % (
            scipy_s, scipy_cpu, 1 / scipy_s, 1 / scipy_s, 1 / scipy_cpu),
        "| SciPy solve_ivp LSODA, 1 core | %.3f per simulation | %.3f per simulation | %.2f | %.2f | %.2f |" % (
            lsoda_s, lsoda_cpu, 1 / lsoda_s, 1 / lsoda_s, 1 / lsoda_cpu),
        "",
        "- Speed-up per core, Soma vs SciPy BDF: **%.0fx** by wall time, **%.0fx** by CPU time; vs SciPy LSODA "
        "(the faster SciPy method here; default patient agrees with Soma within %.2g mg/dL): **%.0fx** by wall "
        "time, **%.0fx** by CPU time (%.0fx by wall time without the machine-code cache). Target >= 100x "
        "against the same model in SciPy: **%s** (judged by wall time with Soma's defaults against the faster "
        "SciPy method)." % (
            speedup, speedup_cpu, lsoda_diff, speedup_lsoda, speedup_lsoda_cpu, speedup_lsoda_cold,
            "met" if min(speedup_lsoda, speedup) >= 100 else "not met"),
        "- With the explicit Runge-Kutta method (`\"method\": \"rk45\"` in the scenario, Dormand-Prince 5(4), "
        "which restarts after each of the ~50 input changes at full order where Adams starts again at order 1): "
        "%.2fx the default method's 1-thread rate; vs SciPy BDF **%.0fx**, vs SciPy LSODA **%.0fx** by wall time "
        "(%.0fx and %.0fx by CPU time). Its BG agrees with SciPy BDF within %.2g mg/dL, and its summary with the "
        "default method's within a relative %.1g (largest over all numbers in summary.json)." % (
            t1 / tr, members / tr * scipy_s, members / tr * lsoda_s, members / cr * scipy_cpu,
            members / cr * lsoda_cpu, rk_diff, rk_summary_diff),
        "- Members in SIMD lanes (the default, `--lanes auto`: 8 with AVX-512, 4 with AVX2; docs/trials.md): "
        "%.2fx the rate of members one at a time (`--lanes 0`) in this run; the summaries agree within a "
        "relative %.1g (the lanes' vector exp and tanh round differently in the last bits)." % (
            tn / t1, summary_difference(sn, s1)),
        "- Native code (LLVM, src/expr/jit.h; `soma trial run` compiles it by default from 64 simulations): "
        "%.2fx the bytecode interpreter's 1-thread rate without lanes in this run (%.2fx with them); the summaries "
        "without lanes are %s." % (
            tb / tn, tb / t1, "byte for byte identical" if sb == sn else "DIFFERENT"),
        "- Parallel efficiency 1 -> 2 threads: **%.0f%%** by wall time (target >= 85%%); the CPU work for the "
        "same members is %.0f%% of the 1-thread work with 2 threads (100%% = no parallel overhead). On a "
        "machine where the load average exceeds the core count, the wall-clock figure measures the "
        "contention, not Soma. A run's fixed cost (process start of the light `soma` binary, loading LLVM, "
        "reading and compiling the model with native code, writing the files), measured as a 1-member trial, is "
        "%.3f s, %.0f%% of the 1-thread run (%.3f s without the machine-code cache, as in a model's first run); "
        "it does not shrink with threads (Amdahl: at most %.0f%% with it). "
        "On %d members (4 times as many, best of 2): 1 thread %.3f s, 2 threads %.3f s, efficiency **%.0f%%**." % (
            100 * eff, 100 * c1 / c2, tone, 100 * tone / t1, tone_cold, 100 * t1 / (2 * (tone + (t1 - tone) / 2)),
            4 * members, tf1, tf2, 50 * tf1 / tf2),
    ]
    if have_mpi:
        lines.append("- MPI 1 -> 2 ranks: efficiency %.0f%%; the 2-rank summary is %s the 1-thread summary. "
                     "MPI runs with OMPI_MCA_pml=%s (one machine; docs/trials.md)." % (
            100 * (m1 / m2) / 2, "byte for byte identical to" if sm2 == s1 else "DIFFERENT from",
            os.environ.get("OMPI_MCA_pml", "")))
        lines.append("- MPI 1 -> 2 ranks on %d members (the same population 4 times larger, one run each): %.2f s "
                     "and %.2f s, efficiency %.0f%%; the summaries are %s." % (
                         4 * members, mb1, mb2, 100 * (mb1 / mb2) / 2,
                         "byte for byte identical" if smb1 == smb2 else "DIFFERENT"))
    lines.append("- The 2-thread summary is %s the 1-thread summary." % (
        "byte for byte identical to" if s2 == s1 else "DIFFERENT from"))
    lines.append("")
    with open(a.out, "w") as fh:
        fh.write("\n".join(lines))
    print("\n".join(lines))
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
