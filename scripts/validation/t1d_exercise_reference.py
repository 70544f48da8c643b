#!/usr/bin/python3
"""Independent reference for models/t1d-exercise.xml: the equations of the
UVA/Padova model (fasting: no meal, so the gut states stay 0) with the
heart-rate exercise terms, written out here in NumPy and integrated with
SciPy (Radau, tight tolerances) piecewise between input changes.

Scenario (virtual patient adult#001 of simglucose, its initial state x0 and
basal insulin u2ss all day): heart rate HRb, raised to HR_ex from 60 to
120 min, then HRb again; 0..240 min. Writes, per minute, the heart rate, the
exercise signal Y and blood glucose BG = Gp/Vg with the exercise and at rest
(HR = HRb throughout):

  /usr/bin/python3 scripts/validation/t1d_exercise_reference.py \
      ../shared/clinical/simglucose/vpatient_params.csv tests/validation/data/t1d_exercise_reference.csv
"""
import csv
import os
import sys

import numpy as np
from scipy.integrate import solve_ivp

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "models"))
from t1d_exercise import EXERCISE_PARAMETERS  # noqa: E402  (the model's values, one source)

PATIENT = "adult#001"
HR_EX = 120.0          # 1/min during exercise
EXERCISE = (60.0, 120.0)
END = 240.0


def patient(path):
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            if row["Name"] == PATIENT:
                return {k: float(v) for k, v in row.items() if k != "Name"}
    raise SystemExit(f"{path}: no {PATIENT}")


def rhs(t, x, p, e, hr):
    Gp, Gt, Ip, X, I1, Id, Il, Isc1, Isc2, Gs, Y = x
    I = Ip / p["Vi"]
    EGP = max(p["kp1"] - p["kp2"] * Gp - p["kp3"] * Id, 0.0)
    E = p["ke1"] * (Gp - p["ke2"]) if Gp > p["ke2"] else 0.0
    Uid = (p["Vm0"] + p["Vmx"] * X * (1 + e["alpha_ex"] * Y)) * Gt / (p["Km0"] + Gt)
    Uex = e["beta_ex"] * Y * Gp
    d = np.array([
        EGP - p["Fsnc"] - Uex - E - p["k1"] * Gp + p["k2"] * Gt,
        -Uid + p["k1"] * Gp - p["k2"] * Gt,
        -(p["m2"] + p["m4"]) * Ip + p["m1"] * Il + p["ka1"] * Isc1 + p["ka2"] * Isc2,
        -p["p2u"] * X + p["p2u"] * (I - p["Ib"]),
        -p["ki"] * (I1 - I),
        -p["ki"] * (Id - I1),
        -(p["m1"] + p["m30"]) * Il + p["m2"] * Ip,
        p["u2ss"] - (p["ka1"] + p["kd"]) * Isc1,
        p["kd"] * Isc1 - p["ka2"] * Isc2,
        -p["ksc"] * Gs + p["ksc"] * Gp,
        -(Y - (hr - e["HRb"])) / e["T_HR"],
    ])
    # simglucose's clipping: no change while these states are negative.
    for i in (0, 1, 2, 6, 7, 8, 9):
        if x[i] < 0:
            d[i] = 0.0
    return d


def simulate(p, e, segments):
    x0 = [p[f"x0_{i:2d}"] for i in range(4, 14)] + [0.0]  # Gp .. Gs, then Y = 0
    grid, rows = np.arange(0.0, END + 0.5, 1.0), []
    x = np.array(x0)
    for (t0, t1, hr) in segments:
        ts = grid[(grid >= t0) & (grid <= t1)]
        s = solve_ivp(rhs, (t0, t1), x, method="Radau", t_eval=ts, rtol=1e-11, atol=1e-10, args=(p, e, hr))
        if not s.success:
            raise SystemExit(s.message)
        for j, t in enumerate(s.t):
            if rows and rows[-1][0] == t:
                continue
            rows.append((t, hr, s.y[10, j], s.y[0, j] / p["Vg"]))
        x = s.y[:, -1]
    return rows


def main():
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    p = patient(sys.argv[1])
    e = {k: v for k, v, _, _ in EXERCISE_PARAMETERS}
    hrb = e["HRb"]
    rest = simulate(p, e, [(0.0, END, hrb)])
    ex = simulate(p, e, [(0.0, EXERCISE[0], hrb), (EXERCISE[0], EXERCISE[1], HR_EX), (EXERCISE[1], END, hrb)])
    with open(sys.argv[2], "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["time_min", "HR_per_min", "Y_per_min", "BG_rest_mg_dL", "BG_exercise_mg_dL"])
        for r, x in zip(rest, ex):
            assert r[0] == x[0]
            # The rate that holds from this minute on (the change at 60 and 120 min applies there).
            hr = HR_EX if EXERCISE[0] <= x[0] < EXERCISE[1] else hrb
            w.writerow([f"{x[0]:g}", f"{hr:g}", f"{x[2]:.12g}", f"{r[3]:.12g}", f"{x[3]:.12g}"])
    drop = rest[120][3] - ex[120][3]
    print(f"BG at 120 min: rest {rest[120][3]:.4f}, exercise {ex[120][3]:.4f} mg/dL (drop {drop:.4f})")


if __name__ == "__main__":
    main()
