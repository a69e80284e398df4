"""The routes on a TestClient: each protocol's answers equal batch Score's, and every bad request is an answer in
the protocol's shape (never a traceback or a 500)."""

from __future__ import annotations

import dataclasses
import json
import time

import numpy as np
import pytest
from emberflow.engine.serving.app import Limits

from .conftest import NEW_ROWS, client_of, holder_of, new_rows, records

VERSIONS = ["species-lr@1", "sex-rf@1", "mass-params@1"]
SHAPES = ["dataframe_records", "dataframe_split", "inputs", "csv", "v2"]


def ask(client, name: str, shape: str, rows, probabilities: bool = True):
    """The server's predictions (and probabilities) for ``rows`` sent in ``shape``."""
    if shape == "csv":
        response = client.post("/invocations?probabilities=true", content=NEW_ROWS.read_bytes(),
                               headers={"Content-Type": "text/csv"})
    elif shape == "v2":
        inputs = [{"name": c, "shape": [len(rows)], "datatype": "BYTES" if rows[c].map(type).eq(str).any() else "FP64",
                   "data": rows[c].tolist()} for c in rows.columns]
        response = client.post(f"/v2/models/{name}/infer", json={"inputs": inputs})
        assert response.status_code == 200, response.text
        outputs = {o["name"]: o for o in response.json()["outputs"]}
        proba = outputs.get("probabilities")
        return outputs["prediction"]["data"], proba and [proba["data"][i:i + proba["shape"][1]]
                                                          for i in range(0, len(proba["data"]), proba["shape"][1])]
    else:
        payload = {"dataframe_records": records(rows),
                   "dataframe_split": {"columns": list(rows.columns), "data": rows.values.tolist()},
                   "inputs": {c: rows[c].tolist() for c in rows.columns}}[shape]
        response = client.post("/invocations", json={shape: payload, "params": {"probabilities": probabilities}})
    assert response.status_code == 200, response.text
    return response.json()["predictions"], response.json().get("probabilities")


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("shape", SHAPES)
def test_predictions_equal_batch_score_on_the_same_rows(trained, version, shape):
    """The held-out rows (gaps in text and numbers, an island training never saw) sent in every shape: each
    prediction is Score's, each probability Score's probability column(s), as WriteCSV wrote them."""
    batch = trained.batch(version)
    client = client_of(holder_of(trained.store, version))
    predictions, probabilities = ask(client, version.split("@")[0], shape, new_rows())
    if version.startswith("mass"):
        assert predictions == pytest.approx(batch["prediction"].tolist(), rel=1e-12) and probabilities is None
        return
    assert predictions == batch["prediction"].tolist()
    columns = [c for c in batch.columns if c.startswith("probability")]
    expected = batch[columns].to_numpy()
    got = [[row[1]] for row in probabilities] if len(columns) == 1 else probabilities
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_probabilities_only_on_request(client):
    rows = {"dataframe_records": records(new_rows().head(2))}
    assert set(client.post("/invocations", json=rows).json()) == {"predictions"}
    asked = client.post("/invocations?probabilities=true", json=rows).json()
    assert asked["classes"] == ["Adelie", "Chinstrap", "Gentoo"] and len(asked["probabilities"][0]) == 3
    assert set(client.post("/invocations?probabilities=false", json={**rows, "params": {"probabilities": True}})
               .json()) == {"predictions"}  # the query wins


def test_extra_columns_are_ignored_and_column_order_does_not_matter(client):
    rows = new_rows().head(5)
    shuffled = rows[list(reversed(rows.columns))].assign(comment="extra", ticket=[1, 2, 3, 4, 5])
    one = client.post("/invocations?probabilities=true", json={"dataframe_records": records(rows)}).json()
    other = client.post("/invocations?probabilities=true", json={"dataframe_records": records(shuffled)}).json()
    assert one == other


def test_a_missing_column_is_a_400_naming_it(client):
    rows = new_rows().head(2).drop(columns=["flipper_length_mm"])
    response = client.post("/invocations", json={"dataframe_records": records(rows)})
    assert response.status_code == 400 and response.json()["error_code"] == "BAD_REQUEST"
    assert "flipper_length_mm" in response.json()["message"]
    v2 = client.post("/v2/models/species-lr/infer", json={"inputs": [
        {"name": "island", "shape": [1], "datatype": "BYTES", "data": ["Dream"]}]})
    assert v2.status_code == 400 and "flipper_length_mm" in v2.json()["error"]


def test_a_value_of_the_wrong_type_is_a_400_naming_column_and_row(client):
    rows = records(new_rows().head(3))
    rows[2]["bill_depth_mm"] = "deep"
    response = client.post("/invocations", json={"dataframe_records": rows})
    assert response.status_code == 400
    assert "column 'bill_depth_mm' holds 'deep' in row 3" in response.json()["message"]


BAD_BODIES = [
    b"{", b"null", b"[]", b'"text"', b"{}", b'{"dataframe_records": 5}', b'{"dataframe_records": [5]}',
    b'{"inputs": {"island": ["Dream"], "bill_length_mm": [1e999]}}', b'{"inputs": {"bill_length_mm": [%s]}}'
    % (b"7" * 10_000), b'{"instances": [[1, 2]]}', b'{"dataframe_split": {"columns": ["a"], "data": [[1, 2]]}}',
    b'{"dataframe_records": [{"island": {"x": 1}}]}', b"[" * 50_000, b"\xff\xff",
    b'{"dataframe_records": [{"island": "Dream"}], "params": {"probabilities": "maybe"}}',
    b'{"dataframe_records": [{"bill_length_mm": -1e400, "island": 1}]}',
]


@pytest.mark.parametrize("body", BAD_BODIES, ids=range(len(BAD_BODIES)))
def test_bad_bodies_are_400s_in_the_protocol_shape(client, body):
    response = client.post("/invocations", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400, response.text
    assert response.json()["error_code"] == "BAD_REQUEST" and "Traceback" not in response.text
    v2 = client.post("/v2/models/species-lr/infer", content=body, headers={"Content-Type": "application/json"})
    assert v2.status_code == 400 and set(v2.json()) == {"error"}


def test_huge_numbers_in_a_numeric_column_name_column_and_row(client):
    rows = records(new_rows().head(2))
    rows[1]["body_mass_g"] = "HUGE"
    body = json.dumps({"dataframe_records": rows}).replace('"HUGE"', "1e999")
    response = client.post("/invocations", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert "column 'body_mass_g' holds a number beyond the range of a double" in response.json()["message"]
    assert "row 2" in response.json()["message"]
    csv = client.post("/invocations", content=b"island,body_mass_g\nDream,1e999\n",
                      headers={"Content-Type": "text/csv"})
    assert csv.status_code == 400 and "beyond the range of a double" in csv.json()["message"]


def test_health_version_and_metadata(client):
    assert client.get("/ping").status_code == 200 and client.get("/health").status_code == 200
    from emberflow.engine import __version__

    assert client.get("/version").text == __version__
    assert client.get("/v2/health/live").json() == {"live": True}
    assert client.get("/v2/health/ready").json() == {"ready": True}
    assert client.get("/v2").json()["name"] == "emberflow"
    metadata = client.get("/v2/models/species-lr").json()
    assert metadata["versions"] == ["1"] and metadata["platform"] == "emberflow_sklearn"
    assert {i["name"]: i["datatype"] for i in metadata["inputs"]}["island"] == "BYTES"
    assert [o["name"] for o in metadata["outputs"]] == ["prediction", "probabilities"]
    assert client.get("/v2/models/species-lr/versions/1/ready").json() == {"name": "species-lr", "ready": True}
    assert client.get("/v2/models/species-lr/versions/2").status_code == 404
    other = client.get("/v2/models/other")
    assert other.status_code == 404 and "this server serves 'species-lr'" in other.json()["error"]
    assert client.get("/nothing").json()["error_code"] == "ENDPOINT_NOT_FOUND"
    assert client.get("/invocations").status_code == 405


def test_limits_on_body_size_rows_and_content_type(lr_holder):
    client = client_of(lr_holder, limits=Limits(max_body=2000, max_rows=3))
    rows = records(new_rows())
    too_big = client.post("/invocations", json={"dataframe_records": rows})
    assert too_big.status_code == 413 and "larger than this server's limit of 2000 bytes" in too_big.json()["message"]
    chunked = client.post("/invocations", content=iter([b'{"inputs": {"a": ['] + [b"1, "] * 1000 + [b"1]}}"]),
                          headers={"Content-Type": "application/json"})  # no Content-Length: counted as it comes
    assert chunked.status_code == 413
    many = client.post("/invocations", json={"dataframe_records": rows[:4]})
    assert many.status_code == 400 and "holds 4 rows, more than this server's limit of 3" in many.json()["message"]
    assert client.post("/invocations", json={"dataframe_records": rows[:3]}).status_code == 200
    form = client.post("/invocations", content=b"a=1", headers={"Content-Type": "text/plain"})
    assert form.status_code == 415 and "send application/json" in form.json()["message"]


def test_a_token_is_required_but_by_the_health_checks(lr_holder):
    client = client_of(lr_holder, token="s3cret")
    rows = {"dataframe_records": records(new_rows().head(1))}
    assert client.get("/ping").status_code == 200 and client.get("/v2/health/ready").status_code == 200
    refused = client.post("/invocations", json=rows)
    assert refused.status_code == 401 and refused.json()["error_code"] == "UNAUTHENTICATED"
    assert client.post("/invocations", json=rows, headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/v2/models/species-lr").status_code == 401
    assert client.post("/invocations", json=rows, headers={"Authorization": "Bearer s3cret"}).status_code == 200


def test_a_loopback_server_refuses_other_host_names(lr_holder):
    """DNS rebinding: a page elsewhere whose name points at 127.0.0.1 sends its own name as Host."""
    client = client_of(lr_holder, allowed_hosts=["127.0.0.1", "localhost"], base_url="http://127.0.0.1:5000")
    assert client.get("/ping").status_code == 200
    assert client.get("/ping", headers={"Host": "evil.example:5000"}).status_code == 400


def served_with(holder, predict):
    """``holder``'s version scoring with ``predict`` instead (a copy: the shared holder is left alone)."""
    clone = type(holder).__new__(type(holder))
    clone.__dict__.update(holder.__dict__, current=dataclasses.replace(holder.current, predict=predict))
    return clone


def test_slow_scoring_is_a_503_after_the_timeout(lr_holder):
    client = client_of(served_with(lr_holder, lambda frame: time.sleep(1)), limits=Limits(timeout=0.1))
    response = client.post("/invocations", json={"dataframe_records": records(new_rows().head(1))})
    assert response.status_code == 503 and "longer than this server's limit of 0.1 s" in response.json()["message"]


def test_the_model_refusing_rows_is_a_400_and_a_bug_a_logged_500(lr_holder):
    def refuses(frame):
        raise ValueError("Input X contains NaN")

    def breaks(frame):
        raise RuntimeError("a bug")

    rows = {"dataframe_records": records(new_rows().head(1))}
    refused = client_of(served_with(lr_holder, refuses)).post("/invocations", json=rows)
    assert refused.status_code == 400
    assert refused.json()["message"] == "the model could not score these rows: ValueError: Input X contains NaN"
    logged: list[str] = []
    broken = client_of(served_with(lr_holder, breaks), log=logged.append).post("/invocations", json=rows)
    assert broken.status_code == 500 and broken.json()["error_code"] == "INTERNAL_ERROR"
    assert "Traceback" not in broken.text and "Traceback" in logged[0] and "RuntimeError: a bug" in logged[0]
