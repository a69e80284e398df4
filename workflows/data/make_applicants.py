"""Write the made-up loan applicants that workflows/clean_train.yaml and clean_score.yaml clean: messy on purpose.

applicants.csv (400 rows, labelled) and applicants_new.csv (60 rows, no label), with regions.csv to join: ages
stored as text with stray values (unknown, ?, n/a, blank, a typo'd -1 or 7), incomes missing here and there,
employment as text in mixed case, a free-text notes column with quoted commas, and a label (defaulted: yes or
no) missing from some rows. Run from the repository's root: python workflows/data/make_applicants.py. NumPy's
generator with seed 20240611 makes the same files every time.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SEED = 20240611
REGIONS = [("N", "North", 0.92), ("S", "South", 1.05), ("E", "East", 0.98), ("W", "West", 1.21), ("C", "Capital", 1.4)]
EMPLOYMENT = ["salaried", "self-employed", "unemployed", "retired"]
STRAY_AGES = ["unknown", "?", "n/a", "", "-1", "7"]
NOTES = ["", "", "", "called twice", "asked about fees, rates", "moved recently", "prefers e-mail, not phone"]


def applicant(rng: np.random.Generator, number: int, labelled: bool) -> dict[str, str]:
    age = int(rng.integers(19, 76))
    region, _, cost = REGIONS[int(rng.integers(len(REGIONS)))]
    work = EMPLOYMENT[int(rng.choice(4, p=[0.6, 0.2, 0.1, 0.1]))]
    income = rng.lognormal(10.4, 0.45) * (0.35 if work == "unemployed" else 1.0)
    risk = -0.5 - 0.04 * (age - 45) - 2.5 * (income / cost / 35000 - 1) + (1.1 if work == "unemployed" else 0.0)
    defaulted = rng.random() < 1 / (1 + np.exp(-risk))
    row = {
        "id": str(number),
        "age": STRAY_AGES[int(rng.integers(len(STRAY_AGES)))] if rng.random() < 0.06 else str(age),
        "income": "" if rng.random() < 0.04 else f"{income:.2f}",
        "employment": "" if rng.random() < 0.03 else (work.upper() if rng.random() < 0.1 else work),
        "region": region,
        "notes": NOTES[int(rng.integers(len(NOTES)))],
    }
    if labelled:
        row["defaulted"] = "" if rng.random() < 0.05 else ("yes" if defaulted else "no")
    return row


def write(path: Path, rows: list[dict[str, str]]) -> None:
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def main() -> None:
    rng = np.random.default_rng(SEED)
    write(HERE / "applicants.csv", [applicant(rng, n, True) for n in range(1, 401)])
    write(HERE / "applicants_new.csv", [applicant(rng, n, False) for n in range(401, 461)])
    write(HERE / "regions.csv", [{"region": code, "region_name": name, "cost_index": f"{cost:.2f}"}
                                 for code, name, cost in REGIONS])


if __name__ == "__main__":
    main()
