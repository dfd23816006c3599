# Makes the BitNet fixtures for HfBitNetFixtureTest (see docs/hf-models.md). Needs torch,
# transformers 5.x, safetensors and a CUDA GPU (transformers' bitnet quantizer wants one).
# python3 make_bitnet_fixtures.py OUTDIR  ->  OUTDIR/f.tar (bitnet-master/, bitnet-packed/, expected.json)
import os,sys,json,tarfile
os.environ["TORCHDYNAMO_DISABLE"]="1"  # transformers' @torch.compile helpers run eagerly
import torch,transformers as T
from safetensors.torch import save_file
from transformers.integrations import bitnet as B
O=sys.argv[1];W=O+"/w";torch.backends.cuda.matmul.allow_tf32=False;torch.manual_seed(1234)
c=T.BitNetConfig(vocab_size=320,hidden_size=64,intermediate_size=192,num_hidden_layers=2,num_attention_heads=4,
 num_key_value_heads=2,max_position_embeddings=256,
 tie_word_embeddings=True,bos_token_id=0,eos_token_id=1)
m=T.BitNetForCausalLM(c).float()
with torch.no_grad():
 for n,p in m.named_parameters():
  p.copy_(1+.2*torch.randn_like(p) if n.endswith("norm.weight") else .5*torch.randn_like(p) if "embed" in n else torch.randn_like(p)/p.shape[-1]**.5)
  p.copy_(p.bfloat16().float())  # bf16-representable masters
sd={k:v.clone() for k,v in m.state_dict().items()}
M=W+"/bitnet-master";P=W+"/bitnet-packed";m.bfloat16().save_pretrained(M,max_shard_size="150KB")
def qc(d,q):
 f=d+"/config.json";j=json.load(open(f));j["quantization_config"]=q;json.dump(j,open(f,"w"),indent=1)
qc(M,{"quant_method":"bitnet","linear_class":"autobitlinear","quantization_mode":"online"})
b=B.BitLinear(4,4,bias=False,dtype=torch.float32);b.weight.fill_(170);b.weight_scale.fill_(2.)
dv=abs(b(torch.tensor([[1.,0,0,0]]))[0,0].item()-.5)<1e-6  # BitLinear divides by weight_scale?
ps={}
for k,v in sd.items():
 if k=="lm_head.weight":continue
 if k.endswith("_proj.weight"):
  s=1/v.abs().mean().clamp(min=1e-5);q=(v*s).round().clamp(-1,1);k2=B.pack_weights(q.clone())
  ps[k]=k2
  ps[k[:-6]+"weight_scale"]=(s if dv else 1/s).reshape(1).bfloat16()
 else:ps[k]=v.bfloat16()
os.makedirs(P);save_file(ps,P+"/model.safetensors",metadata={"format":"pt"})
open(P+"/config.json","w").write(open(M+"/config.json").read())
qc(P,{"quant_method":"bitnet","linear_class":"bitlinear","quantization_mode":"offline"})
def lg(m,i):
 with torch.no_grad():return m(torch.tensor([i]).cuda(),use_cache=False).logits[0].float().cpu()
ids=[0,17,250,3,99,310,42,42,7,128,64,200,1,5,280,11];pr=[0,72,101,108,108,111,44,32,119,111,114,108,100]
E={"transformers":T.__version__,"bitlinear_divides":dv,"ids":ids,"prompt_ids":pr,"forms":{}}
for f,d in[("master",M),("packed",P)]:
 m=T.BitNetForCausalLM.from_pretrained(d,dtype=torch.float32,device_map="cuda").eval()
 g=list(pr);a=lg(m,ids)
 for _ in range(16):g.append(int(lg(m,g)[-1].argmax()))
 E["forms"][f]={"cls":type(m.model.layers[0].mlp.up_proj).__name__,"logits_ids":a.flatten().tolist(),
  "logits_prompt":lg(m,pr).flatten().tolist(),"greedy":g[len(pr):]}
 print(E["forms"][f]["cls"],g[len(pr):])
print(dv)
json.dump(E,open(W+"/expected.json","w"))
with tarfile.open(O+"/f.tar","w")as t:
 for n in["bitnet-master","bitnet-packed","expected.json"]:t.add(W+"/"+n,arcname=n)
