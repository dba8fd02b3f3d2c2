"""How the sentence encoder batches texts: by length, with the attention scores of a batch bounded."""

from __future__ import annotations

from therapybridge.sentence_encoder import ATTENTION_BYTES, BATCH, _batches

HEADS = 12


def test_batches_keep_the_order_and_bound_the_attention_scores() -> None:
    lengths = [3] * 100 + [40] * 50 + [256] * 30  # sorted, as encode() hands them over
    order = list(range(len(lengths)))[::-1]  # any text ids
    batches = _batches(lengths, order, HEADS)
    assert [i for b in batches for i in b] == order
    width = dict(zip(order, lengths, strict=True))
    for b in batches:
        n = max(width[i] for i in b)
        assert len(b) <= BATCH
        assert len(b) == 1 or len(b) * HEADS * n * n * 4 <= ATTENTION_BYTES
    # Short turns still go BATCH at a time; 256-token texts in batches of 10 (32 MiB of scores), not 64.
    assert len(batches[0]) == BATCH
    assert max(len(b) for b in batches if width[b[0]] == 256) == 10


def test_a_text_too_long_for_the_budget_is_a_batch_of_its_own() -> None:
    assert _batches([10_000, 10_000], [7, 8], HEADS) == [[7], [8]]
