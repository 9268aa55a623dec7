"""Domain-free helpers: money, ids, errors, clock, personal-data crypto, signing."""
