#!/usr/bin/env python3
"""Makes the tiny BitNet b1.58 fixtures that HfBitNetFixtureTest compares against.

Run on a machine with torch, transformers (5.x), safetensors, tokenizers and a CUDA GPU
(transformers' bitnet quantizer refuses to run without one):

    python3 make_bitnet_fixtures.py OUTDIR

It writes OUTDIR/bitnet-fixtures.tar holding
  bitnet-master/  BitNetForCausalLM with bf16 master weights in two shards plus
                  model.safetensors.index.json; quantization_config bitnet/autobitlinear/online,
                  so transformers quantizes the weights at every forward (WeightQuant, ActQuant)
  bitnet-packed/  the same model with the linear weights quantized once (absmean per tensor)
                  and packed by transformers' own pack_weights into uint8 [out/4, in] with a
                  bf16 weight_scale; quantization_config bitnet/bitlinear/offline
  expected.json   token ids, the f32 logits transformers computes for them with each checkpoint,
                  and greedy continuations
and OUTDIR/log.txt. Both model directories carry the same tokenizer.json (a byte-level BPE trained
here). Logits are computed in float32 with TF32 off and torch.compile disabled (eager), so they are
what the modeling code computes, without bf16 rounding of activations.
"""
import json
import os
import sys

os.environ["TORCHDYNAMO_DISABLE"] = "1"  # run transformers' @torch.compile helpers eagerly

import tarfile  # noqa: E402

import torch  # noqa: E402
import transformers  # noqa: E402
from safetensors.torch import save_file  # noqa: E402
from transformers import BitNetConfig, BitNetForCausalLM  # noqa: E402
from transformers.integrations import bitnet as hfbitnet  # noqa: E402

OUT = sys.argv[1]
WORK = os.path.join(OUT, "work")
os.makedirs(WORK, exist_ok=True)
LOG = open(os.path.join(OUT, "log.txt"), "w")


def log(*a):
    s = " ".join(str(x) for x in a)
    print(s)
    LOG.write(s + "\n")
    LOG.flush()


torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
torch.set_float32_matmul_precision("highest")
log("torch", torch.__version__, "transformers", transformers.__version__, "cuda", torch.cuda.is_available())
DEV = "cuda"

# ---------------------------------------------------------------- tokenizer (byte-level BPE)
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers  # noqa: E402

VOCAB = 320
TEXT = (
    "The quick brown fox jumps over the lazy dog. A ternary model stores every weight as -1, 0 or 1, "
    "and one scale per tensor. BitNet b1.58 quantizes activations to eight bits per token. "
    "Hello, world! Hello again, world. The dog sleeps; the fox runs far away into the green hills. "
) * 4
tok = Tokenizer(models.BPE())
tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
tok.decoder = decoders.ByteLevel()
trainer = trainers.BpeTrainer(
    vocab_size=VOCAB,
    special_tokens=["<|begin_of_text|>", "<|end_of_text|>"],
    initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    show_progress=False,
)
tok.train_from_iterator([TEXT], trainer)
BOS = tok.token_to_id("<|begin_of_text|>")
EOS = tok.token_to_id("<|end_of_text|>")
tok.post_processor = processors.TemplateProcessing(
    single="<|begin_of_text|> $A", pair="<|begin_of_text|> $A <|begin_of_text|> $B", special_tokens=[("<|begin_of_text|>", BOS)]
)
log("tokenizer vocab", tok.get_vocab_size(), "bos", BOS, "eos", EOS)
PROMPT = "The quick brown fox jumps over"
prompt_ids = tok.encode(PROMPT).ids
log("prompt ids", prompt_ids)
tok_cases = {}
for text in [PROMPT, "Hello, world!", "ternary weights: -1, 0, 1", "  spaces\tand\nnewlines", "héllo wörld €"]:
    tok_cases[text] = {"with_special": tok.encode(text).ids, "without_special": tok.encode(text, add_special_tokens=False).ids}

# ---------------------------------------------------------------- the model
torch.manual_seed(1234)
cfg_kwargs = dict(
    vocab_size=tok.get_vocab_size(),
    hidden_size=64,
    intermediate_size=192,
    num_hidden_layers=2,
    num_attention_heads=4,
    num_key_value_heads=2,
    hidden_act="relu2",
    max_position_embeddings=256,
    rms_norm_eps=1e-5,
    rope_theta=500000.0,
    tie_word_embeddings=True,
    bos_token_id=BOS,
    eos_token_id=EOS,
    attention_bias=False,
)
config = BitNetConfig(**cfg_kwargs)
model = BitNetForCausalLM(config).to(torch.float32)
with torch.no_grad():
    for name, p in model.named_parameters():
        if name.endswith("norm.weight"):
            p.copy_(1.0 + 0.2 * torch.randn_like(p))
        elif "embed_tokens" in name:
            p.copy_(0.5 * torch.randn_like(p))
        else:
            p.copy_(torch.randn_like(p) / (p.shape[-1] ** 0.5))
        p.copy_(p.to(torch.bfloat16).to(torch.float32))  # bf16-representable masters
sd = {k: v.detach().clone() for k, v in model.state_dict().items()}
log("parameters", sorted(sd.keys())[:12], "...", len(sd))

master_dir = os.path.join(WORK, "bitnet-master")
packed_dir = os.path.join(WORK, "bitnet-packed")
model.to(torch.bfloat16).save_pretrained(master_dir, max_shard_size="150KB")
log("master files", sorted(os.listdir(master_dir)))


def patch_config(d, qc):
    p = os.path.join(d, "config.json")
    c = json.load(open(p))
    c["quantization_config"] = qc
    json.dump(c, open(p, "w"), indent=2, sort_keys=True)
    return c


master_cfg = patch_config(master_dir, {"quant_method": "bitnet", "linear_class": "autobitlinear", "quantization_mode": "online"})
log("master config", json.dumps(master_cfg, sort_keys=True))

# Which way does BitLinear apply weight_scale? (Older code divides, y / (input_scale * weight_scale).)
try:
    bl = hfbitnet.BitLinear(4, 4, bias=False, dtype=torch.float32)
    bl.weight.fill_(0b10101010)  # every trit +1
    bl.weight_scale.fill_(2.0)
    with torch.no_grad():
        probe = bl(torch.tensor([[1.0, 0.0, 0.0, 0.0]])).flatten()[0].item()
    divides = abs(probe - 0.5) < 1e-6
    log("BitLinear probe with weight_scale 2:", probe, "divides" if divides else "multiplies")
except Exception as e:
    import traceback
    log("BitLinear probe failed; assuming it divides:", traceback.format_exc())
    divides = True

packed_sd = {}
for k, v in sd.items():
    if k == "lm_head.weight":
        continue
    if k.startswith("model.layers.") and k.endswith("_proj.weight"):
        w = v.to(torch.float32)
        s = 1.0 / w.abs().mean().clamp(min=1e-5)  # WeightQuant's scale
        q = (w * s).round().clamp(-1, 1)
        packed = hfbitnet.pack_weights(q.clone())
        back = hfbitnet.unpack_weights(packed, dtype=torch.float32)
        assert torch.equal(back, q), k
        packed_sd[k] = packed.contiguous()
        packed_sd[k[: -len("weight")] + "weight_scale"] = (s if divides else 1.0 / s).reshape(1).to(torch.bfloat16)
    else:
        packed_sd[k] = v.to(torch.bfloat16).contiguous()
os.makedirs(packed_dir, exist_ok=True)
save_file(packed_sd, os.path.join(packed_dir, "model.safetensors"), metadata={"format": "pt"})
for f in ["config.json", "generation_config.json"]:
    if os.path.exists(os.path.join(master_dir, f)):
        with open(os.path.join(master_dir, f)) as src, open(os.path.join(packed_dir, f), "w") as dst:
            dst.write(src.read())
patch_config(packed_dir, {"quant_method": "bitnet", "linear_class": "bitlinear", "quantization_mode": "offline"})
for d in [master_dir, packed_dir]:
    tok.save(os.path.join(d, "tokenizer.json"))
    json.dump({"bos_token": "<|begin_of_text|>", "eos_token": "<|end_of_text|>", "model_max_length": 256,
               "tokenizer_class": "PreTrainedTokenizerFast"}, open(os.path.join(d, "tokenizer_config.json"), "w"), indent=2)


def load(d):
    try:
        m = BitNetForCausalLM.from_pretrained(d, dtype=torch.float32, device_map=DEV)
    except TypeError:
        m = BitNetForCausalLM.from_pretrained(d, torch_dtype=torch.float32, device_map=DEV)
    m.eval()
    log(d, "q_proj is", type(m.model.layers[0].self_attn.q_proj).__name__, "dtype", m.dtype)
    return m


def logits_of(m, ids):
    with torch.no_grad():
        return m(torch.tensor([ids], device=DEV), use_cache=False).logits[0].float().cpu()


def greedy(m, ids, n):
    ids = list(ids)
    out = []
    for _ in range(n):
        nxt = int(logits_of(m, ids)[-1].argmax())
        out.append(nxt)
        ids.append(nxt)
    return out


ids2 = [BOS, 17, 250, 3, 99, 310, 42, 42, 7, 128, 64, 200, 1 % VOCAB, 5, 280, 11]
expected = {
    "transformers": transformers.__version__,
    "torch": torch.__version__,
    "bitlinear_divides_by_weight_scale": divides,
    "prompt": PROMPT,
    "prompt_ids": prompt_ids,
    "ids": ids2,
    "tokenizer_cases": tok_cases,
    "forms": {},
}
plain = BitNetForCausalLM(config).to(DEV).to(torch.float32)
plain.load_state_dict(sd)
plain.eval()
plain_logits = logits_of(plain, ids2)


class OnlineBitLinear(torch.nn.Module):
    """Fallback when from_pretrained cannot build the online model: transformers' own WeightQuant/ActQuant."""

    def __init__(self, lin):
        super().__init__()
        self.weight = lin.weight

    def forward(self, x):
        return torch.nn.functional.linear(hfbitnet.ActQuant.apply(x), hfbitnet.WeightQuant.apply(self.weight))


def load_or_fallback(form, d):
    try:
        return load(d), "from_pretrained"
    except Exception:
        import traceback
        log(form, "from_pretrained failed:", traceback.format_exc())
        if form != "master":
            raise
        m = BitNetForCausalLM(config).to(torch.float32)
        m.load_state_dict(sd)
        for layer in m.model.layers:
            for parent in [layer.self_attn, layer.mlp]:
                for n, c in list(parent.named_children()):
                    if isinstance(c, torch.nn.Linear):
                        setattr(parent, n, OnlineBitLinear(c))
        return m.to(DEV).eval(), "manual WeightQuant/ActQuant"


for form, d in [("master", master_dir), ("packed", packed_dir)]:
    try:
        m, how = load_or_fallback(form, d)
    except Exception:
        continue
    log(form, "loaded via", how)
    lg = logits_of(m, ids2)
    lp = logits_of(m, prompt_ids)
    g = greedy(m, prompt_ids, 16)
    try:
        gen = m.generate(torch.tensor([prompt_ids], device=DEV), attention_mask=torch.ones(1, len(prompt_ids), dtype=torch.long, device=DEV),
                         max_new_tokens=16, do_sample=False)[0].tolist()[len(prompt_ids):]
    except Exception as e:  # recorded, not fatal
        gen = "generate failed: " + repr(e)
    log(form, "greedy", g, "generate", gen, "text", repr(tok.decode(g)))
    log(form, "max |logit - unquantized logit|", float((lg - plain_logits).abs().max()), "logit range", float(lg.min()), float(lg.max()))
    expected["forms"][form] = {
        "logits_ids": lg.flatten().tolist(),
        "logits_prompt": lp.flatten().tolist(),
        "greedy": g,
        "generate": gen,
        "greedy_text": tok.decode(g),
        "loaded_via": how,
    }
    del m
if len(expected["forms"]) == 2:
    a = torch.tensor(expected["forms"]["master"]["logits_ids"])
    b = torch.tensor(expected["forms"]["packed"]["logits_ids"])
    log("max |master - packed|", float((a - b).abs().max()))
json.dump(expected, open(os.path.join(WORK, "expected.json"), "w"))
with open(os.path.join(WORK, "bitnet_integration_source.py"), "w") as f:
    import inspect
    f.write(inspect.getsource(hfbitnet))
with tarfile.open(os.path.join(OUT, "bitnet-fixtures.tar"), "w") as t:
    for name in ["bitnet-master", "bitnet-packed", "expected.json", "bitnet_integration_source.py"]:
        t.add(os.path.join(WORK, name), arcname=name)
log("done")
