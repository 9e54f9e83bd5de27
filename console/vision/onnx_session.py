"""onnxruntime sessions with configurable execution providers."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from console.errors import ModelError

_ALIASES = {
    "cpu": "CPUExecutionProvider",
    "cuda": "CUDAExecutionProvider",
    "tensorrt": "TensorrtExecutionProvider",
    "coreml": "CoreMLExecutionProvider",
    "directml": "DmlExecutionProvider",
}


def resolve_providers(requested: Sequence[str] | None) -> list[str]:
    """Turn short names ("cpu", "cuda") into onnxruntime provider names.

    CPU is the default. A requested provider that this onnxruntime build lacks is an
    error that says which package provides it, not a silent fall-back, so an operator
    never believes the GPU is in use when it is not. CPU is always appended last.
    """
    import onnxruntime as ort

    available = ort.get_available_providers()
    names = [_ALIASES.get(p.lower(), p) for p in (requested or ["cpu"])]
    for name in names:
        if name not in available:
            hint = " (install the 'gpu' extra: onnxruntime-gpu)" if name == "CUDAExecutionProvider" else ""
            raise ModelError(
                f"execution provider {name} is not available in this onnxruntime{hint}; "
                f"available: {', '.join(available)}"
            )
    if "CPUExecutionProvider" not in names:
        names.append("CPUExecutionProvider")
    return names


def make_session(path: Path, providers: Sequence[str], threads: int = 0):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    # Idle pool threads would otherwise spin for a while after each run, taking the cores that
    # the other cameras' detectors (and the window) need.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    if threads:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    # cuDNN's exhaustive search times every convolution algorithm for each new input shape: a
    # stall of seconds each time a camera of another size, or a batch of another size, arrives.
    chosen = [(p, {"cudnn_conv_algo_search": "HEURISTIC"}) if p == "CUDAExecutionProvider" else p for p in providers]
    try:
        return ort.InferenceSession(str(path), sess_options=options, providers=chosen)
    except Exception as exc:  # onnxruntime raises its own opaque types
        raise ModelError(f"model file {path} could not be loaded by onnxruntime: {exc}") from exc
