#!/usr/bin/python3
"""Pooled (naive) nonlinear least-squares fits of the theophylline data
(../shared/clinical/pk/theoph.csv, 12 subjects, single oral dose) with

  * the one-compartment first-order absorption model in R's SSfol form:
      C(t) = Dose exp(lKe + lKa - lCl) (exp(-exp(lKe) t) - exp(-exp(lKa) t)) / (exp(lKa) - exp(lKe))
    (Dose mg/kg, t h, C mg/L; ke, ka 1/h; Cl L/h/kg), and
  * the two-compartment first-order absorption model (lKa, lCl, lV1, lQ, lV2),
    closed form as a sum of three exponentials.

All subjects' observations are pooled and fitted as one curve (every row,
Dose per subject): this is a pooled fit, NOT a mixed-effects (population)
fit such as nlme's; its estimates are the typical curve of the pooled data.
Writes a JSON file that the SBML generators read for default parameter
values and the validation test reads to check the SBML models against it:

  /usr/bin/python3 scripts/validation/theoph_pooled_fit.py \
      ../shared/clinical/pk/theoph.csv tests/validation/data/theoph_pooled_fit.json
"""
import csv
import json
import sys

import numpy as np
from scipy.optimize import least_squares


def read(path):
    rows = []
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            rows.append((int(r["Subject"]), float(r["Wt"]), float(r["Dose"]), float(r["Time"]), float(r["conc"])))
    return rows


def one_compartment(theta, dose, t):
    lke, lka, lcl = theta
    ke, ka = np.exp(lke), np.exp(lka)
    return dose * np.exp(lke + lka - lcl) * (np.exp(-ke * t) - np.exp(-ka * t)) / (ka - ke)


def two_compartment(theta, dose, t):
    lka, lcl, lv1, lq, lv2 = theta
    ka, cl, v1, q, v2 = np.exp(theta)
    k10, k12, k21 = cl / v1, q / v1, q / v2
    s = k10 + k12 + k21
    root = np.sqrt(s * s - 4 * k10 * k21)
    alpha, beta = (s + root) / 2, (s - root) / 2
    return dose * ka / v1 * ((k21 - alpha) / ((ka - alpha) * (beta - alpha)) * np.exp(-alpha * t)
                             + (k21 - beta) / ((ka - beta) * (alpha - beta)) * np.exp(-beta * t)
                             + (k21 - ka) / ((alpha - ka) * (beta - ka)) * np.exp(-ka * t))


def fit(model, theta0, dose, t, c):
    r = least_squares(lambda th: model(th, dose, t) - c, theta0, method="lm", xtol=1e-14, ftol=1e-14, gtol=1e-14)
    n, p = len(c), len(theta0)
    rss = float(np.sum(r.fun ** 2))
    sigma2 = rss / (n - p)
    cov = sigma2 * np.linalg.inv(r.jac.T @ r.jac)
    return r, rss, np.sqrt(np.diag(cov)), np.sqrt(sigma2)


def main():
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    rows = read(sys.argv[1])
    dose = np.array([r[2] for r in rows])
    t = np.array([r[3] for r in rows])
    c = np.array([r[4] for r in rows])

    r1, rss1, se1, s1 = fit(one_compartment, np.array([-2.5, 0.5, -3.0]), dose, t, c)
    # Start the two-compartment fit from the one-compartment solution split
    # into two equal volumes with a fast intercompartmental clearance.
    lke, lka, lcl = r1.x
    lv = lcl - lke
    r2, rss2, se2, s2 = fit(two_compartment, np.array([lka, lcl, lv - np.log(2), lcl + 1.0, lv - np.log(2)]),
                            dose, t, c)

    out = {
        "source": "theoph.csv (R datasets::Theoph; Boeckmann, Sheiner and Beal 1994)",
        "method": "pooled nonlinear least squares (scipy.optimize.least_squares, Levenberg-Marquardt), "
                  "all subjects' observations as one curve; not a mixed-effects fit",
        "observations": len(c),
        "subjects": len(set(r[0] for r in rows)),
        "one_compartment": {
            "parameters": dict(zip(["lKe", "lKa", "lCl"], map(float, r1.x))),
            "standard_errors": dict(zip(["lKe", "lKa", "lCl"], map(float, se1))),
            "rss": rss1, "residual_sd": s1, "converged": bool(r1.success),
        },
        "two_compartment": {
            "parameters": dict(zip(["lKa", "lCl", "lV1", "lQ", "lV2"], map(float, r2.x))),
            "standard_errors": dict(zip(["lKa", "lCl", "lV1", "lQ", "lV2"], map(float, se2))),
            "rss": rss2, "residual_sd": s2, "converged": bool(r2.success),
        },
        # Predictions at a few (dose, time) points, for the SBML models to reproduce.
        "predictions": [
            {"dose": d, "time": tt,
             "one_compartment": float(one_compartment(r1.x, d, tt)),
             "two_compartment": float(two_compartment(r2.x, d, tt))}
            for d in (3.1, 4.02, 5.86) for tt in (0.25, 1.0, 2.0, 5.0, 9.0, 12.0, 24.0)
        ],
    }
    with open(sys.argv[2], "w") as f:
        json.dump(out, f, indent=2)
        f.write("\n")
    print(json.dumps({k: out[k] for k in ("one_compartment", "two_compartment")}, indent=2))


if __name__ == "__main__":
    main()
