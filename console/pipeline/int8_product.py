"""Exact integer dot products of small-integer queries with an int8 gallery, by onnxruntime.

``MatMulInteger``: queries as uint8 with zero point QUERY_ZERO times the gallery's columns as
int8, summed in int32; then the maximum of every block of columns (a ``Reshape`` and a
``ReduceMax``, on onnxruntime's threads: about half numpy's time). The three-node ONNX model is
written here field by field (a few protobuf fields, onnx/onnx.proto) because the ``onnx``
package is a development tool that the bundle leaves out (packaging/console.spec).
"""

from __future__ import annotations

import numpy as np

# Queries are codes in [-63, 63], sent as code + 64 in [1, 127]. On x86 CPUs without VNNI the
# uint8 x int8 kernel adds products in pairs into int16 with saturation; 2 * 127 * 127 = 32258
# stays under 32767, whereas full-range uint8 (255) could saturate and the sums would be wrong.
QUERY_LEVELS = 63
QUERY_ZERO = 64
GALLERY_LEVELS = 127
# Two threads, idle ones asleep (docs/performance.md, 1M rows): 10 faces in 21 ms against 35 ms
# with one when the other core is free, about equal when it is busy; spinning threads cut little
# and cost 2-4 times the CPU time.
THREADS = 2

_UINT8, _INT8, _INT32, _INT64 = 2, 3, 6, 7  # onnx TensorProto.DataType
_INT, _INTS = 2, 7  # onnx AttributeProto.AttributeType


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _num(field: int, value: int) -> list:
    return [_varint(field << 3), _varint(value)]


def _sub(field: int, *parts) -> list:
    """A length-delimited field (string, bytes or message) from parts kept unjoined: the
    gallery's bytes are copied once, by the final join, however deep they are nested."""
    flat = [p for part in parts for p in (part if isinstance(part, list) else [part])]
    return [_varint(field << 3 | 2), _varint(sum(len(p) for p in flat)), *flat]


def _value_info(name: str, elem_type: int, dims: list[int | str]) -> list:
    shape = [_sub(1, _num(1, d) if isinstance(d, int) else _sub(2, d.encode())) for d in dims]
    tensor_type = _sub(1, _num(1, elem_type), _sub(2, *shape))
    return _sub(1, name.encode()) + _sub(2, tensor_type)


def _tensor(name: str, elem_type: int, array: np.ndarray) -> list:
    dims = [p for d in array.shape for p in _num(1, d)]
    raw = memoryview(np.ascontiguousarray(array)).cast("B")
    return dims + _num(2, elem_type) + _sub(8, name.encode()) + _sub(9, raw)


def _node(op_type: str, inputs: list[str], output: str, attributes: list | None = None) -> list:
    return (sum((_sub(1, name.encode()) for name in inputs), []) + _sub(2, output.encode())
            + _sub(4, op_type.encode()) + sum((_sub(5, a) for a in attributes or []), []))


def model_bytes(columns: np.ndarray, block: int) -> bytes:
    """The ONNX model (opset 13) ``Y = MatMulInteger(A, columns, QUERY_ZERO)`` and ``M``, the
    maximum of every ``block`` columns of Y, with the gallery's (dim, n) int8 columns as an
    initializer, so that onnxruntime packs them once, at load. n is a multiple of ``block``."""
    dim, n = columns.shape
    axes = _sub(1, b"axes") + _num(20, _INTS) + _num(8, 2)
    keepdims = _sub(1, b"keepdims") + _num(20, _INT) + _num(3, 0)
    nodes = (_sub(1, _node("MatMulInteger", ["A", "B", "zero"], "Y"))
             + _sub(1, _node("Reshape", ["Y", "blocks"], "Y3"))
             + _sub(1, _node("ReduceMax", ["Y3"], "M", [axes, keepdims])))
    graph = (nodes + _sub(2, b"int8_gallery")
             + _sub(5, _tensor("B", _INT8, columns)) + _sub(5, _tensor("zero", _UINT8, np.array(QUERY_ZERO, np.uint8)))
             + _sub(5, _tensor("blocks", _INT64, np.array([0, -1, block], np.int64)))
             + _sub(11, _value_info("A", _UINT8, ["probes", dim]))
             + _sub(12, _value_info("Y", _INT32, ["probes", n])) + _sub(12, _value_info("M", _INT32, ["probes", n // block])))
    model = _num(1, 8) + _sub(8, _num(2, 13)) + _sub(7, graph)  # IR version 8, default domain at opset 13
    return b"".join(model)


class Int8Product:
    """``(queries - QUERY_ZERO) @ columns`` in int32, exactly, and its block maxima. One
    onnxruntime session, which may be run from several threads at once."""

    def __init__(self, columns: np.ndarray, block: int, threads: int = THREADS) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.log_severity_level = 3
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # Searches are rare beside the camera workers' frames: idle pool threads sleep rather than spin
        # (spinning held a core for about 30 ms after each search).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(model_bytes(columns, block), options, providers=["CPUExecutionProvider"])
        # The Python wrapper keeps the model's bytes to re-create the session if its providers are
        # changed, which is never done here: 128 MB for a million rows, beside onnxruntime's own copy.
        self._session._model_bytes = None

    def __call__(self, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        products, maxima = self._session.run(None, {"A": np.ascontiguousarray(queries, dtype=np.uint8)})
        return products, maxima
