"""Scoring the whole base, in small parts: `model` (what is loaded, trusted), `inputs` (the
snapshot at as_of), `chunk` (one chunk scored), `policy` (control group and call list), `drift`
(PSI), `publish` (parts, CSVs, the warehouse slice), `spark` (the same chunk on Spark) and `job`
(the `churn score` command that wires them)."""
