/**
 * Hugging Face checkpoints: {@link dev.aphelion.tritter.hf.HfModel#load} reads a {@code
 * BitNetForCausalLM} model directory ({@code config.json}, one or several safetensors shards) in
 * transformers' packed or master-weight forms into a {@link dev.aphelion.tritter.model.DecoderModel}.
 */
package dev.aphelion.tritter.hf;
