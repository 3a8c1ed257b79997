"""One module per source: how to reach it, page it and validate its records."""
