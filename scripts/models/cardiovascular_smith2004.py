#!/usr/bin/python3
"""Writes models/cardiovascular-smith2004.xml, Soma's SBML Level 3 Version 2
encoding of the closed-loop lumped cardiovascular model of

  Smith BW, Chase JG, Nokes RI, Shaw GM, Wright G. Minimal haemodynamic system
  model including ventricular interaction and valve dynamics. Med Eng Phys
  2004;26(2):131-139. doi:10.1016/j.medengphy.2003.10.001

in its form without direct ventricular interaction (no septum) and with
valves as ideal diodes (resistance when open, no flow when closed) instead of
the paper's inertial "open on pressure, close on flow" law. Six elastic
chambers (left ventricle, aorta, vena cava, right ventricle, pulmonary artery,
pulmonary vein) in a closed loop; the ventricles have a time-varying
elastance e(t) = exp(-B (t_beat - C)^2) blending an end-systolic and an
exponential end-diastolic pressure-volume relation; the pericardium and
the thoracic pressure act on the ventricles; the pulmonary vessels feel the
thoracic pressure.

  /usr/bin/python3 scripts/models/cardiovascular_smith2004.py models/cardiovascular-smith2004.xml
"""
import sys

import libsbml

from sbml_helpers import (GRAM, LITRE, MMHG, SECOND, add_units, assignment, bio, check, described_by,
                          math, notes, parameter, rate, write_checked)

UNITS = {
    "ml": [(LITRE, 1, -3, 1.0)],
    "per_ml": [(LITRE, -1, -3, 1.0)],
    "mmHg": MMHG,
    "mmHg_per_ml": MMHG + [(LITRE, -1, -3, 1.0)],
    "mmHg_s_per_ml": MMHG + [(SECOND, 1, 0, 1.0), (LITRE, -1, -3, 1.0)],
    "ml_per_s": [(LITRE, 1, -3, 1.0), (SECOND, -1, 0, 1.0)],
    "mmHg_s": MMHG + [(SECOND, 1, 0, 1.0)],
    "per_s2": [(SECOND, -2, 0, 1.0)],
    "per_min": [(SECOND, -1, 0, 60.0)],
    "s_per_min": [(SECOND, 1, 0, 1.0), (SECOND, -1, 0, 60.0)],
    "L_per_min": [(LITRE, 1, 0, 1.0), (SECOND, -1, 0, 60.0)],
    "ml_per_L": [(LITRE, 1, -3, 1.0), (LITRE, -1, 0, 1.0)],
}

# Chambers: id, name, UBERON term, initial volume (ml; stressed volumes that
# sum to the 1.5 L of the paper; the periodic state depends only on the sum).
CHAMBERS = [
    ("V_lv", "left ventricle", "UBERON:0002084", 94.6812),
    ("V_ao", "aorta (systemic arteries)", "UBERON:0000947", 133.3381),
    ("V_vc", "vena cava (systemic veins)", "UBERON:0004087", 329.7803),
    ("V_rv", "right ventricle", "UBERON:0002080", 90.7302),
    ("V_pa", "pulmonary artery", "UBERON:0002012", 43.0123),
    ("V_pu", "pulmonary vein", "UBERON:0002016", 808.4579),
]

# Parameters of Table 1 of Smith et al. 2004 (human, heart rate 80/min):
# id, value, units, name.
PARAMETERS = [
    ("E_es_lv", 2.8798, "mmHg_per_ml", "end-systolic elastance of the left ventricle (free wall)"),
    ("V_d_lv", 0.0, "ml", "volume at zero end-systolic pressure, left ventricle"),
    ("P_0_lv", 0.1203, "mmHg", "end-diastolic pressure-volume gain, left ventricle"),
    ("lambda_lv", 0.033, "per_ml", "end-diastolic pressure-volume curvature, left ventricle"),
    ("V_0_lv", 0.0, "ml", "volume at zero end-diastolic pressure, left ventricle"),
    ("E_es_rv", 0.585, "mmHg_per_ml", "end-systolic elastance of the right ventricle (free wall)"),
    ("V_d_rv", 0.0, "ml", "volume at zero end-systolic pressure, right ventricle"),
    ("P_0_rv", 0.2157, "mmHg", "end-diastolic pressure-volume gain, right ventricle"),
    ("lambda_rv", 0.023, "per_ml", "end-diastolic pressure-volume curvature, right ventricle"),
    ("V_0_rv", 0.0, "ml", "volume at zero end-diastolic pressure, right ventricle"),
    ("P_0_pcd", 0.5003, "mmHg", "pericardial pressure-volume gain"),
    ("lambda_pcd", 0.03, "per_ml", "pericardial pressure-volume curvature"),
    ("V_0_pcd", 200.0, "ml", "pericardial volume at zero pressure"),
    ("P_th", -4.0, "mmHg", "thoracic (intrapleural) pressure"),
    ("E_es_ao", 0.6913, "mmHg_per_ml", "elastance of the aorta"),
    ("V_d_ao", 0.0, "ml", "unstressed volume of the aorta"),
    ("E_es_vc", 0.0059, "mmHg_per_ml", "elastance of the vena cava"),
    ("V_d_vc", 0.0, "ml", "unstressed volume of the vena cava"),
    ("E_es_pa", 0.369, "mmHg_per_ml", "elastance of the pulmonary artery"),
    ("V_d_pa", 0.0, "ml", "unstressed volume of the pulmonary artery"),
    ("E_es_pu", 0.0073, "mmHg_per_ml", "elastance of the pulmonary vein"),
    ("V_d_pu", 0.0, "ml", "unstressed volume of the pulmonary vein"),
    ("R_mt", 0.0158, "mmHg_s_per_ml", "resistance of the open mitral valve"),
    ("R_av", 0.018, "mmHg_s_per_ml", "resistance of the open aortic valve"),
    ("R_tc", 0.0237, "mmHg_s_per_ml", "resistance of the open tricuspid valve"),
    ("R_pv", 0.0055, "mmHg_s_per_ml", "resistance of the open pulmonary valve"),
    ("R_pul", 0.1552, "mmHg_s_per_ml", "pulmonary vascular resistance"),
    ("A_e", 1.0, "dimensionless", "amplitude of the ventricular activation function"),
    ("B_e", 80.0, "per_s2", "width parameter of the ventricular activation function"),
    ("C_e", 0.27, "second", "time of peak ventricular activation after the start of the beat"),
    ("s_per_min", 60.0, "s_per_min", "seconds per minute (unit conversion)"),
    ("ml_per_L", 1000.0, "ml_per_L", "millilitres per litre (unit conversion)"),
]

# Inputs / ports: non-constant parameters without rules.
INPUTS = [
    ("HR", 80.0, "per_min", "input: heart rate", "http://identifiers.org/ncit:C49677"),
    ("R_sys", 1.0889, "mmHg_s_per_ml", "input: systemic vascular resistance", None),
]

ASSIGNED = [
    ("T_beat", "second", "duration of the current beat", "s_per_min / HR"),
    ("t_beat", "second", "time since the start of the current beat", "phase * T_beat"),
    ("e_act", "dimensionless", "ventricular activation (time-varying elastance) function",
     "A_e * exp(-B_e * (t_beat - C_e)^2)"),
    ("P_pcd", "mmHg", "pericardial pressure", "P_0_pcd * (exp(lambda_pcd * (V_lv + V_rv - V_0_pcd)) - 1 dimensionless)"),
    ("P_peri", "mmHg", "pressure around the ventricles (pericardium and thorax)", "P_pcd + P_th"),
    ("P_lv", "mmHg", "left ventricular pressure",
     "e_act * E_es_lv * (V_lv - V_d_lv) + (1 dimensionless - e_act) * P_0_lv * (exp(lambda_lv * (V_lv - V_0_lv)) - 1 dimensionless) + P_peri"),
    ("P_rv", "mmHg", "right ventricular pressure",
     "e_act * E_es_rv * (V_rv - V_d_rv) + (1 dimensionless - e_act) * P_0_rv * (exp(lambda_rv * (V_rv - V_0_rv)) - 1 dimensionless) + P_peri"),
    ("P_ao", "mmHg", "aortic (systemic arterial) pressure", "E_es_ao * (V_ao - V_d_ao)"),
    ("P_vc", "mmHg", "vena cava (central venous) pressure", "E_es_vc * (V_vc - V_d_vc)"),
    ("P_pa", "mmHg", "pulmonary arterial pressure", "E_es_pa * (V_pa - V_d_pa) + P_th"),
    ("P_pu", "mmHg", "pulmonary venous pressure", "E_es_pu * (V_pu - V_d_pu) + P_th"),
    ("Q_mt", "ml_per_s", "flow through the mitral valve", "piecewise((P_pu - P_lv) / R_mt, P_pu > P_lv, 0 ml_per_s)"),
    ("Q_av", "ml_per_s", "flow through the aortic valve", "piecewise((P_lv - P_ao) / R_av, P_lv > P_ao, 0 ml_per_s)"),
    ("Q_sys", "ml_per_s", "flow through the systemic circulation", "(P_ao - P_vc) / R_sys"),
    ("Q_tc", "ml_per_s", "flow through the tricuspid valve", "piecewise((P_vc - P_rv) / R_tc, P_vc > P_rv, 0 ml_per_s)"),
    ("Q_pv", "ml_per_s", "flow through the pulmonary valve", "piecewise((P_rv - P_pa) / R_pv, P_rv > P_pa, 0 ml_per_s)"),
    ("Q_pul", "ml_per_s", "flow through the pulmonary circulation", "(P_pa - P_pu) / R_pul"),
    ("V_total", "ml", "total stressed blood volume (conserved)", "V_lv + V_ao + V_vc + V_rv + V_pa + V_pu"),
]

RATES = {
    "V_lv": "Q_mt - Q_av",
    "V_ao": "Q_av - Q_sys",
    "V_vc": "Q_sys - Q_tc",
    "V_rv": "Q_tc - Q_pv",
    "V_pa": "Q_pv - Q_pul",
    "V_pu": "Q_pul - Q_mt",
}

# Beat-by-beat observables, updated by events at exact valve and beat times.
OBSERVED = [
    ("EDV", "ml", "end-diastolic volume of the last beat (left ventricular volume at mitral closure)"),
    ("ESV", "ml", "end-systolic volume of the last beat (left ventricular volume at aortic closure)"),
    ("SV", "ml", "stroke volume of the last beat (EDV - ESV)"),
    ("EF", "dimensionless", "ejection fraction of the last beat (SV / EDV)"),
    ("CO", "L_per_min", "cardiac output (SV * HR)"),
    ("SBP", "mmHg", "systolic arterial pressure of the last beat (peak aortic pressure)"),
    ("DBP", "mmHg", "diastolic arterial pressure of the last beat (aortic pressure at aortic valve opening)"),
    ("MAP", "mmHg", "mean arterial pressure over the last complete beat"),
    ("beats", "dimensionless", "number of completed beats"),
]

NOTES = """
<body xmlns="http://www.w3.org/1999/xhtml">
<h1>Closed-loop lumped cardiovascular model (Smith et al. 2004, without septal interaction)</h1>
<p>Soma's own SBML encoding of the minimal cardiovascular system model of Smith BW, Chase JG, Nokes RI,
Shaw GM, Wright G. Minimal haemodynamic system model including ventricular interaction and valve
dynamics. Med Eng Phys 2004;26(2):131-139 (doi:10.1016/j.medengphy.2003.10.001). The time-varying elastance
idea: Suga H, Sagawa K, Shoukas AA. Circ Res 1973;32(3):314-322.</p>
<p>Simplifications (stated): the interventricular septum (direct ventricular interaction, a
differential-algebraic equation in the paper) is left out, each ventricle being its free wall; valves are
ideal diodes, flow = pressure difference / resistance when the upstream pressure is higher and 0 otherwise,
instead of the paper's inertial open-on-pressure close-on-flow law; there is no baroreflex, so heart rate
and systemic resistance are inputs.</p>
<p>Units: time s, volume ml, pressure mmHg, flow ml/s. Chamber volumes are compartments whose size
changes by rate rules: dV/dt = inflow - outflow. Pressures: ventricles P = e(t) Ees (V - Vd) + (1 - e(t))
P0 (exp(lambda (V - V0)) - 1 dimensionless) + P_peri with e(t) = A exp(-B (t_beat - C)^2), t_beat the time since
the beat started (a phase advanced at HR/60 per second and reset to 0 each beat);
P_peri = P0_pcd (exp(lambda_pcd (V_lv + V_rv - V0_pcd)) - 1 dimensionless) + P_th; vessels P = Ees (V - Vd), plus
P_th in the pulmonary vessels.</p>
<p>Parameter values: Table 1 of Smith et al. 2004 (normal human, heart rate 80/min, 1.5 L stressed
blood volume). Inputs and ports: HR (heart rate, 1/min) and R_sys (systemic resistance, mmHg s/ml).</p>
<p>Observables per beat, set by events at exact valve times: EDV (volume at mitral closure), ESV
(volume at aortic closure), SV = EDV - ESV, EF = SV/EDV, CO = SV HR (L/min), DBP (aortic pressure when
the aortic valve opens, its minimum), SBP (aortic pressure when outflow falls below the aortic valve
inflow, its maximum), MAP (mean aortic pressure over the last complete beat). They are 0 until the
first beat has completed.</p>
<p>Generated by scripts/models/cardiovascular_smith2004.py.</p>
</body>
"""


def dict_inputs():
    """The inputs' default values by id."""
    return {pid: value for pid, value, _, _, _ in INPUTS}


def event(m, eid, name, trigger, assignments):
    e = m.createEvent()
    e.setId(eid)
    e.setName(name)
    e.setUseValuesFromTriggerTime(True)
    t = e.createTrigger()
    t.setInitialValue(True)
    t.setPersistent(True)
    check(t.setMath(math(trigger, m)), f"trigger {eid}")
    for variable, formula in assignments:
        ea = e.createEventAssignment()
        ea.setVariable(variable)
        check(ea.setMath(math(formula, m)), f"event {eid} assignment {variable}")
    return e


def build():
    doc = libsbml.SBMLDocument(3, 2)
    m = doc.createModel()
    m.setId("cardiovascular_smith2004")
    m.setName("Closed-loop lumped cardiovascular model: time-varying elastance ventricles, systemic and "
              "pulmonary circulation (Smith et al. 2004, without septal interaction)")
    notes(m, NOTES)
    described_by(m, ["http://identifiers.org/doi:10.1016/j.medengphy.2003.10.001"])
    bio(m, libsbml.BQB_IS_VERSION_OF, ["http://identifiers.org/GO:0008015"])  # blood circulation
    bio(m, libsbml.BQB_HAS_PROPERTY, ["http://identifiers.org/mamo:MAMO_0000046"])  # ODE model
    bio(m, libsbml.BQB_HAS_TAXON, ["http://identifiers.org/taxonomy:9606"])
    add_units(m, UNITS)
    m.setTimeUnits("second")
    m.setVolumeUnits("ml")

    for cid, name, uberon, volume in CHAMBERS:
        c = m.createCompartment()
        c.setId(cid)
        c.setName(name + " (stressed blood volume)")
        c.setSpatialDimensions(3)
        c.setSize(volume)
        c.setUnits("ml")
        c.setConstant(False)
        bio(c, libsbml.BQB_IS, ["http://identifiers.org/" + uberon])

    for pid, value, units, name in PARAMETERS:
        parameter(m, pid, value, units, name)
    for pid, value, units, name, term in INPUTS:
        p = parameter(m, pid, value, units, name, constant=False)
        if term:
            bio(p, libsbml.BQB_IS, [term])
    parameter(m, "phase", 0.0, "dimensionless", "fraction of the current beat elapsed", constant=False)
    parameter(m, "P_ao_integral", 0.0, "mmHg_s", "integral of aortic pressure since the beat started",
              constant=False)
    for pid, units, name, _ in ASSIGNED:
        parameter(m, pid, None, units, name, constant=False)
    for pid, units, name in OBSERVED:
        p = parameter(m, pid, 0.0, units, name, constant=False)
        if pid == "SBP":
            bio(p, libsbml.BQB_IS, ["http://identifiers.org/ncit:C25298"])  # systolic blood pressure
        if pid == "DBP":
            bio(p, libsbml.BQB_IS, ["http://identifiers.org/ncit:C25299"])  # diastolic blood pressure

    for pid, _, _, formula in ASSIGNED:
        assignment(m, pid, formula)
    for cid, _, _, _ in CHAMBERS:
        rate(m, cid, RATES[cid])
    rate(m, "phase", "HR / s_per_min")
    rate(m, "P_ao_integral", "P_ao")

    event(m, "beat_end", "a beat ends: mean arterial pressure over it, next beat starts", "phase >= 1 dimensionless",
          [("MAP", "P_ao_integral / T_beat"), ("P_ao_integral", "0 mmHg_s"), ("phase", "phase - 1 dimensionless"),
           ("beats", "beats + 1 dimensionless")])
    event(m, "mitral_closure", "mitral valve closes: end of diastole", "P_lv > P_pu", [("EDV", "V_lv")])
    event(m, "aortic_opening", "aortic valve opens: diastolic pressure", "P_lv > P_ao", [("DBP", "P_ao")])
    event(m, "aortic_closure", "aortic valve closes: end of systole", "P_lv < P_ao",
          [("ESV", "V_lv"), ("SV", "EDV - V_lv"), ("EF", "(EDV - V_lv) / EDV"),
           ("CO", "(EDV - V_lv) * HR / ml_per_L")])
    event(m, "systolic_peak", "aortic inflow falls below runoff during ejection: systolic pressure",
          "Q_av < Q_sys", [("SBP", "P_ao")])
    # The systolic_peak trigger is also true while the aortic valve is closed; it fires
    # only on a false -> true transition, which happens once per beat, at the peak of P_ao.
    return doc


def main():
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    write_checked(build(), sys.argv[1])


if __name__ == "__main__":
    main()
