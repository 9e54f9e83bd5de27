"""SFace recogniser (fp32 ONNX, dynamic batch): 128-d embeddings of aligned crops."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from console.vision.onnx_session import make_session


def l2_normalise(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return (x / np.maximum(norms, 1e-12)).astype(np.float32)


class SFaceEmbedder:
    """Input: 112x112 BGR crops aligned to the ArcFace template.

    SFace wants RGB with raw 0-255 values (it normalises inside the graph), so the only
    preprocessing is the channel swap and the layout change.
    """

    dim = 128

    def __init__(self, model_path: Path, providers: list[str], *, threads: int = 0, max_batch: int = 32) -> None:
        self.session = make_session(model_path, providers, threads)
        self.input_name = self.session.get_inputs()[0].name
        self.max_batch = max_batch
        # On a GPU every batch is padded to max_batch: onnxruntime's CUDA provider prepares its
        # kernels again (a third of a second on an H200) whenever the input shape changes.
        self.pad_batches = self.session.get_providers()[0] != "CPUExecutionProvider"

    def embed(self, crops: list[np.ndarray]) -> np.ndarray:
        if not crops:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = []
        for start in range(0, len(crops), self.max_batch):
            chunk = crops[start : start + self.max_batch]
            blob = np.stack([c[:, :, ::-1] for c in chunk]).astype(np.float32).transpose(0, 3, 1, 2)
            if self.pad_batches and len(chunk) < self.max_batch:
                blob = np.concatenate([blob, np.zeros((self.max_batch - len(chunk), *blob.shape[1:]), np.float32)])
            out.append(self.session.run(None, {self.input_name: np.ascontiguousarray(blob)})[0][: len(chunk)])
        return l2_normalise(np.concatenate(out).reshape(len(crops), -1))
