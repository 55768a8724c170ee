"""Training frameworks' own published FLOP formulas (for cross-checks), one module per framework, as pure functions over numbers."""
