"""Reports for people: risk lists (managers) and model cards (evaluators)."""
