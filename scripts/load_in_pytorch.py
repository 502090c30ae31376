#!/usr/bin/env python3
"""load_in_pytorch.py — load a muon checkpoint into a nanoGPT-style GPT in PyTorch.

Self-contained: the GPT below uses nanoGPT's parameter names and layout
(nn.Linear weights (out, in), pre-LayerNorm blocks, fused c_attn), with the
tanh GELU that muon uses. The weights are read with the `safetensors` package
when it is installed, otherwise with a small parser (json + struct + torch).

    python3 scripts/load_in_pytorch.py RUN_DIR_or_FILE --tokens 1,2,3 [--out logits.f32]
    python3 scripts/load_in_pytorch.py RUN_DIR_or_FILE --save torch.safetensors

prints the logits (T, V) of the token sequence (one row per position) and,
with --out, writes them as raw little-endian float32 for comparison with
mu_gpt_forward. The model shape comes from __metadata__; --n-head etc. supply
or override it for files without metadata (e.g. converted PyTorch checkpoints).
"""
import argparse
import json
import math
import os
import struct
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F


# ---- safetensors reading ----

_DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "F64": torch.float64,
           "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8,
           "BOOL": torch.bool}


def read_safetensors(path):
    """Return (tensors: dict name -> torch.Tensor, metadata: dict str -> str)."""
    try:
        from safetensors import safe_open  # the reference implementation, if installed
        tensors, meta = {}, {}
        with safe_open(path, framework="pt") as f:
            meta = f.metadata() or {}
            for k in f.keys():
                tensors[k] = f.get_tensor(k)
        return tensors, meta
    except ImportError:
        pass
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError(f"{path}: too short for a safetensors file")
    (n,) = struct.unpack("<Q", raw[:8])
    if n > len(raw) - 8:
        raise ValueError(f"{path}: header length {n} exceeds the file")
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", {}) or {}
    data = bytearray(raw[8 + n:])  # writable copy: torch.frombuffer warns on read-only buffers
    tensors = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        dtype = _DTYPES[info["dtype"]]
        shape = info["shape"]
        if end > begin:
            t = torch.frombuffer(data, dtype=dtype, count=(end - begin) // torch.tensor([], dtype=dtype).element_size(),
                                 offset=begin)
        else:
            t = torch.empty(0, dtype=dtype)
        tensors[name] = t.reshape(shape).clone()
    return tensors, meta


# ---- the model (nanoGPT names) ----

class LayerNorm(nn.Module):
    """LayerNorm with an optional bias (nanoGPT's), eps 1e-5."""

    def __init__(self, ndim, bias):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(ndim))
        self.bias = nn.Parameter(torch.zeros(ndim)) if bias else None

    def forward(self, x):
        return F.layer_norm(x, self.weight.shape, self.weight, self.bias, 1e-5)


class CausalSelfAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.n_head, self.n_embd = c["n_head"], c["n_embd"]
        self.c_attn = nn.Linear(c["n_embd"], 3 * c["n_embd"], bias=c["bias"])
        self.c_proj = nn.Linear(c["n_embd"], c["n_embd"], bias=c["bias"])

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
        hd = C // self.n_head
        q, k, v = (z.view(B, T, self.n_head, hd).transpose(1, 2) for z in (q, k, v))  # (B, nh, T, hd)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hd))
        mask = torch.tril(torch.ones(T, T, dtype=torch.bool))
        att = F.softmax(att.masked_fill(~mask, float("-inf")), dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
        return self.c_proj(y)


class MLP(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c_fc = nn.Linear(c["n_embd"], 4 * c["n_embd"], bias=c["bias"])
        self.gelu = nn.GELU(approximate="tanh")  # muon uses the tanh GELU (nanoGPT: exact nn.GELU())
        self.c_proj = nn.Linear(4 * c["n_embd"], c["n_embd"], bias=c["bias"])

    def forward(self, x):
        return self.c_proj(self.gelu(self.c_fc(x)))


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.ln_1 = LayerNorm(c["n_embd"], c["bias"])
        self.attn = CausalSelfAttention(c)
        self.ln_2 = LayerNorm(c["n_embd"], c["bias"])
        self.mlp = MLP(c)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.config = c
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(c["vocab_size"], c["n_embd"]),
            wpe=nn.Embedding(c["block_size"], c["n_embd"]),
            h=nn.ModuleList([Block(c) for _ in range(c["n_layer"])]),
            ln_f=LayerNorm(c["n_embd"], c["bias"]),
        ))
        self.lm_head = nn.Linear(c["n_embd"], c["vocab_size"], bias=False)
        if c["tie"]:
            self.transformer.wte.weight = self.lm_head.weight  # nanoGPT's weight tying

    def forward(self, idx):
        B, T = idx.shape
        pos = torch.arange(T, dtype=torch.long)
        x = self.transformer.wte(idx) + self.transformer.wpe(pos)
        for block in self.transformer.h:
            x = block(x)
        return self.lm_head(self.transformer.ln_f(x))  # (B, T, V)


# ---- config and loading ----

def _flag(v):
    return v if isinstance(v, bool) else str(v).lower() in ("1", "true")


def config_from_meta(meta, args):
    c = {}
    if "config" in meta:
        j = json.loads(meta["config"])
        if str(j.get("param", "sp")).lower() in ("mup", "1"):
            sys.exit("this file holds a μP model (param = mup): its multipliers are not plain GPT-2; "
                     "write an equivalent file with `muon export --fold CKPT --out FILE` and load that")
        c = {"n_layer": j.get("n_layer"), "n_head": j.get("n_head"), "n_embd": j.get("n_embd", j.get("d_model")),
             "block_size": j.get("block_size", j.get("seq_len")), "vocab_size": j.get("vocab_size", j.get("vocab")),
             "bias": _flag(j.get("bias", True)), "tie": _flag(j.get("tie", True))}
    elif "n_layer" in meta:
        c = {k: int(meta[k]) for k in ("n_layer", "n_head", "n_embd", "block_size", "vocab_size") if k in meta}
        c["bias"] = _flag(meta.get("bias", "true"))
        c["tie"] = _flag(meta.get("tie", "true"))
    for k in ("n_layer", "n_head", "n_embd", "block_size", "vocab_size"):
        if getattr(args, k) is not None:
            c[k] = getattr(args, k)
    for k in ("bias", "tie"):
        if getattr(args, k) is not None:
            c[k] = _flag(getattr(args, k))
    missing = [k for k in ("n_layer", "n_head", "n_embd", "block_size", "vocab_size") if c.get(k) is None]
    if missing:
        sys.exit(f"no model config in the file's __metadata__; pass --{' --'.join(m.replace('_', '-') for m in missing)}")
    c.setdefault("bias", True)
    c.setdefault("tie", True)
    return c


def write_safetensors(path, state_dict):
    """Weights-only safetensors as PyTorch users write them: no __metadata__, F32."""
    header, blobs, off = {}, [], 0
    for name in sorted(state_dict):
        t = state_dict[name].detach().float().contiguous()
        b = struct.pack("<%df" % t.numel(), *t.flatten().tolist())
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def load(path, args):
    if os.path.isdir(path):
        path = os.path.join(path, "model.safetensors")
    tensors, meta = read_safetensors(path)
    c = config_from_meta(meta, args)
    model = GPT(c)
    sd = {k: v.float() for k, v in tensors.items() if not k.endswith((".attn.bias", ".attn.masked_bias"))}
    if c["tie"] and "lm_head.weight" not in sd:
        sd["lm_head.weight"] = sd["transformer.wte.weight"]
    model.load_state_dict(sd, strict=True)
    model.eval()
    return model, c


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("ckpt", help="RUN_DIR or a .safetensors file")
    ap.add_argument("--tokens", help="comma-separated token ids, e.g. 3,1,4")
    ap.add_argument("--save", help="write the loaded model's state_dict as a weights-only safetensors")
    ap.add_argument("--out", help="write the (T, V) logits as raw float32 here")
    for k in ("n_layer", "n_head", "n_embd", "block_size", "vocab_size"):
        ap.add_argument("--" + k.replace("_", "-"), dest=k, type=int)
    ap.add_argument("--bias", choices=["true", "false"])
    ap.add_argument("--tie", choices=["true", "false"])
    args = ap.parse_args()
    torch.set_grad_enabled(False)
    model, c = load(args.ckpt, args)
    if args.save:
        sd = {k: v for k, v in model.state_dict().items() if not (c["tie"] and k == "lm_head.weight")}
        write_safetensors(args.save, sd)
    if not args.tokens:
        return
    idx = torch.tensor([[int(t) for t in args.tokens.split(",")]], dtype=torch.long)
    if idx.shape[1] > c["block_size"] or int(idx.max()) >= c["vocab_size"] or int(idx.min()) < 0:
        sys.exit(f"tokens must be ids in [0, {c['vocab_size']}) and at most {c['block_size']} of them")
    logits = model(idx)[0].contiguous()  # (T, V)
    if args.out:
        with open(args.out, "wb") as f:
            flat = logits.flatten().tolist()
            f.write(struct.pack("<%df" % len(flat), *flat))
    for row in logits.tolist():
        print(" ".join(f"{v:.7g}" for v in row))


if __name__ == "__main__":
    main()
