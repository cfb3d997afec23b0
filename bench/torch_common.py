"""What the PyTorch bench references share: the shape arguments, stand-in batches and the BCE."""
import argparse
import os
import sys

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
