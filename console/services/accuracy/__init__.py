"""Evaluation and calibration: accuracy on labelled pairs, watchlist-sized evaluation, calibrated operating points."""
