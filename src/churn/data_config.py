"""What a data config leaves out: its name (the file's) and its mode (from its sections)."""

from __future__ import annotations


def data_mode(data) -> str:
    """`events` or `snapshot`; `auto` is snapshot when the data config has a snapshot section."""
    mode = data.get("mode") or "auto"
    if mode == "auto":
        return "snapshot" if data.get("snapshot") else "events"
    if mode not in ("events", "snapshot"):
        from churn.errors import ConfigError

        raise ConfigError(f"data.mode={mode!r}: use events, snapshot or auto")
    return mode


def name_data(cfg, choice: str | None) -> None:
    """A data config may leave out its name: it is the config's file name (`data=mytable`)."""
    from omegaconf import OmegaConf

    if "data" in cfg and OmegaConf.is_missing(cfg.data, "name") and choice:
        cfg.data.name = choice
