"""Writes PyTorch parity fixtures for deeplabv2 and fcdisc into test/fixtures/parity/.

For each case: `<case>.safetensors` holding the model's state dict (PyTorch names and layouts, F32)
and, under `fixture.*` names, the input, a fixed random weighting R, the training-mode output, the
BN running statistics after that forward, the eval-mode output, and the gradients of
loss = sum(output * R) w.r.t. the input and every parameter. Activations are NHWC (as tfjs holds
them); parameters and their gradients are in PyTorch layout (the loader converts them).
The reference is computed in float64 and stored as float32.

Run: tools/.venv/bin/python tools/make_model_fixtures.py   (after tools/setup-venv.sh)
"""
import json
import os
import sys

import torch
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(__file__))
from torch_models import DeepLabV2, FCDiscriminator  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'parity')


def nhwc(t):
    return t.permute(0, 2, 3, 1).contiguous()


def make_case(name, model, x, config, extra_meta=None):
    model = model.double()
    x = x.double().requires_grad_(True)
    state0 = {k: v.detach().float().clone() for k, v in model.state_dict().items() if not k.endswith('num_batches_tracked')}
    model.train()
    out = model(x)
    gen = torch.Generator().manual_seed(1234)
    r = torch.rand(out.shape, generator=gen, dtype=torch.float64) * 2 - 1
    loss = (out * r).sum()
    loss.backward()
    fixture = {
        'fixture.input': nhwc(x.detach()),
        'fixture.weighting': nhwc(r),
        'fixture.output_train': nhwc(out.detach()),
        'fixture.loss': loss.detach().reshape(1),
        'fixture.grad.input': nhwc(x.grad),
    }
    for pname, p in model.named_parameters():
        fixture['fixture.grad.' + pname] = p.grad
    for bname, b in model.named_buffers():
        if 'running' in bname:
            fixture['fixture.after.' + bname] = b.detach()
    model.eval()
    with torch.no_grad():
        fixture['fixture.output_eval'] = nhwc(model(x.detach()))
    tensors = dict(state0)
    tensors.update({k: v.float().contiguous() for k, v in fixture.items()})
    meta = {'config': json.dumps(config), 'torch': torch.__version__}
    if extra_meta:
        meta.update(extra_meta)
    path = os.path.join(OUT, name + '.safetensors')
    save_file(tensors, path, metadata=meta)
    print(f'{path}: {os.path.getsize(path) / 1024:.0f} KiB, loss {loss.item():.6f}, output {tuple(out.shape)}')


def write_names(name, model):
    """State-dict names and shapes (PyTorch layout) of a model, for the naming test."""
    entries = [[k, list(v.shape)] for k, v in model.state_dict().items()]
    path = os.path.join(OUT, name + '.json')
    with open(path, 'w') as f:
        json.dump(entries, f, separators=(',', ':'))
    print(f'{path}: {len(entries)} entries')


def main():
    os.makedirs(OUT, exist_ok=True)
    # The released ResNet-101 naming (4 classifier branches as in the checkpoint), at width 8 to keep it small.
    write_names('deeplabv2_r101_w8_names', DeepLabV2(depth=101, base_width=8, num_classes=21, rates=(6, 12, 18, 24)))
    torch.manual_seed(0)
    for up in ('bilinear', 'transposed'):
        cfg = {'depth': 18, 'base_width': 4, 'num_classes': 3, 'rates': [2, 3], 'upsampling': up}
        model = DeepLabV2(depth=18, base_width=4, num_classes=3, rates=(2, 3), upsampling=up)
        # BN weights/biases away from 1/0 so the affine path is exercised.
        with torch.no_grad():
            for m in model.modules():
                if isinstance(m, torch.nn.BatchNorm2d):
                    m.weight.uniform_(0.5, 1.5)
                    m.bias.uniform_(-0.2, 0.2)
                    m.running_mean.uniform_(-0.1, 0.1)
                    m.running_var.uniform_(0.5, 1.5)
                if isinstance(m, torch.nn.Conv2d):
                    # N(0, 0.01) makes a 4-wide net's logits ~1e-4; a He-like scale keeps the
                    # comparison meaningful (the layer structure is what is under test).
                    fan_in = m.weight.shape[1] * m.weight.shape[2] * m.weight.shape[3]
                    m.weight.normal_(0, (2.0 / fan_in) ** 0.5)
        x = torch.randn(2, 3, 41, 41)
        make_case(f'deeplabv2_r18_{up}', model, x, cfg)
    cfg = {'ndf': 4, 'num_classes': 3, 'leaky_slope': 0.2}
    disc = FCDiscriminator(num_classes=3, ndf=4, slope=0.2)
    make_case('fcdisc', disc, torch.softmax(torch.randn(2, 3, 64, 64), dim=1), cfg)


if __name__ == '__main__':
    main()
