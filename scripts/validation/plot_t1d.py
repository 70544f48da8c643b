#!/usr/bin/python3
"""Plots blood glucose over the reference day, Soma against the simglucose
reference, for a few patients, with the difference below.

  build/bin/soma_validate_t1d --out docs/validation/t1d-uva-padova.md --traces build/validation/t1d
  /usr/bin/python3 scripts/validation/plot_t1d.py build/validation/t1d \
      ../shared/clinical/simglucose-reference docs/validation/t1d-uva-padova-bg.png

Needs python3-matplotlib and python3-numpy (Debian).
"""
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

PATIENTS = ["adolescent_001", "adult_002", "child_001"]


def main():
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    traces, reference, out = sys.argv[1:]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 7), sharex=True,
                                      gridspec_kw={"height_ratios": [3, 1]})
    for i, name in enumerate(PATIENTS):
        soma = np.genfromtxt(os.path.join(traces, name + ".csv"), delimiter=",", names=True)
        ref = np.genfromtxt(os.path.join(reference, name + ".csv"), delimiter=",", names=True)
        colour = f"C{i}"
        label = name.replace("_", "#")
        top.plot(ref["time_min"] / 60, ref["BG_mg_dL"], color=colour, lw=3, alpha=0.35,
                 label=f"{label} reference (simglucose)")
        top.plot(soma["time_min"] / 60, soma["BG_mg_dL"], color=colour, lw=1, ls="--", label=f"{label} Soma")
        bottom.plot(soma["time_min"] / 60, soma["BG_mg_dL"] - ref["BG_mg_dL"], color=colour, lw=1, label=label)
    for t in (420, 720, 1080):
        top.axvline(t / 60, color="grey", lw=0.5, ls=":")
    top.set_ylabel("BG (mg/dL)")
    top.set_title("UVA/Padova T1D model: Soma vs simglucose reference (meals 45/70/80 g, CHO/CR boluses)")
    top.legend(fontsize=8, ncol=2)
    bottom.set_ylabel("Soma - reference\n(mg/dL)")
    bottom.set_xlabel("time (h)")
    bottom.ticklabel_format(axis="y", style="sci", scilimits=(-2, 2))
    bottom.set_xticks(range(0, 25, 3))
    fig.tight_layout()
    fig.savefig(out, dpi=110)


if __name__ == "__main__":
    main()
