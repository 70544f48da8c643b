#!/usr/bin/env python3
"""Independent SciPy simulation of a PEtab problem (written for Chen_MSB2009, see known_failures.txt).

Reads the SBML with libsbml and builds the ODE right-hand side as one generated Python function:
state = species amounts, d(amount)/dt = sum(stoichiometry * kinetic law); species symbols mean
concentration (amount / compartment size) unless hasOnlySubstanceUnits; boundary or constant species
do not change; assignment rules are evaluated in dependency order; initial assignments at t = 0;
function definitions are expanded by libsbml; local kinetic-law parameters shadow global ids.
Events, rate/algebraic rules, fast reactions, stoichiometryMath, conversion factors, delays,
preequilibration and conditions on compartments stop the script with an error. Conditions set
parameters or species (initial concentration); model parameters take the nominalValue column
(linear scale; --model-values keeps the SBML's own values instead, as a diagnostic).
Time points where a piecewise condition on time flips are located and the integration is restarted
there. Integrates with solve_ivp (BDF with jac_sparsity; LSODA), at the measurement times, evaluates
each row's observable with its observableParameters / noiseParameters, and prints SciPy vs the
collection's simulatedData (and optionally vs a Soma simulation table), marking rows with
|scipy - table| > 1e-3 |table|, plus the normal (or log-normal) negative log-likelihoods.

Run (Debian python3-scipy, python3-numpy, python3-libsbml; ~4 min for the default runs):
  /usr/bin/python3 tests/petab/chen_scipy_check.py [--dir /work/shared/petab/Chen_MSB2009]
      [--soma SOMA_SIMULATION.tsv] [--model-values] [--runs BDF:1e-10:1e-12,BDF:1e-8:1e-10]
The first run of --runs is the one tabulated; the others are compared with it (convergence check).
LSODA:1e-10:1e-12 also works but takes ~17 min (dense finite-difference Jacobian, 500 states).
Result for Chen_MSB2009: SciPy BDF/LSODA agree with Soma to < 4e-9 (nllh 130591.753); with
--model-values they reproduce simulatedData to 1.2e-7 (nllh 130669.488): the collection's table was
simulated with the SBML's parameter values, 16 of which the parameters table rounds to 3 digits.
"""
import argparse, csv, glob, math, os, sys, time as clock
import numpy as np, libsbml as L
from scipy.integrate import solve_ivp
from scipy.sparse import lil_matrix

ap = argparse.ArgumentParser()
ap.add_argument('--dir', default='/work/shared/petab/Chen_MSB2009')
ap.add_argument('--soma', help="Soma's simulation table (soma petab simulate -o FILE)")
ap.add_argument('--model-values', action='store_true', help="keep the SBML's own parameter values (diagnostic)")
ap.add_argument('--runs', default='BDF:1e-10:1e-12,BDF:1e-8:1e-10')
A = ap.parse_args()
def table(pattern): return list(csv.DictReader(open(glob.glob(os.path.join(A.dir, pattern))[0]), delimiter='\t'))
def die(msg): sys.exit('chen_scipy_check: unsupported / error: ' + msg)

doc = L.readSBMLFromFile(glob.glob(os.path.join(A.dir, 'model_*.xml'))[0])
if doc.getNumErrors(L.LIBSBML_SEV_ERROR): die('SBML read errors')
if doc.getModel().getNumFunctionDefinitions():
    p = L.ConversionProperties(); p.addOption('expandFunctionDefinitions', True)
    if doc.convert(p) != L.LIBSBML_OPERATION_SUCCESS: die('function definitions not expanded')
m = doc.getModel()
if m.getNumEvents(): die('events')
if any(not r.isAssignment() for r in m.getListOfRules()): die('rate or algebraic rules')
if m.getLevel() > 2 and (m.isSetConversionFactor() or any(s.isSetConversionFactor() for s in m.getListOfSpecies())): die('conversion factors')
OPS = {L.AST_PLUS: '+', L.AST_MINUS: '-', L.AST_TIMES: '*', L.AST_DIVIDE: '/'}
REL = {L.AST_RELATIONAL_LT: '<', L.AST_RELATIONAL_LEQ: '<=', L.AST_RELATIONAL_GT: '>',
       L.AST_RELATIONAL_GEQ: '>=', L.AST_RELATIONAL_EQ: '==', L.AST_RELATIONAL_NEQ: '!='}
FUN = {L.AST_FUNCTION_EXP: 'exp', L.AST_FUNCTION_LN: 'log', L.AST_FUNCTION_ABS: 'abs', L.AST_FUNCTION_SIN: 'sin',
       L.AST_FUNCTION_COS: 'cos', L.AST_FUNCTION_TAN: 'tan', L.AST_FUNCTION_FLOOR: 'floor',
       L.AST_FUNCTION_CEILING: 'ceil', L.AST_FUNCTION_TANH: 'tanh', L.AST_FUNCTION_ARCTAN: 'atan'}
CONST = {L.AST_NAME_TIME: 't', L.AST_CONSTANT_PI: 'pi', L.AST_CONSTANT_E: 'e', L.AST_CONSTANT_TRUE: 'True', L.AST_CONSTANT_FALSE: 'False'}
MATH = {k: getattr(math, k) for k in ('exp', 'log', 'log10', 'sqrt', 'sin', 'cos', 'tan', 'floor', 'ceil', 'tanh', 'atan', 'pi', 'e', 'nan')}
def py(n, sym):
    """SBML AST -> Python expression; sym maps an SBML id to Python text."""
    t, k = n.getType(), [py(n.getChild(i), sym) for i in range(n.getNumChildren())]
    if t == L.AST_INTEGER: return repr(float(n.getInteger()))
    if t in (L.AST_REAL, L.AST_REAL_E): return repr(n.getReal())
    if t == L.AST_RATIONAL: return '(%r/%r)' % (float(n.getNumerator()), float(n.getDenominator()))
    if t == L.AST_NAME: return sym(n.getName())
    if t in CONST: return CONST[t]
    if t == L.AST_MINUS and len(k) == 1: return '(-%s)' % k[0]
    if t in OPS: return '(%s)' % OPS[t].join(k) if k else ('0.0' if t == L.AST_PLUS else '1.0')
    if t in (L.AST_POWER, L.AST_FUNCTION_POWER): return '(%s**%s)' % (k[0], k[1])
    if t in REL: return '(%s)' % ' and '.join('%s%s%s' % (a, REL[t], b) for a, b in zip(k, k[1:]))
    if t in (L.AST_LOGICAL_AND, L.AST_LOGICAL_OR): return '(%s)' % (' and ' if t == L.AST_LOGICAL_AND else ' or ').join(k)
    if t == L.AST_LOGICAL_NOT: return '(not %s)' % k[0]
    if t == L.AST_FUNCTION_PIECEWISE:
        e = k[-1] if len(k) % 2 else 'nan'
        for i in range(len(k) - 2 - len(k) % 2, -1, -2): e = '(%s if %s else %s)' % (k[i], k[i + 1], e)
        return e
    if t == L.AST_FUNCTION_ROOT: return 'sqrt(%s)' % k[0] if len(k) == 1 else '(%s**(1.0/%s))' % (k[1], k[0])
    if t == L.AST_FUNCTION_LOG: return 'log10(%s)' % k[0] if len(k) == 1 else '(log(%s)/log(%s))' % (k[1], k[0])
    if t in FUN: return '%s(%s)' % (FUN[t], ', '.join(k))
    die('math element %s (AST type %d)' % (n.getName(), t))
def names(n, acc):
    if n.getType() in (L.AST_NAME, L.AST_NAME_TIME): acc.add(n.getName() if n.getType() == L.AST_NAME else '<time>')
    for i in range(n.getNumChildren()): names(n.getChild(i), acc)
    return acc

comp = {c.getId(): c.getSize() for c in m.getListOfCompartments()}
spec = {s.getId(): s for s in m.getListOfSpecies()}
rules = [(r.getVariable(), r.getMath()) for r in m.getListOfRules()]
ruled = {v for v, _ in rules}
if ruled & set(comp): die('assignment rule on a compartment')
def topo(items):  # order (target, math) pairs so every target comes after the targets it uses
    out, todo = [], list(items)
    while todo:
        ready = [it for it in todo if not (names(it[1], set()) & ({v for v, _ in todo} - {it[0]}))]
        if not ready: die('cyclic rules / initial assignments')
        out += ready; todo = [it for it in todo if it not in ready]
    return out
rules, rdeps = topo(rules), {}
for v, ma in rules: rdeps[v] = set().union(*[rdeps.get(x, {x}) for x in names(ma, set())] or [set()])  # transitive
states = [s for s in spec if s not in ruled]; idx = {s: i for i, s in enumerate(states)}
def specsym(s): return 'y[%d]' % idx[s] if spec[s].getHasOnlySubstanceUnits() else '(y[%d]/%r)' % (idx[s], comp[spec[s].getCompartment()])
rx = []
for r in m.getListOfReactions():
    if r.getFast(): die('fast reaction ' + r.getId())
    kl = r.getKineticLaw()
    loc = {p.getId(): p.getValue() for p in kl.getListOfParameters()}
    if m.getLevel() > 2: loc.update({p.getId(): p.getValue() for p in kl.getListOfLocalParameters()})
    st = {}
    for sr, sg in [(x, -1) for x in r.getListOfReactants()] + [(x, 1) for x in r.getListOfProducts()]:
        if (m.getLevel() < 3 and sr.isSetStoichiometryMath()) or (sr.isSetId() and sr.getId() in ruled | {a.getSymbol() for a in m.getListOfInitialAssignments()}):
            die('variable stoichiometry in ' + r.getId())
        st[sr.getSpecies()] = st.get(sr.getSpecies(), 0) + sg * sr.getStoichiometry()
    deps = set().union(*[rdeps.get(x, {x}) for x in names(kl.getMath(), set()) - set(loc)] or [set()])
    rx.append((kl.getMath(), loc, st, deps))

def breakpoints(env):
    """Times at which a piecewise condition that depends only on time (linearly) flips."""
    bps, stack = set(), [ma for _, ma in rules] + [a for a, *_ in rx]
    while stack:
        n = stack.pop(); stack += [n.getChild(i) for i in range(n.getNumChildren())]
        if n.getType() != L.AST_FUNCTION_PIECEWISE: continue
        for c in [n.getChild(i) for i in range(1, n.getNumChildren(), 2)]:
            for rel in [c] if c.getType() in REL else []:
                nm = names(rel, set())
                if '<time>' not in nm: continue
                if nm - {'<time>'} - set(env): print('WARNING: state-dependent switch not located:', L.formulaToL3String(rel)); continue
                f = [eval('(%s)-(%s)' % (py(rel.getChild(0), lambda x: '_s_' + x), py(rel.getChild(1), lambda x: '_s_' + x)),
                          dict(MATH, t=tt, **{'_s_' + a: b for a, b in env.items()})) for tt in (0.0, 1.0, 2.0)]
                if abs(f[2] - 2 * f[1] + f[0]) > 1e-9 * (abs(f[0]) + 1): print('WARNING: nonlinear time switch'); continue
                if f[1] != f[0]: bps.add(-f[0] / (f[1] - f[0]))
    return bps

par_tab = {r['parameterId']: float(r['nominalValue']) for r in table('parameters_*.tsv')}
def setup(cond):
    """Constants and initial state for one condition -> (rhs, symbols(t, y), y0, env, sparsity)."""
    env = {p.getId(): p.getValue() for p in m.getListOfParameters()}
    env.update({k: v for k, v in par_tab.items() if k in env and not A.model_values}); env.update(comp)
    init = {s: (o.getInitialConcentration() if o.isSetInitialConcentration() else o.getInitialAmount() /
                (1 if o.getHasOnlySubstanceUnits() else comp[o.getCompartment()])) for s, o in spec.items()}
    init.update({s: o.getInitialAmount() for s, o in spec.items() if o.getHasOnlySubstanceUnits() and o.isSetInitialAmount()})
    overridden = set()
    for k, v in cond.items():
        if k in ('conditionId', 'conditionName') or v.strip() in ('', 'NaN', 'nan'): continue
        val = par_tab[v] if v in par_tab else float(v)
        if k in comp or not (k in spec or k in env): die('condition column %s (compartment or unknown id)' % k)
        (init if k in spec else env)[k] = val; overridden.add(k)
    ia = [(a.getSymbol(), a.getMath()) for a in m.getListOfInitialAssignments() if a.getSymbol() not in overridden]
    if {s for s, _ in ia} & set(comp): die('initial assignment to a compartment')
    ns = dict(MATH, t=0.0, **{'_s_' + k: v for k, v in {**env, **init}.items()})
    for v, ma in topo(ia + rules): ns['_s_' + v] = eval(py(ma, lambda x: '_s_' + x), ns)
    env.update({v: ns['_s_' + v] for v, _ in ia if v in env})
    y0 = np.array([ns['_s_' + s] * (1 if spec[s].getHasOnlySubstanceUnits() else comp[spec[s].getCompartment()]) for s in states])
    const = {k: v for k, v in env.items() if k not in ruled}
    def sym(x, loc={}): return repr(loc[x]) if x in loc else repr(const[x]) if x in const else specsym(x) if x in idx else '_s_' + x
    pre = ['    _s_%s = %s' % (v, py(ma, sym)) for v, ma in rules]
    code = ['def rhs(t, y):'] + pre + ['    _v%d = %s' % (j, py(a, lambda x, l=l: sym(x, l))) for j, (a, l, *_) in enumerate(rx)]
    dy = {s: [] for s in states}
    for j, (_, _, st, _) in enumerate(rx):
        for s, c in st.items():
            if s in idx and not (spec[s].getBoundaryCondition() or spec[s].getConstant()): dy[s].append('%r*_v%d' % (c, j))
    code.append('    return _np.array([%s])' % ', '.join(' + '.join(dy[s]) or '0.0' for s in states))
    code += ['def symbols(t, y):'] + pre + ['    d = {%s}' % ', '.join("'_s_%s': %s" % (s, specsym(s)) for s in states),
                                           '    d.update({k: v for k, v in locals().items() if k.startswith("_s_")})', '    return d']
    g = dict(MATH, _np=np); exec(compile('\n'.join(code), '<generated rhs>', 'exec'), g)
    S = lil_matrix((len(states), len(states))); S.setdiag(1)
    for _, _, st, deps in rx:  # d(species changed by a reaction) / d(species its rate uses, also via rules)
        for s, d in ((s, d) for s in st if s in idx for d in deps & set(idx)): S[idx[s], idx[d]] = 1
    return g['rhs'], g['symbols'], y0, env, const, S.tocsr()

meas, ref = table('measurementData_*.tsv'), table('simulatedData_*.tsv')
soma = list(csv.DictReader(open(A.soma), delimiter='\t')) if A.soma else None
key = ('observableId', 'simulationConditionId', 'time', 'observableParameters', 'noiseParameters')
for other in [ref] + ([soma] if soma else []):
    if len(other) != len(meas) or any(tuple(a[k] for k in key) != tuple(b[k] for k in key) for a, b in zip(meas, other)): die('tables do not align row by row')
if any(r.get('preequilibrationConditionId', '').strip() for r in meas): die('preequilibration')
obs = {o['observableId']: o for o in table('observables_*.tsv')}
conds = {c['conditionId']: c for c in table('experimentalCondition_*.tsv')}

def simulate(method, rtol, atol):
    out, t0 = [None] * len(meas), clock.time()
    for cid in dict.fromkeys(r['simulationConditionId'] for r in meas):
        rhs, symbols, y, env, const, S = setup(conds[cid])
        rows = [i for i, r in enumerate(meas) if r['simulationConditionId'] == cid]
        times = sorted({float(meas[i]['time']) for i in rows}); tend = times[-1]
        edges = [0.0] + sorted(b for b in breakpoints(const) if 0 < b < tend) + [tend]
        ys = {0.0: y} if times[0] == 0 else {}
        for a, b in zip(edges, edges[1:]):
            te = sorted({tt for tt in times if a < tt <= b} | {b})
            kw = dict(jac_sparsity=S) if method in ('BDF', 'Radau') else {}
            sol = solve_ivp(rhs, (a, b), y, method=method, rtol=rtol, atol=atol, t_eval=te, **kw)
            if sol.status != 0: die('%s failed in %s: %s' % (method, cid, sol.message))
            ys.update(zip(te, sol.y.T)); y = sol.y[:, -1]
        for i in rows:
            r, o = meas[i], obs[meas[i]['observableId']]
            tt = float(r['time']); ns = dict(MATH, t=tt)
            for d in ({'_s_' + k: v for k, v in {**par_tab, **env}.items()}, symbols(tt, ys[tt])): ns.update(d)
            for kind, col in (('observable', 'observableParameters'), ('noise', 'noiseParameters')):
                for j, v in enumerate(x for x in r.get(col, '').split(';') if x.strip()):
                    ns['_s_%sParameter%d_%s' % (kind, j + 1, o['observableId'])] = par_tab[v.strip()] if v.strip() in par_tab else float(v)
            f = lambda s: eval(py(L.parseL3Formula(s), lambda x: '_s_' + x), ns)
            out[i] = (f(o['observableFormula']), f(o['noiseFormula']))
    return out, clock.time() - t0

def nllh(sims, sigmas):
    tot = 0.0
    for r, y, s in zip(meas, sims, sigmas):
        tr, mv = obs[r['observableId']].get('observableTransformation', 'lin') or 'lin', float(r['measurement'])
        if obs[r['observableId']].get('noiseDistribution', 'normal') not in ('', 'normal'): die('noise distribution')
        if tr == 'lin': tot += 0.5 * math.log(2 * math.pi * s * s) + 0.5 * ((mv - y) / s) ** 2
        else:
            lg, c = (math.log, 1.0) if tr == 'log' else (math.log10, math.log(10))
            tot += 0.5 * math.log(2 * math.pi * (s * mv * c) ** 2) + 0.5 * ((lg(mv) - lg(y)) / s) ** 2
    return tot

runs, res = [(mth, float(rt), float(at)) for mth, rt, at in (x.split(':') for x in A.runs.split(','))], []
for mth, rt, at in runs:
    out, sec = simulate(mth, rt, at); res.append(out); print('run %s rtol=%g atol=%g: %.1f s' % (mth, rt, at, sec), flush=True)
rel = lambda a, b: abs(a - b) / max(abs(b), 1e-300)
main = [v for v, _ in res[0]]; tab = [float(r['simulation']) for r in ref]
sv = [float(s['simulation']) for s in soma] if soma else None
print('\n%-14s %-13s %7s %22s %22s %10s' % ('condition', 'observable', 'time', 'scipy (%s %g)' % runs[0][:2], 'simulatedData', 'rel diff')
      + ('  %22s %10s' % ('soma', 'rel s-soma') if soma else ''))
for i, r in enumerate(meas):
    print('%-14s %-13s %7s %22.15g %22.15g %10.2e' % (r['simulationConditionId'], r['observableId'], r['time'], main[i], tab[i], rel(main[i], tab[i]))
          + ('  %22.15g %10.2e' % (sv[i], rel(main[i], sv[i])) if soma else '') + (' <==' if abs(main[i] - tab[i]) > 1e-3 * abs(tab[i]) else ''))
big, allr = lambda a, b: max(rel(x, y) for x, y in zip(a, b) if abs(y) > 1e-9), lambda a, b: max(map(rel, a, b))
print('\nmax rel diff scipy vs simulatedData: all rows %.3e, rows with |value| > 1e-9 %.3e' % (allr(main, tab), big(main, tab)))
if soma: print('max rel diff scipy vs soma: all rows %.3e, rows with |value| > 1e-9 %.3e' % (allr(main, sv), big(main, sv)))
for (mth, rt, at), out in zip(runs[1:], res[1:]):
    print('max rel diff %s rtol=%g vs %s rtol=%g: %.3e' % (mth, rt, runs[0][0], runs[0][1], big([v for v, _ in out], main)))
sig = [s for _, s in res[0]]
print('\nnllh scipy: %.5f   simulatedData: %.5f' % (nllh(main, sig), nllh(tab, sig)) + ('   soma: %.5f' % nllh(sv, sig) if soma else ''))
