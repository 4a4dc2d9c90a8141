"""Device helpers shared by the head kernels: the logit transform and one transposed logit tile.

Logits are kept in base-2 units (``y = log2(e) * logit``) so that the online log-sum-exp uses ``exp2``;
log2(e) is folded into the scale (or into the softcap's outer factor) on the host.
"""

from __future__ import annotations

import triton
import triton.language as tl

LOG2E_F = 1.4426950408889634
LN2_F = 0.6931471805599453
LOG2E = tl.constexpr(LOG2E_F)
LN2 = tl.constexpr(LN2_F)


def transform_scales(logit_scale: float, softcap: float | None) -> tuple[float, float]:
    """(pre_scale, post_scale) of ``head_tiles.transform`` for base-2 logits."""
    if softcap is None:
        return 1.0, logit_scale * LOG2E_F
    return logit_scale / softcap, softcap * LOG2E_F


@triton.jit
def tanh(x):
    """tanh without libdevice (portable to the interpreter); exact at +-inf, no overflow."""
    e = tl.exp2(-2.8853900817779268 * tl.abs(x))  # exp(-2|x|)
    r = (1.0 - e) / (1.0 + e)
    return tl.where(x >= 0, r, -r)


@triton.jit
def transform(acc, bias, pre_scale, post_scale, HAS_BIAS: tl.constexpr, HAS_SOFTCAP: tl.constexpr):
    """Raw dot products -> transformed logits times ``post_scale``.

    softcap: post_scale * tanh(pre_scale * (acc + bias)) with pre_scale = scale / softcap;
    else:    post_scale * (acc + bias) (pre_scale unused). ``bias`` broadcasts against ``acc``.
    """
    if HAS_BIAS:
        acc = acc + bias
    return post_scale * tanh(acc * pre_scale) if HAS_SOFTCAP else acc * post_scale


@triton.jit
def logit_tile_t(
    hidden_ptr,
    weight_ptr,
    rows64,
    cols64,
    H,
    stride_hn,
    stride_wv,
    FP32_DOT: tl.constexpr,
    EVEN_H: tl.constexpr,
    BLOCK_V: tl.constexpr,
    BLOCK_N: tl.constexpr,
    BLOCK_H: tl.constexpr,
):
    """[BLOCK_V, BLOCK_N] float32 raw logits ``W[cols] @ h[rows]^T`` (vocab is the MMA's M dimension).

    rows64 / cols64 must already be clamped into range (no masks on those axes); H is masked only when it
    is not a multiple of BLOCK_H. fp32 inputs use the 3xTF32 split on tensor cores (about fp32 accuracy).
    """
    acc = tl.zeros([BLOCK_V, BLOCK_N], tl.float32)
    for k0 in range(0, H, BLOCK_H):
        acc = dot_step(acc, hidden_ptr, weight_ptr, rows64, cols64, k0, H, stride_hn, stride_wv,
                       FP32_DOT, EVEN_H, BLOCK_H)  # fmt: skip
    return acc


@triton.jit
def dot_step(
    acc,
    hidden_ptr,
    weight_ptr,
    rows64,
    cols64,
    k0,
    H,
    stride_hn,
    stride_wv,
    FP32_DOT: tl.constexpr,
    EVEN_H: tl.constexpr,
    BLOCK_H: tl.constexpr,
):
    """acc [BLOCK_V, BLOCK_N] += W[cols, k0:k0+BLOCK_H] @ h[rows, k0:k0+BLOCK_H]^T (fp32 accumulation)."""
    ks = k0 + tl.arange(0, BLOCK_H)
    w_ptrs = weight_ptr + cols64[:, None] * stride_wv + ks[None, :]
    h_ptrs = hidden_ptr + rows64[None, :] * stride_hn + ks[:, None]
    if EVEN_H:
        w = tl.load(w_ptrs)
        h = tl.load(h_ptrs)
    else:
        w = tl.load(w_ptrs, mask=ks[None, :] < H, other=0.0)
        h = tl.load(h_ptrs, mask=ks[:, None] < H, other=0.0)
    if FP32_DOT:  # noqa: SIM108 (a constexpr branch kept as a statement: only one tl.dot is traced)
        acc = tl.dot(w, h, acc, input_precision="tf32x3")
    else:
        acc = tl.dot(w, h, acc)
    return acc
