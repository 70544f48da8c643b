#!/usr/bin/env python3
"""Independent check of Sneyd_PNAS2002 condition Ca_dose_response__5 (IP3 = 10, Ca = 3) at t = 0.07:
a direct SciPy LSODA integration of the SBML reactions and assignment rules (rel 1e-11) with the
parameters table's nominal values. Prints the open probability (0.9 IPR_A + 0.1 IPR_O)^4; see
known_failures.txt."""
import libsbml, math, numpy as np
from scipy.integrate import solve_ivp
doc = libsbml.readSBMLFromFile('/work/shared/petab/Sneyd_PNAS2002/model_Sneyd_PNAS2002.xml')
m = doc.getModel()
import csv
params = {p.getId(): p.getValue() for p in m.getListOfParameters()}
for r in csv.DictReader(open('/work/shared/petab/Sneyd_PNAS2002/parameters_Sneyd_PNAS2002.tsv'), delimiter='\t'):
    params[r['parameterId']] = float(r['nominalValue'])
comps = {c.getId(): c.getSize() for c in m.getListOfCompartments()}
species = [s.getId() for s in m.getListOfSpecies()]
y0 = [s.getInitialConcentration() if s.isSetInitialConcentration() else s.getInitialAmount() for s in m.getListOfSpecies()]
rx = []
for r in m.getListOfReactions():
    f = libsbml.formulaToL3String(r.getKineticLaw().getMath()).replace('^', '**')
    loc = {p.getId(): p.getValue() for p in r.getKineticLaw().getListOfParameters()}
    st = {}
    for s in r.getListOfReactants(): st[s.getSpecies()] = st.get(s.getSpecies(), 0) - s.getStoichiometry()
    for s in r.getListOfProducts(): st[s.getSpecies()] = st.get(s.getSpecies(), 0) + s.getStoichiometry()
    rx.append((compile(f, 'k', 'eval'), loc, st))
def run(IP3, Ca):
    env = dict(params); env.update(comps); env['IP3'] = IP3; env['Ca'] = Ca
    env.update(exp=math.exp, pow=pow)
    rules = [(r.getVariable(), compile(libsbml.formulaToL3String(r.getMath()).replace('^','**'),'r','eval')) for r in m.getListOfRules()]
    def f(t, y):
        e = dict(env); e.update(zip(species, y))
        for var, code in rules: e[var] = eval(code, {}, e)
        dy = np.zeros(len(y))
        for code, loc, st in rx:
            e2 = dict(e); e2.update(loc)
            try:
                v = eval(code, {}, e2)
            except ZeroDivisionError:
                raise SystemExit("zero div in " + str([k for k in e2 if e2[k] == 0][:20]))
            for s, c in st.items():
                dy[species.index(s)] += c * v / comps[m.getSpecies(s).getCompartment()]
        return dy
    sol = solve_ivp(f, (0, 0.35), y0, method='LSODA', rtol=1e-11, atol=1e-13, t_eval=[0.07, 0.14])
    e = dict(zip(species, sol.y[:, 0]))
    return (0.9 * e['IPR_A'] + 0.1 * e['IPR_O'])**4
print("cond5", run(10, 3), "cond4", run(10, 1))
