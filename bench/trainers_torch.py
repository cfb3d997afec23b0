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

import torch

from torch_common import DeepLabV2, FCDiscriminator, shape_arguments, stand_in_batches, step_times_ms, trainer_step


def main():
    ap = shape_arguments(__doc__, rates='2,4', steps=10, warmup=3)
    ap.add_argument('--trainers', default='supervised,adversarial,adversarial-semi')
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    c = a.classes
    xl, xu, yl, yr = stand_in_batches(a)
    out = {}
    for trainer in a.trainers.split(','):
        G = DeepLabV2(depth=a.depth, base_width=a.width, num_classes=c, rates=[int(r) for r in a.rates.split(',')])
        D = FCDiscriminator(c, ndf=a.ndf)
        G.train()
        D.train()
        opt_g = torch.optim.SGD(G.parameters(), lr=2.5e-3, momentum=0.9, weight_decay=5e-4)
        opt_d = torch.optim.Adam(D.parameters(), lr=1e-4, betas=(0.9, 0.99))
        step = trainer_step(G, D, opt_g, opt_d, (xl, xu, yl, yr), c, adv=trainer != 'supervised', semi=trainer == 'adversarial-semi')
        times = step_times_ms(step, a.warmup, a.steps)
        out[trainer] = {'step_ms': times}
    print(json.dumps({'trainers': out, 'torch': torch.__version__, 'threads': torch.get_num_threads()}))


if __name__ == '__main__':
    main()
