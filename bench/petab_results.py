#!/usr/bin/env python3
"""Writes bench/PETAB_RESULTS.md: for each PEtab benchmark problem in
../shared/petab, the nominal nllh from `soma petab simulate` against the
reference (tests/petab/reference_nllh.tsv: the PEtab likelihood of the
collection's own simulatedData table), and the best nllh of `soma petab fit --starts N` against the nominal nllh
(the collection's nominal parameters are the published estimates), with
wall-clock times, machine and date.

Usage: bench/petab_results.py [--soma build/bin/soma] [--starts 5] [--timeout 300] [--max-time S]
"""
import argparse
import datetime
import os
import platform
import re
import shutil
import subprocess
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PETAB = os.path.join(ROOT, "..", "shared", "petab")

# Fitted: every problem (before the line search stopped asking for
# sensitivities, only those whose nominal simulation takes well under a second).
FIT = None


def run(cmd, timeout):
    t0 = time.time()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, "timeout after %d s" % timeout, time.time() - t0
    dt = time.time() - t0
    lines = [l for l in p.stdout.splitlines() if l.strip()]
    if p.returncode == 0 and lines and lines[-1].startswith("nllh: "):
        return float(lines[-1][6:]), p.stdout, dt
    err = [l for l in p.stderr.splitlines() if l.startswith("error")]
    return None, (err[-1] if err else p.stderr.strip().splitlines()[-1] if p.stderr.strip() else "failed"), dt


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--soma", default=os.path.join(ROOT, "build", "bin", "soma"))
    ap.add_argument("--starts", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--timeout", type=int, default=300)
    ap.add_argument("--max-time", type=float, default=0,
                    help="passed to `soma petab fit --max-time` (0: none); the fit then reports its best point "
                         "within S s, and --timeout is raised to at least 2 S + 60 for the uncertainty that follows")
    a = ap.parse_args()
    if a.max_time > 0:
        a.timeout = max(a.timeout, int(2 * a.max_time + 60))
    # A rebuild during the run cannot change the binaries: run copies
    # (`soma` execs `soma-full` from its own directory).
    work = tempfile.mkdtemp(prefix="soma-petab-bench-")
    for name in ("soma", "soma-full"):
        src = os.path.join(os.path.dirname(os.path.abspath(a.soma)), name)
        if os.path.exists(src):
            shutil.copy(src, os.path.join(work, name))
    a.soma = os.path.join(work, "soma")
    refs = {}
    with open(os.path.join(ROOT, "tests", "petab", "reference_nllh.tsv")) as f:
        next(f)
        for line in f:
            name, value, *_ = line.rstrip("\n").split("\t")
            refs[name] = float(value)
    problems = sorted(d for d in os.listdir(PETAB) if os.path.exists(os.path.join(PETAB, d, d + ".yaml")))
    rows = []
    for name in problems:
        yaml = os.path.join(PETAB, name, name + ".yaml")
        nominal, out, t_sim = run([a.soma, "petab", "simulate", yaml], a.timeout)
        row = {"name": name, "nominal": nominal, "sim_note": "" if nominal is not None else out, "t_sim": t_sim}
        if nominal is not None and (FIT is None or name in FIT):
            cmd = [a.soma, "petab", "fit", yaml, "--starts", str(a.starts), "--threads", str(a.threads)]
            if a.max_time > 0:
                cmd += ["--max-time", "%g" % a.max_time]
            fitted, out, t_fit = run(cmd, a.timeout)
            row.update(fitted=fitted, t_fit=t_fit, fit_note="" if fitted is not None else out)
            if fitted is not None:
                m = re.search(r"^Estimation: ([^,]*),", out, re.M)
                row["fit_status"] = m.group(1) if m else ""
        rows.append(row)
        print(name, row.get("nominal"), row.get("fitted"), flush=True)
        write_results(rows, refs, a, False)
    write_results(rows, refs, a, True)


def write_results(rows, refs, a, complete):
    def fmt(v):
        return "" if v is None else ("%.6f" % v)

    machine = "%s, %s, %d cores (shared with other builds while measured)" % (
        platform.node(), platform.processor() or platform.machine(), os.cpu_count())
    with open(os.path.join(HERE, "PETAB_RESULTS.md"), "w") as f:
        f.write("# PEtab benchmark problems: nominal and fitted nllh\n\n")
        if not complete:
            f.write("(partial: the run was stopped after %d problems)\n\n" % len(rows))
        f.write("Written by `bench/petab_results.py` on %s UTC; machine: %s.\n\n" % (
            datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M"), machine))
        f.write("- *nominal*: `soma petab simulate` at the parameters table's nominal values (CVODES rel 1e-10, "
                "abs 1e-12). *reference*: the PEtab v1 nllh of the collection's own `simulatedData` table "
                "(`tests/petab/reference_nllh.py`); empty where that table cannot give one. Large *diff* values are "
                "explained in `tests/petab/known_failures.txt`: Chen_MSB2009's table was simulated at the SBML "
                "file's own parameter values (which the nominalValue column rounds; at those values Soma matches "
                "the table and its nllh), Sneyd_PNAS2002's table disagrees with an independent SciPy integration "
                "in one condition, and Zheng_PNAS2012's holds the measurements, not simulations.\n")
        f.write(("- *fitted*: best nllh of `soma petab fit --starts %d` (start 0 at the nominal values, the others "
                "a Latin hypercube in the bounds; Levenberg-Marquardt with forward sensitivities, CVODES rel 1e-8, "
                "abs 1e-10), against the nominal nllh. The collection's nominal values are mostly the published "
                "estimates, so *fit - nominal* near 0 means the published optimum was reproduced; it is not a "
                "guarantee (Giordano_Nature2020's nominal noise parameters are 1 for data of order 1e-5, and the "
                "fit finds far smaller sigmas). Small positive values come from the fit's looser integrator "
                "tolerance. ") % a.starts)
        if a.max_time > 0:
            f.write("With `--max-time %g`, the starts stop after %g s with the best point so far (note "
                    "*not converged (time limit)*; starts not begun are not run), and the uncertainty is then "
                    "computed there; a process still running after %d s is killed (an empty *fitted* with a "
                    "timeout note).\n\n" % (a.max_time, a.max_time, a.timeout))
        else:
            f.write("Time limit %d s per fit (an empty *fitted* with a timeout note: not finished).\n\n" % a.timeout)

        f.write("| problem | nominal nllh (ours) | reference | diff | simulate s | fitted nllh | fit - nominal | fit s | note |\n")
        f.write("|---|---:|---:|---:|---:|---:|---:|---:|---|\n")
        for r in rows:
            ref = refs.get(r["name"])
            ref_ok = ref is not None and ref == ref
            diff = (r["nominal"] - ref) if (r["nominal"] is not None and ref_ok) else None
            fitted = r.get("fitted")
            gain = (fitted - r["nominal"]) if (fitted is not None and r["nominal"] is not None) else None
            note = r["sim_note"] or r.get("fit_note", "") or r.get("fit_status", "")
            f.write("| %s | %s | %s | %s | %.2f | %s | %s | %s | %s |\n" % (
                r["name"], fmt(r["nominal"]), fmt(ref) if ref_ok else "", "" if diff is None else "%.2e" % diff,
                r["t_sim"], fmt(fitted), "" if gain is None else "%.4f" % gain,
                "" if "t_fit" not in r else "%.1f" % r["t_fit"], note.replace("|", "/")[:160]))


if __name__ == "__main__":
    main()
