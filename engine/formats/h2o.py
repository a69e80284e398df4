"""H2O models as H2O writes them: the binary (exact, but it loads only on the H2O version that wrote it) and
the MOJO zip (loads on any H2O version, and scores without a cluster through the h2o-genmodel classes).

``h2o`` (the ``auto`` choice) writes both into one version and records the H2O version (in the manifest's
``libraries``, like any library's; manifests written before keep it in their ``h2o`` section, which is still
read) and which file to prefer; ``h2o-binary`` and ``mojo`` write one. Loading picks the binary when the running
H2O is the version that wrote it and the MOJO otherwise, saying why. A loaded model is a ``StoredH2OModel``:
the files, put into the H2O cluster only when a step needs them there, so scoring a MOJO without a cluster
starts no H2O.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import DataError, EmberflowError, EngineUnavailable, UserError, VersionMismatch
from ..h2o_rows import MISSING_LEVEL
from . import ModelFormat, Untold, installed_versions, recorded_libraries

if TYPE_CHECKING:
    from ..context import Sessions
    from ..model import Model
    from ..portable import LinearModel

BINARY = "model.h2o"
MOJO = "model.zip"
DEFAULT_MOJO_HEAP = "1G"
PREDICT_CSV = "hex.genmodel.tools.PredictCsv"
SECURE_ONLY = "Secure"  # in the message of clients that keep MOJO export for H2O-3 Secure (3.46.0.12 and later)


class StoredH2OModel:
    """An H2O model in files: its binary and/or MOJO, and the one to put into the cluster when needed."""

    def __init__(self, binary: Path | None, mojo: Path | None, use: str, info: dict[str, Any],
                 sessions: Sessions, warn, written_by: str | None = None):
        self.binary = binary
        self.mojo = mojo
        self.use = use  # "binary" or "mojo"
        self.info = info  # the manifest's h2o section: model_id, algorithm, files
        self.written_by = written_by  # the H2O version that wrote the files, if recorded
        self.sessions = sessions
        self.warn = warn
        self._estimator: Any = None

    def estimator(self) -> Any:
        """The model in the H2O cluster (started if needed): the binary, else the MOJO as a generic model."""
        if self._estimator is None:
            h2o = self.sessions.get("h2o")
            if self.use == "binary":
                self._estimator = self._upload_binary(h2o)
            else:
                self._estimator = upload_mojo(h2o, self.mojo)
        return self._estimator

    def _upload_binary(self, h2o: Any) -> Any:
        try:
            return h2o.upload_model(str(self.binary))
        except Exception as exc:
            if self.mojo is None:
                raise DataError(f"H2O could not load the binary {self.binary}: {first_line(exc)}; the model has "
                                "no MOJO to fall back on") from exc
            self.warn(f"H2O could not load the binary {self.binary.name} ({first_line(exc)}): using the MOJO "
                      "instead")
            self.use = "mojo"
            return upload_mojo(h2o, self.mojo)


def upload_mojo(h2o: Any, path: Path) -> Any:
    try:
        return h2o.upload_mojo(str(path))
    except Exception as exc:
        raise DataError(f"H2O could not import the MOJO {path}: {first_line(exc)}") from exc


def estimator_of(model: Model) -> Any:
    """The H2O model object in the cluster, for a model trained in this run or loaded from files."""
    obj = model.obj
    return obj.estimator() if isinstance(obj, StoredH2OModel) else obj


def running_h2o() -> str:
    version = installed_versions(("h2o",))["h2o"]
    if version == "not installed":
        raise EngineUnavailable("loading an H2O model needs the h2o package, which is not installed; install it "
                                "with: pip install 'emberflow[h2o]'")
    return version


class _H2OFormat(ModelFormat):
    engine = "h2o"
    library_names = ("h2o",)
    own_version_gate = ("h2o",)  # ``open_stored`` picks the file that loads; strict_versions still refuses

    def applies_to(self, model: Model) -> bool:
        return model.engine == "h2o"

    def _describe(self, model: Model, **files: Any) -> dict[str, Any]:
        """The manifest's entries: the H2O version that wrote the files (in ``libraries``), and the h2o section
        with the model's id and algorithm and the files."""
        obj = model.obj
        if isinstance(obj, StoredH2OModel) and obj.info.get("model_id"):
            version = obj.written_by if obj.use == "binary" and obj.written_by else running_h2o()
            section = {"model_id": obj.info["model_id"], "algorithm": obj.info.get("algorithm"), **files}
        else:
            estimator = estimator_of(model)
            version = running_h2o()
            section = {"model_id": str(estimator.model_id), "algorithm": estimator.algo, **files}
        return {"libraries": {"h2o": version}, "h2o": section}


class H2OFormat(_H2OFormat):
    """Both files: the binary for this H2O version and the MOJO that survives upgrades."""

    name = "h2o"
    auto = True

    def save(self, model: Model, folder: Path) -> dict[str, Any]:
        write_binary(model, folder / BINARY)
        entries: dict[str, Any] = {"artifact": BINARY}
        try:
            write_mojo(model, folder / MOJO)
            entries.update(self._describe(model, binary=BINARY, mojo=MOJO, prefer="binary"))
        except MojoRefused as refusal:
            entries.update(self._describe(model, binary=BINARY, mojo=None, prefer="binary",
                                          mojo_refused=refusal.reason))
            entries["warnings"] = [refusal.warning(running_h2o())]
        return entries

    def load(self, folder: Path, manifest: dict[str, Any], sessions: Sessions, options: dict[str, Any]) -> Any:
        info = manifest.get("h2o") or {}
        binary = folder / info["binary"] if info.get("binary") else None
        mojo = folder / info["mojo"] if info.get("mojo") else None
        return open_stored(binary, mojo, manifest, sessions, options.get("warn"), folder)


class H2OBinaryFormat(_H2OFormat):
    """The binary alone (``h2o.save_model``'s file): loads only on the H2O version that wrote it."""

    name = "h2o-binary"
    suffixes = (".h2o",)
    exact_versions = ("h2o",)  # ``open_stored`` refuses a binary of any other version, there being no MOJO

    def written_by(self, path: Path) -> dict[str, str | Untold]:
        return {"h2o": binary_version(path)}

    def save(self, model: Model, folder: Path) -> dict[str, Any]:
        write_binary(model, folder / BINARY)
        return {"artifact": BINARY, **self._describe(model, prefer="binary")}

    def load(self, folder: Path, manifest: dict[str, Any], sessions: Sessions, options: dict[str, Any]) -> Any:
        binary = folder / manifest.get("artifact", BINARY)
        return open_stored(binary, None, manifest, sessions, options.get("warn"), binary)


class MojoFormat(_H2OFormat):
    """The MOJO zip alone: loads on any H2O version, and scores without a cluster (Score ``mode: mojo``)."""

    name = "mojo"
    suffixes = (".zip",)

    def written_by(self, path: Path) -> dict[str, str | Untold]:
        return {"h2o": mojo_version(path)}

    def save(self, model: Model, folder: Path) -> dict[str, Any]:
        try:
            write_mojo(model, folder / MOJO)
        except MojoRefused as refusal:
            raise UserError(f"cannot save a MOJO: H2O refused to export one ({refusal.reason}); save the model "
                            "with format: h2o-binary instead") from None
        return {"artifact": MOJO, **self._describe(model, prefer="mojo")}

    def load(self, folder: Path, manifest: dict[str, Any], sessions: Sessions, options: dict[str, Any]) -> Any:
        mojo = folder / manifest.get("artifact", MOJO)
        return open_stored(None, mojo, manifest, sessions, options.get("warn"), mojo)


H2O_FORMATS = [H2OFormat(), H2OBinaryFormat(), MojoFormat()]
BINARY_MAGIC = b"\x1c\xed"


def binary_version(path: Path) -> str | Untold:
    """The H2O version at the head of an H2O binary model: H2O writes it there (after the two bytes 0x1C 0xED, as
    a string of its own encoding: a length byte, the length plus one, then the bytes) to refuse the file on any
    other version."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(2 + 1 + 253)
    except OSError as exc:
        return Untold(f"it cannot be read: {exc}")
    if head[:2] != BINARY_MAGIC or len(head) < 3:
        return Untold("it does not start as an H2O binary model does (bytes 1C ED)")
    length = head[2] - 1
    version = head[3:3 + length].decode("ascii", "replace") if 0 < length <= 252 else ""
    if len(version) != length or not re.fullmatch(r"\d+\.\d+[\w.+-]*", version):
        return Untold("its header holds no version")
    return version


def mojo_version(path: Path) -> str | Untold:
    """The ``h2o_version`` in the ``[info]`` section of a MOJO's ``model.ini`` (not an INI file for Python's
    parser: its other sections list bare names)."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            lines = archive.read("model.ini").decode("utf-8").splitlines()
    except (OSError, KeyError, UnicodeDecodeError, zipfile.BadZipFile) as exc:
        return Untold(f"its model.ini cannot be read: {exc}")
    section = None
    for line in lines:
        line = line.strip()
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
        elif section == "info" and line.partition("=")[0].strip() == "h2o_version":
            return line.partition("=")[2].strip() or Untold("its model.ini names an empty h2o_version")
    return Untold("its model.ini names no h2o_version")


def open_stored(binary: Path | None, mojo: Path | None, manifest: dict[str, Any], sessions: Sessions, warn,
                where: Path) -> StoredH2OModel:
    """Choose the file to use: the binary when this H2O wrote it (or nothing says otherwise), else the MOJO.

    This is H2O's version gate (the generic one leaves H2O to it, but for strict_versions: true, which refuses
    another minor version of H2O whichever file would load): a binary loads only on the exact H2O version that
    wrote it, a MOJO on any. The version is read from ``libraries``, or from an older manifest's h2o section.
    """
    running = running_h2o()
    info = manifest.get("h2o") or {}
    written_by = recorded_libraries(manifest).get("h2o")
    warn = warn or (lambda message: None)
    if binary is not None and written_by in (None, running):
        return StoredH2OModel(binary, mojo, "binary", info, sessions, warn, written_by)
    if mojo is not None:
        if binary is not None:
            warn(f"the H2O binary of {where} was written by H2O {written_by}, and a binary loads only on the H2O "
                 f"version that wrote it (running {running}): using its MOJO instead")
        return StoredH2OModel(binary, mojo, "mojo", info, sessions, warn, written_by)
    raise VersionMismatch(
        f"{where} is an H2O binary written by H2O {written_by}, which loads only on that version (running "
        f"{running}), and there is no MOJO beside it; install h2o=={written_by} to load it, then save it again "
        "with format: h2o (binary and MOJO)")


class MojoRefused(Exception):
    """H2O would not export a MOJO of the model (a client that keeps MOJO export for H2O-3 Secure, or a model
    without a MOJO form)."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)

    def warning(self, version: str) -> str:
        why = (" (this h2o client keeps MOJO export for H2O-3 Secure; emberflow pins h2o==3.46.0.11, the "
               "newest open-source client that exports MOJOs)") if SECURE_ONLY in self.reason else ""
        return (f"no MOJO saved: H2O refused to export one: {self.reason}{why}; the version holds the H2O binary "
                f"alone, which loads only on H2O {version}")


def write_binary(model: Model, target: Path) -> None:
    """The H2O binary of ``model`` at ``target`` (downloaded from the cluster, so a remote one works too)."""
    import h2o

    obj = model.obj
    if isinstance(obj, StoredH2OModel) and obj.use == "binary":
        shutil.copy2(obj.binary, target)
        return
    written = h2o.download_model(estimator_of(model), path=str(target.parent), filename=target.name)
    if Path(written) != target:
        Path(written).replace(target)


def write_mojo(model: Model, target: Path) -> None:
    """The MOJO zip of ``model`` at ``target``; ``MojoRefused`` when H2O will not export one."""
    from h2o.exceptions import H2OValueError

    obj = model.obj
    if isinstance(obj, StoredH2OModel) and obj.mojo is not None:
        shutil.copy2(obj.mojo, target)
        return
    staging = Path(tempfile.mkdtemp(prefix=".mojo-", dir=target.parent))
    try:
        try:
            written = estimator_of(model).download_mojo(path=str(staging))
        except H2OValueError as exc:
            raise MojoRefused(first_line(exc)) from None
        Path(written).replace(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


# ----- scoring a MOJO without a cluster -----

def genmodel_jar() -> Path:
    """The jar holding the h2o-genmodel classes: the h2o package's own h2o.jar."""
    import h2o

    jar = Path(h2o.__file__).resolve().parent / "backend" / "bin" / "h2o.jar"
    if not jar.is_file():
        raise EngineUnavailable(f"scoring a MOJO needs the h2o-genmodel classes, and this h2o package has no {jar}; "
                                "install the full h2o package: pip install 'emberflow[h2o]'")
    return jar


def mojo_probabilities(model: Model, frame: Any, sessions: Sessions) -> Any:
    """Class probabilities (a regression's predicted numbers, as one column) of ``frame`` (pandas) from the
    model's MOJO, scored by h2o-genmodel's PredictCsv in a JVM of its own with a bounded heap (the ``h2o:``
    section's ``max_mem_size``; 1G without that section): no H2O cluster.
    Its input, output and temporary files live in one folder, removed afterwards."""
    import pandas as pd

    folder = Path(tempfile.mkdtemp(prefix=f"emberflow-mojo-{os.getpid()}-"))
    try:
        mojo = mojo_for_scoring(model, folder)
        (folder / "input.csv").write_bytes(mojo_csv(frame[list(model.features)]))
        run_predict_csv(mojo, folder, mojo_heap(sessions.settings))
        result = pd.read_csv(folder / "prediction.csv")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return mojo_result(model, result, len(frame))


def mojo_heap(settings: dict[str, Any]) -> str:
    """The heap of a JVM scoring a MOJO: the ``h2o:`` section's ``max_mem_size``, else ``DEFAULT_MOJO_HEAP``."""
    return str((settings.get("h2o") or {}).get("max_mem_size") or DEFAULT_MOJO_HEAP).upper()


def mojo_result(model: Model, result: Any, rows: int) -> Any:
    """The probabilities (a regression's numbers, one column) of h2o-genmodel's answer, a frame read from its
    CSV: the label column, then one per class, or the predicted number."""
    if model.is_regression:  # one column, the predicted number
        if result.shape[1] < 1 or len(result) != rows:
            raise EmberflowError(f"h2o-genmodel gave {len(result)} rows of {result.shape[1]} columns for "
                                 f"{rows} rows of a regression")
        return result.iloc[:, :1].to_numpy(dtype="float64")
    columns = len(model.classes)
    if result.shape[1] < columns + 1 or len(result) != rows:
        raise EmberflowError(f"h2o-genmodel gave {len(result)} rows of {result.shape[1] - 1} probabilities for "
                             f"{rows} rows and {columns} classes")
    return result.iloc[:, 1:columns + 1].to_numpy(dtype="float64")


def mojo_csv(features: Any) -> bytes:
    """The rows h2o-genmodel scores, as CSV with empty fields for missing values: written by Arrow's CSV writer
    (many times faster than pandas') when every column is a number and no name needs quoting, else by pandas."""
    import io

    import pandas as pd

    names = [str(c) for c in features.columns]
    numeric = all(pd.api.types.is_numeric_dtype(t) and not pd.api.types.is_bool_dtype(t) for t in features.dtypes)
    if not numeric or any(any(ch in name for ch in ',"\r\n') for name in names):
        return features.to_csv(index=False, na_rep="", lineterminator="\n").encode("utf-8")
    import pyarrow as pa
    import pyarrow.csv as pcsv

    handle = io.BytesIO()
    handle.write((",".join(names) + "\n").encode("utf-8"))
    pcsv.write_csv(pa.Table.from_pandas(features, preserve_index=False), handle,
                   pcsv.WriteOptions(include_header=False))
    return handle.getvalue()


def run_predict_csv(mojo: Path, folder: Path, heap: str) -> None:
    """``java -cp h2o.jar hex.genmodel.tools.PredictCsv``: input.csv in ``folder`` to prediction.csv."""
    import subprocess

    command = [java_command(), f"-Xmx{heap}", "-XX:ReservedCodeCacheSize=64m", f"-Djava.io.tmpdir={folder}",
               "-cp", str(genmodel_jar()), PREDICT_CSV, "--mojo", str(mojo.resolve()),
               "--input", str(folder / "input.csv"), "--output", str(folder / "prediction.csv"), "--decimal"]
    env = {**os.environ, "DO_NOT_TRACK": "1", "TMPDIR": str(folder)}
    done = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        lines = [line for line in (done.stderr + done.stdout).splitlines() if line.strip()]
        detail = next((line for line in lines if "Exception" in line or "Error" in line), lines[-1] if lines else "")
        raise EmberflowError(f"h2o-genmodel could not score the MOJO {mojo.name} (exit code {done.returncode}): "
                             f"{detail.strip()}")


def java_command() -> str:
    """The java that runs h2o-genmodel: JAVA_HOME's, else the one on PATH."""
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").is_file():
        return str(Path(home) / "bin" / "java")
    found = shutil.which("java")
    if found is None:
        raise EngineUnavailable("scoring a MOJO needs Java (h2o-genmodel runs in a JVM); install Java 11 or later, "
                                "or set JAVA_HOME")
    return found


def mojo_for_scoring(model: Model, folder: Path) -> Path:
    obj = model.obj
    if isinstance(obj, StoredH2OModel):
        if obj.mojo is None:
            raise DataError("this H2O model was saved without a MOJO (format h2o-binary, or MOJO export refused); "
                            "score it on the H2O cluster (leave out mode: mojo), or save it again with format: h2o")
        return obj.mojo
    try:
        write_mojo(model, folder / MOJO)
    except MojoRefused as refusal:
        raise DataError(f"mode: mojo needs a MOJO, and H2O refused to export one ({refusal.reason}); score on the "
                        "H2O cluster instead") from None
    return folder / MOJO


# ----- the portable params format -----

# GLM families ``params`` writes, and the kind of linear model each is.
GLM_KINDS = {"binomial": "logistic_regression", "multinomial": "logistic_regression",
             "gaussian": "linear_regression"}


def linear_spec(model: Model) -> LinearModel | None:
    """An H2O GLM (binomial, multinomial or gaussian) as a portable LinearModel, read from its MOJO, which holds
    what H2O scores with: the coefficients on the features' own scale (H2O standardizes inside and reports them
    de-standardized), the categorical columns' levels, and the values a missing number (the training mean, or
    the plug value) and a missing or unseen category (the most frequent level) take. None for other models."""
    obj = model.obj
    if model.engine != "h2o":
        return None
    stored = isinstance(obj, StoredH2OModel)
    algorithm = (obj.info or {}).get("algorithm") if stored else getattr(obj, "algo", None)
    if algorithm != "glm" and not (stored and algorithm is None):  # a stored model may not say: its MOJO does
        return None
    folder = Path(tempfile.mkdtemp(prefix="emberflow-glm-"))
    try:
        try:
            write_mojo(model, folder / MOJO)
        except MojoRefused:
            return None
        return glm_from_mojo(folder / MOJO, model)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def glm_from_mojo(path: Path, model: Model) -> LinearModel | None:
    """The LinearModel of a GLM's MOJO zip (see ``linear_spec``), or None if it is no GLM ``params`` writes."""
    import numpy as np

    from ..portable import LinearModel

    info, columns, domains = read_mojo(path)
    kind = GLM_KINDS.get(info.get("family", ""))
    if info.get("algo") != "glm" or kind is None:
        return None
    cats, nums = int(info["cats"]), int(info["nums"])
    if sorted(columns[:cats + nums]) != sorted(model.features):
        return None
    beta = np.asarray(mojo_numbers(info["beta"]), dtype=np.float64)
    classes = list(model.classes) if kind == "logistic_regression" else []
    rows = len(classes) if info["family"] == "multinomial" else 1
    inputs, positions = glm_inputs(info, columns, domains)
    coef = np.zeros((rows, len(positions)))
    per_class = len(beta) // rows
    for row in range(rows):
        block = beta[row * per_class:(row + 1) * per_class]
        coef[row] = [0.0 if at is None else block[at] for at in positions]
    intercept = np.asarray([beta[(row + 1) * per_class - 1] for row in range(rows)])
    return LinearModel(features=list(model.features), classes=classes, coef=coef, intercept=intercept,
                       threshold=float(model.params.get("threshold", 0.5)), multinomial=rows > 1, kind=kind,
                       inputs=inputs)


def glm_inputs(info: dict[str, str], columns: list[str], domains: dict[int, list[str]]):
    """The portable inputs of a GLM's MOJO, in its order (categorical columns first, then numbers), and for
    each model column the position of its coefficient in a class's block of ``beta`` (None: the reference
    level, left out without ``use_all_factor_levels``, whose coefficient is 0)."""
    from ..portable import CategoricalInput, NumericInput

    cats, nums = int(info["cats"]), int(info["nums"])
    offsets = [int(v) for v in mojo_numbers(info["cat_offsets"])]
    imputing = info.get("mean_imputation") == "true"
    modes = [int(v) for v in mojo_numbers(info.get("cat_modes", "[]"))]
    means = mojo_numbers(info.get("num_means", "[]"))
    all_levels = info.get("use_all_factor_levels") == "true"
    inputs: list[Any] = []
    positions: list[int | None] = []
    for i in range(cats):
        levels = domains[i]
        mode = modes[i] if imputing else None
        missing = levels.index(MISSING_LEVEL) if MISSING_LEVEL in levels else mode
        inputs.append(CategoricalInput(columns[i], levels, missing_level=missing, unseen_level=mode))
        first = offsets[i] if all_levels else offsets[i] - 1  # the reference level (0) has no coefficient
        positions += [None if not all_levels and level == 0 else first + level for level in range(len(levels))]
    for j in range(nums):
        inputs.append(NumericInput(columns[cats + j], impute=float(means[j]) if imputing else None))
        positions.append(offsets[cats] + j)
    return inputs, positions




def read_mojo(path: Path) -> tuple[dict[str, str], list[str], dict[int, list[str]]]:
    """A MOJO's ``model.ini``: its ``[info]`` entries, its ``[columns]`` and each categorical column's levels."""
    import zipfile

    with zipfile.ZipFile(path) as archive:
        sections: dict[str, list[str]] = {}
        current = None
        for line in archive.read("model.ini").decode("utf-8").splitlines():
            if line.startswith("[") and line.endswith("]"):
                current = sections.setdefault(line[1:-1], [])
            elif line.strip() and current is not None:
                current.append(line)
        info = dict(entry.split(" = ", 1) for entry in sections.get("info", []) if " = " in entry)
        escaped = info.get("escape_domain_values") == "true"
        domains = {}
        for entry in sections.get("domains", []):
            index, rest = entry.split(":", 1)
            file_name = rest.split()[1]
            lines = archive.read(f"domains/{file_name}").decode("utf-8").splitlines()
            domains[int(index)] = [unescaped(level) if escaped else level for level in lines]
    return info, sections.get("columns", []), domains


def mojo_numbers(text: str) -> list[float]:
    """``[1.5, -2.0, NaN]`` as numbers."""
    inner = text.strip().strip("[]").strip()
    return [float(v) for v in inner.split(",")] if inner else []


def unescaped(level: str) -> str:
    """A MOJO domain level with its escapes undone (``\\n`` a line break, ``\\x`` the character x)."""
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), level)
