"""Storage: the pynamodb models (the only description of the tables in code) and repositories."""
