"""A local simulator of every source API, over a seeded synthetic company with a known causal model."""
