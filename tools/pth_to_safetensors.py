"""Converts a PyTorch checkpoint (.pth) to safetensors with the same state-dict names.

The names stay PyTorch's (e.g. `layer3.4.conv2.weight`), layouts stay PyTorch's (OIHW); ablate's
loader (src/weights) maps both onto a network. Use it for DeepLab's COCO-init ResNet-101:

  tools/.venv/bin/python tools/pth_to_safetensors.py resnet101COCO-41f33a49.pth coco_init.safetensors
  tools/.venv/bin/python tools/pth_to_safetensors.py MS_DeepLab_resnet_pretrained_COCO_init.pth out.safetensors --strip-prefix Scale.

A checkpoint holding {'state_dict': ...} or {'model': ...} is unwrapped. Floating tensors are
written as float32 (the only type a tfjs network holds); integer buffers such as
num_batches_tracked are kept as int64 (the loader ignores them).
"""
import argparse
import sys

import torch
from safetensors.torch import save_file


def find_state_dict(obj):
    if isinstance(obj, dict) and all(isinstance(v, torch.Tensor) for v in obj.values()):
        return obj
    for key in ('state_dict', 'model', 'model_state_dict', 'net'):
        if isinstance(obj, dict) and key in obj:
            return find_state_dict(obj[key])
    if isinstance(obj, torch.nn.Module):
        return obj.state_dict()
    if isinstance(obj, dict):
        # Mixed dict (e.g. tensors plus an epoch counter): keep the tensors.
        tensors = {k: v for k, v in obj.items() if isinstance(v, torch.Tensor)}
        if tensors:
            return tensors
    raise SystemExit('pth_to_safetensors: no state dict found (expected a dict of tensors, or one under state_dict/model)')


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('src', help='input .pth / .pt file')
    ap.add_argument('dst', help='output .safetensors file')
    ap.add_argument('--strip-prefix', default='', help="removed from the start of every name (e.g. 'Scale.' or 'module.')")
    args = ap.parse_args(argv)
    # weights_only=False: old DeepLab checkpoints are plain pickles from PyTorch 0.x. Only convert
    # files you trust.
    obj = torch.load(args.src, map_location='cpu', weights_only=False)
    sd = find_state_dict(obj)
    out = {}
    for name, t in sd.items():
        if args.strip_prefix and name.startswith(args.strip_prefix):
            name = name[len(args.strip_prefix):]
        t = t.detach().cpu().contiguous()
        out[name] = t.float() if t.is_floating_point() else t
    save_file(out, args.dst, metadata={'source': args.src.rsplit('/', 1)[-1]})
    n = sum(t.numel() for t in out.values())
    print(f'{args.dst}: {len(out)} tensors, {n} values')
    return 0


if __name__ == '__main__':
    sys.exit(main())
