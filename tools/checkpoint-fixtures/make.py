#!/usr/bin/python3
"""Writes the torch.save fixtures that io.semspai.checkpoint's tests read.

Run with Debian's torch 1.13 (CI has no Python, so the outputs are committed):

    /usr/bin/python3 tools/checkpoint-fixtures/make.py common/src/test/resources/checkpoint

Every tensor fixture gets a JSON file next to it with what PyTorch itself sees:
dtype, shape, stride, storage offset and the values in logical (row-major)
order. Floating values are stored as the bits of their float32 widening
("bits32") so NaN payloads, -0.0 and subnormals compare exactly; float64 as
hex bit strings ("bits64"); integers and bools as plain ints ("values").
"""
import collections
import io
import json
import os
import pickle
import sys
import zipfile

import numpy as np
import torch

OUT = sys.argv[1] if len(sys.argv) > 1 else "."

DTYPES = {
    torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.float64: "F64",
    torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8",
    torch.uint8: "U8", torch.bool: "BOOL",
}


def describe(t):
    t = t.detach()
    d = {
        "dtype": DTYPES[t.dtype],
        "shape": list(t.shape),
        "stride": list(t.stride()),
        "offset": t.storage_offset(),
    }
    flat = t.contiguous().reshape(-1)
    if t.dtype == torch.float64:
        d["bits64"] = ["%016x" % v for v in flat.numpy().view(np.uint64).tolist()]
    elif t.is_floating_point():
        d["bits32"] = flat.float().numpy().view(np.uint32).tolist()
    else:
        d["values"] = flat.long().tolist()
    return d


def describe_dict(sd):
    return {k: describe(v) for k, v in sd.items()}


def path(name):
    return os.path.join(OUT, name)


def dump_json(name, obj):
    with open(path(name), "w") as f:
        json.dump(obj, f, indent=1, sort_keys=False)
        f.write("\n")


class CfgNode(dict):
    """Stands in for yacs' CfgNode: a dict subclass with instance attributes.

    The Java reader must skip it without understanding it."""

    def __init__(self, init=None, new_allowed=False):
        super().__init__(init or {})
        self.__dict__["__immutable__"] = False
        self.__dict__["__new_allowed__"] = new_allowed

    def __getattr__(self, name):
        return self[name]


class Tiny(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.patch_embed = torch.nn.Conv2d(3, 4, 2)
        self.norm = torch.nn.LayerNorm(4)
        self.head = torch.nn.Linear(4, 1)
        self.register_buffer("steps", torch.tensor(7, dtype=torch.int64))

    def forward(self, x):
        y = self.patch_embed(x).mean(dim=(2, 3))
        return self.head(self.norm(y))


def spai_like():
    torch.manual_seed(0)
    model = Tiny()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.05)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    model(torch.randn(2, 3, 4, 4)).sum().backward()
    opt.step()
    sched.step()
    config = CfgNode({
        "MODEL": CfgNode({"NAME": "spai", "PATCH_SIZE": 224, "FEATURE_LAYERS": (0, 1, 2)}),
        "TRAIN": CfgNode({"BASE_LR": 5e-4, "EPOCHS": [1, 2, 3], "AMP": None, "SEEDS": {1, 2}}),
        "TAG": b"\x00\xffbytes",
        "BIG": 2 ** 80 + 1,
        "NEG": -123456789,
        "BEST_NP": np.float64(0.875),
        "ARR_NP": np.arange(3, dtype=np.int32),
    })
    ckpt = {
        "model": model.state_dict(),
        "optimizer": opt.state_dict(),
        "lr_scheduler": sched.state_dict(),
        "max_accuracy": 0.9,
        "epoch": 3,
        "config": config,
    }
    torch.save(ckpt, path("spai_like.pth"))
    state0 = opt.state_dict()["state"][0]
    dump_json("spai_like.json", {
        "archive": "spai_like",
        "top_keys": list(ckpt.keys()),
        "epoch": 3,
        "max_accuracy": 0.9,
        "model": describe_dict(model.state_dict()),
        "optimizer_state0": {k: describe(v) for k, v in state0.items() if torch.is_tensor(v)},
        "optimizer_lr": opt.state_dict()["param_groups"][0]["lr"],
    })


def bare_fp16():
    torch.manual_seed(1)
    sd = collections.OrderedDict()
    sd["blocks.0.weight"] = torch.randn(3, 4).half()
    sd["special"] = torch.tensor(
        [0.0, -0.0, float("inf"), float("-inf"), float("nan"), 65504.0, 6e-8, 1e-4, -2.5, 1 / 3],
        dtype=torch.float16)
    torch.save(sd, path("bare_fp16.pth"))
    dump_json("bare_fp16.json", describe_dict(sd))


def bare_bf16():
    torch.manual_seed(2)
    sd = collections.OrderedDict()
    sd["blocks.0.weight"] = torch.randn(2, 5).bfloat16()
    sd["special"] = torch.tensor(
        [0.0, -0.0, float("inf"), float("-inf"), float("nan"), 3.38e38, 1e-40, -1 / 3],
        dtype=torch.bfloat16)
    torch.save(sd, path("bare_bf16.pth"))
    dump_json("bare_bf16.json", describe_dict(sd))


def views():
    torch.manual_seed(3)
    a = torch.arange(10.0)
    sd = {
        "x": a[2:5],                     # offset 2 into a shared storage
        "y": a,
        "t": a.view(2, 5).t(),           # non-contiguous: stride (1, 5)
        "e": a[3:4].expand(3, 2),        # stride 0
        "s": a[1::3],                    # step 3
        "scalar": torch.tensor(2.5),     # zero-dimensional
        "empty": torch.zeros(0, 3),
        "i64": torch.arange(6, dtype=torch.int64).view(2, 3) - 3,
        "i32": torch.tensor([-2 ** 31, 2 ** 31 - 1, 5], dtype=torch.int32),
        "i16": torch.tensor([-32768, 32767], dtype=torch.int16),
        "i8": torch.tensor([-128, 127], dtype=torch.int8),
        "u8": torch.tensor([0, 255, 7], dtype=torch.uint8),
        "bool": torch.tensor([True, False, True]),
        "f64": torch.randn(3, dtype=torch.float64),
        "param": torch.nn.Parameter(torch.randn(2, 3)),
    }
    torch.save(sd, path("views.pth"))
    dump_json("views.json", describe_dict(sd))


def proto4():
    # pickle protocol 4 brings FRAME, SHORT_BINUNICODE, MEMOIZE, STACK_GLOBAL and binary bytes.
    torch.manual_seed(4)
    sd = collections.OrderedDict([("w", torch.randn(2, 2)), ("b", torch.randn(2))])
    torch.save({"state_dict": sd, "note": b"raw", "epoch": 12}, path("proto4.pth"), pickle_protocol=4)
    dump_json("proto4.json", describe_dict(sd))


def unsupported_dtype():
    sd = {"ok": torch.ones(2), "c": torch.ones(2, dtype=torch.complex64)}
    torch.save(sd, path("complex.pth"))


def legacy():
    torch.save({"w": torch.ones(2)}, path("legacy.pth"), _use_new_zipfile_serialization=False)


def torchscript():
    torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), path("torchscript.pt"))


def rewrite(src, dst, edit):
    """Copies a torch zip entry by entry (stored, like torch), letting edit(name, data) change or drop entries."""
    with zipfile.ZipFile(path(src)) as zin, zipfile.ZipFile(path(dst), "w", zipfile.ZIP_STORED) as zout:
        for info in zin.infolist():
            data = edit(info.filename, zin.read(info.filename))
            if data is not None:
                zout.writestr(info.filename, data)


def broken_files():
    with open(path("spai_like.pth"), "rb") as f:
        whole = f.read()
    # Cut before the central directory, as an interrupted download would.
    with open(path("truncated.pth"), "wb") as f:
        f.write(whole[: len(whole) * 2 // 3])
    # Same length, one byte of data.pkl changed: only the CRC can tell.
    i = whole.index(b"max_accuracy")
    with open(path("corrupt_crc.pth"), "wb") as f:
        f.write(whole[:i] + b"n" + whole[i + 1:])
    with open(path("notzip.pth"), "w") as f:
        f.write("this is a text file, not a checkpoint\n")
    rewrite("views.pth", "missing_storage.pth",
            lambda name, data: None if name == "views/data/1" else data)
    rewrite("views.pth", "short_storage.pth",
            lambda name, data: data[:12] if name == "views/data/0" else data)
    # A protocol-0 (text) pickle: its opcodes are not what torch.save writes.
    rewrite("views.pth", "bad_opcode.pth",
            lambda name, data: pickle.dumps({"a": 1}, protocol=0) if name.endswith("data.pkl") else data)


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    spai_like()
    bare_fp16()
    bare_bf16()
    views()
    proto4()
    unsupported_dtype()
    legacy()
    torchscript()
    broken_files()
    print("torch", torch.__version__, "wrote", sorted(os.listdir(OUT)))
