"""Each command's whole config, registered in Hydra's ConfigStore so a typo in a key fails at
start-up and names the key. The groups' schemas are in `churn.config`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING

from churn.config import (
    ContactOptions,
    CostsOptions,
    CutoffsOptions,
    DataConfig,
    FeaturesOptions,
    LabelsOptions,
    MlflowOptions,
    PathsConfig,
    ReportOptions,
    RiskOptions,
    ScoreOptions,
    SearchOptions,
    SplitOptions,
    TargetOptions,
    ValidateOptions,
    WarehouseConfig,
)
from churn.outcomes.config import OutcomesOptions
from churn.simulate.options import HazardConfig, RetentionProgram
from churn.uplift.config import UpliftOptions
from churn.value.config import ValueConfig


@dataclass
class SimulateConfig:
    paths: PathsConfig = field(default_factory=PathsConfig)
    n_customers: int = 20_000
    start: str = "2023-01-01"
    end: str = "2025-12-31"
    seed: int = 42
    existing_fraction: float = 0.5
    hazard: HazardConfig = field(default_factory=HazardConfig)
    retention: RetentionProgram = field(default_factory=RetentionProgram)


@dataclass
class ValidateConfig:
    paths: PathsConfig = field(default_factory=PathsConfig)
    warehouse: WarehouseConfig = field(default_factory=WarehouseConfig)
    data: DataConfig = MISSING
    validate: ValidateOptions = field(default_factory=ValidateOptions)
    force: bool = False  # rebuild even when the inputs did not change


@dataclass
class FeaturesJobConfig:
    paths: PathsConfig = field(default_factory=PathsConfig)
    warehouse: WarehouseConfig = field(default_factory=WarehouseConfig)
    data: DataConfig = MISSING
    features: FeaturesOptions = field(default_factory=FeaturesOptions)
    labels: LabelsOptions = field(default_factory=LabelsOptions)
    cutoffs: CutoffsOptions = field(default_factory=CutoffsOptions)
    force: bool = False  # rebuild even when the inputs did not change


@dataclass
class TrainConfig:
    paths: PathsConfig = field(default_factory=PathsConfig)
    data: DataConfig = MISSING
    labels: LabelsOptions = field(default_factory=LabelsOptions)
    target: TargetOptions = field(default_factory=TargetOptions)
    model: Any = MISSING  # {preprocess, estimator: {_target_: ...}}
    split: SplitOptions = field(default_factory=SplitOptions)
    costs: CostsOptions = field(default_factory=CostsOptions)
    value: ValueConfig = field(default_factory=ValueConfig)
    mlflow: MlflowOptions = field(default_factory=MlflowOptions)
    hparams_search: SearchOptions = field(default_factory=SearchOptions)
    seed: int = 42


@dataclass
class ReportConfig:
    paths: PathsConfig = field(default_factory=PathsConfig)
    data: DataConfig = MISSING
    target: TargetOptions = field(default_factory=TargetOptions)
    labels: LabelsOptions = field(default_factory=LabelsOptions)
    mlflow: MlflowOptions = field(default_factory=MlflowOptions)
    risk: RiskOptions = field(default_factory=RiskOptions)
    costs: CostsOptions = field(default_factory=CostsOptions)
    value: ValueConfig = field(default_factory=ValueConfig)
    playbook: dict[str, Any] = field(default_factory=dict)  # configs/playbook
    report: ReportOptions = field(default_factory=ReportOptions)


@dataclass
class ScoreConfig:
    paths: PathsConfig = field(default_factory=PathsConfig)
    warehouse: WarehouseConfig = field(default_factory=WarehouseConfig)
    data: DataConfig = MISSING
    features: FeaturesOptions = field(default_factory=FeaturesOptions)
    labels: LabelsOptions = field(default_factory=LabelsOptions)
    cutoffs: CutoffsOptions = field(default_factory=CutoffsOptions)
    target: TargetOptions = field(default_factory=TargetOptions)
    mlflow: MlflowOptions = field(default_factory=MlflowOptions)
    risk: RiskOptions = field(default_factory=RiskOptions)
    costs: CostsOptions = field(default_factory=CostsOptions)
    value: ValueConfig = field(default_factory=ValueConfig)
    playbook: dict[str, Any] = field(default_factory=dict)  # configs/playbook
    alerts: dict[str, Any] = field(default_factory=dict)  # configs/alerts
    contact: ContactOptions = field(default_factory=ContactOptions)
    score: ScoreOptions = field(default_factory=ScoreOptions)


@dataclass
class OutcomesConfig:
    paths: PathsConfig = field(default_factory=PathsConfig)
    warehouse: WarehouseConfig = field(default_factory=WarehouseConfig)
    data: DataConfig = MISSING
    features: FeaturesOptions = field(default_factory=FeaturesOptions)
    labels: LabelsOptions = field(default_factory=LabelsOptions)
    target: TargetOptions = field(default_factory=TargetOptions)
    mlflow: MlflowOptions = field(default_factory=MlflowOptions)
    risk: RiskOptions = field(default_factory=RiskOptions)
    outcomes: OutcomesOptions = field(default_factory=OutcomesOptions)


@dataclass
class UpliftConfig:
    paths: PathsConfig = field(default_factory=PathsConfig)
    warehouse: WarehouseConfig = field(default_factory=WarehouseConfig)
    data: DataConfig = MISSING
    features: FeaturesOptions = field(default_factory=FeaturesOptions)
    labels: LabelsOptions = field(default_factory=LabelsOptions)
    target: TargetOptions = field(default_factory=TargetOptions)
    mlflow: MlflowOptions = field(default_factory=MlflowOptions)
    uplift: UpliftOptions = field(default_factory=UpliftOptions)


def register_configs() -> None:
    """Store the schemas so YAML files can name them in their defaults list."""
    cs = ConfigStore.instance()
    cs.store(name="simulate_schema", node=SimulateConfig)
    cs.store(name="validate_schema", node=ValidateConfig)
    cs.store(name="features_schema", node=FeaturesJobConfig)
    cs.store(name="train_schema", node=TrainConfig)
    cs.store(name="report_schema", node=ReportConfig)
    cs.store(name="score_schema", node=ScoreConfig)
    cs.store(name="outcomes_schema", node=OutcomesConfig)
    cs.store(name="uplift_schema", node=UpliftConfig)
    cs.store(group="paths", name="paths_schema", node=PathsConfig)
    cs.store(group="data", name="data_schema", node=DataConfig)
