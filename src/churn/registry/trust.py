"""Which models churn will load: an artifact is read before it is loaded, never run blind.

MLflow 3 saves sklearn models with skops; a skops file names the types it needs, and loading
trusts only those the caller lists. A model artifact whose description says pickle, cloudpickle
or bundled code would run whatever it holds, so it is refused before anything is loaded.
"""

from __future__ import annotations

import zipfile

import mlflow

from churn.errors import ChurnError
from churn.registry.artifact import artifact_folder, read_description, refusal

# Everything a saved churn pipeline may contain beyond what skops trusts by default.
TRUSTED_TYPES = [
    "numpy.dtype",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.frozen._frozen.FrozenEstimator",
    "xgboost.core.Booster",
    "xgboost.sklearn.XGBClassifier",
    # the other kinds of boosted trees the search may choose, and their blend
    "collections.OrderedDict",
    "lightgbm.basic.Booster",
    "lightgbm.sklearn.LGBMClassifier",
    "catboost.core.CatBoostClassifier",
    "churn.training.blend.LogOddsBlend",
    # the retention response model (churn.uplift): econml's meta-learners around boosters
    "churn.uplift.model.RetentionUplift",
    "churn.uplift.actions.ActionUplift",
    "econml.metalearners._metalearners.SLearner",
    "econml.metalearners._metalearners.TLearner",
    "econml.metalearners._metalearners.XLearner",
    "econml.dr._drlearner.DRLearner",
    "econml.dr._drlearner._ModelFinal",
    "econml.dr._drlearner._ModelNuisance",
    "econml.sklearn_extensions.model_selection.FixedModelSelector",
    "econml.validate.sensitivity_analysis.SensitivityParams",
    "xgboost.sklearn.XGBRegressor",
]


def check_trusted(model) -> list[str]:
    """The types skops will have to trust on load; refuse anything we did not list."""
    from skops.io import dumps, get_untrusted_types

    needed = get_untrusted_types(data=dumps(model))
    unknown = sorted(set(needed) - set(TRUSTED_TYPES))
    if unknown:
        raise ChurnError(
            f"the model holds types not in churn.registry.trust.TRUSTED_TYPES: {unknown}"
        )
    return sorted(needed)


def check_artifact(uri: str) -> None:
    """Read only the artifact's description and refuse anything but our own kind of model."""
    with artifact_folder(uri) as folder:
        check_description(read_description(folder, uri), uri)


def check_description(description: dict, uri: str) -> None:
    """The sklearn flavour, loaded by mlflow.sklearn, serialised with skops, trusting no type
    beyond TRUSTED_TYPES. A pickle (or cloudpickle, or custom code) would run whatever it holds."""
    flavors = description["flavors"]
    sklearn = flavors.get("sklearn") or {}
    pyfunc = flavors.get("python_function") or {}
    trusted = sklearn.get("skops_trusted_types") or []
    problems = []
    if set(flavors) - {"sklearn", "python_function"}:
        problems.append(f"flavours {sorted(flavors)}")
    if sklearn.get("serialization_format") != "skops":
        problems.append(f"serialization_format {sklearn.get('serialization_format')!r}")
    if pyfunc and pyfunc.get("loader_module") != "mlflow.sklearn":
        problems.append(f"loader_module {pyfunc.get('loader_module')!r}")
    if pyfunc.get("code") or sklearn.get("code"):
        problems.append("bundled code")
    unknown = sorted(set(trusted) - set(TRUSTED_TYPES))
    if unknown:
        problems.append(f"trusted types beyond churn's list: {unknown}")
    if problems:
        raise refusal(uri, f"its MLmodel says {'; '.join(problems)}")


def load_trusted(uri: str):
    """The model at `uri`, read from inside its folder after its description was checked; a
    file that is not what the description says (a type it did not list, not a skops zip) is the
    same refusal, never a traceback."""
    from skops.io.exceptions import UntrustedTypesFoundException

    with artifact_folder(uri) as folder:
        check_description(read_description(folder, uri), uri)
        try:
            return mlflow.sklearn.load_model(str(folder))
        except UntrustedTypesFoundException as err:
            raise refusal(uri, f"its model file holds types it did not list ({err})") from err
        except (zipfile.BadZipFile, KeyError, ValueError, OSError) as err:
            raise refusal(
                uri, f"its model file is not a skops file ({type(err).__name__})"
            ) from err
