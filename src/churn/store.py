"""File layouts and atomic writes: readers see the old file or the new one, never half of one."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

FOLDER_KEYS = (
    "data_dir",
    "reports_dir",
    "scores_dir",
    "outcomes_dir",
    "models_dir",
    "log_dir",
    "mlflow_artifacts",
)
INFERRED_SPEC = "inferred.yaml"
VALIDATION_REPORT = "validation_report.json"
UPLIFT_REPORT = "uplift_report.json"  # what a customer table's randomized test says (churn uplift)


def write_text_atomically(text: str, path: Path) -> Path:
    """Write beside the target and rename over it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_json_atomically(document: Any, path: Path) -> Path:
    return write_text_atomically(json.dumps(document, indent=2, default=str) + "\n", path)


# OWASP CSV injection: a spreadsheet runs a cell beginning with one of these as a formula
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cells(frame):
    """Text cells that a spreadsheet would run as a formula get a leading apostrophe (OWASP);
    numeric columns are left as numbers. Works on a pandas frame or a pyarrow table."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(frame, pa.Table):
        for i, field in enumerate(frame.schema):
            if pa.types.is_string(field.type) or pa.types.is_large_string(field.type):
                column = frame.column(i)
                risky = pc.fill_null(pc.match_substring_regex(column, r"^[=+\-@\t\r]"), False)
                safe = pc.if_else(risky, pc.binary_join_element_wise("'", column, ""), column)
                frame = frame.set_column(i, field, safe.cast(field.type))
        return frame
    out = frame.copy()
    for name in out.columns:
        if out[name].dtype == object:
            text = out[name]
            risky = text.map(lambda v: isinstance(v, str) and v.startswith(FORMULA_STARTS))
            out[name] = text.where(~risky, "'" + text.astype(str))
    return out


def unusable_folders(paths) -> list[str]:
    """Every `paths.*` folder that is a file, lies under a file, or cannot be written: checked
    before any work starts, so a bad path never costs a scoring run."""
    problems = []
    for key in FOLDER_KEYS:
        if not paths.get(key):
            continue
        folder = Path(str(paths[key])).expanduser()
        existing = next(p for p in (folder, *folder.parents) if p.exists() or p == p.parent)
        if not existing.is_dir():
            what = "is a file" if existing == folder else f"lies under the file {existing}"
            problems.append(f"paths.{key}={folder} {what}, not a folder")
        elif not os.access(existing, os.W_OK | os.X_OK):
            problems.append(f"paths.{key}={folder}: {existing} cannot be written")
    return problems


def process_alive(owner: dict) -> bool:
    """The process that wrote `owner` still runs (same pid and the same start time)."""
    import psutil

    try:
        return abs(psutil.Process(int(owner["pid"])).create_time() - owner["started"]) < 1e-3
    except (psutil.Error, KeyError, TypeError, ValueError):
        return False


def this_process() -> dict:
    import psutil

    return {"pid": os.getpid(), "started": psutil.Process().create_time()}


def write_owner(folder: Path) -> None:
    """Mark a staging folder as this process's, so no other run takes it for a leftover."""
    write_json_atomically(this_process(), folder / ".owner.json")


def is_leftover(folder: Path) -> bool:
    """A staging folder whose maker is gone (or that names none): safe to remove."""
    try:
        owner = json.loads((folder / ".owner.json").read_text())
    except (OSError, ValueError):
        return True
    return not process_alive(owner)


class FolderLock:
    """One writer per output folder: a second run exits with the holder's pid; a lock left by a
    dead process is taken over."""

    def __init__(self, folder: Path, what: str):
        self.path = folder / ".lock"
        self.what = what

    def __enter__(self) -> FolderLock:
        from churn.errors import ChurnError

        self.path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                try:
                    owner = json.loads(self.path.read_text())
                except (OSError, ValueError):
                    owner = {}
                if process_alive(owner):
                    raise ChurnError(
                        f"another churn {owner.get('what', self.what)} (pid {owner['pid']}) "
                        f"is writing {self.path.parent}; wait for it to finish and run again"
                    ) from None
                self.path.unlink(missing_ok=True)  # left by a process that is gone
                continue
            with os.fdopen(fd, "w") as handle:
                json.dump({**this_process(), "what": self.what}, handle)
            return self
        raise ChurnError(f"could not lock {self.path.parent} for churn {self.what}")

    def __exit__(self, *exc) -> None:
        self.path.unlink(missing_ok=True)


def staging_dir(target: Path) -> Path:
    """A fresh hidden folder beside `target`, owned by this process; folders left beside it by
    runs that died (`.<name>.tmp-*`, `.<name>.old-*`) are removed first."""
    import shutil
    import uuid

    target = Path(target)
    if target.parent.exists():
        for pattern in (f".{target.name}.tmp-*", f".{target.name}.old-*"):
            for leftover in target.parent.glob(pattern):
                if leftover.is_dir() and is_leftover(leftover):
                    shutil.rmtree(leftover, ignore_errors=True)
    tmp = target.with_name(f".{target.name}.tmp-{uuid.uuid4().hex[:8]}")
    tmp.mkdir(parents=True)
    write_owner(tmp)
    return tmp


def swap_dir(new: Path, target: Path) -> None:
    """Put a finished staging folder in place of `target` (two renames), then drop the old one."""
    import shutil
    import uuid

    (new / ".owner.json").unlink(missing_ok=True)
    old = target.with_name(f".{target.name}.old-{uuid.uuid4().hex[:8]}")
    if target.exists():
        os.replace(target, old)
    os.replace(new, target)
    shutil.rmtree(old, ignore_errors=True)


# Layouts: every folder and file name the flow reads or writes is built here.
CATALOG = "catalog.json"


def features_folder(data_dir: Path) -> Path:
    return Path(data_dir) / "features"


def catalog_path(features: Path) -> Path:
    return Path(features) / CATALOG


def read_catalog(features: Path) -> dict:
    return json.loads(catalog_path(features).read_text())


def cutoff_part(root: Path, cutoff, name: str = "part-0.parquet") -> Path:
    """`<root>/cutoff=YYYY-MM-DD/<name>`: one file per cutoff, Hive-partition style."""
    return (
        Path(root)
        / f"cutoff={cutoff.isoformat() if hasattr(cutoff, 'isoformat') else cutoff}"
        / name
    )


def numbered_part(folder: Path, i: int) -> Path:
    return Path(folder) / f"part-{i:05d}.parquet"


def parts_of(folder: Path) -> list[Path]:
    """The parquet parts of a folder, in the order they were written."""
    return sorted(Path(folder).glob("part-*.parquet"))


def scores_partition(scores_dir: Path, as_of) -> Path:
    return Path(scores_dir) / f"as_of={as_of.isoformat()}"


def previous_partition(scores_dir: Path, as_of) -> tuple[Any, Path] | None:
    """The latest published partition dated before as_of, with its date (None when none is)."""
    earlier = [(day, folder) for day, folder in scores_partitions(scores_dir) if day < as_of]
    return earlier[-1] if earlier else None


def scores_staging(scores_dir: Path, as_of) -> Path:
    """A hidden folder beside the partition, unique to this run."""
    import uuid

    return Path(scores_dir) / f".as_of={as_of.isoformat()}.tmp-{uuid.uuid4().hex[:8]}"


def stale_staging(scores_dir: Path) -> list[Path]:
    return sorted(Path(scores_dir).glob(".as_of=*.tmp-*")) if Path(scores_dir).exists() else []


def drift_report(scores_dir: Path, as_of) -> Path:
    return Path(scores_dir) / "drift" / f"as_of={as_of.isoformat()}.json"


def scores_partitions(scores_dir: Path) -> list[tuple[Any, Path]]:
    """Every published partition with its date, oldest first (staging folders are hidden)."""
    import datetime as dt

    dated = []
    for folder in Path(scores_dir).glob("as_of=*"):
        try:
            day = dt.date.fromisoformat(folder.name.removeprefix("as_of="))
        except ValueError:
            continue
        if folder.is_dir():
            dated.append((day, folder))
    return sorted(dated)


OUTCOMES_FILE = "outcomes.json"


def outcomes_file(outcomes_dir: Path, as_of) -> Path:
    return Path(outcomes_dir) / f"as_of={as_of.isoformat()}" / OUTCOMES_FILE


def latest_outcomes(outcomes_dir: Path) -> Path | None:
    """The outcomes of the latest list measured so far (None before the first)."""
    found = sorted(Path(outcomes_dir).glob(f"as_of=*/{OUTCOMES_FILE}"))
    return found[-1] if found else None


def disk_full(err: BaseException, folders: Mapping[str, Any]) -> str | None:
    """The message for a write that ran out of space (an OSError, or a warehouse's I/O error
    saying so): the path, the bytes left on its disk, the key to point elsewhere. None for any
    other error."""
    import errno
    import shutil

    if getattr(err, "errno", None) != errno.ENOSPC and "No space left" not in str(err):
        return None
    where = getattr(err, "filename", None)
    keys = {k: v for k, v in folders.items() if isinstance(v, str)}
    key = next((k for k, v in keys.items() if where and str(where).startswith(v)), None)
    path = Path(where or next(iter(keys.values()), "."))
    probe = next((p for p in (path, *path.parents) if p.exists()), Path("."))
    free = shutil.disk_usage(probe).free
    return (
        f"no space left on the disk holding {path} ({free:,} bytes free); nothing was published "
        f"and the previous output is as it was. Free some space or point "
        f"{'paths.' + key if key else 'the paths.* folders'} at another disk, and run again"
    )
