"""Outcomes: did last month's calls work? Published lists joined with what happened once their
label windows closed (call against control, the model's calibration in production)."""
