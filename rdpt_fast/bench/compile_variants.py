"""Every GPU kernel variant the project ships, as ahead-of-time compile specs (no GPU needed).

A variant is one kernel x dtype x constexpr flags x tile config. The partials (main-loop) kernel gets
every autotune config and the fixed test config; each variant records which N classes ("long": N=32768,
"short": N=128) autotuning can pick it for, after pruning by N. The finalize and segment-sum kernels have
no tile choices. ``ci_subset`` is the part the CI test compiles (all pickable bf16 configs with every
epilogue feature off and on, fp16 and fp32 with every feature on); ``all_variants`` is the full sweep.
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass, field
from typing import Any

DTYPES = ("bf16", "fp16", "fp32")
N_CLASSES = {"long": 32768, "short": 128}
FLAG_NAMES = ("HAS_BIAS", "HAS_SOFTCAP", "WITH_ENTROPY")


@dataclass(frozen=True)
class Variant:
    """One compile unit. ``kernel`` names a function in rdpt_fast.kernels (module:function)."""

    kernel: str
    dtype: str
    constexprs: dict[str, Any]
    num_warps: int
    num_stages: int
    config: str  # "autotune[i]", "fixed:test" or "-"
    pickable: tuple[str, ...] = ()  # N classes autotuning can pick this config for
    main_loop: bool = False  # an MMA kernel: held to the wgmma rule on sm_90
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def flags(self) -> str:
        on = [k.split("_", 1)[1].lower() for k in (*FLAG_NAMES, "WITH_TOP1") if self.constexprs.get(k)]
        return "+".join(on) or "none"

    @property
    def unit_key(self) -> str:
        """Identity of the compile unit (kernel, dtype, constexprs, warps, stages)."""
        return repr(
            (self.kernel, self.dtype, sorted(self.constexprs.items()), self.num_warps, self.num_stages)
        )

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "flags": self.flags}


def _ptr(dtype: str) -> str:
    return f"*{dtype}"


def partials_signature(dtype: str) -> dict[str, str]:
    """Triton signature of kernels.segment_logprobs._partials_kernel for hidden/weight of ``dtype``."""
    sig = {"hidden_ptr": _ptr(dtype), "weight_ptr": _ptr(dtype), "bias_ptr": "*fp32"}
    sig |= {name: "*fp32" for name in ("part_m_ptr", "part_s_ptr", "part_t_ptr")}
    sig |= {name: "i32" for name in ("N", "V", "H", "split_size", "num_splits", "stride_hn", "stride_wv")}
    sig |= {"pre_scale": "fp32", "post_scale": "fp32", "n_bucket": "i32"}
    sig |= {name: "constexpr" for name in (*FLAG_NAMES, "FP32_DOT", "EVEN_H")}
    sig |= {name: "constexpr" for name in ("BLOCK_N", "BLOCK_V", "BLOCK_H", "GROUP_N")}
    return sig


def finalize_signature(dtype: str) -> dict[str, str]:
    """Triton signature of kernels.segment_logprobs._finalize_kernel."""
    sig = {name: "*fp32" for name in ("part_m_ptr", "part_s_ptr", "part_t_ptr")}
    sig |= {"hidden_ptr": _ptr(dtype), "weight_ptr": _ptr(dtype), "bias_ptr": "*fp32", "targets_ptr": "*i64"}
    sig |= {"token_lp_ptr": "*fp32", "entropy_ptr": "*fp32", "top1_ptr": "*u8"}
    sig |= {name: "i32" for name in ("N", "H", "num_splits", "stride_hn", "stride_wv")}
    sig |= {"pre_scale": "fp32", "post_scale": "fp32"}
    sig |= {name: "constexpr" for name in (*FLAG_NAMES, "WITH_TOP1", "BLOCK", "BLOCK_H")}
    return sig


def epilogue_signature() -> dict[str, str]:
    """Triton signature of kernels.logits_epilogue._epilogue_kernel (float32 logits buffer)."""
    sig = {"logits_ptr": "*fp32", "bias_ptr": "*fp32", "targets_ptr": "*i64"}
    sig |= {"token_lp_ptr": "*fp32", "entropy_ptr": "*fp32", "top1_ptr": "*u8"}
    sig |= {"V": "i32", "stride_row": "i32", "pre_scale": "fp32", "post_scale": "fp32"}
    sig |= {name: "constexpr" for name in (*FLAG_NAMES, "WITH_TOP1", "BLOCK_V")}
    return sig


SEGMENT_SUM_SIGNATURE = {
    "values_ptr": "*fp32",
    "order_ptr": "*i64",
    "offsets_ptr": "*i64",
    "out_ptr": "*fp32",
    "BLOCK": "constexpr",
}


def _flag_sets(full: bool) -> list[dict[str, bool]]:
    if full:
        return [dict(zip(FLAG_NAMES, bits)) for bits in itertools.product((False, True), repeat=3)]
    return [dict.fromkeys(FLAG_NAMES, False), dict.fromkeys(FLAG_NAMES, True)]


def _partials_variants(dtypes: tuple[str, ...], full: bool, flags_on_only: bool) -> list[Variant]:
    from rdpt_fast.kernels.head_configs import AUTOTUNE_CONFIGS, TEST_CONFIG, TunedConfig, pickable

    configs = [(f"autotune[{i}]", t) for i, t in enumerate(AUTOTUNE_CONFIGS)]
    configs.append(("fixed:test", TunedConfig(TEST_CONFIG, ())))
    out = []
    for dtype in dtypes:
        flag_sets = _flag_sets(full)[-1:] if flags_on_only else _flag_sets(full)
        for (name, tuned), flags in itertools.product(configs, flag_sets):
            if name != "fixed:test" and dtype not in tuned.dtypes:
                continue
            cfg = tuned.config
            picked_for = tuple(cls for cls, n in N_CLASSES.items() if pickable(tuned, dtype, n))
            const = {**flags, "FP32_DOT": dtype == "fp32", "EVEN_H": True, "BLOCK_N": cfg.block_n}
            const |= {"BLOCK_V": cfg.block_v, "BLOCK_H": cfg.block_h, "GROUP_N": cfg.group_n}
            out.append(
                Variant("segment_logprobs:_partials_kernel", dtype, const, cfg.num_warps, cfg.num_stages,
                        name, picked_for, main_loop=True)
            )  # fmt: skip
    return out


def _support_variants(dtypes: tuple[str, ...], full: bool) -> list[Variant]:
    from rdpt_fast.kernels.logits_epilogue import EPILOGUE_BLOCK_V, EPILOGUE_WARPS
    from rdpt_fast.kernels.segment_logprobs import FINALIZE_BLOCK, FINALIZE_BLOCK_H

    out = []
    for flags in _flag_sets(full):
        for dtype in dtypes:
            const = {**flags, "WITH_TOP1": True, "BLOCK": FINALIZE_BLOCK, "BLOCK_H": FINALIZE_BLOCK_H}
            out.append(Variant("segment_logprobs:_finalize_kernel", dtype, const, 4, 1, "-"))
        const = {**flags, "WITH_TOP1": True, "BLOCK_V": EPILOGUE_BLOCK_V}
        out.append(Variant("logits_epilogue:_epilogue_kernel", "fp32", const, EPILOGUE_WARPS, 1, "-"))
    out.append(Variant("segment_sum:_segment_sum_kernel", "fp32", {"BLOCK": 128}, 4, 1, "-"))
    return out


def all_variants() -> list[Variant]:
    """The full sweep: every config x dtype x flag combination of every kernel."""
    return _partials_variants(DTYPES, full=True, flags_on_only=False) + _support_variants(DTYPES, full=True)


def ci_subset() -> list[Variant]:
    """What CI compiles: every pickable bf16 config and the fixed test config (features off and all on),
    fp16 and fp32 with every feature on (the most registers; fp32 has its own tiles), and the support
    kernels with features off and on."""
    bf16 = _partials_variants(("bf16",), full=False, flags_on_only=False)
    bf16 = [v for v in bf16 if v.pickable or v.config == "fixed:test"]
    others = _partials_variants(("fp16", "fp32"), full=False, flags_on_only=True)
    others = [v for v in others if v.pickable]
    return bf16 + others + _support_variants(("bf16", "fp32"), full=False)


# Integer arguments the launcher sees as multiples of 16 at model shapes (H, V, strides, split sizes), so
# that triton specializes them as it does at run time (tt.divisibility = 16); N is left unspecialized.
DIVISIBLE_INTS = frozenset({"V", "H", "split_size", "stride_hn", "stride_wv", "stride_row"})


def attrs_of(variant: Variant, arg_names: list[str]) -> dict[tuple[int, ...], list[list[Any]]]:
    """Launch-time specialization attributes: 16-byte aligned pointers (every torch allocation) and the
    DIVISIBLE_INTS; ``arg_names`` is the kernel's argument list (``JITFunction.arg_names``)."""
    attrs = {}
    for name, kind in signature_of(variant).items():
        if kind.startswith("*") or name in DIVISIBLE_INTS:
            attrs[(arg_names.index(name),)] = [["tt.divisibility", 16]]
    return attrs


def signature_of(variant: Variant) -> dict[str, str]:
    """The triton signature for a variant's kernel."""
    name = variant.kernel.split(":", 1)[1]
    if name == "_partials_kernel":
        return partials_signature(variant.dtype)
    if name == "_finalize_kernel":
        return finalize_signature(variant.dtype)
    if name == "_epilogue_kernel":
        return epilogue_signature()
    return dict(SEGMENT_SUM_SIGNATURE)
