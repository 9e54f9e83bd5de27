"""The record and signing: the audit trail, the deployment record and its figures, sign-offs and keys, retention."""
