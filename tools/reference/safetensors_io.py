"""A tiny, dependency-free safetensors writer and reader (torch + json + struct only).

File layout (https://github.com/huggingface/safetensors, format description):

    [8 bytes]  N = header length, unsigned 64-bit little-endian
    [N bytes]  UTF-8 JSON object:
                 {"<name>": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...,
                  "__metadata__": {"<str>": "<str>", ...}}            (metadata optional)
               padded with trailing spaces so that 8 + N is a multiple of 8
    [rest]     raw little-endian tensor bytes; data_offsets are relative to the start
               of this section, [begin, end) and non-overlapping.

Supported dtypes: F32, F16, BF16, I64 (plus F64 / I32 for convenience).
"""

from __future__ import annotations

import json
import struct
from typing import Dict, Optional, Tuple

import torch

_DTYPE_TO_NAME = {
    torch.float32: "F32",
    torch.float16: "F16",
    torch.bfloat16: "BF16",
    torch.int64: "I64",
    torch.float64: "F64",
    torch.int32: "I32",
}
_NAME_TO_DTYPE = {v: k for k, v in _DTYPE_TO_NAME.items()}
# Integer dtype of the same width, used to get at the raw bytes via numpy.
_RAW_VIEW = {
    torch.float32: torch.int32,
    torch.float16: torch.int16,
    torch.bfloat16: torch.int16,
    torch.int64: torch.int64,
    torch.float64: torch.int64,
    torch.int32: torch.int32,
}


def _tensor_bytes(t: torch.Tensor) -> bytes:
    t = t.detach().cpu().contiguous()
    raw = t.view(_RAW_VIEW[t.dtype]).numpy()
    # numpy integer arrays in native order; force little-endian explicitly.
    return raw.astype(raw.dtype.newbyteorder("<"), copy=False).tobytes()


def save_file(tensors: Dict[str, torch.Tensor], path: str,
              metadata: Optional[Dict[str, str]] = None) -> None:
    """Writes `tensors` (name -> tensor) to `path`. Tensors are laid out sorted by name."""
    header: Dict[str, object] = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    chunks = []
    offset = 0
    for name in sorted(tensors):
        t = tensors[name]
        if t.dtype not in _DTYPE_TO_NAME:
            raise TypeError(f"unsupported dtype {t.dtype} for {name}")
        data = _tensor_bytes(t)
        header[name] = {
            "dtype": _DTYPE_TO_NAME[t.dtype],
            "shape": list(t.shape),
            "data_offsets": [offset, offset + len(data)],
        }
        chunks.append(data)
        offset += len(data)
    header_bytes = json.dumps(header, separators=(",", ":")).encode("utf-8")
    pad = (-(8 + len(header_bytes))) % 8
    header_bytes += b" " * pad
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(header_bytes)))
        f.write(header_bytes)
        for c in chunks:
            f.write(c)


def load_file(path: str) -> Tuple[Dict[str, torch.Tensor], Dict[str, str]]:
    """Reads a safetensors file; returns (tensors, metadata)."""
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n].decode("utf-8"))
    data = blob[8 + n:]
    metadata = header.pop("__metadata__", {}) or {}
    out: Dict[str, torch.Tensor] = {}
    for name, info in header.items():
        dtype = _NAME_TO_DTYPE[info["dtype"]]
        begin, end = info["data_offsets"]
        raw_dtype = _RAW_VIEW[dtype]
        elem = torch.tensor([], dtype=raw_dtype).element_size()
        count = (end - begin) // elem
        raw = torch.frombuffer(bytearray(data[begin:end]), dtype=raw_dtype, count=count) \
            if count > 0 else torch.empty(0, dtype=raw_dtype)
        out[name] = raw.view(dtype).reshape(info["shape"]).clone()
    return out, metadata
