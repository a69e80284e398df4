"""Split the Palmer penguins data into the rows workflows/penguins_train.yaml trains on and the rows
workflows/penguins_score.yaml scores, and add one made-up row with an island the data does not have.

The source is penguins.csv of the palmerpenguins package (0.1.6, the 344-row "penguins" table, not the raw one):
``pip download --no-deps palmerpenguins``, unzip the wheel, then, from the repository's root,
``python workflows/data/make_penguins.py path/to/palmerpenguins/data/penguins.csv``. The file's SHA-256 is
checked, and NumPy's generator with seed 20240612 picks the held-out rows, so the same two files come out every
time:

- penguins_new.csv: 40 rows held out, in their original order: 37 drawn from the 333 complete rows, one of the
  two rows whose measurements and sex are all NA and two of the nine rows whose sex alone is NA; then the
  made-up row (island Anvers, no species), which training never sees;
- penguins.csv: the other 304 rows, in their original order (one row of NA measurements and seven of NA sex
  among them).

Values are copied as the source writes them; a missing value is NA, as there.
"""

from __future__ import annotations

import csv
import hashlib
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SEED = 20240612
SOURCE_SHA256 = "f204db2c753b0937caac3cb35258562c14f073e4bbc76be24b4c51ce22767a93"
COLUMNS = ["species", "island", "bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g", "sex", "year"]
# Invented: Anvers Island is where Palmer Station stands, but none of the study's penguins came from it.
MADE_UP = {"species": "NA", "island": "Anvers", "bill_length_mm": "38.9", "bill_depth_mm": "18.4",
           "flipper_length_mm": "190", "body_mass_g": "3650", "sex": "female", "year": "2009"}
HELD_OUT = {"complete": 37, "measurements": 1, "sex": 2}


def read_source(path: Path) -> list[dict[str, str]]:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != SOURCE_SHA256:
        sys.exit(f"expected palmerpenguins 0.1.6's penguins.csv (SHA-256 {SOURCE_SHA256}), got {path} with "
                 f"{digest}; take data/penguins.csv from the palmerpenguins 0.1.6 wheel")
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    if len(rows) != 344 or list(rows[0]) != COLUMNS:
        sys.exit(f"expected 344 rows of {COLUMNS} in {path}, got {len(rows)} rows of {list(rows[0])}")
    return rows


def kind(row: dict[str, str]) -> str:
    """complete, measurements (every measurement missing) or sex (the sex alone missing)."""
    if row["bill_length_mm"] == "NA":
        return "measurements"
    return "sex" if row["sex"] == "NA" else "complete"


def held_out(rows: list[dict[str, str]], rng: np.random.Generator) -> set[int]:
    """The indices of the rows to score: HELD_OUT's count of each kind, drawn in turn."""
    chosen: set[int] = set()
    for what, count in HELD_OUT.items():
        candidates = [i for i, row in enumerate(rows) if kind(row) == what]
        chosen.update(int(i) for i in rng.choice(candidates, size=count, replace=False))
    return chosen


def write(path: Path, rows: list[dict[str, str]]) -> None:
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def main(argv: list[str]) -> None:
    if len(argv) != 1:
        sys.exit("usage: python workflows/data/make_penguins.py path/to/palmerpenguins/data/penguins.csv")
    rows = read_source(Path(argv[0]))
    scored = held_out(rows, np.random.default_rng(SEED))
    write(HERE / "penguins.csv", [row for i, row in enumerate(rows) if i not in scored])
    write(HERE / "penguins_new.csv", [row for i, row in enumerate(rows) if i in scored] + [MADE_UP])


if __name__ == "__main__":
    main(sys.argv[1:])
