"""Explanations: takes a fitted pipeline and the rows it scores and gives exact SHAP values
(`explainer`, per column in `shap_table`), summed into driver families and reason codes
(`drivers`)."""
