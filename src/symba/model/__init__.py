"""Sequence-to-sequence transformer: amplitude tokens in, squared-amplitude tokens out.

- ``config``: the model, train and evaluate settings, checked when built (``check_sections``);
- ``batches``: token shards in, padded length-bucketed batches out, streamed;
- ``transformer``: the encoder-decoder network with its key/value cache;
- ``search``: greedy and beam search over the network's outputs;
- ``checkpoint``: model and checkpoint files (tensors and plain data only) and ``load_model``;
- ``train``: the training loop, resuming only from a checkpoint of the same data, vocabulary, config;
- ``evaluate``: accuracies, certainty and calibration on the test split; ``numeric`` checks equivalence;
- ``predict``: amplitudes to their predicted squared amplitudes, batched (:func:`load` below);
- ``answers``: answers in the dataset's squared text, and the exact fallback, in worker processes;
- ``plots``: the PNG figures; ``errors``: the input errors reported as one line; ``cli``: the commands.

Submodules import torch; this package file does not, so light helpers (numeric checks
in worker processes) stay cheap to import.
"""


def load(path: str, **options):
    """A trained model, loaded once, for many amplitudes: ``load(path).predict(amplitudes)``.

    ``options`` are :class:`symba.model.predict.Predictor`'s (``beam_size``, ``fallback``,
    ``threshold``, ``workers``, ...).  Close it (or use ``with``) to stop its worker processes."""
    from .predict import Predictor

    return Predictor(path, **options)
