"""PyTorch reference for bench/iteration.ts: one AdvSemiSeg iteration (Hung et al., BMVC 2018; the released train.py) on the same shapes.

Prints one JSON line: {"step_ms": [...], "conv_gflop": <conv FLOPs of one step, approximate>,
"torch": version, "threads": n, "conv_ms": <conv kernel time per step, with --conv-time>}. Run by bench/iteration.ts; standalone:
  tools/.venv/bin/python bench/iteration_torch.py --depth 18 --width 16 --crop 64 --batch 8 --ndf 16
"""
import json

import torch

from torch_common import DeepLabV2, FCDiscriminator, shape_arguments, stand_in_batches, step_times_ms, trainer_step


def conv_flops(model, x):
    """Forward multiply-add FLOPs (2·MAC) of every Conv2d/ConvTranspose2d for input x."""
    total = [0]

    def hook(m, inp, out):
        k = m.weight.shape[2] * m.weight.shape[3]
        if isinstance(m, torch.nn.ConvTranspose2d):
            total[0] += 2 * inp[0].numel() * m.out_channels * k
        else:
            total[0] += 2 * out.numel() * m.in_channels * k // m.groups

    hs = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d))]
    with torch.no_grad():
        model(x)
    for h in hs:
        h.remove()
    return total[0]


def main():
    ap = shape_arguments(__doc__, rates='1,2,3,4', steps=5, warmup=2)
    ap.add_argument('--bn-affine', choices=['trainable', 'frozen'], default='trainable')
    ap.add_argument('--conv-time', action='store_true', help='also time the convolution kernels of 3 more steps with torch.profiler')
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    G = DeepLabV2(depth=a.depth, base_width=a.width, num_classes=a.classes, rates=[int(r) for r in a.rates.split(',')])
    D = FCDiscriminator(a.classes, ndf=a.ndf)
    # The reference freezes BN affine parameters (its DeepLab-v2 keeps them fixed); the mini-VOC experiments train them.
    for m in G.modules():
        if a.bn_affine == 'frozen' and isinstance(m, torch.nn.BatchNorm2d):
            m.weight.requires_grad_(False)
            m.bias.requires_grad_(False)
    G.train()
    D.train()
    opt_g = torch.optim.SGD([p for p in G.parameters() if p.requires_grad], lr=2.5e-4, momentum=0.9)
    opt_d = torch.optim.Adam(D.parameters(), lr=1e-4, betas=(0.9, 0.99))
    n, c, s = a.batch, a.classes, a.crop
    xl, xu, yl, yr = stand_in_batches(a)

    flops_g = conv_flops(G, xl)
    flops_d = conv_flops(D, torch.zeros(n, c, s, s))
    # Forward conv FLOPs per step: G on 2 batches; D on labeled + unlabeled (G branch), 2 fake, 1 real.
    fwd = 2 * flops_g + 5 * flops_d
    # Backward ≈ 2× forward (dX and dW), so a training step ≈ 3× its forward conv FLOPs.
    step_flops = 3 * fwd

    step = trainer_step(G, D, opt_g, opt_d, (xl, xu, yl, yr), c)
    times = step_times_ms(step, a.warmup, a.steps)
    out = {'step_ms': times, 'conv_gflop': step_flops / 1e9, 'torch': torch.__version__, 'threads': torch.get_num_threads()}
    if a.conv_time:
        out['conv_ms'] = conv_kernel_ms(step, 3)
    print(json.dumps(out))


def conv_kernel_ms(step, n):
    """Self time of the convolution kernels (forward, and backward dX + dW) per step, from torch.profiler."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(n):
            step()
    conv = ('aten::mkldnn_convolution', 'aten::convolution_backward')
    return sum(e.self_cpu_time_total for e in prof.key_averages() if e.key in conv) / 1000 / n


if __name__ == '__main__':
    main()
