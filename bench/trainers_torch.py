"""PyTorch reference for bench/trainers.ts: one iteration of each trainer on the same shapes.

supervised: G fwd/bwd on a labeled batch (CE), SGD step.
adversarial: + λ_adv BCE through D on the labeled prediction, D on fake (labeled) and real (one-hot).
adversarial-semi: the released train.py of Hung et al. (BMVC 2018): unlabeled branch with semi-adv
  BCE + masked pseudo-label CE first.
Random tensors stand in for data (the ablate side reads real mini-VOC batches through its loader).

Prints one JSON line: {"trainers": {"supervised": {"step_ms": [...]}, ...}, "torch": ver, "threads": n}.
  tools/.venv/bin/python bench/trainers_torch.py --depth 18 --width 16 --crop 64 --batch 8 --ndf 16 --rates 2,4
"""
import json
import time

import torch
import torch.nn.functional as F

from torch_common import DeepLabV2, FCDiscriminator, bce, shape_arguments, stand_in_batches


def main():
    ap = shape_arguments(__doc__, rates='2,4', steps=10, warmup=3)
    ap.add_argument('--trainers', default='supervised,adversarial,adversarial-semi')
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    n, c, s = a.batch, a.classes, a.crop
    xl, xu, yl, yr = stand_in_batches(a)
    out = {}
    for trainer in a.trainers.split(','):
        G = DeepLabV2(depth=a.depth, base_width=a.width, num_classes=c, rates=[int(r) for r in a.rates.split(',')])
        D = FCDiscriminator(c, ndf=a.ndf)
        G.train()
        D.train()
        opt_g = torch.optim.SGD(G.parameters(), lr=2.5e-3, momentum=0.9, weight_decay=5e-4)
        opt_d = torch.optim.Adam(D.parameters(), lr=1e-4, betas=(0.9, 0.99))
        adv = trainer != 'supervised'
        semi = trainer == 'adversarial-semi'

        def step():
            opt_g.zero_grad(set_to_none=True)
            opt_d.zero_grad(set_to_none=True)
            for p in D.parameters():
                p.requires_grad_(False)
            pred_u = None
            if semi:
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
            loss = F.cross_entropy(pred_l, yl, ignore_index=255)
            if adv:
                loss = loss + 0.01 * bce(D(F.softmax(pred_l, dim=1)), 1.0, ignore)
            loss.backward()
            if adv:
                for p in D.parameters():
                    p.requires_grad_(True)
                fake, fake_mask = pred_l.detach(), ignore
                if semi:
                    fake = torch.cat([fake, pred_u.detach()])
                    fake_mask = torch.cat([ignore, torch.zeros_like(ignore)])
                (bce(D(F.softmax(fake, dim=1)), 0.0, fake_mask) / 2).backward()
                onehot = F.one_hot(yr.clamp(max=c - 1), c).permute(0, 3, 1, 2).float() * (yr != 255).unsqueeze(1)
                (bce(D(onehot), 1.0, yr == 255) / 2).backward()
            opt_g.step()
            if adv:
                opt_d.step()

        for _ in range(a.warmup):
            step()
        times = []
        for _ in range(a.steps):
            t0 = time.perf_counter()
            step()
            times.append((time.perf_counter() - t0) * 1000)
        out[trainer] = {'step_ms': times}
    print(json.dumps({'trainers': out, 'torch': torch.__version__, 'threads': torch.get_num_threads()}))


if __name__ == '__main__':
    main()
