"""The message aggregate: events, state, and the pure decide/evolve functions."""
