"""Closed vocabularies: one fixed token list per notation, shared by amplitudes and squared amplitudes.

The list is built from the symbols of docs/physics.md, the operators and the tensor
objects, never from data, so shards can be tokenized independently and every
shard gets the same ids.  Ids 0..3 are the special tokens.
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass, field

from symba.files import atomic_write

from .amplitude_tokens import amplitude_vocabulary
from .marty_tokens import marty_vocabulary
from .notations import check_notation, notation_tokens

PAD, BOS, EOS, UNK = "<pad>", "<bos>", "<eos>", "<unk>"
SPECIAL_TOKENS = (PAD, BOS, EOS, UNK)
VOCABULARY_FORMAT = "symba-vocabulary"
VOCABULARY_VERSION = 1
# Bounds on a vocabulary file; the closed vocabularies have under 1,000 tokens of at most 14 characters.
MAX_VOCABULARY_TOKENS = 65_536
MAX_TOKEN_CHARS = 256
MAX_VOCABULARY_BYTES = 16 << 20


@dataclass
class Vocabulary:
    notation: str
    tokens: list[str]
    _ids: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self):
        if list(self.tokens[: len(SPECIAL_TOKENS)]) != list(SPECIAL_TOKENS):
            raise ValueError(f"a vocabulary must start with the special tokens {', '.join(SPECIAL_TOKENS)}")
        self._ids = {}
        for k, tok in enumerate(self.tokens):
            if tok in self._ids:
                raise ValueError(f"token {tok!r} appears twice in the vocabulary")
            self._ids[tok] = k

    pad_id = property(lambda self: self._ids[PAD])
    bos_id = property(lambda self: self._ids[BOS])
    eos_id = property(lambda self: self._ids[EOS])
    unk_id = property(lambda self: self._ids[UNK])

    def __len__(self) -> int:
        return len(self.tokens)

    def __contains__(self, token: str) -> bool:
        return token in self._ids

    def encode(self, tokens, strict: bool = True) -> list[int]:
        """Ids of tokens; an unknown token raises ValueError, or maps to ``unk_id`` when not strict."""
        ids = []
        for k, tok in enumerate(tokens):
            i = self._ids.get(tok)
            if i is None:
                if strict:
                    raise ValueError(f"token {tok!r} at position {k} is not in the {self.notation} vocabulary")
                i = self.unk_id
            ids.append(i)
        return ids

    def decode(self, ids, strip_special: bool = False) -> list[str]:
        """Tokens of ids; ``strip_special`` drops pad/bos and stops at the first eos."""
        out = []
        for k, i in enumerate(ids):
            i = int(i)
            if not 0 <= i < len(self.tokens):
                raise ValueError(f"id {i} at position {k} is outside the vocabulary (size {len(self.tokens)})")
            tok = self.tokens[i]
            if strip_special:
                if tok == EOS:
                    break
                if tok in (PAD, BOS):
                    continue
            out.append(tok)
        return out

    def to_json(self) -> dict:
        return {
            "format": VOCABULARY_FORMAT,
            "version": VOCABULARY_VERSION,
            "notation": self.notation,
            "special": {"pad": PAD, "bos": BOS, "eos": EOS, "unk": UNK},
            "tokens": list(self.tokens),
        }


def build_vocabulary(notation: str) -> Vocabulary:
    """The closed vocabulary of ``notation``: specials, amplitude, squared-amplitude, then MARTY-lexeme tokens."""
    check_notation(notation)
    tokens = list(SPECIAL_TOKENS)
    seen = set(tokens)
    for tok in amplitude_vocabulary(notation) + notation_tokens(notation) + marty_vocabulary():
        if tok not in seen:
            seen.add(tok)
            tokens.append(tok)
    return Vocabulary(notation, tokens)


def write_vocabulary(path, notation: str) -> Vocabulary:
    """Write the vocabulary of ``notation`` as JSON (atomically) and return it."""
    vocab = build_vocabulary(notation)
    atomic_write(path, json.dumps(vocab.to_json(), indent=1) + "\n")
    return vocab


def load_vocabulary(path) -> Vocabulary:
    """The vocabulary in the JSON file ``path``: a regular file of at most ``MAX_VOCABULARY_BYTES``
    with at most ``MAX_VOCABULARY_TOKENS`` tokens of at most ``MAX_TOKEN_CHARS`` characters, so a
    foreign file cannot make the model (its embedding has one row per token) arbitrarily large."""
    text = read_bounded_text(path, MAX_VOCABULARY_BYTES, "vocabulary")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not a JSON vocabulary ({exc})") from None
    except RecursionError:
        raise ValueError(f"{path}: not a vocabulary (JSON nested too deep)") from None
    if not isinstance(data, dict) or data.get("format") != VOCABULARY_FORMAT:
        raise ValueError(f"{path}: not a {VOCABULARY_FORMAT} file")
    if data.get("version") != VOCABULARY_VERSION:
        raise ValueError(f"{path}: vocabulary version {data.get('version')!r:.40} is not {VOCABULARY_VERSION}")
    notation, tokens = data.get("notation"), data.get("tokens")
    if not isinstance(notation, str) or len(notation) > MAX_TOKEN_CHARS:
        raise ValueError(f"{path}: the vocabulary's notation is not a short string")
    if not isinstance(tokens, list) or not all(isinstance(t, str) for t in tokens):
        raise ValueError(f"{path}: the vocabulary's tokens are not a list of strings")
    if len(tokens) > MAX_VOCABULARY_TOKENS:
        raise ValueError(f"{path}: {len(tokens)} tokens, over the bound of {MAX_VOCABULARY_TOKENS}")
    long = next((t for t in tokens if len(t) > MAX_TOKEN_CHARS), None)
    if long is not None:
        raise ValueError(f"{path}: a token of {len(long)} characters, over the bound of {MAX_TOKEN_CHARS}")
    return Vocabulary(notation, tokens)


def read_bounded_text(path, max_bytes: int, what: str) -> str:
    """The UTF-8 text of ``path``, which must be a regular file (not a device, FIFO or stdin: those
    never end or hang) of at most ``max_bytes`` bytes; ValueError naming the file otherwise."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO must not block the open
    except OSError as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise ValueError(f"{path}: cannot open the {what} ({exc.strerror})") from None
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ValueError(f"{path}: the {what} is not a regular file")
        if info.st_size > max_bytes:
            raise ValueError(f"{path}: the {what} has {info.st_size} bytes, over the bound of {max_bytes}")
        data = fh.read(max_bytes + 1)
    if len(data) > max_bytes:  # it grew while we read it
        raise ValueError(f"{path}: the {what} has more than {max_bytes} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: the {what} is not UTF-8 text (byte {exc.start + 1})") from None
