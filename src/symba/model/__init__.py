"""Sequence-to-sequence transformer: amplitude tokens in, squared-amplitude tokens out.

- ``config``: the model, train and evaluate settings, checked when built (``check_sections``);
- ``batches``: token shards in, padded length-bucketed batches out, streamed;
- ``transformer``: the encoder-decoder network with its key/value cache;
- ``search``: greedy and beam search over the network's outputs;
- ``checkpoint``: model and checkpoint files (tensors and plain data only) and ``load_model``;
- ``train``: the training loop, resuming only from a checkpoint of the same data, vocabulary, config;
- ``evaluate``: accuracies, certainty and calibration on the test split; ``numeric`` checks equivalence;
- ``predict``: one amplitude (or one per stdin line) to its predicted squared amplitude;
- ``plots``: the PNG figures; ``errors``: the input errors reported as one line; ``cli``: the commands.

Submodules import torch; this package file does not, so light helpers (numeric checks
in worker processes) stay cheap to import.
"""
