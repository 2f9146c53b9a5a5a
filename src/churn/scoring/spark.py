"""The same chunk function on Spark: features built by Ibis on pyspark, probabilities from
`mlflow.pyfunc.spark_udf` (after the trust check), the rest from `score_chunk` in `mapInPandas`."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Mapping
from pathlib import Path

import pyarrow.parquet as pq

from churn.errors import ChurnError
from churn.scoring.alerts import ALERTS_FILE
from churn.scoring.chunk import output_schema, score_chunk
from churn.scoring.inputs import check_columns, scoring_expression
from churn.scoring.model import Scorer
from churn.store import numbered_part, parts_of


def score_on_spark(con, cfg: Mapping, scorer: Scorer, as_of: dt.date, staging: Path) -> Path:
    """Features built by Spark (Ibis pyspark), probabilities from `mlflow.pyfunc.spark_udf`, the
    rest from `score_chunk` in a `mapInPandas`: the same code as on DuckDB, run by the executors."""
    import mlflow
    from pyspark.sql import functions as F
    from pyspark.sql.pandas.types import from_arrow_schema

    if con.name != "pyspark":
        raise ChurnError("score.engine=spark needs warehouse.backend=pyspark")
    spark = con._session
    features_dir = staging / "_features"
    # to_parquet_dir registers the in-memory tables the expression uses (the cutoff table)
    con.to_parquet_dir(scoring_expression(con, cfg, as_of, scorer), features_dir)
    parts = parts_of(features_dir)
    check_columns(pq.ParquetFile(parts[0]).schema_arrow, scorer.features)
    from churn.registry.trust import check_artifact

    check_artifact(f"models:/{scorer.churn.name}/{scorer.churn.version}")
    predict = mlflow.pyfunc.spark_udf(
        spark,
        f"models:/{scorer.churn.name}/{scorer.churn.version}",
        result_type="array<double>",
        env_manager="local",
    )
    typed = [  # the model's input types, as model_inputs gives them on DuckDB
        F.col(f["name"]).cast("double" if f["kind"] == "numeric" else "string").alias(f["name"])
        for f in scorer.features
    ]
    source = spark.read.parquet(str(features_dir))
    with_p = source.withColumn("churn_probability", predict(F.struct(*typed))[1])
    if not sum(pq.ParquetFile(p).metadata.num_rows for p in parts):
        raise ChurnError(f"no active customer at {as_of}: nothing to score")
    arrow = output_schema(pq.ParquetFile(parts[0]).schema_arrow.field("customer_id").type)

    def score_batches(batches):
        for batch in batches:
            yield score_chunk(batch, scorer, cfg, as_of)[arrow.names]

    scored_dir = staging / "_scored"
    with_p.mapInPandas(score_batches, from_arrow_schema(arrow)).write.parquet(str(scored_dir))
    for i, part in enumerate(parts_of(scored_dir)):
        part.rename(numbered_part(staging, i))
    shutil.rmtree(scored_dir)
    return features_dir


def publish_spark_table(con, staging: Path, as_of: dt.date) -> None:
    """Overwrite the as_of partition of the Spark `scores` and `alerts` tables (dynamic
    partition overwrite)."""
    spark = con._session
    spark.conf.set("spark.sql.sources.partitionOverwriteMode", "dynamic")
    files = {"scores": [str(p) for p in parts_of(staging)], "alerts": [str(staging / ALERTS_FILE)]}
    for table, paths in files.items():
        frame = spark.read.parquet(*paths)
        if not spark.catalog.tableExists(table):
            frame.write.partitionBy("as_of").saveAsTable(table)
        else:
            frame.select(*spark.table(table).columns).write.insertInto(table, overwrite=True)
