"""The model registry: takes what training logs and gives the later stages a registered model by
alias or version (`models`), loaded only if its artifact names trusted types (`trust`), with the
export beside it kept whole (`repair`)."""
