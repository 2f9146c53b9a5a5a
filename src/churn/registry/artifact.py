"""A model artifact read only from inside its own folder: the folder found on disk (or downloaded
from a remote store), every file in it a regular file (no link to follow elsewhere), and every
path its MLmodel names resolved inside it before anything is opened.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from urllib.parse import unquote, urlparse

import yaml

from churn.errors import ChurnError


def refusal(uri: str, why: str) -> ChurnError:
    """The one message every refusal to load a model gives."""
    return ChurnError(
        f"refusing to load {uri}: {why}. churn loads only sklearn models serialised with skops "
        "and churn.registry.trust.TRUSTED_TYPES, from inside their own artifact folder"
    )


def underlying_uri(uri: str) -> str:
    """Where a models:/ or runs:/ URI stores its files."""
    if uri.startswith("models:/"):
        from mlflow.store.artifact.models_artifact_repo import ModelsArtifactRepository

        return ModelsArtifactRepository.get_underlying_uri(uri)
    if uri.startswith("runs:/"):
        from mlflow.store.artifact.runs_artifact_repo import RunsArtifactRepository

        return RunsArtifactRepository.get_underlying_uri(uri)
    return uri


@contextlib.contextmanager
def artifact_folder(uri: str) -> Iterator[Path]:
    """The artifact's folder on this machine: where a local store keeps it (so a link in it is
    seen as a link), else a fresh download of a remote one."""
    from mlflow.exceptions import MlflowException

    try:
        where = underlying_uri(uri)
    except (MlflowException, OSError) as err:
        raise refusal(uri, f"its location cannot be read ({err})") from err
    parsed = urlparse(where)
    if parsed.scheme in ("", "file"):
        yield Path(unquote(parsed.path) if parsed.scheme else where)
        return
    import mlflow

    with tempfile.TemporaryDirectory() as tmp:
        try:
            yield Path(mlflow.artifacts.download_artifacts(artifact_uri=where, dst_path=tmp))
        except (MlflowException, OSError) as err:
            raise refusal(uri, f"it cannot be downloaded ({err})") from err


def read_description(folder: Path, uri: str) -> dict:
    """The MLmodel file, after checking that the folder holds only regular files and folders."""
    if folder.is_symlink() or not folder.is_dir():
        raise refusal(uri, f"{folder} is not a folder")
    for entry in folder.rglob("*"):
        if entry.is_symlink():
            raise refusal(uri, f"{entry.relative_to(folder)} is a link")
        if not (entry.is_file() or entry.is_dir()):
            raise refusal(uri, f"{entry.relative_to(folder)} is not a regular file")
    description = folder / "MLmodel"
    if not description.is_file():
        raise refusal(uri, "it has no MLmodel file")
    try:
        found = yaml.safe_load(description.read_text())
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        raise refusal(uri, f"its MLmodel cannot be read ({type(err).__name__})") from err
    if not isinstance(found, Mapping) or not isinstance(found.get("flavors"), Mapping):
        raise refusal(uri, "its MLmodel names no flavours")
    check_named_paths(found["flavors"], folder, uri)
    return dict(found)


def check_named_paths(flavors: Mapping, folder: Path, uri: str) -> None:
    """Every path the MLmodel names lies inside the folder; the model file is a regular file
    there (the environment files are never opened to load a model: they need not be there)."""
    sklearn = flavors.get("sklearn") or {}
    pyfunc = flavors.get("python_function") or {}
    env = pyfunc.get("env")
    model = [sklearn.get("pickled_model"), pyfunc.get("model_path")]
    named = [*model, *(env.values() if isinstance(env, Mapping) else [env])]
    root = folder.resolve()
    for name in [n for n in named if n]:
        target = (folder / str(name)).resolve()
        if not target.is_relative_to(root):
            raise refusal(uri, f"its MLmodel names {name!r}, outside the artifact folder")
        if name in model and not target.is_file():
            raise refusal(uri, f"its MLmodel names {name!r}, which is not a file in the folder")
