"""What the PyTorch bench references share: the shape arguments, stand-in batches, the BCE, the trainers' step and its timing."""
import argparse
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'tools'))
from torch_models import DeepLabV2, FCDiscriminator  # noqa: E402,F401  (re-exported for the scripts)


def shape_arguments(description, rates, steps, warmup):
    """An argument parser with the model/data shape options of bench/*.ts (their defaults given)."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument('--depth', type=int, default=18)
    ap.add_argument('--width', type=int, default=16)
    ap.add_argument('--classes', type=int, default=21)
    ap.add_argument('--rates', default=rates)
    ap.add_argument('--crop', type=int, default=64)
    ap.add_argument('--batch', type=int, default=8)
    ap.add_argument('--ndf', type=int, default=16)
    ap.add_argument('--steps', type=int, default=steps)
    ap.add_argument('--warmup', type=int, default=warmup)
    ap.add_argument('--threads', type=int, default=2)
    return ap


def stand_in_batches(a):
    """Random labeled/unlabeled images and labels with void (255) bands, as the TypeScript side makes them."""
    n, c, s = a.batch, a.classes, a.crop
    xl, xu = torch.randn(n, 3, s, s), torch.randn(n, 3, s, s)
    yl = torch.randint(0, c, (n, s, s))
    yl[:, :4, :] = 255
    yr = torch.randint(0, c, (n, s, s))
    yr[:, -4:, :] = 255
    return xl, xu, yl, yr


def bce(logits, target, mask=None):
    """BCE with logits against a constant target, mean over pixels not masked (mask = True: ignore)."""
    loss = F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target), reduction='none')
    if mask is None:
        return loss.mean()
    keep = (~mask).unsqueeze(1).float()
    return (loss * keep).sum() / keep.sum().clamp(min=1)


def trainer_step(G, D, opt_g, opt_d, batches, classes, adv=True, semi=True):
    """One training iteration as a closure: supervised CE; with adv, + λ_adv BCE through D and D's
    fake/real update; with semi, the released train.py of Hung et al. (BMVC 2018): the unlabeled
    branch (semi-adv BCE + masked pseudo-label CE, T_semi 0.2) first."""
    xl, xu, yl, yr = batches

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
            onehot = F.one_hot(yr.clamp(max=classes - 1), classes).permute(0, 3, 1, 2).float() * (yr != 255).unsqueeze(1)
            (bce(D(onehot), 1.0, yr == 255) / 2).backward()
        opt_g.step()
        if adv:
            opt_d.step()

    return step


def step_times_ms(step, warmup, steps):
    """Wall milliseconds of each of `steps` calls of step(), after `warmup` untimed calls."""
    for _ in range(warmup):
        step()
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        step()
        times.append((time.perf_counter() - t0) * 1000)
    return times
