#!/usr/bin/python3
"""End-to-end workload benchmark: `soma simulate` against SciPy's solve_ivp.

Run from anywhere with Debian's python (it has python3-sbml5 and python3-scipy):

    /usr/bin/python3 bench/workload.py            # writes bench/RESULTS.md and bench/workload_results.json
    /usr/bin/python3 bench/workload.py --quick    # fewer repetitions, prints the table only

For each generated model (bench/models/make_models.py) it
  1. times `soma simulate` as a whole process (best of --soma-runs) and reads Soma's own
     setup and integration times from --summary;
  2. builds the same ODE system independently in Python from the SBML file through libSBML
     (vectorised mass-action right-hand side and analytic sparse Jacobian) and times
     scipy.integrate.solve_ivp with LSODA and BDF, integrating piecewise between events: the
     integration alone, and SciPy's whole path from the file (libSBML read + building + integration);
  3. checks that Soma and SciPy agree on every output point.
Then it
  4. runs build/bin/soma_bench_simulate (Google Benchmark) for Soma's in-process, compile-free
     simulate time, if that binary exists;
  5. measures startup (parse + compile) on the 100-species model.
See bench/README.md for what every number means.
"""

import argparse
import datetime
import io
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import libsbml
import numpy as np
import scipy
import scipy.sparse as sp
from scipy.integrate import solve_ivp

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DEFAULT_SOMA = os.path.join(ROOT, "build", "bin", "soma")
DEFAULT_SOMA_BENCH = os.path.join(ROOT, "build", "bin", "soma_bench_simulate")
GENERATED = os.path.join(HERE, "models", "generated")

# Accuracy asked of Soma (--abs / --rel) and what it hands CVODES internally; mirrors
# IntegratorOptionsForAccuracy in src/sim/options.cpp. SciPy gets the internal values.
OUTPUT_ABS = 1e-4
OUTPUT_REL = 1e-3


def cvodes_tolerances(abs_out, rel_out):
    return abs_out * 1e-5, max(rel_out * 1e-3, 1e-14)


# --------------------------------------------------------------------------------------
# SBML -> numpy (independent of Soma: only libSBML's parser is shared)
# --------------------------------------------------------------------------------------


class Unsupported(Exception):
    pass


class OdeSystem:
    """dx/dt = S @ rates(x) / V for a mass-action model, x in concentrations."""

    def __init__(self, path):
        doc = libsbml.readSBMLFromFile(path)
        if doc.getNumErrors(libsbml.LIBSBML_SEV_ERROR) + doc.getNumErrors(libsbml.LIBSBML_SEV_FATAL):
            raise Unsupported("libSBML errors in " + path)
        m = doc.getModel()
        if m.getNumRules() or m.getNumInitialAssignments() or m.getNumFunctionDefinitions():
            raise Unsupported("rules, initial assignments and functions are not handled")
        self.consts = {}
        for c in m.getListOfCompartments():
            self.consts[c.getId()] = c.getSize()
        for p in m.getListOfParameters():
            if not p.getConstant():
                raise Unsupported("non-constant parameter " + p.getId())
            self.consts[p.getId()] = p.getValue()
        self.ids = [s.getId() for s in m.getListOfSpecies()]
        self.index = {sid: i for i, sid in enumerate(self.ids)}
        n = len(self.ids)
        self.n = n
        self.x0 = np.empty(n)
        volume = np.empty(n)
        for i, s in enumerate(m.getListOfSpecies()):
            if s.getHasOnlySubstanceUnits() or s.getBoundaryCondition() or s.getConstant():
                raise Unsupported("species " + s.getId() + " is not a plain concentration")
            volume[i] = self.consts[s.getCompartment()]
            if s.isSetInitialConcentration():
                self.x0[i] = s.getInitialConcentration()
            else:
                self.x0[i] = s.getInitialAmount() / volume[i]

        # Each kinetic law must be a product of constants and species: rate = c * x[a] * x[b].
        nr = m.getNumReactions()
        coef = np.ones(nr)
        factors = []
        rows, cols, vals = [], [], []
        for j, r in enumerate(m.getListOfReactions()):
            fac = []
            coef[j] = self._product(r.getKineticLaw().getMath(), fac)
            if len(fac) > 2:
                raise Unsupported("reaction %s has order > 2" % r.getId())
            factors.append(fac)
            for ref, sign in [(x, -1.0) for x in r.getListOfReactants()] + [(x, 1.0) for x in r.getListOfProducts()]:
                i = self.index[ref.getSpecies()]
                rows.append(i)
                cols.append(j)
                vals.append(sign * ref.getStoichiometry() / volume[i])
        self.nr = nr
        self.S = sp.csr_matrix((vals, (rows, cols)), shape=(n, nr))
        self.S.sum_duplicates()
        self.coef = coef
        # Padded factor indices; index n points at a constant 1.
        self.i1 = np.array([f[0] if len(f) > 0 else n for f in factors], dtype=np.intp)
        self.i2 = np.array([f[1] if len(f) > 1 else n for f in factors], dtype=np.intp)
        # dR/dx pattern: d r_j / d x_i1 = c * x_i2 and d r_j / d x_i2 = c * x_i1.
        jr, jc, src = [], [], []
        for j, f in enumerate(factors):
            if len(f) >= 1:
                jr.append(j); jc.append(f[0]); src.append(self.i2[j])
            if len(f) == 2:
                jr.append(j); jc.append(f[1]); src.append(self.i1[j])
        self.d_rows = np.array(jr, dtype=np.intp)
        self.d_cols = np.array(jc, dtype=np.intp)
        self.d_src = np.array(src, dtype=np.intp)
        self.d_coef = coef[self.d_rows]
        self.xe = np.ones(n + 1)

        # Events: triggers `time >= t` or `species >= c`; assignments are evaluated formulas.
        self.time_events = []   # (t, assignments)
        self.state_events = []  # (species index, threshold, assignments)
        for e in m.getListOfEvents():
            if e.isSetDelay() or e.isSetPriority():
                raise Unsupported("event delays and priorities are not handled")
            if not e.getUseValuesFromTriggerTime() or not e.getTrigger().getPersistent():
                raise Unsupported("only persistent events using trigger-time values are handled")
            trig = e.getTrigger().getMath()
            if trig.getType() not in (libsbml.AST_RELATIONAL_GEQ, libsbml.AST_RELATIONAL_GT):
                raise Unsupported("trigger of %s is not `a >= b`" % e.getId())
            lhs, rhs = trig.getChild(0), trig.getChild(1)
            threshold = self._constant(rhs)
            assigns = []
            for a in e.getListOfEventAssignments():
                code = compile(libsbml.formulaToL3String(a.getMath()).replace("^", "**"), a.getVariable(), "eval")
                assigns.append((self.index[a.getVariable()], code))
            if lhs.getType() == libsbml.AST_NAME_TIME:
                self.time_events.append((threshold, assigns))
            elif lhs.getType() == libsbml.AST_NAME and lhs.getName() in self.index:
                if e.getTrigger().getInitialValue() is not False and self.x0[self.index[lhs.getName()]] >= threshold:
                    raise Unsupported("state trigger true at the start")
                self.state_events.append((self.index[lhs.getName()], threshold, assigns))
            else:
                raise Unsupported("trigger of %s" % e.getId())
        self.time_events.sort(key=lambda te: te[0])

    def _constant(self, ast):
        if ast.isNumber():
            return ast.getValue()
        if ast.getType() == libsbml.AST_NAME and ast.getName() in self.consts:
            return self.consts[ast.getName()]
        raise Unsupported("not a constant: " + libsbml.formulaToL3String(ast))

    def _product(self, ast, fac):
        t = ast.getType()
        if t == libsbml.AST_TIMES:
            c = 1.0
            for k in range(ast.getNumChildren()):
                c *= self._product(ast.getChild(k), fac)
            return c
        if t == libsbml.AST_NAME and ast.getName() in self.index:
            fac.append(self.index[ast.getName()])
            return 1.0
        if t == libsbml.AST_POWER and ast.getChild(0).getType() == libsbml.AST_NAME and ast.getChild(1).isInteger():
            for _ in range(ast.getChild(1).getInteger()):
                self._product(ast.getChild(0), fac)
            return 1.0
        return self._constant(ast)

    def rates(self, x):
        xe = self.xe
        xe[:-1] = x
        return self.coef * xe[self.i1] * xe[self.i2]

    def rhs(self, t, x):
        return self.S @ self.rates(x)

    def jac_sparse(self, t, x):
        xe = self.xe
        xe[:-1] = x
        dr = sp.csr_matrix((self.d_coef * xe[self.d_src], (self.d_rows, self.d_cols)), shape=(self.nr, self.n))
        return self.S @ dr

    def jac_dense(self, t, x):
        return self.jac_sparse(t, x).toarray()

    def apply(self, assigns, x):
        env = dict(self.consts)
        env.update(zip(self.ids, x))
        values = [(i, float(eval(code, {"__builtins__": {}}, env))) for i, code in assigns]
        x = x.copy()
        for i, v in values:
            x[i] = v
        return x


def simulate_scipy(system, grid, method, rtol, atol, jac):
    """Integrate on `grid`, stopping at every time event and state-event root."""
    n = system.n
    out = np.full((len(grid), n), np.nan)
    out[0] = system.x0
    filled = 1  # grid points written
    t, x = grid[0], system.x0.copy()
    pending = [te for te in system.time_events if te[0] > t]
    state_fns = []
    for idx, thr, _ in system.state_events:
        f = (lambda i, c: (lambda tt, y: y[i] - c))(idx, thr)
        f.terminal = True
        f.direction = 1.0
        state_fns.append(f)
    stats = {"nfev": 0, "njev": 0, "nlu": 0, "events": 0, "segments": 0}
    t_end = grid[-1]
    while t < t_end:
        t_stop = pending[0][0] if pending and pending[0][0] < t_end else t_end
        t_eval = grid[filled:][grid[filled:] <= t_stop]
        extra = not (len(t_eval) and t_eval[-1] == t_stop)
        if extra:  # ask for the state at t_stop too; it is not an output point
            t_eval = np.append(t_eval, t_stop)
        sol = solve_ivp(system.rhs, (t, t_stop), x, method=method, t_eval=t_eval, rtol=rtol, atol=atol,
                        jac=jac, events=state_fns or None)
        stats["segments"] += 1
        stats["nfev"] += sol.nfev
        stats["njev"] += sol.njev
        stats["nlu"] += sol.nlu
        if sol.status < 0:
            raise RuntimeError("solve_ivp %s failed: %s" % (method, sol.message))
        ys = np.asarray(sol.y, dtype=float).reshape(n, -1)  # empty list when no t_eval point was reached
        k = ys.shape[1]
        if sol.status == 1:  # a state event fired before t_stop
            out[filled:filled + k] = ys.T
            filled += k
            hit = [i for i, te in enumerate(sol.t_events) if len(te)]
            t = float(sol.t_events[hit[0]][0])
            x = sol.y_events[hit[0]][0].copy()
            for i in hit:
                x = system.apply(system.state_events[i][2], x)
                stats["events"] += 1
        else:
            if k != len(t_eval) or sol.t[-1] != t_stop:
                raise RuntimeError("solve_ivp stopped early at t=%g" % sol.t[-1])
            kg = k - 1 if extra else k
            out[filled:filled + kg] = ys.T[:kg]
            filled += kg
            t, x = t_stop, ys[:, -1].copy()
            while pending and pending[0][0] <= t:
                x = system.apply(pending.pop(0)[1], x)
                stats["events"] += 1
        # Assignments may have made a state trigger true without crossing: fire it now.
        for i, (idx, thr, assigns) in enumerate(system.state_events):
            if x[idx] >= thr:
                x = system.apply(assigns, x)
                stats["events"] += 1
    if filled != len(grid):
        raise RuntimeError("filled %d of %d grid points" % (filled, len(grid)))
    return out, stats


# --------------------------------------------------------------------------------------
# Soma
# --------------------------------------------------------------------------------------


def summary_value(stderr, key):
    m = re.search(r"^\s*%s\s+(\S+)\s*$" % re.escape(key), stderr, re.M)
    return float(m.group(1)) if m else None


def run_soma(soma, model_path, entry, runs, extra=()):
    cmd = [soma, "simulate", model_path, "--start", repr(entry["start"]), "--end", repr(entry["end"]),
           "--steps", str(entry["steps"]), "--abs", repr(OUTPUT_ABS), "--rel", repr(OUTPUT_REL), "--summary"]
    cmd += list(extra)
    walls, integ, setup, first = [], [], [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
        walls.append(time.perf_counter() - t0)
        if p.returncode != 0:
            return {"error": "exit %d: %s" % (p.returncode, p.stderr.strip()[-2000:]), "cmd": " ".join(cmd)}
        integ.append(summary_value(p.stderr, "integration time (s)"))
        setup.append(summary_value(p.stderr, "setup time (s)"))
        if first is None:
            first = p
    header = first.stdout.splitlines()[0].split(",")
    data = np.loadtxt(io.StringIO(first.stdout), delimiter=",", skiprows=1, ndmin=2)
    summary = {k: summary_value(first.stderr, k) for k in
               ("integrator steps", "right-hand side evaluations", "Jacobian evaluations", "events fired")}
    return {"cmd": " ".join(cmd), "wall_s": min(walls), "wall_all_s": walls, "integration_s": min(integ),
            "setup_s": min(setup), "header": header, "data": data, "summary": summary}


def time_process(cmd, runs):
    walls = []
    for _ in range(runs):
        t0 = time.perf_counter()
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
        walls.append(time.perf_counter() - t0)
        if p.returncode != 0:
            raise RuntimeError("%s failed: %s" % (" ".join(cmd), p.stderr))
    return min(walls), p


# --------------------------------------------------------------------------------------
# Comparison
# --------------------------------------------------------------------------------------


def compare(soma_data, ref):
    """Deviation of Soma's output from a SciPy solution (same grid, same columns)."""
    d = np.abs(soma_data - ref)
    scale = OUTPUT_ABS + OUTPUT_REL * np.abs(ref)
    big = np.abs(ref) >= 1e-6
    return {
        "max_abs": float(d.max()),
        "max_rel": float((d[big] / np.abs(ref[big])).max()) if big.any() else 0.0,
        "max_norm": float((d / scale).max()),  # <= 1: within --abs/--rel
    }


def timed_scipy(system, grid, method, rtol, atol, jac, min_total_s, max_runs):
    times, result = [], None
    while True:
        t0 = time.perf_counter()
        result = simulate_scipy(system, grid, method, rtol, atol, jac)
        times.append(time.perf_counter() - t0)
        if len(times) >= max_runs or sum(times) >= min_total_s:
            break
    return min(times), times, result


def timed_scipy_file(path, grid, method, rtol, atol, min_total_s, max_runs):
    """SciPy's whole path from the SBML file: libSBML read, building the NumPy right-hand side and
    Jacobian from the reaction list, then integration (the like-for-like counterpart of the Soma
    process, except Python's own start and imports, which are timed separately)."""
    times, builds = [], []
    while True:
        t0 = time.perf_counter()
        system = OdeSystem(path)
        t1 = time.perf_counter()
        simulate_scipy(system, grid, method, rtol, atol, system.jac_dense if method == "LSODA" else system.jac_sparse)
        t2 = time.perf_counter()
        times.append(t2 - t0)
        builds.append(t1 - t0)
        if len(times) >= max_runs or sum(times) >= min_total_s:
            break
    return min(times), times, min(builds)


def run_soma_bench(binary, names, repetitions):
    """Soma in-process: build/bin/soma_bench_simulate (Google Benchmark, bench/bench_simulate.cpp),
    `simulate/<model>` (Simulator::Simulate on an already compiled model, 100 output steps, the same
    --abs/--rel mapping) and `compile/<model>`. Returns {name: {"simulate_s", "compile_s", ...}} with
    the best per-iteration real time over the repetitions."""
    # Google Benchmark's regex rejects escapes such as `\-` that Python's re.escape writes.
    pattern = "^(simulate|simulate-rk45|simulate-native|compile|compile-native)/(%s)$" % "|".join(re.sub(r"([.^$*+?()\[\]{}|\\])", r"\\\1", n) for n in names)
    cmd = [binary, "--benchmark_format=json", "--benchmark_filter=" + pattern,
           "--benchmark_repetitions=%d" % repetitions]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=600)
    if p.returncode != 0:
        raise RuntimeError("%s failed (exit %d): %s" % (" ".join(cmd), p.returncode, p.stderr.strip()[-1000:]))
    doc = json.loads(p.stdout)
    scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}
    out = {}
    for b in doc["benchmarks"]:
        if b.get("run_type") != "iteration":
            continue
        if b.get("error_occurred"):
            kind, _, name = b["run_name"].partition("/")
            out.setdefault(name, {})[kind + "_error"] = b.get("error_message", "error")
            continue
        kind, _, name = b["run_name"].partition("/")
        t = b["real_time"] * scale[b.get("time_unit", "ns")]
        d = out.setdefault(name, {})
        key = kind + "_s"
        d[key] = min(d.get(key, t), t)
        d.setdefault(kind + "_all_s", []).append(t)
        if kind == "simulate" and "steps" in b:
            d["steps"] = b["steps"]
    return {"cmd": " ".join(cmd), "load_avg": doc.get("context", {}).get("load_avg"), "models": out}


# --------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------


def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              timeout=20).stdout.strip()
    except Exception as e:  # noqa: BLE001 - informational only
        return "(%s)" % e


def machine_info(soma):
    cache = os.path.join(ROOT, "build", "CMakeCache.txt")
    build_type = sh("grep -E '^CMAKE_BUILD_TYPE:' %s | cut -d= -f2" % cache) if os.path.exists(cache) else "?"
    flags = sh("grep -E '^CMAKE_CXX_FLAGS_%s:' %s | cut -d= -f2" % (build_type.upper(), cache)) if build_type else ""
    return {
        "date": sh("date -u"),
        "cpu": sh("lscpu | grep -E '^Model name' | sed 's/Model name: *//'"),
        "nproc": sh("nproc"),
        "memory": sh("free -g | awk '/^Mem:/ {print $2 \" GiB total, \" $7 \" GiB available\"}'"),
        "kernel": platform.release(),
        "soma": sh("%s --version" % soma),
        "git": sh("cd %s && git rev-parse --short HEAD" % ROOT) + (
            " (working tree has uncommitted changes)" if sh("cd %s && git status --porcelain -uno" % ROOT) else ""),
        "build": "%s (%s), %s" % (build_type, flags, sh("c++ --version | head -1")),
        "sundials": sh("grep -h 'define SUNDIALS_VERSION ' /usr/include/sundials/sundials_config.h | awk '{print $3}'"
                       ).strip('"'),
        "libsbml_c": sh("dpkg-query -W -f '${Version}' libsbml5-dev 2>/dev/null"),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "libsbml_py": libsbml.getLibSBMLDottedVersion(),
    }


# The ways of comparing, as (name, row key pattern, label, explanation); %s is "lsoda" or "bdf".
COMPARISONS = [
    ("integration_vs_whole", "ratio_%s", "SciPy integration / Soma whole process",
     "SciPy's integration alone (model already built in Python) against the whole `soma simulate` process "
     "(exec, dynamic loading, SBML read, compile, integrate, CSV): favours SciPy"),
    ("file_vs_whole", "ratio_%s_file", "SciPy file→trajectory / Soma whole process",
     "like for like from the SBML file to the trajectory: libSBML read + building the NumPy system + integration "
     "against the whole Soma process; still excludes Python's interpreter start and imports (see Startup) and "
     "SciPy keeps its result in memory while Soma formats CSV"),
    ("integration_vs_inproc", "ratio_%s_inproc", "SciPy integration / Soma in-process simulate",
     "both compile-free: SciPy's integration against `simulate/<model>` of `soma_bench_simulate` "
     "(Simulator::Simulate on a compiled model, including filling the output table)"),
    ("integration_vs_native", "ratio_%s_native", "SciPy integration / Soma in-process simulate, native code",
     "as the line above with the model's hot programs compiled to native code by LLVM "
     "(`simulate-native/<model>`: `soma simulate --native-code`, the default of trials from 64 simulations; "
     "the same numbers bit for bit; compile time in the native-code table)"),
    ("integration_vs_integ", "ratio_%s_integ", "SciPy integration / Soma integration time",
     "SciPy's integration against Soma's own `integration time (s)` from `--summary`"),
]


def median_ratios(rows, key):
    """Median over the models that have this comparison, against LSODA, BDF and the faster of the two."""
    have = [r for r in rows if r.get(key % "lsoda") is not None and r.get(key % "bdf") is not None]
    if not have:
        return None
    return {"n": len(have),
            "lsoda": statistics.median(r[key % "lsoda"] for r in have),
            "bdf": statistics.median(r[key % "bdf"] for r in have),
            "best": statistics.median(min(r[key % "lsoda"], r[key % "bdf"]) for r in have)}


def target_verdict(m):
    if m["lsoda"] >= 20 and m["bdf"] >= 20:
        return "met"
    if m["bdf"] >= 20:
        return "met against BDF only, not against LSODA"
    if m["lsoda"] >= 20:
        return "met against LSODA only, not against BDF"
    return "not met"


def fmt_ms(s):
    if s is None:
        return "-"
    ms = s * 1e3
    return "%.1f" % ms if ms < 100 else "%.0f" % ms


def fmt_x(r):
    return "-" if r is None else ("%.1f×" % r if r < 100 else "%.0f×" % r)


def fmt_e(v):
    return "%.1e" % v


def write_markdown(path, info, rows, startup, args, atol, rtol, soma_bench=None, soma_bench_note=None):
    L = []
    L.append("# Workload benchmark: `soma simulate` vs SciPy")
    L.append("")
    L.append("Written by `/usr/bin/python3 bench/workload.py` (see [README.md](README.md) for the method and "
             "what each column means). Do not edit by hand; re-run the script.")
    L.append("")
    L.append("## Machine and software")
    L.append("")
    L.append("| | |")
    L.append("|---|---|")
    for k, label in [("date", "date (UTC)"), ("cpu", "CPU"), ("nproc", "cores (nproc)"), ("memory", "memory (free -g)"),
                     ("kernel", "Linux"), ("load", "machine load"), ("soma", "Soma"), ("binary", "binary"),
                     ("git", "git"), ("build", "build"),
                     ("sundials", "SUNDIALS"), ("libsbml_c", "libSBML (Soma)"), ("python", "Python"),
                     ("numpy", "NumPy"), ("scipy", "SciPy"), ("libsbml_py", "libSBML (Python)")]:
        L.append("| %s | %s |" % (label, info.get(k, "")))
    L.append("")
    L.append("## Settings")
    L.append("")
    L.append("- Soma: `soma simulate MODEL --start 0 --end T --steps 100 --abs %g --rel %g --summary` (the default automatic "
             "method: Adams with fixed-point iteration, BDF with Newton once stiffness is detected, "
             "explicit Runge-Kutta on segments between close scheduled events, docs/simulation-semantics.md; Soma picks BDF's linear solver). Soma runs CVODES with rel_tol = rel·1e-3 = %g and abs_tol = abs·1e-5 = %g "
             "(`IntegratorOptionsForAccuracy`, src/sim/options.cpp)." % (OUTPUT_ABS, OUTPUT_REL, rtol, atol))
    L.append("- SciPy: `solve_ivp(method=..., rtol=%g, atol=%g, t_eval=grid)`, i.e. the same effective tolerances, "
             "with an analytic Jacobian (sparse for BDF, dense for LSODA, both computed from the reaction list) and a "
             "vectorised NumPy right-hand side built from the SBML via libSBML. Events: integration stops at every "
             "dosing time and at state-event roots (`events=` with `terminal=True`), applies the assignment and restarts."
             % (rtol, atol))
    L.append("- Soma wall = whole `soma simulate` process (exec, SBML read, compile, integrate, CSV to a pipe), best of %d. "
             "Soma integ = `integration time (s)` from `--summary`, best of the same runs. SciPy = the integration "
             "only (model already built in Python), best of up to %d runs (stops after %.0f s)."
             % (args.soma_runs, args.scipy_runs, args.scipy_min_s))
    L.append("- SciPy file→traj = SciPy's whole path from the SBML file in the running Python: `libsbml.readSBMLFromFile`, "
             "building the NumPy right-hand side and Jacobian from the reaction list, and the integration (same code, "
             "grid and tolerances as above), best of up to %d runs per method. It excludes Python's interpreter start "
             "and `import libsbml, numpy, scipy` (%.0f ms, in the Startup table), whereas Soma's wall time includes "
             "Soma's process start and dynamic loading, and it leaves the result in a NumPy array where Soma writes CSV."
             % (args.scipy_runs, startup["python_start_imports_s"] * 1e3))
    if soma_bench:
        L.append("- Soma in-process = `simulate/<model>` from `%s --benchmark_format=json --benchmark_repetitions=%d` "
                 "(Google Benchmark, bench/bench_simulate.cpp; binary modified %s): `Simulator::Simulate` on an already compiled model "
                 "with 100 output steps and the same --abs/--rel, so no process start, SBML read or compile, but "
                 "output handling included; best per-iteration real time over the repetitions. It is the Soma "
                 "counterpart of SciPy's integration-only time."
                 % (soma_bench["binary"], args.soma_bench_reps, soma_bench["modified"]))
    else:
        L.append("- Soma in-process: not measured (%s)." % (soma_bench_note or "no soma_bench_simulate"))
    L.append("- Ratios are SciPy time / Soma time. `LSODA/Soma`, `BDF/Soma`: SciPy integration / Soma **wall** time "
             "(the whole process against SciPy's integration alone, so they favour SciPy); `÷integ`: divided by "
             "Soma's integration time instead; `file/Soma`: SciPy file→traj / Soma wall (like for like); "
             "`÷in-proc`: SciPy integration / Soma in-process simulate (both compile-free).")
    L.append("- Agreement: every species at every output point. `max rel` = max |soma − scipy| / |scipy| over values "
             "|scipy| ≥ 1e-6; `norm` = max |soma − scipy| / (%g + %g·|scipy|), i.e. the deviation in units of the "
             "accuracy requested with --abs/--rel; the check passes when both BDF and LSODA give norm ≤ 1."
             % (OUTPUT_ABS, OUTPUT_REL))
    L.append("")
    L.append("## Results")
    L.append("")
    L.append("| model | species | reactions | events | t_end | Soma wall ms | Soma integ ms | SciPy LSODA ms | SciPy BDF ms "
             "| LSODA/Soma | BDF/Soma | LSODA÷integ | BDF÷integ "
             "| SciPy file→traj LSODA ms | SciPy file→traj BDF ms | LSODA file/Soma | BDF file/Soma "
             "| Soma in-process simulate ms | LSODA÷in-proc | BDF÷in-proc "
             "| max rel (BDF) | norm BDF | norm LSODA | agree |")
    L.append("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|:-:|")
    excluded = []
    for r in rows:
        e = r["entry"]
        if "error" in r:
            excluded.append(r)
            continue
        L.append("| %s | %d | %d | %d | %g | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s "
                 "| %s | %s | %s | %s |" % (
            e["name"], e["species"], e["reactions"], e["events"], e["end"], fmt_ms(r["soma_wall_s"]),
            fmt_ms(r["soma_integration_s"]), fmt_ms(r["lsoda_s"]), fmt_ms(r["bdf_s"]), fmt_x(r["ratio_lsoda"]),
            fmt_x(r["ratio_bdf"]), fmt_x(r["ratio_lsoda_integ"]), fmt_x(r["ratio_bdf_integ"]),
            fmt_ms(r["lsoda_file_s"]), fmt_ms(r["bdf_file_s"]), fmt_x(r["ratio_lsoda_file"]), fmt_x(r["ratio_bdf_file"]),
            fmt_ms(r.get("soma_inproc_s")), fmt_x(r.get("ratio_lsoda_inproc")), fmt_x(r.get("ratio_bdf_inproc")),
            fmt_e(r["agree_bdf"]["max_rel"]), "%.2f" % r["agree_bdf"]["max_norm"],
            "%.2f" % r["agree_lsoda"]["max_norm"], "yes" if r["agree"] else "**NO**"))
    good = [r for r in rows if "error" not in r]
    L.append("")
    if good:
        L.append("Median ratios over the models (the faster SciPy method is taken per model):")
        L.append("")
        L.append("| comparison | models | LSODA | BDF | faster SciPy method |")
        L.append("|---|--:|--:|--:|--:|")
        for _, key, label, _ in COMPARISONS:
            m = median_ratios(good, key)
            if m:
                L.append("| %s | %d | **%s** | **%s** | **%s** |" % (label, m["n"], fmt_x(m["lsoda"]), fmt_x(m["bdf"]),
                                                                  fmt_x(m["best"])))
        native_rows = [r for r in good if r.get("soma_native_s")]
        if native_rows:
            L.append("")
            L.append("Native code (`--native-code`: right-hand side, Jacobian and root functions compiled by LLVM 14, "
                     "src/expr/jit.h; `simulate-native/<model>` and `compile-native/<model>` of `soma_bench_simulate`, "
                     "same run). Compile = the whole model compile with native code, in a process that has already "
                     "loaded LLVM (loading it costs about 15 ms once per process).")
            L.append("")
            L.append("| model | Soma bytecode in-process ms | Soma native in-process ms | bytecode / native | "
                     "compile ms, bytecode | compile ms, with native | LSODA÷native | BDF÷native |")
            L.append("|---|--:|--:|--:|--:|--:|--:|--:|")
            for r in native_rows:
                t = r["soma_native_s"]
                L.append("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
                    r["entry"]["name"], fmt_ms(r.get("soma_inproc_s")), fmt_ms(t),
                    fmt_x(r["soma_inproc_s"] / t) if r.get("soma_inproc_s") else "",
                    fmt_ms(r.get("soma_compile_s")), fmt_ms(r.get("soma_native_compile_s")),
                    fmt_x(r["lsoda_s"] / t), fmt_x(r["bdf_s"] / t)))
        rk_rows = [r for r in good if r.get("soma_rk45_s") or r.get("soma_rk45_error")]
        if rk_rows:
            L.append("")
            L.append("The explicit Runge-Kutta method (`--method rk45`, Dormand-Prince 5(4); `simulate-rk45/<model>` of "
                     "`soma_bench_simulate`, in-process like `simulate/<model>`, same run). Not the default: shown for "
                     "choosing a method, and not counted in the medians above.")
            L.append("")
            L.append("| model | Soma auto in-process ms | Soma rk45 in-process ms | auto / rk45 | LSODA÷rk45 | BDF÷rk45 |")
            L.append("|---|--:|--:|--:|--:|--:|")
            for r in rk_rows:
                t = r.get("soma_rk45_s")
                if not t:
                    msg = r["soma_rk45_error"]
                    flag = re.search(r"ARK_[A-Z_]+", msg)
                    L.append("| %s | %s | error: %s%s | | | |" % (
                        r["entry"]["name"], fmt_ms(r.get("soma_inproc_s")), flag.group(0) if flag else msg[:80],
                        " (stiff: the explicit method's steps are held down by stability)" if "stiff" in msg else ""))
                    continue
                L.append("| %s | %s | %s | %s | %s | %s |" % (
                    r["entry"]["name"], fmt_ms(r.get("soma_inproc_s")), fmt_ms(t),
                    fmt_x(r["soma_inproc_s"] / t) if r.get("soma_inproc_s") else "", fmt_x(r["lsoda_s"] / t),
                    fmt_x(r["bdf_s"] / t)))
        L.append("")
        L.append("Solver work. Soma: counters from `--summary`; its linear solver is dense LU below 20 states and "
                 "sparse from 20 on (`IntegratorOptions::sparse_threshold`, src/solvers/ode_integrator.h; sparse = "
                 "KLU's ordering and pivots with Soma's refactorisation and dense trailing block, "
                 "src/solvers/sparse_lu.h). `integ, 1 output` is Soma's integration "
                 "time for the same run with `--steps 1` (only the end point is output), which shows what stopping "
                 "at the 100 output times costs. SciPy BDF: `nfev`, `njev`, `nlu` summed over the segments "
                 "between events, like Soma's counters, which add up all segments between event restarts. `LSODA vs BDF` is the norm of the difference between the two SciPy solutions.")
        L.append("")
        L.append("| model | Soma linear solver | Soma steps | Soma RHS | Soma Jac | Soma events | Soma integ ms, 1 output "
                 "| SciPy BDF nfev | njev | nlu | SciPy events | LSODA vs BDF norm |")
        L.append("|---|:-:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
        for r in good:
            s, b = r["soma_summary"], r["bdf_stats"]
            L.append("| %s | %s | %d | %d | %d | %d | %s | %d | %d | %d | %d | %.2f |" % (
                r["entry"]["name"], "sparse" if r["entry"]["species"] >= 20 else "dense",
                s["integrator steps"], s["right-hand side evaluations"], s["Jacobian evaluations"],
                s["events fired"], fmt_ms(r["soma_integration_1step_s"]), b["nfev"], b["njev"], b["nlu"], b["events"],
                r["lsoda_vs_bdf"]["max_norm"]))
    if excluded:
        L.append("")
        L.append("### Excluded models")
        L.append("")
        for r in excluded:
            L.append("- `%s`: %s" % (r["entry"]["name"], r["error"].replace("\n", " ")))
    L.append("")
    L.append("## Startup (parse + compile), %s" % startup["model"])
    L.append("")
    L.append("Method: `soma simulate %s --end 1e-9 --steps 1 --summary` as a whole process, best of %d; from it we "
             "subtract Soma's own `setup time` and `integration time` (both from `--summary`) and the wall time of "
             "`soma --version` (process start, dynamic loading of the shared libraries left (libSBML, SUNDIALS, KLU and GLPK are linked statically), CLI parsing), which leaves the "
             "SBML read (libSBML parse, conversion to L3V2, import to Soma's IR) plus compilation to bytecode and "
             "writing a two-row CSV." % (startup["model"], startup["runs"]))
    L.append("")
    L.append("| quantity | ms |")
    L.append("|---|--:|")
    L.append("| whole process, `--end 1e-9 --steps 1` | %.1f |" % (startup["tiny_wall_s"] * 1e3))
    L.append("| `soma --version` (process start baseline) | %.1f |" % (startup["version_wall_s"] * 1e3))
    L.append("| Soma setup time (`--summary`) | %.2f |" % (startup["setup_s"] * 1e3))
    L.append("| Soma integration time (`--summary`) | %.2f |" % (startup["integration_s"] * 1e3))
    L.append("| **parse + compile** (whole − baseline − setup − integration) | **%.1f** |" % (startup["parse_compile_s"] * 1e3))
    L.append("| for reference: libSBML `readSBMLFromFile` alone in Python | %.1f |" % (startup["libsbml_read_s"] * 1e3))
    L.append("| for reference: building the SciPy system from SBML in Python | %.1f |" % (startup["python_build_s"] * 1e3))
    L.append("| for reference: Python start + `import libsbml, numpy, scipy.sparse, scipy.integrate` (not in SciPy "
             "file→traj) | %.0f |" % (startup["python_start_imports_s"] * 1e3))
    r100 = next((r for r in good if r["entry"]["file"] == startup["model"]), None)
    if r100 is not None and r100.get("soma_compile_s") is not None:
        L.append("| for reference: Soma compile alone, in-process (`compile/%s` of soma_bench_simulate) | %.2f |"
                 % (r100["entry"]["name"], r100["soma_compile_s"] * 1e3))
    L.append("")
    L.append("## Targets (from the issue)")
    L.append("")
    if good:
        L.append("- ≥ 20× faster than SciPy on the median model. The issue does not say what is timed, so each "
                 "definition is stated separately; \"met\" means the median ratio is ≥ 20× against both SciPy "
                 "methods%s:" % (
                     " (SciPy's LSODA integration is faster than its BDF on every model here, so LSODA decides)"
                     if all(r["lsoda_s"] <= r["bdf_s"] for r in good) else ""))
        for _, key, label, explain in COMPARISONS:
            m = median_ratios(good, key)
            if m is None:
                L.append("  - %s: not measured (%s)." % (label, soma_bench_note or "no data"))
                continue
            L.append("  - **%s**: median LSODA %s, BDF %s, faster SciPy method %s over %d models → **%s**. "
                     "Definition: %s." % (label, fmt_x(m["lsoda"]), fmt_x(m["bdf"]), fmt_x(m["best"]), m["n"],
                                          target_verdict(m), explain))
    L.append("- Startup under 50 ms for a 100-species model: whole process %.1f ms, parse + compile %.1f ms → **%s**."
             % (startup["tiny_wall_s"] * 1e3, startup["parse_compile_s"] * 1e3,
                "met" if startup["tiny_wall_s"] < 0.05 else ("met for parse + compile, not for the whole process"
                                                              if startup["parse_compile_s"] < 0.05 else "not met")))
    L.append("")
    with open(path, "w") as f:
        f.write("\n".join(L))


# --------------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--soma", default=DEFAULT_SOMA, help="soma binary (default build/bin/soma)")
    ap.add_argument("--models", default=GENERATED, help="folder with generated models and manifest.json")
    ap.add_argument("--only", help="comma-separated model names")
    ap.add_argument("--soma-runs", type=int, default=5)
    ap.add_argument("--scipy-runs", type=int, default=10)
    ap.add_argument("--scipy-min-s", type=float, default=2.0, help="stop repeating a SciPy run after this many seconds")
    ap.add_argument("--startup-runs", type=int, default=15)
    ap.add_argument("--soma-bench", default=DEFAULT_SOMA_BENCH,
                    help="in-process Google Benchmark binary (default build/bin/soma_bench_simulate; skipped if absent)")
    ap.add_argument("--soma-bench-reps", type=int, default=3, help="--benchmark_repetitions for it (best is kept)")
    ap.add_argument("--quick", action="store_true", help="1 run each, no RESULTS.md")
    ap.add_argument("--no-generate", action="store_true", help="do not (re)run make_models.py")
    ap.add_argument("--out", default=os.path.join(HERE, "RESULTS.md"))
    args = ap.parse_args()
    if args.quick:
        args.soma_runs, args.scipy_runs, args.startup_runs, args.soma_bench_reps = 1, 1, 3, 1
    if not os.access(args.soma, os.X_OK):
        sys.exit("no soma binary at %s; build it with `ninja -C build soma`" % args.soma)
    # Other work may rebuild build/bin/soma while we measure: run a private copy of it.
    # Only the light binary: `simulate` and `--version` never exec soma-full.
    snapshot_dir = tempfile.mkdtemp(prefix="soma-bench-")
    soma_path = args.soma
    args.soma = os.path.join(snapshot_dir, "soma")
    shutil.copy2(soma_path, args.soma)
    soma_bench_path = args.soma_bench
    soma_bench_note = None
    if not os.access(soma_bench_path, os.X_OK):
        soma_bench_note = "no %s" % os.path.relpath(soma_bench_path, ROOT)
        args.soma_bench = None
    elif os.path.realpath(args.models) != os.path.realpath(GENERATED):
        # The binary reads the models from the source tree's bench/models/generated.
        soma_bench_note = "--models is not bench/models/generated, which soma_bench_simulate reads"
        args.soma_bench = None
    else:
        args.soma_bench = os.path.join(snapshot_dir, "soma_bench_simulate")
        shutil.copy2(soma_bench_path, args.soma_bench)
    soma_sha = sh("sha256sum %s | cut -c1-16" % args.soma)
    load_before = os.getloadavg()
    if not args.no_generate:
        subprocess.run([sys.executable, os.path.join(HERE, "models", "make_models.py"), "--out", args.models],
                       check=True, stdout=subprocess.DEVNULL)
    with open(os.path.join(args.models, "manifest.json")) as f:
        manifest = json.load(f)
    if args.only:
        keep = set(args.only.split(","))
        manifest = [e for e in manifest if e["name"] in keep]

    atol, rtol = cvodes_tolerances(OUTPUT_ABS, OUTPUT_REL)
    print("tolerances: soma --abs %g --rel %g -> CVODES/SciPy atol %g rtol %g" % (OUTPUT_ABS, OUTPUT_REL, atol, rtol))
    rows = []
    for entry in manifest:
        path = os.path.join(args.models, entry["file"])
        row = {"entry": entry}
        rows.append(row)
        soma = run_soma(args.soma, path, entry, args.soma_runs)
        if "error" in soma:
            row["error"] = "`%s` failed: %s" % (soma["cmd"], soma["error"])
            print("%-11s SOMA FAILED: %s" % (entry["name"], soma["error"]))
            continue
        system = OdeSystem(path)
        grid = np.linspace(entry["start"], entry["end"], entry["steps"] + 1)
        if not np.allclose(soma["data"][:, 0], grid, rtol=0, atol=1e-12 * max(1.0, entry["end"])):
            row["error"] = "Soma's output grid differs from linspace(start, end, steps + 1)"
            continue
        if soma["header"][1:] != system.ids:
            row["error"] = "Soma's columns %s differ from the species %s" % (soma["header"][1:6], system.ids[:5])
            continue
        one = run_soma(args.soma, path, dict(entry, steps=1), max(1, min(3, args.soma_runs)))
        ls_s, ls_all, (ls_y, ls_stats) = timed_scipy(system, grid, "LSODA", rtol, atol, system.jac_dense,
                                                     args.scipy_min_s, args.scipy_runs)
        bdf_s, bdf_all, (bdf_y, bdf_stats) = timed_scipy(system, grid, "BDF", rtol, atol, system.jac_sparse,
                                                         args.scipy_min_s, args.scipy_runs)
        lsf_s, lsf_all, lsf_build = timed_scipy_file(path, grid, "LSODA", rtol, atol, args.scipy_min_s, args.scipy_runs)
        bdff_s, bdff_all, bdff_build = timed_scipy_file(path, grid, "BDF", rtol, atol, args.scipy_min_s, args.scipy_runs)
        y = soma["data"][:, 1:]
        row.update({
            "soma_cmd": soma["cmd"], "soma_wall_s": soma["wall_s"], "soma_wall_all_s": soma["wall_all_s"],
            "soma_integration_s": soma["integration_s"], "soma_setup_s": soma["setup_s"],
            "soma_summary": soma["summary"],
            "soma_integration_1step_s": one.get("integration_s"), "soma_summary_1step": one.get("summary"),
            "lsoda_s": ls_s, "lsoda_all_s": ls_all, "lsoda_stats": ls_stats,
            "bdf_s": bdf_s, "bdf_all_s": bdf_all, "bdf_stats": bdf_stats,
            "lsoda_file_s": lsf_s, "lsoda_file_all_s": lsf_all, "bdf_file_s": bdff_s, "bdf_file_all_s": bdff_all,
            "scipy_build_s": min(lsf_build, bdff_build),
            "agree_lsoda": compare(y, ls_y), "agree_bdf": compare(y, bdf_y), "lsoda_vs_bdf": compare(ls_y, bdf_y),
        })
        row["ratio_lsoda"] = ls_s / soma["wall_s"]
        row["ratio_bdf"] = bdf_s / soma["wall_s"]
        row["ratio_lsoda_integ"] = ls_s / soma["integration_s"]
        row["ratio_bdf_integ"] = bdf_s / soma["integration_s"]
        row["ratio_lsoda_file"] = lsf_s / soma["wall_s"]
        row["ratio_bdf_file"] = bdff_s / soma["wall_s"]
        row["agree"] = row["agree_lsoda"]["max_norm"] <= 1 and row["agree_bdf"]["max_norm"] <= 1
        print("%-11s soma %7.1f ms (integ %7.1f)  LSODA %8.1f ms  BDF %8.1f ms  ratios %6.1f %6.1f  "
              "file->traj LSODA %8.1f BDF %8.1f ms  ratios %6.1f %6.1f  norm bdf %.2f lsoda %.2f rel %.1e" % (
                  entry["name"], soma["wall_s"] * 1e3, soma["integration_s"] * 1e3, ls_s * 1e3, bdf_s * 1e3,
                  row["ratio_lsoda"], row["ratio_bdf"], lsf_s * 1e3, bdff_s * 1e3, row["ratio_lsoda_file"],
                  row["ratio_bdf_file"], row["agree_bdf"]["max_norm"], row["agree_lsoda"]["max_norm"],
                  row["agree_bdf"]["max_rel"]), flush=True)

    # Soma in-process (Google Benchmark): compile-free simulate time, after all the process runs.
    good = [r for r in rows if "error" not in r]
    soma_bench = None
    if args.soma_bench and good:
        try:
            soma_bench = run_soma_bench(args.soma_bench, [r["entry"]["name"] for r in good], args.soma_bench_reps)
        except Exception as e:  # noqa: BLE001 - reported, the rest of the benchmark stands
            soma_bench_note = str(e)
            print("soma_bench_simulate: " + soma_bench_note)
    if soma_bench:
        soma_bench["binary"] = os.path.relpath(soma_bench_path, ROOT)
        soma_bench["modified"] = datetime.datetime.utcfromtimestamp(
            os.path.getmtime(soma_bench_path)).strftime("%Y-%m-%d %H:%M UTC")
        for r in good:
            b = soma_bench["models"].get(r["entry"]["name"], {})
            if "simulate_s" not in b:
                continue
            r["soma_inproc_s"] = b["simulate_s"]
            r["soma_inproc_all_s"] = b["simulate_all_s"]
            r["soma_inproc_steps"] = b.get("steps")
            r["soma_compile_s"] = b.get("compile_s")
            r["ratio_lsoda_inproc"] = r["lsoda_s"] / b["simulate_s"]
            r["ratio_bdf_inproc"] = r["bdf_s"] / b["simulate_s"]
            if b.get("simulate-native_s"):
                r["soma_native_s"] = b["simulate-native_s"]
                r["soma_native_compile_s"] = b.get("compile-native_s")
                r["ratio_lsoda_native"] = r["lsoda_s"] / b["simulate-native_s"]
                r["ratio_bdf_native"] = r["bdf_s"] / b["simulate-native_s"]
            r["soma_rk45_s"] = b.get("simulate-rk45_s")
            r["soma_rk45_error"] = b.get("simulate-rk45_error")
            print("%-11s soma in-process simulate %7.2f ms, compile %6.2f ms  ratios LSODA %6.1f BDF %6.1f" % (
                r["entry"]["name"], b["simulate_s"] * 1e3, (b.get("compile_s") or float("nan")) * 1e3,
                r["ratio_lsoda_inproc"], r["ratio_bdf_inproc"]), flush=True)

    # Startup on the 100-species model.
    entry = next((e for e in manifest if e["name"] == "mass-100"), manifest[0])
    path = os.path.join(args.models, entry["file"])
    tiny = run_soma(args.soma, path, dict(entry, end=1e-9, steps=1), args.startup_runs)
    if "error" in tiny:
        sys.exit("startup run failed: " + tiny["error"])
    version_s, _ = time_process([args.soma, "--version"], args.startup_runs)
    t0 = time.perf_counter()
    libsbml.readSBMLFromFile(path)
    read_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    OdeSystem(path)
    build_s = time.perf_counter() - t0
    py_cmd = [sys.executable, "-c", "import libsbml, numpy, scipy.sparse, scipy.integrate"]
    py_start_s, _ = time_process(py_cmd, max(1, min(5, args.startup_runs)))
    startup = {"model": entry["file"], "runs": args.startup_runs, "tiny_wall_s": tiny["wall_s"],
               "version_wall_s": version_s, "setup_s": tiny["setup_s"], "integration_s": tiny["integration_s"],
               "parse_compile_s": tiny["wall_s"] - version_s - tiny["setup_s"] - tiny["integration_s"],
               "libsbml_read_s": read_s, "python_build_s": build_s,
               "python_start_imports_s": py_start_s, "python_start_cmd": " ".join(py_cmd)}
    print("startup %s: whole %.1f ms, --version %.1f ms, parse+compile %.1f ms" % (
        entry["file"], startup["tiny_wall_s"] * 1e3, version_s * 1e3, startup["parse_compile_s"] * 1e3))

    if good:
        for name, key, label, _ in COMPARISONS:
            m = median_ratios(good, key)
            if m:
                print("median %-45s LSODA %6.1f  BDF %6.1f  faster method %6.1f  (%d models)" % (
                    label, m["lsoda"], m["bdf"], m["best"], m["n"]))
    if args.quick:
        shutil.rmtree(snapshot_dir, ignore_errors=True)
        return 0
    info = machine_info(args.soma)
    info["binary"] = "%s (sha256 %s…, modified %s)" % (
        os.path.relpath(soma_path, ROOT), soma_sha,
        datetime.datetime.utcfromtimestamp(os.path.getmtime(soma_path)).strftime("%Y-%m-%d %H:%M UTC"))
    info["load"] = "%.2f before, %.2f after (1-minute load average; %s cores)" % (
        load_before[0], os.getloadavg()[0], info["nproc"])
    write_markdown(args.out, info, rows, startup, args, atol, rtol, soma_bench, soma_bench_note)
    dump = {"machine": info, "output_abs": OUTPUT_ABS, "output_rel": OUTPUT_REL, "atol": atol, "rtol": rtol,
            "startup": startup,
            "soma_bench": ({k: v for k, v in soma_bench.items() if k != "models"} if soma_bench
                           else {"skipped": soma_bench_note}),
            "medians": {c[0]: median_ratios(good, c[1]) for c in COMPARISONS},
            "models": [{k: v for k, v in r.items() if k not in ("data",)} for r in rows]}
    with open(os.path.splitext(args.out)[0].replace("RESULTS", "workload_results") + ".json", "w") as f:
        json.dump(dump, f, indent=1, default=float)
    print("wrote", args.out)
    shutil.rmtree(snapshot_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
