"""Problem 88's hyperparameter search: `arguments` (tune.py's command line), `search_space` (the YAML space) and
`search` (Optuna over the one Trainer path, with shared storages for several workers). May import every stage before
it (data, models, evaluation, training); nothing imports it.
"""
