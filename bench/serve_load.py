"""The client of the serve-mlflow benchmark, the same for both servers:
``python -m bench.serve_load URL DATA.csv CLIENTS REQUESTS BATCH BATCHES``.

CLIENTS threads, each with its own kept-alive connection, send REQUESTS one-row requests each (MLflow's
``dataframe_split``, rows taken in turn from DATA.csv), one after the other, all starting together after a short
unmeasured warm-up; then one thread sends BATCHES requests of BATCH rows. Prints as JSON the single-row
throughput (requests a second over the whole wall time), the p50 and p99 of the single-row latencies in
seconds, the median latency of a BATCH-row request, and the predictions of the first BATCH rows (to check that
both servers answer the same).
"""

from __future__ import annotations

import http.client
import json
import statistics
import sys
import threading
import time
from urllib.parse import urlsplit

WARMUP = 20  # unmeasured one-row requests per client before the clock starts


def features(path: str, rows: int):
    """The first ``rows`` rows of the CSV file, without its label column if it has one."""
    import pandas as pd

    frame = pd.read_csv(path, nrows=rows)
    return frame.drop(columns=[c for c in ("label",) if c in frame.columns])


def bodies(path: str, rows: int) -> tuple[list[bytes], list[str]]:
    """One request body per row of the first ``rows`` rows, and the columns."""
    frame = features(path, rows)
    columns = list(frame.columns)
    records = json.loads(frame.to_json(orient="values"))
    return [json.dumps({"dataframe_split": {"columns": columns, "data": [row]}}).encode() for row in records], columns


def batch_body(path: str, rows: int) -> bytes:
    frame = features(path, rows)
    return json.dumps({"dataframe_split": json.loads(frame.to_json(orient="split", index=False))}).encode()


def post(connection: http.client.HTTPConnection, body: bytes) -> bytes:
    connection.request("POST", "/invocations", body, {"Content-Type": "application/json"})
    response = connection.getresponse()
    answer = response.read()
    if response.status != 200:
        raise SystemExit(f"the server answered {response.status}: {answer[:500]!r}")
    return answer


def single_rows(url: str, requests: list[bytes], clients: int, per_client: int) -> dict[str, float]:
    location = urlsplit(url)
    latencies: list[list[float]] = [[] for _ in range(clients)]
    ready = threading.Barrier(clients + 1)

    def client(index: int) -> None:
        connection = http.client.HTTPConnection(location.hostname, location.port, timeout=120)
        for i in range(WARMUP):
            post(connection, requests[(index + i) % len(requests)])
        ready.wait()
        mine = latencies[index]
        for i in range(per_client):
            body = requests[(index * per_client + i) % len(requests)]
            start = time.perf_counter()
            post(connection, body)
            mine.append(time.perf_counter() - start)
        connection.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    ready.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - start
    every = sorted(t for mine in latencies for t in mine)
    return {"throughput": len(every) / wall, "p50": percentile(every, 0.50), "p99": percentile(every, 0.99)}


def percentile(ordered: list[float], share: float) -> float:
    """The value below which ``share`` of the ordered values lie (nearest rank)."""
    return ordered[min(len(ordered) - 1, max(0, int(round(share * len(ordered))) - 1))]


def batches(url: str, body: bytes, count: int) -> tuple[float, list]:
    location = urlsplit(url)
    connection = http.client.HTTPConnection(location.hostname, location.port, timeout=120)
    answer = post(connection, body)  # warm-up, and the predictions to compare
    times = []
    for _ in range(count):
        start = time.perf_counter()
        post(connection, body)
        times.append(time.perf_counter() - start)
    return statistics.median(times), json.loads(answer)["predictions"]


def main(url: str, data: str, clients: int, requests: int, batch: int, count: int) -> None:
    single, _columns = bodies(data, 1000)
    found = single_rows(url, single, clients, requests)
    found["batch"], predictions = batches(url, batch_body(data, batch), count)
    print(json.dumps({**found, "predictions": predictions}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]))
