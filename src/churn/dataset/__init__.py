"""The model table: takes the warehouse (event tables or one customer table, chosen once in
`sources`) and gives labelled point-in-time snapshots per cutoff (`cutoffs`, `labels`, `build`,
`features_job`), written under <data_dir>/features for training, scoring and outcomes."""
