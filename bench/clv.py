"""BG/NBD fit on the 23,570-customer CDNOW cohort: Patron's (patron/insight/clv) against
`lifetimes` 0.11.3 in the same run.

    .venv/bin/python bench/clv.py [--repeats 3] [--venv /tmp/bench-clv-venv]

`lifetimes` is not a dependency of Patron: this script makes a virtual environment of its
own (uv venv + uv pip install lifetimes==0.11.3 and setuptools<81, which still ships the
`pkg_resources` that lifetimes' datasets module imports) and runs lifetimes there, in a
subprocess. The cohort is CDNOW_master.txt from inside that lifetimes install (all 23,570
customers of the CDNOW 1997 Q1 cohort, 69,659 purchases). Both fit the same inputs: Patron's
data preparation (one transaction per customer per day, first purchase not a repeat,
calibration to 1997-09-30, weeks) is written to a CSV that lifetimes reads. The fit times
are the median of `--repeats` runs each, alternating Patron and lifetimes so load drift on a
shared machine hits both alike. Not a test: figures are printed (the target is Patron within
5x lifetimes' time).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from patron.insight.clv import bgnbd, gamma_gamma, prepare  # noqa: E402

LIFETIMES = "lifetimes==0.11.3"
PINS = ["setuptools<81"]  # lifetimes.datasets imports pkg_resources, gone from setuptools 81
CALIBRATION_END = dt.date(1997, 9, 30)

LIFETIMES_SCRIPT = r"""
import json, sys, time
import pandas as pd
from lifetimes import BetaGeoFitter, GammaGammaFitter
data = pd.read_csv(sys.argv[1])
what = sys.argv[2]
started = time.perf_counter()
if what == "bgnbd":
    fitter = BetaGeoFitter().fit(data["frequency"], data["recency"], data["T"])
else:
    repeat = data[(data["frequency"] > 0) & (data["monetary"] > 0)]
    fitter = GammaGammaFitter().fit(repeat["frequency"], repeat["monetary"])
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "params": {k: float(v) for k, v in fitter.params_.items()}}))
"""


def ensure_venv(venv: Path) -> Path:
    python = venv / "bin" / "python"
    probe = [str(python), "-c", "import lifetimes.datasets"]
    if python.exists() and subprocess.run(probe, capture_output=True).returncode == 0:
        return python
    subprocess.run(["uv", "venv", "-q", str(venv)], check=True)
    install = ["uv", "pip", "install", "-q", "--python", str(python), LIFETIMES, *PINS]
    subprocess.run(install, check=True)
    return python


def master_file(python: Path) -> Path:
    where = subprocess.run(
        [str(python), "-c", "import lifetimes, os; print(os.path.dirname(lifetimes.__file__))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return Path(where) / "datasets" / "CDNOW_master.txt"


def cohort(path: Path) -> prepare.Summary:
    """The master file's purchases (customer, date, quantity, dollars) through Patron's own
    preparation, amounts in cents."""
    members, days, amounts = [], [], []
    for line in path.read_text().splitlines():
        parts = line.split()
        if not parts or not parts[0].isdigit():  # the header line
            continue
        day = parts[1]
        members.append(int(parts[0]))
        days.append(dt.date(int(day[:4]), int(day[4:6]), int(day[6:])))
        amounts.append(round(float(parts[3]) * 100))
    frame = prepare.purchases_frame(members, days, amounts)
    return prepare.summarise(frame, CALIBRATION_END, "week")


def write_csv(summary: prepare.Summary, path: Path) -> None:
    with path.open("w") as out:
        out.write("frequency,recency,T,monetary\n")
        for f, r, t, m in zip(
            summary.frequency, summary.recency, summary.T, summary.monetary / 100, strict=True
        ):
            out.write(f"{f:.0f},{float(r)!r},{float(t)!r},{float(m)!r}\n")


def run_lifetimes(python: Path, csv: Path, what: str) -> dict:
    done = subprocess.run(
        [str(python), "-c", LIFETIMES_SCRIPT, str(csv), what], capture_output=True, text=True
    )
    if done.returncode != 0:
        sys.exit(f"lifetimes failed in {python}:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def timed(fit) -> tuple[float, object]:
    started = time.perf_counter()
    result = fit()
    return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--venv", default="/tmp/bench-clv-venv")
    args = parser.parse_args()

    python = ensure_venv(Path(args.venv))
    path = master_file(python)
    started = time.perf_counter()
    summary = cohort(path)
    prepared = time.perf_counter() - started
    print(f"CDNOW master: {path}")
    print(
        f"cohort: {len(summary):,} customers, {summary.repeaters:,} repeaters in the 39-week "
        f"calibration (to {CALIBRATION_END}); preparation (file -> x, t_x, T) {prepared:.2f} s"
    )
    x, t_x, T = summary.frequency, summary.recency, summary.T  # noqa: N806

    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "cdnow_master_calibration.csv"
        write_csv(summary, csv)
        for what in ("bgnbd", "gamma_gamma"):
            ours_times, theirs_times = [], []
            ours = theirs = None
            for _ in range(args.repeats):
                if what == "bgnbd":
                    seconds, ours = timed(lambda: bgnbd.fit(x, t_x, T))
                else:
                    seconds, ours = timed(lambda: gamma_gamma.fit(x, summary.monetary / 100))
                ours_times.append(seconds)
                theirs = run_lifetimes(python, csv, what)
                theirs_times.append(theirs["seconds"])
            ours_s, theirs_s = statistics.median(ours_times), statistics.median(theirs_times)
            mine = ours.as_dict()
            mine.pop("ll", None)
            print(f"\n{what}: median of {args.repeats} fits")
            print(f"  patron    {ours_s:8.3f} s  " + params_text(mine))
            print(f"  lifetimes {theirs_s:8.3f} s  " + params_text(theirs["params"]))
            worst = max(abs(mine[k] - theirs["params"][k]) / abs(theirs["params"][k]) for k in mine)
            print(
                f"  patron / lifetimes time: {ours_s / theirs_s:.2f}x (target <= 5x); "
                f"largest parameter difference {worst:.3%}"
            )


def params_text(params: dict) -> str:
    return ", ".join(f"{name}={value:.4f}" for name, value in params.items())


if __name__ == "__main__":
    main()
