#!/usr/bin/env python3
"""torch_gpt.py — the same GPT-2 model and AdamW step as muon, in PyTorch, for side-by-side
speed comparisons (bench/bench_train.c runs it) and recipe comparisons (nanoGPT baby GPT).

  /usr/bin/python3 bench/torch_gpt.py --d 128 --L 4 --H 4 --T 128 --B 32 --threads 2 --seconds 10
prints one JSON line: {"tokens_per_s": ..., "steps": ..., "torch": "..."}.
With --data FILE --iters N it trains nanoGPT's recipe on a text file and prints the val loss.
"""
import argparse, json, math, os, time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, d, H, bias):
        super().__init__()
        self.H = H
        self.ln_1 = nn.LayerNorm(d)  # torch 1.13 (Debian 12) has no bias-free LayerNorm
        self.c_attn = nn.Linear(d, 3 * d, bias=bias)
        self.c_proj = nn.Linear(d, d, bias=bias)
        self.ln_2 = nn.LayerNorm(d)
        self.c_fc = nn.Linear(d, 4 * d, bias=bias)
        self.mlp_proj = nn.Linear(4 * d, d, bias=bias)
        self.register_buffer("mask", torch.tril(torch.ones(1024, 1024)).view(1, 1, 1024, 1024))

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.c_attn(self.ln_1(x)).split(C, dim=2)
        q, k, v = (t.view(B, T, self.H, C // self.H).transpose(1, 2) for t in (q, k, v))
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        att = att.masked_fill(self.mask[:, :, :T, :T] == 0, float("-inf"))
        y = F.softmax(att, dim=-1) @ v
        x = x + self.c_proj(y.transpose(1, 2).contiguous().view(B, T, C))
        return x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))


class GPT(nn.Module):
    def __init__(self, V, T, d, L, H, bias=False):
        super().__init__()
        self.wte, self.wpe = nn.Embedding(V, d), nn.Embedding(T, d)
        self.h = nn.ModuleList(Block(d, H, bias) for _ in range(L))
        self.ln_f = nn.LayerNorm(d)
        self.lm_head = nn.Linear(d, V, bias=False)

    def forward(self, idx, targets):
        T = idx.shape[1]
        x = self.wte(idx) + self.wpe(torch.arange(T))
        for b in self.h:
            x = b(x)
        logits = self.lm_head(self.ln_f(x))
        return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))


def speed(a):
    torch.manual_seed(0)
    m = GPT(a.V, a.T, a.d, a.L, a.H)
    opt = torch.optim.AdamW(m.parameters(), lr=1e-3, betas=(0.9, 0.95), weight_decay=0.1)
    x = torch.randint(0, a.V, (a.B, a.T))
    y = torch.randint(0, a.V, (a.B, a.T))

    def step():
        loss = m(x, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
        opt.step()

    for _ in range(2):
        step()
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < a.seconds:
        step()
        n += 1
    dt = time.perf_counter() - t0
    print(json.dumps({"tokens_per_s": n * a.B * a.T / dt, "steps": n, "torch": torch.__version__,
                      "threads": torch.get_num_threads()}))


def recipe(a):
    """nanoGPT's shakespeare_char CPU 'baby GPT' recipe on a byte-level text file."""
    data = torch.tensor(list(open(a.data, "rb").read()), dtype=torch.long)
    n = int(0.9 * len(data))
    tr, va = data[:n], data[n:]
    torch.manual_seed(1337)
    m = GPT(256, a.T, a.d, a.L, a.H)
    decay = [p for p in m.parameters() if p.dim() >= 2]
    nodecay = [p for p in m.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": nodecay, "weight_decay": 0.0}],
                            lr=a.lr, betas=(0.9, 0.99))
    t0 = time.perf_counter()
    for it in range(a.iters):
        lr = a.lr * (it + 1) / a.warmup if it < a.warmup else \
            a.min_lr + 0.5 * (1 + math.cos(math.pi * (it - a.warmup) / (a.iters - a.warmup))) * (a.lr - a.min_lr)
        for g in opt.param_groups:
            g["lr"] = lr
        ix = torch.randint(len(tr) - a.T - 1, (a.B,))
        x = torch.stack([tr[i:i + a.T] for i in ix])
        y = torch.stack([tr[i + 1:i + 1 + a.T] for i in ix])
        loss = m(x, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
        opt.step()
    train_s = time.perf_counter() - t0
    m.eval()
    with torch.no_grad():
        W = (len(va) - 1) // a.T
        tot = 0.0
        for w0 in range(0, W, 64):
            ws = range(w0, min(W, w0 + 64))
            x = torch.stack([va[w * a.T:w * a.T + a.T] for w in ws])
            y = torch.stack([va[w * a.T + 1:w * a.T + a.T + 1] for w in ws])
            tot += m(x, y).item() * len(ws)
    print(json.dumps({"val_loss": tot / W, "train_s": train_s, "iters": a.iters}))


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    for k, v in dict(d=128, L=4, H=4, T=128, B=32, V=256, threads=2, iters=2000, warmup=100).items():
        p.add_argument("--" + k, type=int, default=v)
    p.add_argument("--seconds", type=float, default=10)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--min-lr", type=float, default=1e-4)
    p.add_argument("--data")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    recipe(a) if a.data else speed(a)
