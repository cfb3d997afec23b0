"""PyTorch reference for bench/iteration.ts: one AdvSemiSeg iteration (Hung et al., BMVC 2018; the released train.py) on the same shapes.

Prints one JSON line: {"step_ms": [...], "conv_gflop": <conv FLOPs of one step, approximate>,
"torch": version, "threads": n, "conv_ms": <conv kernel time per step, with --conv-time>}. Run by bench/iteration.ts; standalone:
  tools/.venv/bin/python bench/iteration_torch.py --depth 18 --width 16 --crop 64 --batch 8 --ndf 16
"""
import json
import time

import torch
import torch.nn.functional as F

from torch_common import DeepLabV2, FCDiscriminator, bce, shape_arguments, stand_in_batches


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

    def step():
        opt_g.zero_grad(set_to_none=True)
        opt_d.zero_grad(set_to_none=True)
        for p in D.parameters():
            p.requires_grad_(False)
        pred_u = G(xu)
        d_u = D(F.softmax(pred_u, dim=1))
        l_semi_adv = 0.001 * bce(d_u, 1.0)
        conf = torch.sigmoid(d_u).detach().squeeze(1)
        pseudo = pred_u.detach().argmax(1)
        pseudo[conf < 0.2] = 255
        l_semi = 0.1 * F.cross_entropy(pred_u, pseudo, ignore_index=255) if (pseudo != 255).any() else 0
        (l_semi + l_semi_adv).backward()
        pred_l = G(xl)
        ignore = yl == 255
        l_ce = F.cross_entropy(pred_l, yl, ignore_index=255)
        l_adv = bce(D(F.softmax(pred_l, dim=1)), 1.0, ignore)
        (l_ce + 0.01 * l_adv).backward()
        for p in D.parameters():
            p.requires_grad_(True)
        fake = torch.cat([pred_l.detach(), pred_u.detach()])
        fake_mask = torch.cat([ignore, torch.zeros_like(ignore)])
        (bce(D(F.softmax(fake, dim=1)), 0.0, fake_mask) / 2).backward()
        onehot = F.one_hot(yr.clamp(max=c - 1), c).permute(0, 3, 1, 2).float() * (yr != 255).unsqueeze(1)
        (bce(D(onehot), 1.0, yr == 255) / 2).backward()
        opt_g.step()
        opt_d.step()

    for _ in range(a.warmup):
        step()
    times = []
    for _ in range(a.steps):
        t0 = time.perf_counter()
        step()
        times.append((time.perf_counter() - t0) * 1000)
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
