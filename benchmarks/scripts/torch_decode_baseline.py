#!/usr/bin/env python3
"""PyTorch BF16 baseline for GpuDecodeBenchmark: the BitNet b1.58 2B4T shape (hidden 2560, 30
layers, 20 heads, 5 KV heads, squared-ReLU FFN 6912, vocabulary 128256, tied embeddings) with
random BF16 weights in transformers' BitNetForCausalLM (LlamaForCausalLM with hidden_act relu2 if
this transformers has no BitNet), batch 1, a static KV cache. A prompt fills the cache to
--context tokens, then --tokens greedy decode steps are timed (host clock, after synchronize),
eagerly and, if capture works here, as one CUDA graph per step (torch.cuda.graph over the static
cache). Prints one JSON line per mode.

  python3 benchmarks/scripts/torch_decode_baseline.py --context 512 --tokens 128
"""
import argparse
import inspect
import json
import sys
import time
import traceback

import torch
import transformers


def config_and_class():
    common = dict(vocab_size=128256, hidden_size=2560, intermediate_size=6912, num_hidden_layers=30,
                  num_attention_heads=20, num_key_value_heads=5, max_position_embeddings=4096,
                  rope_theta=500000.0, rms_norm_eps=1e-5, tie_word_embeddings=True)
    try:
        from transformers import BitNetConfig, BitNetForCausalLM
        return BitNetConfig(hidden_act="relu2", **common), BitNetForCausalLM, "BitNetForCausalLM"
    except ImportError:
        from transformers import LlamaConfig, LlamaForCausalLM
        return LlamaConfig(hidden_act="relu2", **common), LlamaForCausalLM, "LlamaForCausalLM"


def static_cache(cfg, length, dtype):
    from transformers import StaticCache
    params = inspect.signature(StaticCache.__init__).parameters
    kw = {"config": cfg, "max_cache_len": length}
    if "max_batch_size" in params:
        kw["max_batch_size"] = 1
    elif "batch_size" in params:
        kw["batch_size"] = 1
    if "device" in params:
        kw["device"] = "cuda"
    if "dtype" in params:
        kw["dtype"] = dtype
    return StaticCache(**kw)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--context", type=int, default=512)
    ap.add_argument("--tokens", type=int, default=128)
    ap.add_argument("--warmup", type=int, default=8)
    ap.add_argument("--no-graph", action="store_true")
    a = ap.parse_args()
    torch.manual_seed(0)
    cfg, cls, name = config_and_class()
    dev = torch.cuda.get_device_properties(0)
    base = {"impl": "torch-bf16-" + name, "torch": torch.__version__, "transformers": transformers.__version__,
            "device": dev.name, "context": a.context, "tokens": a.tokens,
            "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    t0 = time.time()
    with torch.device("cuda"):
        model = cls(cfg).to(torch.bfloat16).eval()
    nparams = sum(p.numel() for p in model.parameters())
    base["params"] = nparams
    base["build_s"] = round(time.time() - t0, 1)
    length = a.context + 2 * (a.tokens + a.warmup) + 8
    prompt_len = a.context - a.warmup
    prompt = torch.randint(0, cfg.vocab_size, (1, prompt_len), device="cuda")

    def prefill(cache):
        pos = torch.arange(prompt_len, device="cuda")
        out = model(input_ids=prompt, position_ids=pos.unsqueeze(0), cache_position=pos, past_key_values=cache,
                    use_cache=True)
        return out.logits[:, -1, :].argmax(-1, keepdim=True)

    with torch.inference_mode():
        # eager
        cache = static_cache(cfg, length, torch.bfloat16)
        torch.cuda.synchronize()
        p0 = time.time()
        tok = prefill(cache)
        torch.cuda.synchronize()
        prefill_s = time.time() - p0
        p = prompt_len

        def step(tok, p):
            pos = torch.tensor([p], device="cuda")
            out = model(input_ids=tok, position_ids=pos.unsqueeze(0), cache_position=pos, past_key_values=cache,
                        use_cache=True)
            return out.logits[:, -1, :].argmax(-1, keepdim=True)

        for _ in range(a.warmup):
            tok = step(tok, p)
            p += 1
        torch.cuda.synchronize()
        d0 = time.time()
        for _ in range(a.tokens):
            tok = step(tok, p)
            p += 1
        torch.cuda.synchronize()
        dt = time.time() - d0
        print(json.dumps(dict(base, mode="eager", prefill_s=round(prefill_s, 4),
                              decode_tokens_per_s=round(a.tokens / dt, 1), ms_per_token=round(1000 * dt / a.tokens, 4))),
              flush=True)

        if a.no_graph:
            return
        try:
            cache = static_cache(cfg, length, torch.bfloat16)
            tok = prefill(cache)
            tok_buf = tok.clone()
            pos_buf = torch.tensor([prompt_len], device="cuda")
            s = torch.cuda.Stream()
            s.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(s):
                for _ in range(3):
                    model(input_ids=tok_buf, position_ids=pos_buf.unsqueeze(0), cache_position=pos_buf,
                          past_key_values=cache, use_cache=True)
            torch.cuda.current_stream().wait_stream(s)
            g = torch.cuda.CUDAGraph()
            with torch.cuda.graph(g):
                logits = model(input_ids=tok_buf, position_ids=pos_buf.unsqueeze(0), cache_position=pos_buf,
                               past_key_values=cache, use_cache=True).logits
                nxt = logits[:, -1, :].argmax(-1, keepdim=True)
            p = prompt_len

            def gstep(p):
                pos_buf.fill_(p)
                g.replay()
                tok_buf.copy_(nxt)

            for _ in range(a.warmup):
                gstep(p)
                p += 1
            torch.cuda.synchronize()
            d0 = time.time()
            for _ in range(a.tokens):
                gstep(p)
                p += 1
                # the host sees each token, as the Java loop does
                _ = tok_buf.item()
            torch.cuda.synchronize()
            dt = time.time() - d0
            print(json.dumps(dict(base, mode="cuda-graph", decode_tokens_per_s=round(a.tokens / dt, 1),
                                  ms_per_token=round(1000 * dt / a.tokens, 4))), flush=True)
        except Exception as e:  # report, do not hide: the eager line above stands
            traceback.print_exc()
            print(json.dumps(dict(base, mode="cuda-graph", error=repr(e))), flush=True)


if __name__ == "__main__":
    sys.exit(main())
