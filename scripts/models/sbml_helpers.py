"""Small helpers shared by the model generators in scripts/models: unit
definitions, parameters, rules and MIRIAM annotations on a libSBML model, and
a consistency check (units included) before a document is written.

Needs python3-sbml5 (libSBML >= 5.18, with the comp package for composition).
"""
import sys

import libsbml

SECOND = libsbml.UNIT_KIND_SECOND
GRAM = libsbml.UNIT_KIND_GRAM
LITRE = libsbml.UNIT_KIND_LITRE
MOLE = libsbml.UNIT_KIND_MOLE
KILOGRAM = libsbml.UNIT_KIND_KILOGRAM
METRE = libsbml.UNIT_KIND_METRE
DIMENSIONLESS = libsbml.UNIT_KIND_DIMENSIONLESS

# mmHg = 133.322387415 Pa = 133.322387415 kg m^-1 s^-2.
MMHG = [(KILOGRAM, 1, 0, 133.322387415), (METRE, -1, 0, 1.0), (SECOND, -2, 0, 1.0)]


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


def annotate(sbase, qualifier_type, qualifier, uris):
    if not sbase.isSetMetaId():
        sbase.setMetaId(f"meta_{sbase.getId() or sbase.getElementName()}")
    term = libsbml.CVTerm(qualifier_type)
    if qualifier_type == libsbml.BIOLOGICAL_QUALIFIER:
        term.setBiologicalQualifierType(qualifier)
    else:
        term.setModelQualifierType(qualifier)
    for uri in uris:
        check(term.addResource(uri), f"resource {uri}")
    check(sbase.addCVTerm(term), f"CV term on {sbase.getId()}")


def described_by(model, uris):
    annotate(model, libsbml.MODEL_QUALIFIER, libsbml.BQM_IS_DESCRIBED_BY, uris)


def bio(sbase, qualifier, uris):
    annotate(sbase, libsbml.BIOLOGICAL_QUALIFIER, qualifier, uris)


def add_units(model, units):
    """units: id -> list of (kind, exponent, scale, multiplier)."""
    for uid, parts in units.items():
        ud = model.createUnitDefinition()
        ud.setId(uid)
        for kind, exponent, scale, multiplier in parts:
            u = ud.createUnit()
            u.setKind(kind)
            u.setExponent(exponent)
            u.setScale(scale)
            u.setMultiplier(multiplier)


def parameter(model, pid, value, units, name, constant=True):
    p = model.createParameter()
    p.setId(pid)
    p.setName(name)
    if value is not None:
        p.setValue(value)
    p.setUnits(units)
    p.setConstant(constant)
    return p


def assignment(model, variable, formula):
    r = model.createAssignmentRule()
    r.setVariable(variable)
    check(r.setMath(math(formula, model)), f"rule {variable}")
    return r


def rate(model, variable, formula):
    r = model.createRateRule()
    r.setVariable(variable)
    check(r.setMath(math(formula, model)), f"rate rule {variable}")
    return r


def initial(model, symbol, formula):
    ia = model.createInitialAssignment()
    ia.setSymbol(symbol)
    check(ia.setMath(math(formula, model)), f"initial assignment {symbol}")
    return ia


def notes(sbase, xhtml_body):
    check(sbase.setNotes(xhtml_body), "notes")


def write_checked(doc, path, units=True):
    """Runs libSBML's consistency checks (units too) and writes the document;
    exits with the messages if there is an error."""
    doc.setConsistencyChecks(libsbml.LIBSBML_CAT_UNITS_CONSISTENCY, units)
    doc.checkConsistency()
    for i in range(doc.getNumErrors()):
        err = doc.getError(i)
        print(f"{path}: {err.getSeverityAsString()}: line {err.getLine()}: {err.getMessage().strip()}",
              file=sys.stderr)
    if doc.getNumErrors(libsbml.LIBSBML_SEV_ERROR) + doc.getNumErrors(libsbml.LIBSBML_SEV_FATAL):
        raise SystemExit(f"{path}: the generated document has errors")
    if not libsbml.writeSBMLToFile(doc, path):
        raise SystemExit(f"cannot write {path}")
