"""A randomized test in a customer table: the treatment config, the arms, the sample-ratio and
balance checks, on tiny hand-made tables whose answers can be worked out by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hydra.errors import ConfigCompositionException

from churn.errors import ConfigError
from churn.snapshot.experiment import read_test, sample_ratio
from churn.snapshot.infer import infer_spec
from churn.snapshot.load import clean
from tests.unit.test_configs import compose, hydra_configs  # noqa: F401 (the fixture)

TOKENS = ["", "NA", "None"]  # "None" is also the control's name: the arm still reads it


def email_test(n: int = 3000, seed: int = 1) -> pd.DataFrame:
    """Two e-mails and a control; `bought_after` is recorded after the e-mail (the e-mails
    raise it), `recency` and `channel` before it. Rows repeat, as in a table without an id."""
    rng = np.random.default_rng(seed)
    arm = rng.choice(["Mail A", "Mail B", "None"], n)
    recency = rng.integers(1, 13, n)
    bought = rng.random(n) < np.where(arm == "None", 0.05, 0.25)
    visit = rng.random(n) < 0.3
    return pd.DataFrame(
        {
            "recency": recency.astype(str),
            "channel": rng.choice(["Web", "Phone"], n),
            "arm": arm,
            "bought_after": bought.astype(int).astype(str),
            "visit": visit.astype(int).astype(str),
        }
    )


DECLARED = {
    "path": "t.csv",
    "label": {"column": "visit", "positive": "0"},
    "treatment": {"column": "arm", "control": "None"},
}


def test_sample_ratio_against_equal_and_declared_shares_by_hand():
    # 60 and 40 against 50/50: chi-square (10^2/50) * 2 = 4 on 1 degree of freedom, p = 0.0455
    equal = sample_ratio({"a": 60, "b": 40}, None)
    assert equal["p_value"] == pytest.approx(0.0455, abs=1e-4) and not equal["declared"]
    assert not equal["mismatch"]  # 0.0455 is not below 0.001
    declared = sample_ratio({"a": 60, "b": 40}, {"a": 0.6, "b": 0.4})
    assert declared["p_value"] == pytest.approx(1.0) and declared["declared"]
    assert sample_ratio({"a": 700, "b": 300}, None)["mismatch"]
    with pytest.raises(ConfigError, match=r"treatment.shares names \['c'\]"):
        sample_ratio({"a": 60, "b": 40}, {"a": 0.5, "c": 0.5})


def test_a_column_recorded_after_the_contact_is_named_and_left_out():
    frame = email_test()
    test, left_out = read_test(frame, DECLARED, TOKENS)
    assert test["actions"] == ["Mail A", "Mail B"] and test["control"] == "None"
    assert sum(test["arms"].values()) == len(frame)
    assert set(test["unbalanced"]) == {"bought_after"}  # recency and channel are alike
    assert "bought_after" in left_out and "keep_unbalanced" in left_out["bought_after"]
    kept = {**DECLARED, "treatment": {**DECLARED["treatment"], "keep_unbalanced": ["bought_after"]}}
    assert read_test(frame, kept, TOKENS)[1] == {}
    spec, _ = infer_spec(frame, DECLARED, {**left_out, "arm": "the test's arm"})
    assert set(spec["features"]) == {"recency", "channel"}
    assert spec["excluded"]["bought_after"].startswith("its arms differ")


def test_identical_rows_of_a_test_without_an_id_are_kept_and_blank_arms_rejected():
    frame = email_test(400)
    frame = pd.concat([frame, frame.iloc[:30]], ignore_index=True)
    frame.loc[3, "arm"] = "NA"
    test, left_out = read_test(frame, DECLARED, TOKENS)
    spec, lines = infer_spec(frame, DECLARED, {**left_out, "arm": "the test's arm"})
    assert spec["duplicates"] == "keep_all" and any("keep_all" in line for line in lines)
    rows, rejects, kept_once, _ = clean(frame, spec)
    assert kept_once == 0 and len(rows) == len(frame) - 1  # every copy is a customer
    assert rejects["reject_reason"].tolist() == [
        "arm arm is blank (data.snapshot.treatment.column)"
    ]
    assert set(rows["test_arm"]) == {"Mail A", "Mail B", "None"}
    declared_once = {**DECLARED, "duplicates": "keep_one"}
    assert infer_spec(frame, declared_once, left_out)[0]["duplicates"] == "keep_one"


def test_a_wrong_arm_column_or_control_names_the_key():
    frame = email_test(100)
    with pytest.raises(ConfigError, match=r"treatment.column='segment' is not a column"):
        read_test(frame, {**DECLARED, "treatment": {"column": "segment", "control": "None"}}, [])
    with pytest.raises(ConfigError, match=r"treatment.control='No E-Mail' is not a value"):
        read_test(frame, {**DECLARED, "treatment": {"column": "arm", "control": "No E-Mail"}}, [])


@pytest.mark.parametrize(
    ("data", "override"),
    [
        ("hillstrom", "data.snapshot.treatment.colum=segment"),
        ("hillstrom", "data.snapshot.treatment.controll=x"),
        ("telco", "data.snapshot.features.tenure.kindd=numeric"),
        ("telco", "data.snapshot.labell.column=x"),
    ],
)
def test_unknown_keys_anywhere_under_snapshot_fail_at_start_up(data, override):
    with pytest.raises(ConfigCompositionException, match="Could not override"):
        compose(config_name="validate", overrides=[f"data={data}", override])


@pytest.mark.parametrize(
    "typo",
    [
        {"treatment": {"column": "segment", "control": "No", "share": {"a": 1}}},
        {"features": {"tenure": {"kind": "numeric", "familly": "price"}}},
    ],
)
def test_a_typo_in_a_data_config_file_names_the_key(typo):
    from omegaconf import OmegaConf
    from omegaconf.errors import ConfigKeyError

    from churn.config import DataConfig

    written = {"name": "mine", "snapshot": {"path": "t.csv", "label": {"column": "y"}, **typo}}
    with pytest.raises(ConfigKeyError, match="share|familly"):
        OmegaConf.merge(OmegaConf.structured(DataConfig), written)


def test_the_hillstrom_config_composes_with_its_test():
    cfg = compose(config_name="validate", overrides=["data=hillstrom"])
    assert cfg.data.snapshot.treatment.control == "No E-Mail"
    assert cfg.data.snapshot.label.positive == 0
