"""Exercise checkers: one module per notebook."""
