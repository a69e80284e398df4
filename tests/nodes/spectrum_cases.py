"""The csv-spectrum cases (tests/fixtures/csv_spectrum): each CSV file, the rows it holds as its JSON gives them
(the package's errata corrected), and ReadCSV's and WriteCSV's parameters for reading and writing it alike on
every engine: a header, and every column text (``dtypes: string``), as the JSON gives every value as a string."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SPECTRUM = Path(__file__).resolve().parent.parent / "fixtures" / "csv_spectrum"
# csv-spectrum 2.0.0's JSON for this case is one object, with a phone number the CSV does not hold
ERRATA = {"location_coordinates": {"Contact Phone Number": "2095257564"}}


def case_names() -> list[str]:
    return sorted(path.stem for path in (SPECTRUM / "csvs").glob("*.csv"))


def csv_path(name: str) -> Path:
    return SPECTRUM / "csvs" / f"{name}.csv"


def expected_rows(name: str, empty_is_missing: bool = True) -> list[dict[str, Any]]:
    """The rows of the case's JSON; an empty text is a missing value (None) when ReadCSV's ``na_values`` holds
    ``""``, as by default."""
    rows = json.loads((SPECTRUM / "json" / f"{name}.json").read_text(encoding="utf-8"))
    rows = [rows] if isinstance(rows, dict) else rows
    rows = [{**row, **ERRATA.get(name, {})} for row in rows]
    return [{key: None if value == "" and empty_is_missing else value for key, value in row.items()} for row in rows]


def read_params(name: str, path: Path | None = None, **more: Any) -> dict[str, Any]:
    """ReadCSV's parameters for the case (or for ``path``, a file written from it): every column text."""
    columns = list(expected_rows(name)[0])
    return {"path": str(path or csv_path(name)), "header": True, "dtypes": {c: "string" for c in columns}, **more}


def write_params(path: Path) -> dict[str, Any]:
    return {"path": str(path)}


def pandas_rows(frame) -> list[dict[str, Any]]:
    """A pandas frame's rows as plain dicts, a missing value as None."""
    return [{str(key): None if value is None or value != value else value for key, value in row.items()}
            for row in frame.astype(object).to_dict("records")]
