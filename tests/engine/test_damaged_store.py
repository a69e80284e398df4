"""A damaged entry in the store hides nothing else: `models list` and `models verify` report each broken entry on
its own line and go on with the rest; only canonical version folders (1, 2, 3 ...) are versions, and no model or
version folder that is a symbolic link out of the store is listed or followed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from emberflow.engine.errors import IntegrityError, ModelNotFound, UserError
from emberflow.engine.store import ModelStore


def save(store: ModelStore, name: str, payload: bytes = b"x") -> int:
    def write(folder: Path) -> dict:
        (folder / "model.bin").write_bytes(payload)
        return {"format": "test", "engine": "sklearn"}

    return store.save(name, write).version


def store_of(tmp_path: Path, **models: int) -> ModelStore:
    """A store holding each model with that many versions."""
    store = ModelStore(tmp_path / "store")
    for name, count in models.items():
        for _ in range(count):
            save(store, name)
    return store


def listed(cli, store: ModelStore):
    """`models list` as text and as JSON (by model name)."""
    text = cli("models", "list", "--store", store.root)
    as_json = cli("models", "list", "--json", "--store", store.root)
    assert text.code == 0 and as_json.code == 0, (text.err, as_json.err)
    return text, {m["name"]: m for m in as_json.json()}


@pytest.mark.parametrize("text, number", [("1", 1), ("2", 2), ("10", 10), ("123456789", 123456789)])
def test_canonical_decimal_names_are_versions(text: str, number: int):
    from emberflow.engine.names import parse_version

    assert parse_version(text) == number


@pytest.mark.parametrize("text", ["0", "003", "01", "²", "٣", "+3", "-1", " 3", "3 ", "3\n", "1_0", "1.0", "",
                                  "1" * 19, None, 3])
def test_other_names_are_not_versions(text):
    from emberflow.engine.names import parse_version

    assert parse_version(text) is None


@pytest.mark.parametrize("value", ["abc", None, [1], {"v": 1}, 1.9, True, 0, -1, "2"])
def test_an_alias_that_is_not_a_version_number_is_reported_and_the_rest_listed(cli, tmp_path: Path, value):
    store = store_of(tmp_path, m=2, other=1)
    (store.root / "m" / "aliases.json").write_text(json.dumps({"name": "m", "aliases": {"prod": value, "ok": 1}}))
    text, models = listed(cli, store)
    assert [line.split()[0] for line in text.out.splitlines()[1:]] == ["m", "other"]
    assert text.err.count("\n") == 1 and f"alias 'prod' is {value!r} in aliases.json, not a version" in text.err
    assert models["m"]["aliases"] == {"ok": 1} and models["m"]["format"] == "test"
    assert len(models["m"]["problems"]) == 1 and models["other"]["problems"] == []
    with pytest.raises(IntegrityError, match=r"alias 'prod' is .* not a version number; set it again: emberflow "
                                             r"models alias m VERSION prod"):
        store.resolve("m@prod")
    assert store.resolve("m@ok").version == 1
    verified = cli("models", "verify", "--store", store.root)
    assert verified.code == 1
    assert verified.out.splitlines()[:3] == ["m@1: ok (1 file)", "m@2: ok (1 file)", "other@1: ok (1 file)"]
    assert "m aliases: FAILED: alias 'prod' is" in verified.out


@pytest.mark.parametrize("content", ['{"name": "m", "aliases": {"pro', "[1, 2]", '{"name": "m", "aliases": 3}'])
def test_an_unreadable_aliases_file_is_reported_and_the_rest_listed(cli, tmp_path: Path, content: str):
    store = store_of(tmp_path, m=1, other=1)
    (store.root / "m" / "aliases.json").write_text(content)
    text, models = listed(cli, store)
    assert "m aliases: aliases.json" in text.err and "other" in text.out
    assert models["m"]["aliases"] == {} and models["m"]["format"] == "test"
    verified = cli("models", "verify", "--store", store.root)
    assert verified.code == 1 and "other@1: ok" in verified.out and "m aliases: FAILED: aliases.json" in verified.out


def test_a_truncated_manifest_is_reported_and_the_other_models_listed_and_verified(cli, tmp_path: Path):
    store = store_of(tmp_path, a=1, b=2, c=1)
    manifest = store.root / "b" / "2" / "manifest.json"
    manifest.write_bytes(manifest.read_bytes()[:40])
    text, models = listed(cli, store)
    assert [line.split()[0] for line in text.out.splitlines()[1:]] == ["a", "b", "c"]
    assert text.err.startswith("b@2: manifest.json is not readable JSON")
    assert models["a"]["format"] == models["c"]["format"] == "test"
    assert models["b"]["format"] is None and models["b"]["latest"] == 2 and len(models["b"]["problems"]) == 1
    verified = cli("models", "verify", "--store", store.root)
    assert verified.code == 1
    lines = verified.out.splitlines()
    assert lines[0] == "a@1: ok (1 file)" and lines[1] == "b@1: ok (1 file)" and lines[3] == "c@1: ok (1 file)"
    assert lines[2].startswith("b@2: FAILED: manifest.json is not readable JSON")


def test_an_alias_pointing_at_a_missing_version_says_so(cli, tmp_path: Path):
    store = store_of(tmp_path, m=2)
    store.set_alias("m", 2, "prod")
    shutil.rmtree(store.root / "m" / "2")  # removed by hand (models delete refuses an aliased version)
    with pytest.raises(IntegrityError, match=r"model 'm': alias 'prod' points at version 2, which the model does "
                                             r"not have \(versions: 1\); point it at one: emberflow models alias m "
                                             r"VERSION prod"):
        store.resolve("m@prod")
    text, models = listed(cli, store)
    assert "m aliases: alias 'prod' points at version 2" in text.err and models["m"]["latest"] == 1
    verified = cli("models", "verify", "--store", store.root)
    assert verified.code == 1 and "m@1: ok" in verified.out and "alias 'prod' points at version 2" in verified.out
    assert cli("models", "alias", "m", "1", "prod", "--store", store.root).code == 0
    assert cli("models", "verify", "--store", store.root).code == 0


def test_version_folders_with_non_canonical_names_are_ignored_and_reported(cli, tmp_path: Path):
    store = store_of(tmp_path, m=2)
    for stray in ("003", "²", "0"):
        shutil.copytree(store.root / "m" / "1", store.root / "m" / stray)
    assert store.versions("m") == [1, 2] and store.resolve("m").version == 2
    for ref in ("m@003", "m@0", "m@²"):
        with pytest.raises(UserError):
            store.resolve(ref)
    _text, models = listed(cli, store)
    assert models["m"]["versions"] == [1, 2] and models["m"]["problems"] == []
    verified = cli("models", "verify", "m", "--store", store.root)
    assert verified.code == 1 and verified.out.count("FAILED") == 3
    assert "m/003: FAILED: not a version: version folders are named 1, 2, 3 ... (no leading zero" in verified.out
    assert "m/²: FAILED: not a version" in verified.out and "m/0: FAILED: not a version" in verified.out
    pruned = cli("models", "prune", "m", "--keep", "1", "--store", store.root)
    assert pruned.code == 0 and pruned.out.strip() == "m: deleted version 1; kept 2"
    assert sorted(p.name for p in (store.root / "m").iterdir() if not p.name.startswith(".")) == ["0", "003", "2",
                                                                                                   "²"]
    assert save(store, "m") == 3


@pytest.mark.parametrize("ref, error, message", [
    ("m@003", UserError, "'m@003': a version is written without leading zeros: m@3"),
    ("m@03", UserError, "'m@03': a version is written without leading zeros: m@3"),
    ("m@0", ModelNotFound, "model 'm' has no version 0; versions: 1, 2, 3"),
    ("m@" + "9" * 30, ModelNotFound, "model 'm' has no version 999"),
    ("m@²", ModelNotFound, "model 'm' has no alias '²'"),
])
def test_a_version_is_asked_for_as_its_folder_is_named(tmp_path: Path, ref: str, error, message: str):
    store = store_of(tmp_path, m=3)
    with pytest.raises(error) as raised:
        store.resolve(ref)
    assert message in str(raised.value)
    assert store.resolve("m@3").version == 3


def test_models_alias_names_the_versions_that_exist(cli, tmp_path: Path):
    store = store_of(tmp_path, m=3)
    missing = cli("models", "alias", "m", "7", "prod", "--store", store.root)
    assert missing.code == 2 and missing.err.strip() == "error: model 'm' has no version 7; versions: 1, 2, 3"
    for written in ("003", "1_0", "+2", "²"):
        refused = cli("models", "alias", "m", written, "prod", "--store", store.root)
        assert refused.code == 2 and f"'{written}' is not a version number" in refused.err
        assert "(versions of 'm': 1, 2, 3)" in refused.err
    nobody = cli("models", "alias", "nope", "1", "prod", "--store", store.root)
    assert nobody.code == 2 and "no model 'nope' in the store" in nobody.err
    assert not (store.root / "m" / "aliases.json").exists() and not (store.root / "nope").exists()
    assert cli("models", "alias", "m", "3", "prod", "--store", store.root).code == 0
    assert store.aliases("m") == {"prod": 3}


def test_setting_an_alias_keeps_the_files_other_entries_as_they_are(tmp_path: Path):
    store = store_of(tmp_path, m=2)
    (store.root / "m" / "aliases.json").write_text(json.dumps({"name": "m", "aliases": {"broken": "abc"}}))
    store.set_alias("m", 2, "prod")
    held = json.loads((store.root / "m" / "aliases.json").read_text())
    assert held["aliases"] == {"broken": "abc", "prod": 2}
    assert store.aliases("m") == {"prod": 2} and len(store.alias_problems("m")) == 1


def outside_copy(tmp_path: Path, count: int) -> Path:
    """Model 'm' with ``count`` whole versions, saved in a store outside the one under test."""
    elsewhere = store_of(tmp_path / "elsewhere", m=count)
    return elsewhere.root / "m"


def test_a_version_folder_linked_out_of_the_store_is_not_a_version(cli, tmp_path: Path):
    store = store_of(tmp_path, m=2)
    (store.root / "m" / "3").symlink_to(outside_copy(tmp_path, 3) / "3", target_is_directory=True)
    assert store.versions("m") == [1, 2] and store.resolve("m").version == 2
    with pytest.raises(ModelNotFound, match="model 'm' has no version 3; versions: 1, 2"):
        store.resolve("m@3")
    verified = cli("models", "verify", "--store", store.root)
    assert verified.code == 1 and "m@3" not in verified.out
    assert "m/3: FAILED: a symbolic link out of the store (to " in verified.out
    assert save(store, "m") == 4, "the next version is written beside the link, not through it"


def test_a_model_folder_linked_out_of_the_store_is_neither_listed_nor_followed(cli, tmp_path: Path):
    store = store_of(tmp_path, m=1)
    outside = outside_copy(tmp_path, 1)
    (store.root / "ext").symlink_to(outside, target_is_directory=True)
    assert store.names() == ["m"] and store.versions("ext") == []
    _text, models = listed(cli, store)
    assert list(models) == ["m"]
    with pytest.raises(ModelNotFound, match="no model 'ext'"):
        store.resolve("ext")
    verified = cli("models", "verify", "--store", store.root)
    assert verified.code == 1 and "ext: FAILED: a symbolic link out of the store" in verified.out
    before = sorted(p.name for p in outside.iterdir())
    with pytest.raises(UserError, match="is a symbolic link out of the store"):
        save(store, "ext")
    assert sorted(p.name for p in outside.iterdir()) == before, "nothing is written through the link"


def test_a_link_inside_the_store_is_followed_but_its_manifest_must_be_of_its_place(tmp_path: Path):
    store = store_of(tmp_path, m=2)
    (store.root / "m" / "3").symlink_to(store.root / "m" / "1", target_is_directory=True)
    assert store.versions("m") == [1, 2, 3]
    with pytest.raises(IntegrityError, match=r"m@3: manifest.json is of model 'm' version 1, not of m@3"):
        store.manifest(store.resolve("m"))


def test_a_manifest_that_is_a_symbolic_link_is_not_followed(cli, tmp_path: Path):
    store = store_of(tmp_path, m=1)
    outside = outside_copy(tmp_path, 1) / "1" / "manifest.json"
    manifest = store.root / "m" / "1" / "manifest.json"
    manifest.unlink()
    manifest.symlink_to(outside)
    with pytest.raises(IntegrityError, match=r"m@1: manifest.json is a symbolic link; refusing to use it"):
        store.manifest(store.resolve("m"))
    verified = cli("models", "verify", "--store", store.root)
    assert verified.code == 1 and "m@1: FAILED: manifest.json is a symbolic link" in verified.out


def test_verify_reports_an_unreadable_file_and_goes_on(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from emberflow.engine import integrity

    store = store_of(tmp_path, a=1, b=1)
    real = integrity.sha256_file

    def unreadable_in_a(path: Path) -> str:
        if Path(path).is_relative_to(store.root / "a"):
            raise PermissionError(13, "Permission denied")
        return real(path)

    monkeypatch.setattr(integrity, "sha256_file", unreadable_in_a)
    verified = cli("models", "verify", "--store", store.root)
    assert verified.code == 1
    assert verified.out.splitlines() == ["a@1: FAILED: model.bin: not readable (Permission denied)",
                                         "b@1: ok (1 file)"]


def test_a_manifest_whose_files_are_not_entries_is_refused_in_one_line(cli, tmp_path: Path):
    store = store_of(tmp_path, m=1, other=1)
    path = store.root / "m" / "1" / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["files"] = {"model.bin": "x"}
    path.write_text(json.dumps(manifest))
    verified = cli("models", "verify", "--store", store.root)
    assert verified.code == 1 and "m@1: FAILED: manifest.json lists its files in another shape" in verified.out
    assert "other@1: ok" in verified.out
    _text, models = listed(cli, store)
    assert models["m"]["size"] is None and models["other"]["size"] == 1


def test_a_version_number_taken_by_a_folder_without_manifest_is_not_given_out(cli, tmp_path: Path):
    store = store_of(tmp_path, m=1)
    (store.root / "m" / "2").mkdir()
    (store.root / "m" / "2" / "model.bin").write_bytes(b"left by hand")
    assert store.versions("m") == [1] and save(store, "m") == 3
    verified = cli("models", "verify", "--store", store.root)
    assert verified.code == 1 and "m/2: FAILED: holds no manifest.json; the store ignores it" in verified.out


DEEP = "[" * 100_000 + "]" * 100_000  # valid JSON that Python's parser cannot descend into


def test_a_manifest_nested_too_deep_is_one_line_and_the_rest_is_listed(cli, tmp_path: Path):
    store = store_of(tmp_path, m=2, other=1)
    (store.root / "m" / "1" / "manifest.json").write_text(DEEP)
    with pytest.raises(IntegrityError, match="nested too deep"):
        store.manifest(store.resolve("m@1"))
    text, models = listed(cli, store)
    assert set(models) == {"m", "other"}
    verify = cli("models", "verify", "--store", store.root)
    assert verify.code == 1 and "unexpected" not in verify.err + verify.out and "nested too deep" in verify.out


def test_an_aliases_file_nested_too_deep_is_reported_and_the_rest_listed(cli, tmp_path: Path):
    store = store_of(tmp_path, m=1, other=1)
    (store.root / "m" / "aliases.json").write_text(DEEP)
    text, models = listed(cli, store)
    assert set(models) == {"m", "other"} and "nested too deep" in text.err
    result = cli("models", "show", "m@prod", "--store", store.root)
    assert result.code == 2 and "nested too deep" in result.err and "unexpected" not in result.err


@pytest.mark.parametrize("content", [DEEP, '{"run_id": "x", "sta', "[1, 2]",
                                     '{"workflow": "a string", "steps": 3, "models": [1], "error": [], "seconds": "9"}',
                                     '{"steps": [{"seconds": "1", "rows": [], "metrics": 2}], "edges": [{}], '
                                     '"models": [{}], "error": {}}'])
def test_a_damaged_run_record_is_one_line_and_the_others_are_listed(cli, tmp_path: Path, content: str):
    store = store_of(tmp_path)
    store.write_run({"run_id": "20260101T000000Z-good", "status": "ok", "steps": [], "models": []})
    (store.runs_dir / "20260101T000001Z-bad.json").write_text(content)
    runs = cli("runs", "list", "--json", "--store", store.root)
    assert runs.code == 0, runs.err
    assert "20260101T000000Z-good" in [r["run_id"] for r in runs.json()]
    shown = cli("runs", "show", "20260101T000001Z-bad", "--store", store.root)
    assert "unexpected" not in shown.err and "Traceback" not in shown.err


def test_models_show_verify_and_diff_print_a_manifest_s_text_escaped(cli, tmp_path: Path):
    """A manifest is a file anyone who can write the store may edit: its text never reaches the terminal raw."""
    store = store_of(tmp_path, m=2)
    for version in (1, 2):
        path = store.root / "m" / str(version) / "manifest.json"
        manifest = json.loads(path.read_text())
        manifest.update(label="\x1b[31mred\x1b[0m", created="\x1b]0;title\x07", params={"C": "\x1b[2J"})
        path.write_text(json.dumps(manifest))
    (store.root / "m" / "0\x1b[1m").mkdir()  # a stray folder, reported by verify with its name
    for command in (("show", "m@1"), ("diff", "m@1", "m@2", "--all"), ("verify",)):
        result = cli("models", *command, "--store", store.root)
        assert "\x1b" not in result.out + result.err, (command, result.out)
        assert "\\x1b" in result.out, (command, result.out)


def test_models_show_of_a_version_is_not_hidden_by_a_damaged_aliases_file(cli, tmp_path: Path):
    store = store_of(tmp_path, m=1)
    (store.root / "m" / "aliases.json").write_text("{not json")
    result = cli("models", "show", "m@1", "--store", store.root)
    assert result.code == 0, result.err
    assert "aliases: aliases.json is not readable JSON" in result.out


def test_a_run_record_in_shape_is_read_as_written(tmp_path: Path):
    store = store_of(tmp_path)
    record = {"run_id": "20260101T000000Z-ok", "status": "failed", "seconds": 1.5, "workflow": {"name": "w"},
              "steps": [{"id": "a", "rows": None, "seconds": None, "metrics": {}}, {"id": "b", "rows": 3}],
              "models": [], "edges": [{"from": "a", "to": "b", "port": "data"}], "error": {"step": "a"}}
    store.write_run(record)
    assert store.read_run("20260101T000000Z-ok") == record


@pytest.mark.parametrize("libraries", [["scikit-learn"], "1.9", 3])
def test_a_manifest_whose_libraries_are_not_a_mapping_is_compared_and_shown(cli, tmp_path: Path, libraries):
    store = store_of(tmp_path, m=2)
    path = store.root / "m" / "1" / "manifest.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), "libraries": libraries}))
    for command in (("show", "m@1"), ("diff", "m@1", "m@2")):
        result = cli("models", *command, "--store", store.root)
        assert result.code == 0 and "unexpected" not in result.err, (command, result.err)


def test_a_file_name_no_file_can_have_is_not_a_stored_file(tmp_path: Path):
    store = store_of(tmp_path, m=1)
    ref = store.resolve("m@1")
    for rel in ("a\x00b", "x" * 5000):
        with pytest.raises(ModelNotFound):
            store.stored_file(ref, rel)
