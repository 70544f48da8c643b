#!/usr/bin/python3
"""Writes models/t1d-uva-padova.xml, Soma's SBML Level 3 Version 2 encoding of
the UVA/Padova type 1 diabetes model (Dalla Man, Rizza, Cobelli 2007 meal
model with subcutaneous insulin and a CGM compartment, in the type 1 form of
Kovatchev et al. 2009 / Dalla Man et al. 2014 used by simglucose).

The equations are written out below from the papers; the default parameter
values and initial state are those of one virtual patient (adult#001), read
from the simglucose parameter table so that no number is typed in by hand:

  /usr/bin/python3 scripts/models/t1d_uva_padova.py \
      ../shared/clinical/simglucose/vpatient_params.csv models/t1d-uva-padova.xml

Needs python3-sbml5 (libSBML >= 5.18).
"""
import csv
import sys

import libsbml

DEFAULT_PATIENT = "adult#001"

# Unit definitions: id -> list of (kind, exponent, scale, multiplier).
UNITS = {
    "min": [(libsbml.UNIT_KIND_SECOND, 1, 0, 60.0)],
    "per_min": [(libsbml.UNIT_KIND_SECOND, -1, 0, 60.0)],
    "mg": [(libsbml.UNIT_KIND_GRAM, 1, -3, 1.0)],
    "kg": [(libsbml.UNIT_KIND_KILOGRAM, 1, 0, 1.0)],
    "per_mg": [(libsbml.UNIT_KIND_GRAM, -1, -3, 1.0)],
    "mg_per_min": [(libsbml.UNIT_KIND_GRAM, 1, -3, 1.0), (libsbml.UNIT_KIND_SECOND, -1, 0, 60.0)],
    "mg_per_kg": [(libsbml.UNIT_KIND_GRAM, 1, -3, 1.0), (libsbml.UNIT_KIND_KILOGRAM, -1, 0, 1.0)],
    "mg_per_kg_per_min": [(libsbml.UNIT_KIND_GRAM, 1, -3, 1.0), (libsbml.UNIT_KIND_KILOGRAM, -1, 0, 1.0),
                          (libsbml.UNIT_KIND_SECOND, -1, 0, 60.0)],
    "pmol_per_kg": [(libsbml.UNIT_KIND_MOLE, 1, -12, 1.0), (libsbml.UNIT_KIND_KILOGRAM, -1, 0, 1.0)],
    "pmol_per_kg_per_min": [(libsbml.UNIT_KIND_MOLE, 1, -12, 1.0), (libsbml.UNIT_KIND_KILOGRAM, -1, 0, 1.0),
                            (libsbml.UNIT_KIND_SECOND, -1, 0, 60.0)],
    "pmol_per_L": [(libsbml.UNIT_KIND_MOLE, 1, -12, 1.0), (libsbml.UNIT_KIND_LITRE, -1, 0, 1.0)],
    "dL_per_kg": [(libsbml.UNIT_KIND_LITRE, 1, -1, 1.0), (libsbml.UNIT_KIND_KILOGRAM, -1, 0, 1.0)],
    "L_per_kg": [(libsbml.UNIT_KIND_LITRE, 1, 0, 1.0), (libsbml.UNIT_KIND_KILOGRAM, -1, 0, 1.0)],
    "mg_per_dL": [(libsbml.UNIT_KIND_GRAM, 1, -3, 1.0), (libsbml.UNIT_KIND_LITRE, -1, -1, 1.0)],
    # Insulin action gains: (mg/kg/min) per (pmol/L).
    "mg_L_per_kg_per_min_per_pmol": [(libsbml.UNIT_KIND_GRAM, 1, -3, 1.0), (libsbml.UNIT_KIND_KILOGRAM, -1, 0, 1.0),
                                     (libsbml.UNIT_KIND_SECOND, -1, 0, 60.0), (libsbml.UNIT_KIND_MOLE, -1, -12, 1.0),
                                     (libsbml.UNIT_KIND_LITRE, 1, 0, 1.0)],
}

# Compartments: id, name. The species live in them as masses per kg of body
# weight (or mg in the gut); hasOnlySubstanceUnits makes the compartment size
# irrelevant to the equations, so sizes are 1 (dimensionless).
COMPARTMENTS = [
    ("stomach", "stomach"),
    ("intestine", "intestine (gut)"),
    ("plasma", "plasma and rapidly equilibrating tissues"),
    ("tissue", "slowly equilibrating (peripheral) tissues"),
    ("liver", "liver"),
    ("subcutaneous", "subcutaneous tissue (insulin depot)"),
    ("interstitium", "subcutaneous interstitial fluid (CGM sensor site)"),
]

CHEBI_GLUCOSE = "http://identifiers.org/CHEBI:17234"
CHEBI_INSULIN = "http://identifiers.org/CHEBI:5931"

# States in simglucose order x1..x13: (id, name, compartment or None for a
# parameter, units, CHEBI term or None). Index i is state x_{i+1}.
STATES = [
    ("Qsto1", "solid glucose in the stomach", "stomach", "mg", CHEBI_GLUCOSE),
    ("Qsto2", "liquid (triturated) glucose in the stomach", "stomach", "mg", CHEBI_GLUCOSE),
    ("Qgut", "glucose in the intestine", "intestine", "mg", CHEBI_GLUCOSE),
    ("Gp", "glucose mass in plasma and rapidly equilibrating tissues", "plasma", "mg_per_kg", CHEBI_GLUCOSE),
    ("Gt", "glucose mass in slowly equilibrating tissues", "tissue", "mg_per_kg", CHEBI_GLUCOSE),
    ("Ip", "insulin mass in plasma", "plasma", "pmol_per_kg", CHEBI_INSULIN),
    ("X", "insulin action on glucose utilisation (remote compartment)", None, "pmol_per_L", None),
    ("I1", "delayed insulin signal (first delay compartment)", None, "pmol_per_L", None),
    ("Id", "delayed insulin signal acting on glucose production", None, "pmol_per_L", None),
    ("Il", "insulin mass in the liver", "liver", "pmol_per_kg", CHEBI_INSULIN),
    ("Isc1", "nonmonomeric insulin in the subcutaneous space", "subcutaneous", "pmol_per_kg", CHEBI_INSULIN),
    ("Isc2", "monomeric insulin in the subcutaneous space", "subcutaneous", "pmol_per_kg", CHEBI_INSULIN),
    ("Gs", "subcutaneous (interstitial) glucose mass", "interstitium", "mg_per_kg", CHEBI_GLUCOSE),
]

# Patient parameters (ids as in simglucose's vpatient_params.csv): id, units, name.
PATIENT_PARAMETERS = [
    ("BW", "kg", "body weight"),
    ("kabs", "per_min", "rate constant of intestinal absorption"),
    ("kmax", "per_min", "maximum rate constant of gastric emptying"),
    ("kmin", "per_min", "minimum rate constant of gastric emptying"),
    ("b", "dimensionless", "fraction of the dose at which gastric emptying has decreased to (kmax-kmin)/2"),
    ("d", "dimensionless", "fraction of the dose at which gastric emptying is back to (kmax-kmin)/2 (c in Dalla Man 2007)"),
    ("f", "dimensionless", "fraction of intestinal absorption that appears in plasma"),
    ("Vg", "dL_per_kg", "distribution volume of glucose"),
    ("Vi", "L_per_kg", "distribution volume of insulin"),
    ("k1", "per_min", "rate constant from plasma to slowly equilibrating tissue glucose"),
    ("k2", "per_min", "rate constant from slowly equilibrating tissue to plasma glucose"),
    ("kp1", "mg_per_kg_per_min", "extrapolated endogenous glucose production at zero glucose and insulin"),
    ("kp2", "per_min", "liver glucose effectiveness"),
    ("kp3", "mg_L_per_kg_per_min_per_pmol", "amplitude of insulin action on the liver"),
    ("ki", "per_min", "rate constant of the delay between insulin signal and action on the liver"),
    ("Fsnc", "mg_per_kg_per_min", "insulin-independent glucose utilisation (brain, erythrocytes; Fcns)"),
    ("Vm0", "mg_per_kg_per_min", "maximum insulin-dependent utilisation at basal insulin"),
    ("Vmx", "mg_L_per_kg_per_min_per_pmol", "insulin sensitivity of peripheral glucose utilisation"),
    ("Km0", "mg_per_kg", "Michaelis-Menten constant of peripheral glucose utilisation"),
    ("p2u", "per_min", "rate constant of insulin action on peripheral glucose utilisation"),
    ("Ib", "pmol_per_L", "basal plasma insulin concentration"),
    ("ke1", "per_min", "glomerular filtration rate"),
    ("ke2", "mg_per_kg", "renal threshold of glucose"),
    ("m1", "per_min", "rate constant from liver to plasma insulin"),
    ("m2", "per_min", "rate constant from plasma to liver insulin"),
    ("m30", "per_min", "rate constant of hepatic insulin degradation"),
    ("m4", "per_min", "rate constant of peripheral insulin degradation"),
    ("ka1", "per_min", "rate constant of absorption of nonmonomeric subcutaneous insulin"),
    ("ka2", "per_min", "rate constant of absorption of monomeric subcutaneous insulin"),
    ("kd", "per_min", "rate constant of subcutaneous insulin dissociation"),
    ("ksc", "per_min", "rate constant of subcutaneous glucose (sensor) equilibration"),
    ("u2ss", "pmol_per_kg_per_min", "basal (steady state) insulin infusion rate"),
]

# Intermediate quantities and observables (assignment rules): id, units, name, formula.
ASSIGNED = [
    ("Qsto", "mg", "glucose in the stomach", "Qsto1 + Qsto2"),
    ("Dbar", "mg", "amount of the current meal that governs gastric emptying (D in Dalla Man 2007)",
     "Qsto_meal_start + meal_ingested"),
    ("kempt", "per_min", "rate constant of gastric emptying (kgut in simglucose)",
     "piecewise(kmin + (kmax - kmin) / (2 dimensionless) * (tanh(5 dimensionless / (2 dimensionless * Dbar"
     " * (1 dimensionless - b)) * (Qsto - b * Dbar)) - tanh(5 dimensionless / (2 dimensionless * Dbar * d)"
     " * (Qsto - d * Dbar)) + 2 dimensionless), Dbar > 0 mg, kmax)"),
    ("Ra", "mg_per_kg_per_min", "rate of appearance of ingested glucose in plasma", "f * kabs * Qgut / BW"),
    ("EGP", "mg_per_kg_per_min", "endogenous glucose production (before clipping at 0)", "kp1 - kp2 * Gp - kp3 * Id"),
    ("Uii", "mg_per_kg_per_min", "insulin-independent glucose utilisation", "Fsnc"),
    ("Uid", "mg_per_kg_per_min", "insulin-dependent glucose utilisation", "(Vm0 + Vmx * X) * Gt / (Km0 + Gt)"),
    ("E", "mg_per_kg_per_min", "renal glucose excretion",
     "piecewise(ke1 * (Gp - ke2), Gp > ke2, 0 mg_per_kg_per_min)"),
    ("I", "pmol_per_L", "plasma insulin concentration", "Ip / Vi"),
    ("BG", "mg_per_dL", "blood (plasma) glucose concentration", "Gp / Vg"),
    ("CGM", "mg_per_dL", "subcutaneous glucose concentration read by a noise-free CGM sensor", "Gs / Vg"),
]

# Rates of change. Clipped states (simglucose): the derivative is 0 while the
# state is negative.
RATES = {
    "Qsto1": ("-kmax * Qsto1 + meal_rate", None),
    "Qsto2": ("kmax * Qsto1 - kempt * Qsto2", None),
    "Qgut": ("kempt * Qsto2 - kabs * Qgut", None),
    "Gp": ("max(EGP, 0 mg_per_kg_per_min) + Ra - Uii - E - k1 * Gp + k2 * Gt", "mg_per_kg_per_min"),
    "Gt": ("-Uid + k1 * Gp - k2 * Gt", "mg_per_kg_per_min"),
    "Ip": ("-(m2 + m4) * Ip + m1 * Il + ka1 * Isc1 + ka2 * Isc2", "pmol_per_kg_per_min"),
    "X": ("-p2u * X + p2u * (I - Ib)", None),
    "I1": ("-ki * (I1 - I)", None),
    "Id": ("-ki * (Id - I1)", None),
    "Il": ("-(m1 + m30) * Il + m2 * Ip", "pmol_per_kg_per_min"),
    "Isc1": ("insulin_rate - (ka1 + kd) * Isc1", "pmol_per_kg_per_min"),
    "Isc2": ("kd * Isc1 - ka2 * Isc2", "pmol_per_kg_per_min"),
    "Gs": ("-ksc * Gs + ksc * Gp", "mg_per_kg_per_min"),
}

NOTES = """
<body xmlns="http://www.w3.org/1999/xhtml">
<h1>UVA/Padova type 1 diabetes glucose-insulin model (S2008 structure, as in simglucose)</h1>
<p>Soma's own SBML encoding of the meal simulation model of the glucose-insulin system of
Dalla Man C, Rizza RA, Cobelli C. IEEE Trans Biomed Eng 2007;54(10):1740-9 (doi:10.1109/TBME.2007.893506),
in its type 1 diabetes form with subcutaneous insulin absorption and a subcutaneous glucose (CGM)
compartment: Kovatchev BP, Breton M, Dalla Man C, Cobelli C. In silico preclinical trials: a proof of
concept in closed-loop control of type 1 diabetes. J Diabetes Sci Technol 2009;3(1):44-55; Dalla Man C,
Micheletto F, Lv D, Breton M, Kovatchev B, Cobelli C. The UVA/PADOVA type 1 diabetes simulator: new
features. J Diabetes Sci Technol 2014;8(1):26-34. The S2013 additions of the 2014 paper (glucagon,
hypoglycaemia-dependent utilisation) are not included: this is the 2008 structure whose 30 virtual
patients are published with simglucose (Xie J, github.com/jxx123/simglucose, MIT licence).</p>
<p>Time in min. States (simglucose order x1..x13): Qsto1, Qsto2 (mg), Qgut (mg), Gp, Gt (mg/kg),
Ip (pmol/kg), X, I1, Id (pmol/L), Il, Isc1, Isc2 (pmol/kg), Gs (mg/kg). Observables: BG = Gp/Vg and
CGM = Gs/Vg (mg/dL), plasma insulin I = Ip/Vi (pmol/L).</p>
<p>Inputs (parameters changed by events, e.g. with soma::sim::ApplyInputSchedule): meal_rate, the
carbohydrate ingestion rate (mg/min); insulin_rate, the subcutaneous insulin infusion rate
(pmol/kg/min; U/min = insulin_rate * BW / 6000), which starts at the basal rate u2ss; meal_ingested,
the amount of the current meal (mg) counted in the gastric-emptying dose.</p>
<p>Gastric emptying follows the tanh form of Dalla Man 2007 with dose Dbar = Qsto_meal_start +
meal_ingested: the event meal_start records Qsto1 + Qsto2 when meal_rate becomes positive, and
kempt = kmax while Dbar = 0. simglucose counts in meal_ingested the grams eaten up to the end of the
current 1-minute step; the original model uses the whole meal dose.</p>
<p>As in simglucose: renal excretion ke1 (Gp - ke2) only when Gp &gt; ke2; endogenous production
max(EGP, 0); the rates of Gp, Gt, Ip, Il, Isc1, Isc2 and Gs are 0 while the state is negative.</p>
<p>Default parameter values and initial state: virtual patient {patient} of simglucose
(params/vpatient_params.csv). Generated by scripts/models/t1d_uva_padova.py.</p>
</body>
"""


def check(code, what):
    if code != libsbml.LIBSBML_OPERATION_SUCCESS:
        raise RuntimeError(f"{what}: {libsbml.OperationReturnValue_toString(code)}")


def math(formula, model):
    settings = libsbml.L3ParserSettings()
    settings.setModel(model)
    settings.setParseUnits(True)
    ast = libsbml.parseL3FormulaWithSettings(formula, settings)
    if ast is None:
        raise RuntimeError(f"cannot parse '{formula}': {libsbml.getLastParseL3Error()}")
    return ast


_meta = [0]


def annotate(sbase, qualifier_type, qualifier, uris):
    if not sbase.isSetMetaId():
        _meta[0] += 1
        sbase.setMetaId(f"meta_{_meta[0]}_{sbase.getId()}")
    term = libsbml.CVTerm(qualifier_type)
    if qualifier_type == libsbml.BIOLOGICAL_QUALIFIER:
        term.setBiologicalQualifierType(qualifier)
    else:
        term.setModelQualifierType(qualifier)
    for uri in uris:
        check(term.addResource(uri), f"resource {uri}")
    check(sbase.addCVTerm(term), f"CV term on {sbase.getId()}")


def patient_row(path, name):
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            if row["Name"] == name:
                return row
    raise SystemExit(f"{path}: no patient {name}")


def initial_state(row):
    # Column names are "x0_ 1" .. "x0_ 9", "x0_10" .. "x0_13".
    return [float(row[f"x0_{i:2d}"]) for i in range(1, 14)]


def build(row):
    doc = libsbml.SBMLDocument(3, 2)
    m = doc.createModel()
    m.setId("t1d_uva_padova")
    m.setName("UVA/Padova type 1 diabetes glucose-insulin model (Dalla Man 2007 meal model, "
              "subcutaneous insulin and CGM), virtual patient " + row["Name"])
    check(m.setNotes(NOTES.replace("{patient}", row["Name"])), "notes")
    annotate(m, libsbml.MODEL_QUALIFIER, libsbml.BQM_IS_DESCRIBED_BY,
             ["http://identifiers.org/pubmed:17926672", "http://identifiers.org/pubmed:19444330",
              "http://identifiers.org/pubmed:24876534"])
    annotate(m, libsbml.BIOLOGICAL_QUALIFIER, libsbml.BQB_IS_VERSION_OF,
             ["http://identifiers.org/GO:0042593"])  # glucose homeostasis
    annotate(m, libsbml.BIOLOGICAL_QUALIFIER, libsbml.BQB_HAS_PROPERTY,
             ["http://identifiers.org/mamo:MAMO_0000046",  # ordinary differential equation model
              "http://identifiers.org/DOID:9744"])  # type 1 diabetes mellitus
    annotate(m, libsbml.BIOLOGICAL_QUALIFIER, libsbml.BQB_HAS_TAXON,
             ["http://identifiers.org/taxonomy:9606"])

    for uid, parts in UNITS.items():
        ud = m.createUnitDefinition()
        ud.setId(uid)
        for kind, exponent, scale, multiplier in parts:
            u = ud.createUnit()
            u.setKind(kind)
            u.setExponent(exponent)
            u.setScale(scale)
            u.setMultiplier(multiplier)
    m.setTimeUnits("min")

    for cid, name in COMPARTMENTS:
        c = m.createCompartment()
        c.setId(cid)
        c.setName(name)
        c.setSpatialDimensions(3)
        c.setSize(1.0)
        c.setUnits("dimensionless")
        c.setConstant(True)

    x0 = initial_state(row)
    for i, (sid, name, compartment, units, chebi) in enumerate(STATES):
        if compartment is None:
            p = m.createParameter()
            p.setId(sid)
            p.setName(name)
            p.setValue(x0[i])
            p.setUnits(units)
            p.setConstant(False)
            continue
        s = m.createSpecies()
        s.setId(sid)
        s.setName(name)
        s.setCompartment(compartment)
        s.setInitialAmount(x0[i])
        s.setSubstanceUnits(units)
        s.setHasOnlySubstanceUnits(True)
        s.setBoundaryCondition(False)
        s.setConstant(False)
        annotate(s, libsbml.BIOLOGICAL_QUALIFIER, libsbml.BQB_IS, [chebi])

    for pid, units, name in PATIENT_PARAMETERS:
        p = m.createParameter()
        p.setId(pid)
        p.setName(name)
        p.setValue(float(row[pid]))
        p.setUnits(units)
        p.setConstant(True)

    def variable(pid, units, name, value):
        p = m.createParameter()
        p.setId(pid)
        p.setName(name)
        if value is not None:
            p.setValue(value)
        p.setUnits(units)
        p.setConstant(False)
        return p

    variable("meal_rate", "mg_per_min", "input: carbohydrate ingestion rate", 0.0)
    variable("insulin_rate", "pmol_per_kg_per_min",
             "input: subcutaneous insulin infusion rate (starts at the basal rate u2ss)", None)
    variable("meal_ingested", "mg", "input: amount of the current meal counted in the gastric-emptying dose", 0.0)
    variable("Qsto_meal_start", "mg", "glucose in the stomach when the current meal started", None)
    for pid, units, name, _ in ASSIGNED:
        p = variable(pid, units, name, None)
        if pid in ("BG", "CGM"):
            annotate(p, libsbml.BIOLOGICAL_QUALIFIER, libsbml.BQB_IS_VERSION_OF, [CHEBI_GLUCOSE])
        if pid == "I":
            annotate(p, libsbml.BIOLOGICAL_QUALIFIER, libsbml.BQB_IS_VERSION_OF, [CHEBI_INSULIN])

    for symbol, formula in (("insulin_rate", "u2ss"), ("Qsto_meal_start", "Qsto1 + Qsto2")):
        ia = m.createInitialAssignment()
        ia.setSymbol(symbol)
        check(ia.setMath(math(formula, m)), f"initial assignment {symbol}")

    for pid, _, _, formula in ASSIGNED:
        r = m.createAssignmentRule()
        r.setVariable(pid)
        check(r.setMath(math(formula, m)), f"rule {pid}")
    for sid, _, _, _, _ in STATES:
        formula, zero_units = RATES[sid]
        if zero_units is not None:
            formula = f"piecewise({formula}, {sid} >= 0 {STATE_UNITS[sid]}, 0 {zero_units})"
        r = m.createRateRule()
        r.setVariable(sid)
        check(r.setMath(math(formula, m)), f"rate rule {sid}")

    e = m.createEvent()
    e.setId("meal_start")
    e.setName("a meal starts: record the stomach content for the gastric-emptying dose")
    e.setUseValuesFromTriggerTime(True)
    t = e.createTrigger()
    t.setInitialValue(True)
    t.setPersistent(True)
    check(t.setMath(math("meal_rate > 0 mg_per_min", m)), "trigger")
    ea = e.createEventAssignment()
    ea.setVariable("Qsto_meal_start")
    check(ea.setMath(math("Qsto1 + Qsto2", m)), "event assignment")
    return doc


STATE_UNITS = {sid: units for sid, _, _, units, _ in STATES}


def main():
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    doc = build(patient_row(sys.argv[1], DEFAULT_PATIENT))
    doc.setConsistencyChecks(libsbml.LIBSBML_CAT_UNITS_CONSISTENCY, True)
    doc.checkConsistency()
    for i in range(doc.getNumErrors()):
        err = doc.getError(i)
        print(f"{err.getSeverityAsString()}: line {err.getLine()}: {err.getMessage().strip()}", file=sys.stderr)
    if doc.getNumErrors(libsbml.LIBSBML_SEV_ERROR) + doc.getNumErrors(libsbml.LIBSBML_SEV_FATAL):
        raise SystemExit("the generated document has errors")
    libsbml.writeSBMLToFile(doc, sys.argv[2])


if __name__ == "__main__":
    main()
