#!/usr/bin/python3
"""Generate the SBML Level 3 Version 2 models of the Soma workload benchmark.

Run with Debian's python (it has python3-sbml5):

    /usr/bin/python3 bench/models/make_models.py [--out DIR]

Models (all seeded, so every run writes identical files):

  mass-N       mass-action network with N species (N = 10, 30, 100, 300) and about 2N
               reactions: isomerisations A -> B, bindings A + B -> C, dissociations
               C -> A + B and exchanges A + B -> C + D. Every species has an integer
               "mass" that every reaction conserves, so sum(mass * x) is constant and
               the solution stays bounded. Rate constants log-uniform in [0.1, 10].
  stiff-50     the same kind of network with 47 species and rate constants log-uniform
               over 1e-2 .. 1e7, plus Robertson's reactions on three more species
               (A -> B 0.04, 2B -> B + C 3e7, B + C -> A + C 1e4).
  events-30    a 30-species mass-action network with first-order elimination of a few
               species into a sink species `Acc`, 40 time-triggered dosing events
               `time >= t_k: S0 = S0 + 0.5` and one state-triggered event
               `Acc >= 1: Acc = 0` that fires again every time Acc climbs back.
  events-100   the same with 100 species and 50 dosing events.

Every kinetic law is `compartment * k * reactant * reactant`, the compartment has size 1,
species are concentrations (hasOnlySubstanceUnits false) and every parameter is constant,
so an independent implementation only needs the reaction list.  A JSON manifest
(`manifest.json`) next to the models gives the simulation settings of each one.
"""

import argparse
import json
import math
import os
import random
import sys

import libsbml

HERE = os.path.dirname(os.path.abspath(__file__))


def check(value, what):
    if value is None:
        raise RuntimeError("libSBML returned None: " + what)
    if isinstance(value, int) and value != libsbml.LIBSBML_OPERATION_SUCCESS:
        raise RuntimeError("libSBML failed (%d): %s" % (value, what))
    return value


class Builder:
    def __init__(self, model_id):
        self.doc = libsbml.SBMLDocument(3, 2)
        self.m = self.doc.createModel()
        check(self.m.setId(model_id), "model id")
        c = self.m.createCompartment()
        check(c.setId("cell"), "compartment")
        check(c.setSize(1.0), "size")
        check(c.setConstant(True), "constant")
        c.setSpatialDimensions(3)
        self.species = []
        self.n_reactions = 0

    def add_species(self, sid, x0):
        s = self.m.createSpecies()
        check(s.setId(sid), "species id")
        check(s.setCompartment("cell"), "species compartment")
        check(s.setInitialConcentration(x0), "initial concentration")
        check(s.setHasOnlySubstanceUnits(False), "hosu")
        check(s.setBoundaryCondition(False), "bc")
        check(s.setConstant(False), "constant")
        self.species.append(sid)

    def add_parameter(self, pid, value):
        p = self.m.createParameter()
        check(p.setId(pid), "parameter id")
        check(p.setValue(value), "parameter value")
        check(p.setConstant(True), "parameter constant")

    def add_reaction(self, reactants, products, k):
        """reactants/products: lists of species ids (repeats = stoichiometry)."""
        rid = "R%d" % self.n_reactions
        kid = "k%d" % self.n_reactions
        self.n_reactions += 1
        self.add_parameter(kid, k)
        r = self.m.createReaction()
        check(r.setId(rid), "reaction id")
        check(r.setReversible(False), "reversible")
        for side, create in ((reactants, r.createReactant), (products, r.createProduct)):
            counts = {}
            for s in side:
                counts[s] = counts.get(s, 0) + 1
            for s, n in counts.items():
                ref = create()
                check(ref.setSpecies(s), "species ref")
                check(ref.setStoichiometry(float(n)), "stoichiometry")
                check(ref.setConstant(True), "ref constant")
        formula = " * ".join(["cell", kid] + list(reactants))
        kl = r.createKineticLaw()
        check(kl.setMath(check(libsbml.parseL3Formula(formula), formula)), "kinetic law")

    def add_event(self, eid, trigger, assignments):
        e = self.m.createEvent()
        check(e.setId(eid), "event id")
        check(e.setUseValuesFromTriggerTime(True), "uvftt")
        t = e.createTrigger()
        check(t.setInitialValue(False), "initial value")
        check(t.setPersistent(True), "persistent")
        check(t.setMath(check(libsbml.parseL3Formula(trigger), trigger)), "trigger")
        for var, formula in assignments:
            a = e.createEventAssignment()
            check(a.setVariable(var), "event variable")
            check(a.setMath(check(libsbml.parseL3Formula(formula), formula)), "assignment")

    def write(self, path):
        errors = self.doc.checkInternalConsistency()
        if errors:
            self.doc.printErrors()
            raise RuntimeError("inconsistent model " + path)
        if not libsbml.writeSBMLToFile(self.doc, path):
            raise RuntimeError("cannot write " + path)


def mass_network(b, rng, n_species, n_reactions, log_k_range, prefix="S", x0_range=(0.1, 1.0)):
    """Add a mass-conserving mass-action network; returns the species ids added."""
    masses = [1 + (i % 3) for i in range(n_species)]  # 1, 2, 3, 1, 2, 3, ...
    rng.shuffle(masses)
    ids = []
    for i in range(n_species):
        sid = "%s%d" % (prefix, i)
        b.add_species(sid, round(rng.uniform(*x0_range), 4))
        ids.append(sid)
    by_mass = {}
    for sid, m in zip(ids, masses):
        by_mass.setdefault(m, []).append(sid)
    lo, hi = log_k_range

    def k():
        return float("%.4g" % (10 ** rng.uniform(lo, hi)))

    def rand_of(m):
        return rng.choice(by_mass[m])

    used = set()
    reactions = []
    # First make every species take part: a ring of isomerisations within each mass class
    # would be too easy, so alternate between binding and dissociation involving it.
    for sid, m in zip(ids, masses):
        if sid in used:
            continue
        if m == 1:
            partner = rand_of(1)
            if partner == sid:
                reactions.append(([sid], [rand_of(1)]))
            else:
                reactions.append(([sid, partner], [rand_of(2)]))
        elif m == 2:
            reactions.append(([sid], [rand_of(1), rand_of(1)]))
        else:
            reactions.append(([rand_of(1), rand_of(2)], [sid]))
        for s in reactions[-1][0] + reactions[-1][1]:
            used.add(s)
    while len(reactions) < n_reactions:
        kind = rng.random()
        if kind < 0.25:  # isomerisation
            m = rng.choice([1, 2, 3])
            a, c = rand_of(m), rand_of(m)
            if a == c:
                continue
            reactions.append(([a], [c]))
        elif kind < 0.55:  # binding
            if rng.random() < 0.5:
                reactions.append(([rand_of(1), rand_of(1)], [rand_of(2)]))
            else:
                reactions.append(([rand_of(1), rand_of(2)], [rand_of(3)]))
        elif kind < 0.85:  # dissociation
            if rng.random() < 0.5:
                reactions.append(([rand_of(2)], [rand_of(1), rand_of(1)]))
            else:
                reactions.append(([rand_of(3)], [rand_of(1), rand_of(2)]))
        else:  # exchange A + B -> C + D, masses 1 + 2 -> 3? no: 1 + 3 -> 2 + 2
            reactions.append(([rand_of(1), rand_of(3)], [rand_of(2), rand_of(2)]))
    for reac, prod in reactions:
        if sorted(reac) == sorted(prod):
            continue
        b.add_reaction(reac, prod, k())
    return ids


def make_mass(n, seed):
    rng = random.Random(seed)
    b = Builder("mass_%d" % n)
    mass_network(b, rng, n, 2 * n, (-1.0, 1.0))
    return b


def make_stiff(seed):
    rng = random.Random(seed)
    b = Builder("stiff_50")
    mass_network(b, rng, 47, 94, (-2.0, 7.0))
    b.add_species("A", 1.0)
    b.add_species("B", 0.0)
    b.add_species("C", 0.0)
    b.add_reaction(["A"], ["B"], 0.04)
    b.add_reaction(["B", "B"], ["B", "C"], 3e7)
    b.add_reaction(["B", "C"], ["A", "C"], 1e4)
    return b


def make_events(n, n_doses, seed, t_end):
    rng = random.Random(seed)
    b = Builder("events_%d" % n)
    ids = mass_network(b, rng, n, 2 * n, (-1.0, 1.0))
    b.add_species("Acc", 0.0)
    # First-order elimination of every fifth species into the sink Acc.
    for sid in ids[::5]:
        b.add_reaction([sid], ["Acc"], float("%.3g" % rng.uniform(0.05, 0.2)))
    # Dosing times: spread over (0, t_end), never on the integer output grid.
    times = sorted(set(round(rng.uniform(0.5, t_end - 0.5), 3) for _ in range(n_doses)))
    times = [t if abs(t - round(t)) > 1e-3 else t + 0.137 for t in times]
    for i, t in enumerate(times):
        b.add_event("dose%d" % i, "time >= %r" % t, [(ids[0], "%s + 0.5" % ids[0])])
    b.add_event("collect", "Acc >= 1", [("Acc", "0")])
    return b


MODELS = [
    # name, builder, (t_end, steps)
    ("mass-10", lambda: make_mass(10, 10), (20.0, 100)),
    ("mass-30", lambda: make_mass(30, 30), (20.0, 100)),
    ("mass-100", lambda: make_mass(100, 100), (20.0, 100)),
    ("mass-300", lambda: make_mass(300, 300), (20.0, 100)),
    ("stiff-50", lambda: make_stiff(50), (100.0, 100)),
    ("events-30", lambda: make_events(30, 40, 31, 100.0), (100.0, 100)),
    ("events-100", lambda: make_events(100, 50, 101, 100.0), (100.0, 100)),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(HERE, "generated"), help="output folder")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    manifest = []
    for name, build, (t_end, steps) in MODELS:
        b = build()
        path = os.path.join(args.out, name + ".xml")
        b.write(path)
        manifest.append({"name": name, "file": name + ".xml", "start": 0.0, "end": t_end, "steps": steps,
                         "species": b.m.getNumSpecies(), "reactions": b.m.getNumReactions(),
                         "events": b.m.getNumEvents()})
        print("%-11s %4d species %4d reactions %3d events -> %s" % (
            name, b.m.getNumSpecies(), b.m.getNumReactions(), b.m.getNumEvents(), path))
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)


if __name__ == "__main__":
    sys.exit(main())
