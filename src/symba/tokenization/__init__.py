"""Tokenization of amplitudes and squared amplitudes, dataset import, splits and statistics."""
