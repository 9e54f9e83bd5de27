"""YuNet face detector (fp32 ONNX, dynamic input size) run by onnxruntime."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from console.vision.onnx_session import make_session
from console.vision.types import Detection

STRIDES = (8, 16, 32)


class YuNetDetector:
    """Detects faces with five landmarks. Input: a BGR uint8 image of any size.

    The frame is scaled so its longer side is at most ``max_side`` pixels, padded to a
    multiple of 32 and run at that size: a 1280x720 frame runs at 640x384, not 640x640.
    """

    def __init__(
        self,
        model_path: Path,
        providers: list[str],
        *,
        score_threshold: float = 0.6,
        nms_threshold: float = 0.3,
        max_side: int = 640,
        threads: int = 0,
    ) -> None:
        self.session = make_session(model_path, providers, threads)
        self.input_name = self.session.get_inputs()[0].name
        self.output_names = [o.name for o in self.session.get_outputs()]
        self.score_threshold = score_threshold
        self.nms_threshold = nms_threshold
        self.max_side = max_side

    def detect(self, image: np.ndarray) -> list[Detection]:
        if image is None or image.ndim != 3 or image.shape[2] != 3 or image.size == 0:
            raise ValueError("detect() needs a BGR image of shape (h, w, 3)")
        h, w = image.shape[:2]
        scale = min(1.0, self.max_side / max(h, w))
        rw, rh = max(1, round(w * scale)), max(1, round(h * scale))
        resized = image if scale == 1.0 else cv2.resize(image, (rw, rh), interpolation=cv2.INTER_AREA)
        pw, ph = -(-rw // 32) * 32, -(-rh // 32) * 32
        blob = np.zeros((1, 3, ph, pw), dtype=np.float32)
        blob[0, :, :rh, :rw] = resized.transpose(2, 0, 1)
        outs = dict(zip(self.output_names, self.session.run(self.output_names, {self.input_name: blob}), strict=False))
        boxes, kpss, scores = [], [], []
        for stride in STRIDES:
            cols, _rows = pw // stride, ph // stride
            cls = np.clip(outs[f"cls_{stride}"][0, :, 0], 0, 1)
            obj = np.clip(outs[f"obj_{stride}"][0, :, 0], 0, 1)
            score = np.sqrt(cls * obj)
            keep = np.nonzero(score >= self.score_threshold)[0]
            if keep.size == 0:
                continue
            bbox = outs[f"bbox_{stride}"][0, keep]
            kps = outs[f"kps_{stride}"][0, keep].reshape(-1, 5, 2)
            c = (keep % cols).astype(np.float32)
            r = (keep // cols).astype(np.float32)
            cx = (c + bbox[:, 0]) * stride
            cy = (r + bbox[:, 1]) * stride
            bw = np.exp(bbox[:, 2]) * stride
            bh = np.exp(bbox[:, 3]) * stride
            boxes.append(np.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], axis=1))
            kpss.append(np.stack([(kps[:, :, 0] + c[:, None]) * stride, (kps[:, :, 1] + r[:, None]) * stride], axis=2))
            scores.append(score[keep])
        if not boxes:
            return []
        all_boxes = np.concatenate(boxes) / scale
        all_kps = np.concatenate(kpss) / scale
        all_scores = np.concatenate(scores)
        xywh = np.column_stack([all_boxes[:, :2], all_boxes[:, 2:] - all_boxes[:, :2]])
        keep = cv2.dnn.NMSBoxes(xywh.tolist(), all_scores.tolist(), self.score_threshold, self.nms_threshold)
        keep = np.asarray(keep, dtype=int).reshape(-1)
        order = keep[np.argsort(-all_scores[keep])]
        result = []
        for i in order:
            box = all_boxes[i].copy()
            box[[0, 2]] = np.clip(box[[0, 2]], 0, w)
            box[[1, 3]] = np.clip(box[[1, 3]], 0, h)
            if box[2] - box[0] < 2 or box[3] - box[1] < 2:
                continue
            result.append(Detection(box=box.astype(np.float32), landmarks=all_kps[i].astype(np.float32),
                                    score=float(all_scores[i])))
        return result
