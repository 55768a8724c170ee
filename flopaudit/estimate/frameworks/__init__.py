"""Training FLOP as frameworks report it (their own published formulas), for cross-checks."""
