"""Deployments and set-up: a deployment's authorisation and window, its cameras, watchlist and operating point."""
