"""symba: Feynman amplitudes, squared amplitudes, and seq2seq models between them."""

__version__ = "0.1.0"
