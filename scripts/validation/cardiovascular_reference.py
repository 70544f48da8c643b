#!/usr/bin/python3
"""Independent reference for models/cardiovascular-smith2004.xml: the same
equations written out here in NumPy (parameter values imported from the
generator, the one place they are written) and integrated with SciPy's LSODA
(tight tolerances, a step limit well below the systolic time scale); the
beat metrics of the last complete beat after 90 s, at baseline and with the
systemic resistance doubled, by the same definitions as the C++ protocol
(tests/validation/cardio_protocol.cpp: maxima and minima of P_ao and V_lv,
trapezoidal mean pressure on a 600-point-per-beat grid).

  /usr/bin/python3 scripts/validation/cardiovascular_reference.py tests/validation/data/cardiovascular_reference.json
"""
import json
import math
import os
import sys

import numpy as np
from scipy.integrate import solve_ivp

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "models"))
import cardiovascular_smith2004 as model  # noqa: E402

P = {pid: value for pid, value, _, _ in model.PARAMETERS}
P.update(model.dict_inputs())
V0 = [v for _, _, _, v in model.CHAMBERS]


def rhs(t, y, p, period):
    v_lv, v_ao, v_vc, v_rv, v_pa, v_pu = y
    tb = t % period
    e = p["A_e"] * math.exp(-p["B_e"] * (tb - p["C_e"]) ** 2)
    p_peri = p["P_0_pcd"] * (math.exp(p["lambda_pcd"] * (v_lv + v_rv - p["V_0_pcd"])) - 1) + p["P_th"]
    p_lv = (e * p["E_es_lv"] * (v_lv - p["V_d_lv"]) +
            (1 - e) * p["P_0_lv"] * (math.exp(p["lambda_lv"] * (v_lv - p["V_0_lv"])) - 1) + p_peri)
    p_rv = (e * p["E_es_rv"] * (v_rv - p["V_d_rv"]) +
            (1 - e) * p["P_0_rv"] * (math.exp(p["lambda_rv"] * (v_rv - p["V_0_rv"])) - 1) + p_peri)
    p_ao = p["E_es_ao"] * (v_ao - p["V_d_ao"])
    p_vc = p["E_es_vc"] * (v_vc - p["V_d_vc"])
    p_pa = p["E_es_pa"] * (v_pa - p["V_d_pa"]) + p["P_th"]
    p_pu = p["E_es_pu"] * (v_pu - p["V_d_pu"]) + p["P_th"]
    q_mt = max(0.0, (p_pu - p_lv) / p["R_mt"])
    q_av = max(0.0, (p_lv - p_ao) / p["R_av"])
    q_sys = (p_ao - p_vc) / p["R_sys"]
    q_tc = max(0.0, (p_vc - p_rv) / p["R_tc"])
    q_pv = max(0.0, (p_rv - p_pa) / p["R_pv"])
    q_pul = (p_pa - p_pu) / p["R_pul"]
    return [q_mt - q_av, q_av - q_sys, q_sys - q_tc, q_tc - q_pv, q_pv - q_pul, q_pul - q_mt], p_ao


def metrics(r_sys_factor, settle=90.0, points_per_beat=600):
    p = dict(P)
    p["R_sys"] *= r_sys_factor
    period = 60.0 / p["HR"]
    beats = math.ceil(settle / period - 1e-12) + 2
    y = np.array(V0)
    # Integrate beat by beat (restarting at each beat start, where e(t) jumps).
    for k in range(beats - 1):
        s = solve_ivp(lambda t, v: rhs(t, v, p, period)[0], (k * period, (k + 1) * period), y, method="LSODA",
                      rtol=1e-10, atol=1e-10, max_step=period / 300)
        y = s.y[:, -1]
    t = np.linspace((beats - 1) * period, beats * period, points_per_beat + 1)
    s = solve_ivp(lambda tt, v: rhs(tt, v, p, period)[0], (t[0], t[-1] + 1e-9), y, method="LSODA",
                  rtol=1e-10, atol=1e-10, max_step=period / 300, t_eval=t)
    p_ao = np.array([rhs(tt, s.y[:, i], p, period)[1] for i, tt in enumerate(s.t)])
    v_lv = s.y[0]
    edv, esv = float(v_lv.max()), float(v_lv.min())
    return {"SBP": float(p_ao.max()), "DBP": float(p_ao.min()),
            "MAP": float(np.trapz(p_ao, s.t) / period), "EDV": edv, "ESV": esv, "SV": edv - esv,
            "EF": (edv - esv) / edv, "CO": (edv - esv) * p["HR"] / 1000.0}


def main():
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    out = {"method": "SciPy LSODA rtol=atol=1e-10, max_step T/300, beat-wise restarts; last complete beat "
                     "after 90 s; 600 points per beat",
           "baseline": metrics(1.0), "doubled_R_sys": metrics(2.0)}
    with open(sys.argv[1], "w") as f:
        json.dump(out, f, indent=2)
        f.write("\n")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
