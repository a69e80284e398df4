"""The client side of the serve-h2o benchmark: ``python -m bench.serve_client URL DATA.csv SINGLE BATCH``.

Sends the first SINGLE rows of DATA.csv as one-row requests (MLflow's ``dataframe_split``, one kept-alive
connection, one request after the other), then the first BATCH rows as one request, to ``emberflow serve`` at
URL, and prints as JSON the seconds of each part (``single``: all the one-row requests; ``batch``) and the
second class's probabilities of the batch, for the check against the baseline's."""

from __future__ import annotations

import http.client
import json
import sys
import time
from urllib.parse import urlsplit

import pandas as pd

from .serve_load import post as post_body


def probabilities_body(frame: pd.DataFrame) -> bytes:
    """The request for ``frame``'s rows (MLflow's ``dataframe_split``), asking for the class probabilities."""
    return json.dumps({"dataframe_split": {"columns": list(frame.columns), "data": frame.values.tolist()},
                       "params": {"probabilities": True}}).encode()


def post(connection: http.client.HTTPConnection, frame: pd.DataFrame) -> dict:
    return json.loads(post_body(connection, probabilities_body(frame)))


def main(url: str, data: str, single: int, batch: int) -> None:
    frame = pd.read_csv(data)
    location = urlsplit(url)
    connection = http.client.HTTPConnection(location.hostname, location.port, timeout=60)
    rows = [frame.iloc[[i]] for i in range(single)]
    start = time.perf_counter()
    for row in rows:
        post(connection, row)
    singles = time.perf_counter() - start
    start = time.perf_counter()
    answer = post(connection, frame.head(batch))
    batched = time.perf_counter() - start
    print(json.dumps({"single": singles, "batch": batched,
                      "p1": [p[-1] for p in answer["probabilities"]]}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
