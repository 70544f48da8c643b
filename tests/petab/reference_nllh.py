#!/usr/bin/env python3
"""Reference nominal nllh of the PEtab benchmark problems, computed from the
collection's own simulatedData tables (simulations by the collection's
tools) with the PEtab v1 likelihood, independently of Soma.

For every problem folder with a simulatedData table: each measurement row is
matched to the simulated row with the same (observableId,
simulationConditionId, preequilibrationConditionId, time), in order; sigma is
the noiseFormula with noiseParameter / observableParameter placeholders
replaced by the row's values (numbers or parameter ids -> nominalValue), the
observableId by the simulated value, other parameter ids by their nominal
value. Problems whose noise formulas need model symbols are written with
nllh NaN and the reason.

Usage: reference_nllh.py PETAB_DIR > reference_nllh.tsv
"""
import csv
import glob
import math
import os
import re
import sys

import yaml


def read(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    return [{(k or "").strip(): (v or "").strip() for k, v in r.items()} for r in rows]


def col(row, *names):
    for n in names:
        if n in row and row[n] is not None:
            return row[n]
    return ""


def number(s):
    try:
        return float(s)
    except ValueError:
        return None


def nllh_term(dist, scale, y, m, s):
    if scale == "log":
        ty, tm, jac = math.log(y), math.log(m), math.log(y)
    elif scale == "log10":
        ty, tm, jac = math.log10(y), math.log10(m), math.log(y * math.log(10))
    else:
        ty, tm, jac = y, m, 0.0
    if dist == "laplace":
        return math.log(2 * s) + jac + abs(ty - tm) / s
    return 0.5 * math.log(2 * math.pi * s * s) + jac + 0.5 * ((ty - tm) / s) ** 2


def problem_nllh(folder, yaml_path):
    with open(yaml_path) as f:
        spec = yaml.safe_load(f)
    prob = spec["problems"][0]
    d = os.path.dirname(yaml_path)
    params = {r["parameterId"]: float(r["nominalValue"]) for r in read(os.path.join(d, spec["parameter_file"]))}
    observables = {}
    for fn in prob["observable_files"]:
        for r in read(os.path.join(d, fn)):
            observables[r["observableId"]] = r
    meas = []
    for fn in prob["measurement_files"]:
        meas += read(os.path.join(d, fn))
    sims = glob.glob(os.path.join(d, "simulatedData*.tsv"))
    if not sims:
        return None, "no simulatedData table"
    pool = {}
    for r in read(sims[0]):
        oid = col(r, "observableId")
        extra = ""
        if oid not in observables:
            # Some tables name rows "obs__params__noise__condition__preeq":
            # the longest observable id that starts the name, and the row's
            # observable parameters to tell datasets apart.
            starts = [o for o in observables if oid.startswith(o + "__")]
            if starts:
                oid = max(starts, key=len)
                extra = col(r, "observableParameters")
        key = (oid, col(r, "simulationConditionId", "simulationCondition"),
               col(r, "preequilibrationConditionId", "preequilibrationCondition"), extra)
        pool.setdefault(key, []).append((float(col(r, "time")), float(r["simulation"])))
    total = 0.0
    for i, r in enumerate(meas):
        key = (r["observableId"], r["simulationConditionId"], r.get("preequilibrationConditionId", ""), "")
        if key not in pool:
            key = key[:3] + (r.get("observableParameters", ""),)
        t = float(r["time"])
        # Times are matched to 1e-6 relative: some tables round them differently.
        candidates = pool.get(key, [])
        j = next((j for j, (ts, _) in enumerate(candidates) if ts == t or abs(ts - t) <= 1e-6 * max(1.0, abs(t))), None)
        if j is None:
            return None, "measurement row %d has no simulated row" % (i + 2)
        m = candidates.pop(j)[1]
        o = observables[r["observableId"]]
        oid = r["observableId"]
        env = {"__builtins__": {}, "sqrt": math.sqrt, "exp": math.exp, "log": math.log, "log10": math.log10,
               "abs": abs, "pi": math.pi}
        env.update(params)
        for prefix, field in (("noiseParameter", "noiseParameters"), ("observableParameter", "observableParameters")):
            values = [v.strip() for v in r.get(field, "").split(";")] if r.get(field, "") else []
            for k, v in enumerate(values):
                env["%s%d_%s" % (prefix, k + 1, oid)] = number(v) if number(v) is not None else params[v]
        env[oid] = m
        formula = o["noiseFormula"].replace("^", "**")
        try:
            sigma = float(eval(formula, env))
        except NameError as e:
            return None, "noise formula needs a model symbol (%s)" % e
        scale = o.get("observableTransformation", "") or "lin"
        dist = o.get("noiseDistribution", "") or "normal"
        total += nllh_term(dist, scale, float(r["measurement"]), m, sigma)
    return total, ""


def main():
    root = sys.argv[1]
    print("problem\tnllh\tnote")
    for folder in sorted(os.listdir(root)):
        path = os.path.join(root, folder, folder + ".yaml")
        if not os.path.exists(path):
            continue
        try:
            value, note = problem_nllh(folder, path)
        except Exception as e:  # reported, not hidden: the row says why
            value, note = None, "error: %s" % e
        print("%s\t%s\t%s" % (folder, "nan" if value is None else repr(value), note))


if __name__ == "__main__":
    main()
