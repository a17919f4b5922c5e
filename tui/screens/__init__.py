"""Modal screens: help, and the offer to train a missing model."""
