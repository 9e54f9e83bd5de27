"""Review and decisions: the operator's adjudication, corrections, escalation, hand-over and what leaves for dispatch."""
