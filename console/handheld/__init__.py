"""The engagement officer's handheld web service (Step 16): a Starlette app over HTTPS that the
paired phones open. Qt-free; it calls the services in console/services/engage/ and nothing else."""
