"""Float64 ground truth and case builders for the head-scoring tests (independent of rdpt_fast.head)."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from rdpt_fast.head import SegmentScores, segment_logprobs

IGNORE = -100


@dataclass
class Case:
    """One scoring problem: inputs in their working dtype plus options."""

    hidden: torch.Tensor
    weight: torch.Tensor
    targets: torch.Tensor
    segment_ids: torch.Tensor
    num_segments: int
    bias: torch.Tensor | None = None
    logit_scale: float = 1.0
    softcap: float | None = None

    def kwargs(self) -> dict:
        return {"bias": self.bias, "logit_scale": self.logit_scale, "softcap": self.softcap}


def make_case(
    n: int,
    h: int,
    v: int,
    *,
    dtype: torch.dtype = torch.float32,
    num_segments: int = 9,
    seed: int = 0,
    bias: bool = False,
    logit_scale: float = 1.0,
    softcap: float | None = None,
    argmax_fraction: float = 0.3,
    device: str = "cpu",
) -> Case:
    """Random case with ignored targets, tokens outside segments, an empty segment (id 1 never used), and a
    fraction of targets set to the fp64 argmax so that top1 is exercised both ways. Logit std is ~3."""
    g = torch.Generator().manual_seed(seed)
    hidden = torch.randn(n, h, generator=g)
    weight = torch.randn(v, h, generator=g) * (3.0 / h**0.5)
    b = torch.randn(v, generator=g) * 0.5 if bias else None
    hidden, weight = hidden.to(device, dtype), weight.to(device, dtype)
    b = b.to(device) if b is not None else None
    targets = torch.randint(0, v, (n,), generator=g)
    segment_ids = torch.randint(-1, num_segments, (n,), generator=g)
    segment_ids[segment_ids == 1] = 2
    if n:
        targets[torch.rand(n, generator=g) < 0.15] = IGNORE
        pick = torch.rand(n, generator=g) < argmax_fraction
        top = truth_logits(hidden, weight, b, logit_scale, softcap).argmax(dim=1).cpu()
        targets = torch.where(pick & (targets != IGNORE), top, targets)
    targets, segment_ids = targets.to(device), segment_ids.to(device)
    return Case(hidden, weight, targets, segment_ids, num_segments, b, logit_scale, softcap)


def truth_logits(
    hidden: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, scale: float, softcap: float | None
) -> torch.Tensor:
    """[N, V] float64 logits from the given (possibly rounded) inputs."""
    x = hidden.double() @ weight.double().T
    if bias is not None:
        x = x + bias.double()
    x = x * scale
    if softcap is not None:
        x = softcap * torch.tanh(x / softcap)
    return x


@dataclass
class Truth:
    """float64 ground truth: per-token log-prob (0 at ignored), entropy, top1 margin, per-segment stats."""

    token_lp: torch.Tensor
    entropy: torch.Tensor
    top1: torch.Tensor
    top1_margin: torch.Tensor  # |logit[target] - best other logit|: top1 is only asserted where it is clear
    seg_sum: torch.Tensor
    seg_count: torch.Tensor

    @property
    def seg_mean(self) -> torch.Tensor:
        return self.seg_sum / self.seg_count.clamp(min=1)


def segment_sums(token_lp: torch.Tensor, case: Case) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-segment float64 sum and count of token log-probs by an explicit Python loop."""
    sums = torch.zeros(case.num_segments, dtype=torch.float64)
    counts = torch.zeros(case.num_segments, dtype=torch.int64)
    seg_list, tgt_list, lp_list = case.segment_ids.tolist(), case.targets.tolist(), token_lp.tolist()
    for s, t, lp in zip(seg_list, tgt_list, lp_list, strict=True):
        if s >= 0 and t != IGNORE:
            sums[s] += lp
            counts[s] += 1
    return sums, counts


def truth(case: Case) -> Truth:
    x = truth_logits(case.hidden, case.weight, case.bias, case.logit_scale, case.softcap)
    lse = torch.logsumexp(x, dim=1)
    valid = case.targets != IGNORE
    safe = torch.where(valid, case.targets, 0)
    xt = x.gather(1, safe[:, None])[:, 0]
    token_lp = torch.where(valid, xt - lse, 0.0)
    p = torch.softmax(x, dim=1)
    entropy = lse - (p * x).sum(dim=1)
    others = (
        x.scatter(1, safe[:, None], float("-inf")).amax(dim=1)
        if x.shape[1] > 1
        else torch.full_like(xt, -1e30)
    )
    top1 = valid & (xt >= others)
    seg_sum, seg_count = segment_sums(token_lp, case)
    return Truth(token_lp, entropy, top1, (xt - others).abs(), seg_sum.to(x.device), seg_count.to(x.device))


def naive_same_dtype_token_lp(case: Case) -> torch.Tensor:
    """The naive pipeline run entirely in the case's dtype (logits, log_softmax), for the error baseline."""
    x = case.hidden @ case.weight.T
    if case.bias is not None:
        x = x + case.bias.to(x.dtype)
    x = x * case.logit_scale
    if case.softcap is not None:
        x = case.softcap * torch.tanh(x / case.softcap)
    lp = torch.log_softmax(x, dim=1)
    valid = case.targets != IGNORE
    return torch.where(valid, lp.gather(1, torch.where(valid, case.targets, 0)[:, None])[:, 0], 0).double()


def mean_error(seg_sum: torch.Tensor, seg_count: torch.Tensor, t: Truth) -> float:
    """Max abs error of per-segment mean log-prob over segments that have tokens."""
    has = t.seg_count > 0
    mean = seg_sum.double().to(has.device) / seg_count.double().to(has.device).clamp(min=1)
    return float((mean - t.seg_mean)[has].abs().max()) if bool(has.any()) else 0.0


def score_case(case: Case, **options) -> SegmentScores:
    """`segment_logprobs` on a case's inputs and head options; `options` adds backend and flags."""
    return segment_logprobs(
        case.hidden,
        case.weight,
        case.targets,
        case.segment_ids,
        case.num_segments,
        **case.kwargs(),
        **options,
    )


def assert_error_within_tolerance(scores: SegmentScores, case: Case, t: Truth, dtype: torch.dtype) -> None:
    """fp32: per-sentence mean log-prob within 1e-4 of fp64; fp16/bf16: error at most 2x that of the
    naive same-dtype pipeline plus 1e-3 (the flash-attention test style)."""
    err = mean_error(scores.sum_logprob, scores.num_tokens, t)
    if dtype == torch.float32:
        assert err <= 1e-4
    else:
        naive_sum, naive_count = segment_sums(naive_same_dtype_token_lp(case), case)
        assert err <= 2 * mean_error(naive_sum, naive_count, t) + 1e-3
