import torch

from symba.model.config import ModelConfig
from symba.model.search import beam_search, greedy
from symba.model.transformer import Seq2SeqTransformer

BOS, EOS, PAD = 1, 2, 0


def tiny(positions="learned", seed=0):
    torch.manual_seed(seed)
    cfg = ModelConfig(
        vocab_size=40,
        d_model=32,
        n_heads=4,
        n_encoder_layers=2,
        n_decoder_layers=2,
        d_ff=64,
        dropout=0.0,
        max_len=24,
        positions=positions,
    )
    return Seq2SeqTransformer(cfg).eval()


def sources(n=3, seed=1):
    g = torch.Generator().manual_seed(seed)
    src = torch.randint(4, 40, (n, 9), generator=g)
    src[:, 0] = BOS
    src[0, 6:] = PAD  # ragged batch: padding in the source
    src[0, 5] = EOS
    src[1:, -1] = EOS
    return src


def test_no_future_token_leak():
    for positions in ("learned", "sinusoidal"):
        model = tiny(positions)
        src = sources()
        tgt = torch.randint(3, 40, (3, 10), generator=torch.Generator().manual_seed(2))
        logits = model(src, tgt)
        for t in range(tgt.shape[1] - 1):
            changed = tgt.clone()
            changed[:, t + 1 :] = torch.randint(3, 40, changed[:, t + 1 :].shape)
            again = model(src, changed)
            assert torch.allclose(logits[:, : t + 1], again[:, : t + 1], atol=1e-5)
            # sanity: the perturbation does change later logits, so the check has teeth
            assert not torch.allclose(logits[:, t + 1 :], again[:, t + 1 :], atol=1e-5)


def test_source_padding_is_ignored():
    model = tiny()
    src = sources()
    wider = torch.cat([src, torch.full((3, 4), PAD)], dim=1)
    tgt = torch.randint(3, 40, (3, 6))
    assert torch.allclose(model(src, tgt), model(wider, tgt), atol=1e-5)


def test_cached_decoding_matches_full_forward():
    model = tiny()
    src = sources()
    tgt = torch.randint(3, 40, (3, 8))
    full = model(src, tgt)
    memory, mask = model.encode(src)
    cache: dict = {}
    steps = [model.decode(tgt[:, t : t + 1], memory, mask, cache, start=t) for t in range(tgt.shape[1])]
    assert torch.allclose(full, torch.cat(steps, dim=1), atol=1e-5)


def test_beam_one_equals_greedy():
    for seed in range(3):
        model = tiny(seed=seed)
        src = sources(seed=seed + 5)
        g = greedy(model, src, BOS, EOS, max_len=12)
        b = beam_search(model, src, BOS, EOS, beam_size=1, alpha=0.6, max_len=12)
        assert [h.ids for h in g] == [hs[0].ids for hs in b]
        for gh, bh in zip(g, b):
            assert abs(gh.logprob - bh[0].logprob) < 1e-5
            assert gh.finished == bh[0].finished


def test_beam_hypotheses_carry_their_log_probability():
    model = tiny(seed=4)
    src = sources(seed=9)
    results = beam_search(model, src, BOS, EOS, beam_size=3, alpha=0.0, max_len=10)
    memory, mask = model.encode(src)
    for i, hyps in enumerate(results):
        assert 1 <= len(hyps) <= 3
        assert [h.score for h in hyps] == sorted((h.score for h in hyps), reverse=True)
        for h in hyps:
            # rescore the hypothesis by teacher forcing: the summed log-probability must agree
            seq = [BOS, *h.ids] + ([EOS] if h.finished else [])
            tgt = torch.tensor([seq])
            logits = model.decode(tgt[:, :-1], memory[i : i + 1], mask[i : i + 1])
            logits[..., [PAD, BOS]] = float("-inf")
            logp = torch.log_softmax(logits, -1).gather(2, tgt[:, 1:, None]).sum().item()
            assert abs(logp - h.logprob) < 1e-4
    # beams of one source are distinct
    for hyps in results:
        assert len({tuple(h.ids) for h in hyps}) == len(hyps)


def test_positions_enter_at_the_scale_of_tokens():
    # At 1/sqrt(d) of the token scale the encoder starts as a near bag of tokens and a CPU
    # run could not tell which particle sits at which momentum.
    for positions in ("learned", "sinusoidal"):
        model = tiny(positions)
        d = model.cfg.d_model
        tokens = model.embed.weight[3:] * d**0.5
        pos = model._positions("src", 0, model.cfg.max_len, tokens.device)
        ratio = (pos.pow(2).mean() / tokens.pow(2).mean()).sqrt().item()
        assert 0.5 < ratio < 2.0, (positions, ratio)
