"""The `churn` command line: one subcommand per step, each a thin Hydra entry point.

`churn <step> key=value ...` composes the step's config in `configs/` with the overrides and
calls the step's pure function. User errors (ChurnError) print one clear message and exit 2.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import hydra
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from churn.errors import ChurnError

log = logging.getLogger("churn")


class CheckPaths(Callback):
    """Before Hydra makes its run folder (under paths.log_dir): every paths.* folder usable."""

    def on_run_start(self, config: DictConfig, **kwargs) -> None:
        from churn.store import unusable_folders

        if "paths" not in config:
            return
        problems = unusable_folders(OmegaConf.to_container(config.paths, resolve=True))
        if problems:
            print(f"churn: {'; '.join(problems)}", file=sys.stderr)
            sys.exit(2)


@dataclass(frozen=True)
class Command:
    target: str  # "module:function" taking the composed config; imported only when run
    help: str
    config: str  # primary config in configs/
    writes: str | None = None  # the paths.* folder this step rewrites: one run at a time


COMMANDS: dict[str, Command] = {
    "simulate": Command(
        "churn.simulate.app:run_simulate",
        "write the demo CRM world to <paths.data_dir>/raw",
        "simulate",
        "data_dir",
    ),
    "validate": Command(
        "churn.dataset.sources:run_validate",
        "check the raw tables and load them into the warehouse (rejects kept with reasons)",
        "validate",
        "data_dir",
    ),
    "features": Command(
        "churn.dataset.sources:run_features",
        "build point-in-time features and labels per cutoff into <paths.data_dir>/features",
        "build_features",
        "data_dir",
    ),
    "train": Command(
        "churn.training.train:run_train",
        "backtest out of time, fit and calibrate, log to MLflow and register the model",
        "train",
    ),
    "uplift": Command(
        "churn.uplift.job:run_uplift",
        "fit the retention response model on past randomized calls, Qini-check it, register it",
        "uplift",
    ),
    "report": Command(
        "churn.report.page:run_report",
        "the retention report: who is at risk, why, who to call (reports/retention_report.html)",
        "report",
    ),
    "score": Command(
        "churn.scoring.job:run_score",
        "score the whole base: risk, value, reasons, a call list with a control group",
        "score",
    ),
    "outcomes": Command(
        "churn.outcomes.job:run_outcomes",
        "did the calls work? each published list whose label window closed: call vs control",
        "outcomes",
    ),
}


def find_config_dir() -> Path:
    """CHURN_CONFIG_DIR, else ./configs, else the configs/ shipped beside the source tree."""
    candidates = [
        os.environ.get("CHURN_CONFIG_DIR"),
        Path.cwd() / "configs",
        Path(__file__).resolve().parents[2] / "configs",
    ]
    for candidate in candidates:
        if candidate and (Path(candidate) / "validate.yaml").exists():
            return Path(candidate).resolve()
    raise ChurnError("No configs/ folder found: run from the project root or set CHURN_CONFIG_DIR.")


def load_task(name: str) -> Callable[[DictConfig], object]:
    module, function = COMMANDS[name].target.split(":")
    return getattr(importlib.import_module(module), function)


@contextlib.contextmanager
def lock_outputs(name: str, cfg: DictConfig) -> Iterator[None]:
    """A second run of a step that rewrites a folder exits with the first one's pid."""
    from churn.store import FolderLock

    key = COMMANDS[name].writes
    if key is None:
        yield
        return
    with FolderLock(Path(cfg.paths[key]), name):
        yield


def run_task(name: str, args: list[str]) -> None:
    """Hand the overrides to Hydra; turn a user error into a message and exit status 2."""
    from churn.data_config import name_data
    from churn.schemas import register_configs

    register_configs()
    task = load_task(name)

    def guarded(cfg: DictConfig) -> None:
        from hydra.core.hydra_config import HydraConfig

        name_data(cfg, HydraConfig.get().runtime.choices.get("data"))
        OmegaConf.resolve(cfg)
        try:
            with lock_outputs(name, cfg):
                task(cfg)
        except ChurnError as err:
            log.error("%s", err)
            sys.exit(2)
        except Exception as err:  # a full disk is the machine's problem, said as such
            from churn.store import disk_full

            said = disk_full(err, OmegaConf.to_container(cfg.paths) if "paths" in cfg else {})
            if said is None:
                raise
            log.error("%s", said)
            sys.exit(2)

    sys.argv = [f"churn {name}", *args]
    hydra.main(
        config_path=str(find_config_dir()), config_name=COMMANDS[name].config, version_base="1.3"
    )(guarded)()


def compose_config(config_name: str, *overrides: str) -> dict:
    """`configs/<config_name>.yaml` composed as its command would, resolved to plain containers:
    for notebooks, benchmarks and tests that call the pure functions directly."""
    from hydra import compose, initialize_config_dir

    from churn.data_config import name_data
    from churn.schemas import register_configs

    register_configs()
    with initialize_config_dir(config_dir=str(find_config_dir()), version_base="1.3"):
        cfg = compose(config_name=config_name, overrides=list(overrides))
    chosen = [o.split("=", 1)[1] for o in overrides if o.startswith("data=")]
    name_data(cfg, chosen[-1] if chosen else "synthetic")
    return OmegaConf.to_container(cfg, resolve=True)


def print_usage() -> None:
    print("usage: churn <command> [key=value ...]   (Hydra overrides; `churn <command> --help`)\n")
    print("commands:")
    for name, command in COMMANDS.items():
        print(f"  {name:<10} {command.help}")


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in {"-h", "--help", "help"}:
        print_usage()
        return 0
    name, rest = args[0], args[1:]
    if name not in COMMANDS:
        print(f"churn: unknown command {name!r}\n", file=sys.stderr)
        print_usage()
        return 2
    try:
        run_task(name, rest)
    except ChurnError as err:
        print(f"churn {name}: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
