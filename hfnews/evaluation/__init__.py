"""Scoring predictions: `metrics` (accuracy, macro-F1, per-class scores, confusion matrix; the `news_metric`
`evaluate` module), `plots` (learning curves, confusion matrix, trials) and `error_analysis` (the predictions file and
the most confident mistakes). May import `hfnews.data`, `hfnews.errors`, `hfnews.integrity`; never training.
"""
