#!/usr/bin/env python3
"""Writes tokenizer.json for the BitNet fixtures: a Llama-3-style byte-level BPE (ByteLevel
pre-tokenizer and decoder, <|begin_of_text|> prepended by a TemplateProcessing post-processor) with
no merges, so that every byte is one token. Ids: <|begin_of_text|> 0, <|end_of_text|> 1, byte b
id b for b >= 2, bytes 0 and 1 ids 256 and 257; "Hello, world" is then [0, 72, 101, 108, 108,
111, 44, 32, 119, 111, 114, 108, 100], the prompt of expected.json.

    python3 make_byte_tokenizer.py OUT/tokenizer.json
"""
import json
import sys


def bytes_to_unicode():
    """GPT-2's reversible byte -> printable character map, used by the ByteLevel pre-tokenizer."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


chars = bytes_to_unicode()
vocab = {chars[b]: (b if b >= 2 else 256 + b) for b in range(256)}
special = lambda i, s: {"id": i, "content": s, "single_word": False, "lstrip": False, "rstrip": False,
                        "normalized": False, "special": True}
bos = "<|begin_of_text|>"
tok = {
    "version": "1.0",
    "truncation": None,
    "padding": None,
    "added_tokens": [special(0, bos), special(1, "<|end_of_text|>")],
    "normalizer": None,
    "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
    "post_processor": {
        "type": "TemplateProcessing",
        "single": [{"SpecialToken": {"id": bos, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
        "pair": [{"SpecialToken": {"id": bos, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                 {"SpecialToken": {"id": bos, "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
        "special_tokens": {bos: {"id": bos, "ids": [0], "tokens": [bos]}},
    },
    "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
    "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
              "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
              "vocab": vocab, "merges": []},
}
with open(sys.argv[1], "w", encoding="utf-8") as f:
    json.dump(tok, f, ensure_ascii=False, indent=1)
