"""Training frameworks' own published FLOP formulas, one module per framework, as pure functions over numbers."""
