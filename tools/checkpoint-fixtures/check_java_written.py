#!/usr/bin/python3
"""Checks that real PyTorch loads a checkpoint written by io.semspai.checkpoint.TorchCheckpointWriter.

TorchCheckpointWriterTest leaves common/target/java-written/java_written.{pth,json}; then:

    /usr/bin/python3 tools/checkpoint-fixtures/check_java_written.py common/target/java-written

It torch.loads the file, compares every tensor with the Java source values converted by torch itself
(so Java's fp16/bf16 rounding is checked against torch's), checks the plain values, and checks
that every entry's data starts 64-byte aligned as torch's own writer does.
"""
import json
import os
import struct
import sys
import zipfile

import numpy as np
import torch

DTYPES = {name: getattr(torch, name) for name in
          ["float32", "float16", "bfloat16", "float64", "int64", "int32", "int16", "int8", "uint8", "bool"]}


def main(folder):
    pth = os.path.join(folder, "java_written.pth")
    with open(os.path.join(folder, "java_written.json")) as f:
        expected = json.load(f)
    ckpt = torch.load(pth, map_location="cpu")
    model = ckpt["model"]
    assert type(model).__name__ == "OrderedDict", type(model)
    assert list(model.keys()) == list(expected.keys()), (list(model.keys()), list(expected.keys()))
    for key, e in expected.items():
        t = model[key]
        dtype = DTYPES[e["dtype"]]
        assert t.dtype == dtype, (key, t.dtype, dtype)
        assert list(t.shape) == e["shape"], (key, t.shape, e["shape"])
        if "source_bits32" in e:
            src = torch.from_numpy(np.array(e["source_bits32"], dtype=np.uint32).view(np.float32).copy())
            want = src.to(dtype).reshape(e["shape"])
            same = (t == want) | (torch.isnan(t) & torch.isnan(want))
            assert bool(same.all()), (key, t, want)
            # -0.0 and +0.0 compare equal, so compare signs too (not of NaNs: torch 1.13 turns a
            # float NaN into bf16 0xffff, Java into 0x7fc0; both are NaN).
            numbers = ~torch.isnan(t)
            assert torch.equal(torch.signbit(t.float())[numbers], torch.signbit(want.float())[numbers]), key
        else:
            want = torch.tensor(e["values"], dtype=torch.int64).to(dtype).reshape(e["shape"])
            assert torch.equal(t, want), (key, t, want)
    assert ckpt["epoch"] == 3 and ckpt["max_accuracy"] == 0.9, ckpt
    assert ckpt["name"] == "spai \u2713", ckpt["name"]
    assert ckpt["big"] == -(2 ** 70), ckpt["big"]
    assert ckpt["list"] == [1, 2.5, "x", None, True, -70000, 2 ** 40], ckpt["list"]
    exp_avg = ckpt["optimizer"]["state"][0]["exp_avg"]
    assert exp_avg.data_ptr() == model["patch_embed.weight"].data_ptr(), "shared storage"

    with open(pth, "rb") as f:
        raw = f.read()
    with zipfile.ZipFile(pth) as z:
        for info in z.infolist():
            name_len, extra_len = struct.unpack("<HH", raw[info.header_offset + 26: info.header_offset + 30])
            start = info.header_offset + 30 + name_len + extra_len
            assert start % 64 == 0, (info.filename, start)
            assert info.compress_type == zipfile.ZIP_STORED, info.filename
    print("OK: torch", torch.__version__, "loaded", pth, "with", len(model), "tensors; all values and alignment match")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "common/target/java-written")
