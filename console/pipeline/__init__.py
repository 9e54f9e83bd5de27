"""Per-camera recognition: detections -> tracks -> watchlist search -> alerts."""
