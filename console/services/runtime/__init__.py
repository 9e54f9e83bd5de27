"""The live seat and workers: a running deployment, its recognition processes, scan and selftest."""
