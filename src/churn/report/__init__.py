"""The retention report: takes the champion, its run and the latest scores and outcomes and gives
one self-contained HTML page (`page`) with its words, changes since last time, what the calls did
and its pictures (`words`, `changes`, `outcomes`, `plots`, `templates/`)."""
