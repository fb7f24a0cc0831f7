"""Matplotlib for the project's PNG figures, headless, loaded only when a figure is drawn."""


def pyplot():
    """``matplotlib.pyplot`` on the Agg backend (no display needed)."""
    # lazy: matplotlib costs 0.4 s, which importing train, evaluate or the tokenizer should not pay;
    # the backend must be chosen before pyplot is imported
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt
