#!/usr/bin/env python3
"""PyTorch reference values for the method's components (losses, optimizers, poly schedules, one
adversarial-semi trainer iteration), written as small JSON files under test/fixtures/method/.

The reference code below follows hfslyc/AdvSemiSeg train.py (Hung et al., BMVC 2018) and the
ICLR 2018 reproduction's poly_lr_scheduler, re-typed for modern PyTorch. Run with the project venv:

    bash tools/setup-venv.sh && tools/.venv/bin/python tools/make_method_fixtures.py

Layouts in the JSON files are the TypeScript side's: images and logits NHWC, labels NHW; network
weights keep PyTorch's OIHW layout and state-dict names (the test plugin transposes them).
"""
import json
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'method')
IGNORE = 255
torch.manual_seed(0)
np.random.seed(0)


def nhwc(t):
    """NCHW tensor -> nested list in NHWC."""
    return t.detach().permute(0, 2, 3, 1).contiguous().numpy().astype(np.float64).round(8).tolist()


def flat(t):
    return t.detach().contiguous().numpy().astype(np.float64).reshape(-1).round(9).tolist()


def dump(name, obj):
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, name)
    with open(path, 'w') as f:
        json.dump(obj, f, separators=(',', ':'))
    print(f'wrote {os.path.relpath(path)} ({os.path.getsize(path)} bytes)')


# ─── losses (utils/loss.py semantics) ──────────────────────────────────────────────────────────

def ce2d(pred, target):
    """CrossEntropy2d: mean CE over pixels with 0 <= t != 255 (== cross_entropy(ignore_index=255))."""
    return F.cross_entropy(pred, target, ignore_index=IGNORE)


def bce2d(pred, target):
    """BCEWithLogitsLoss2d: mean BCE-with-logits over pixels whose target map is not 255."""
    mask = (target >= 0) & (target != IGNORE)
    return F.binary_cross_entropy_with_logits(pred[mask], target[mask])


def make_d_label(value, ignore_mask):
    label = np.ones(ignore_mask.shape) * value
    label[ignore_mask] = IGNORE
    return torch.tensor(label, dtype=torch.float32)


def loss_fixtures():
    n, c, h, w = 2, 4, 3, 5
    logits = torch.randn(n, c, h, w) * 2
    labels = torch.randint(0, c, (n, h, w))
    labels[0, 0, :] = IGNORE
    labels[1, 2, 1:3] = IGNORE
    lg = logits.clone().requires_grad_(True)
    ce = ce2d(lg, labels)
    ce.backward()
    out = {'ce2d': {'logits': nhwc(logits), 'labels': labels.tolist(), 'loss': ce.item(), 'grad': nhwc(lg.grad)}}

    d = torch.randn(n, 1, h, w) * 3
    ignore = (labels == IGNORE).numpy()
    bce = {}
    for case, value, mask in [('real_ignore', 1, ignore), ('fake_no_ignore', 0, np.zeros_like(ignore))]:
        dl = d.clone().requires_grad_(True)
        loss = bce2d(dl.squeeze(1), make_d_label(value, mask))
        loss.backward()
        bce[case] = {'target': value, 'ignore': mask.astype(int).tolist(), 'loss': loss.item(), 'grad': nhwc(dl.grad)}
    out['bce_adv'] = {'logits': nhwc(d), **bce}

    # semi: argmax pseudo-label, pixels with sigmoid(D) < T ignored (train.py l.356-372)
    conf = torch.sigmoid(d).squeeze(1).numpy()
    threshold = float(np.round(np.median(conf), 4)) + 1e-5
    lg = logits.clone().requires_grad_(True)
    semi_gt = np.argmax(logits.numpy(), axis=1)
    semi_ignore = conf < threshold
    semi_gt[semi_ignore] = IGNORE
    ratio = 1.0 - float(semi_ignore.sum()) / semi_ignore.size
    loss = ce2d(lg, torch.tensor(semi_gt, dtype=torch.long))
    loss.backward()
    out['semi_masked_ce'] = {'logits': nhwc(logits), 'd_logits': nhwc(d), 'threshold': threshold, 'loss': loss.item(), 'ratio': ratio, 'grad': nhwc(lg.grad)}
    dump('losses.json', out)


# ─── optimizers ────────────────────────────────────────────────────────────────────────────────

def optimizer_fixtures():
    shapes = {'a': (3, 4), 'b': (5,)}
    init = {k: torch.randn(*s) for k, s in shapes.items()}
    grads = [{k: torch.randn(*s) for k, s in shapes.items()} for _ in range(3)]
    lrs = [0.1, 0.05, 0.02]
    cases = []
    sgd_cfgs = [
        dict(momentum=0.9, dampening=0.0, nesterov=False, weight_decay=5e-4),
        dict(momentum=0.9, dampening=0.0, nesterov=True, weight_decay=1e-4),
        dict(momentum=0.5, dampening=0.1, nesterov=False, weight_decay=0.0),
        dict(momentum=0.0, dampening=0.0, nesterov=False, weight_decay=1e-2),
    ]
    adam_cfgs = [
        dict(betas=(0.9, 0.99), eps=1e-8, weight_decay=0.0),
        dict(betas=(0.8, 0.9), eps=1e-3, weight_decay=1e-2),
    ]
    for kind, cfgs in [('sgd', sgd_cfgs), ('adam', adam_cfgs)]:
        for cfg in cfgs:
            params = {k: v.clone().requires_grad_(True) for k, v in init.items()}
            groups = [{'params': [params['a']], 'lr': lrs[0]}, {'params': [params['b']], 'lr': lrs[0] * 10}]
            opt = torch.optim.SGD(groups, lr=lrs[0], **cfg) if kind == 'sgd' else torch.optim.Adam(groups, lr=lrs[0], **cfg)
            after = []
            for step in range(3):
                opt.param_groups[0]['lr'] = lrs[step]
                opt.param_groups[1]['lr'] = lrs[step] * 10
                for k in shapes:
                    params[k].grad = grads[step][k].clone()
                # step 2 leaves 'b' without a gradient: PyTorch skips it entirely
                if step == 1:
                    params['b'].grad = None
                opt.step()
                after.append({k: flat(p) for k, p in params.items()})
            opts = {k: (list(v) if isinstance(v, tuple) else v) for k, v in cfg.items()}
            cases.append({'kind': kind, 'options': opts, 'after': after})
    dump('optimizers.json', {
        'shapes': {k: list(s) for k, s in shapes.items()},
        'init': {k: flat(v) for k, v in init.items()},
        'grads': [{k: flat(v) for k, v in g.items()} for g in grads],
        'skip': {'step': 1, 'variable': 'b'},
        'lrs': lrs,
        'multipliers': {'a': 1, 'b': 10},
        'cases': cases,
    })


# ─── poly schedules ──────────────────────────────────────────────────────────────────────────

def lr_poly(base_lr, it, max_iter, power):
    """hfslyc train.py: recomputed every iteration."""
    return base_lr * ((1 - float(it) / max_iter) ** power)


def poly_lr_scheduler_staircase(base_lr, iters, lr_decay_iter, max_iter, power):
    """mohitzsh utils: updates only when iter % lr_decay_iter == 0 and iter <= max_iter, else keeps the lr."""
    lr = base_lr
    out = []
    for it in range(iters):
        if not (it % lr_decay_iter or it > max_iter):
            lr = base_lr * (1 - it / max_iter) ** power
        out.append(lr)
    return out


def schedule_fixtures():
    curves = [
        {'lr': 2.5e-4, 'power': 0.9, 'max_iterations': 50, 'every': 1, 'lrs': [lr_poly(2.5e-4, i, 50, 0.9) for i in range(50)]},
        {'lr': 1e-4, 'power': 0.9, 'max_iterations': 50, 'every': 1, 'lrs': [lr_poly(1e-4, i, 50, 0.9) for i in range(50)]},
        {'lr': 2.5e-4, 'power': 0.9, 'max_iterations': 100, 'every': 10, 'lrs': poly_lr_scheduler_staircase(2.5e-4, 120, 10, 100, 0.9)},
        {'lr': 1e-2, 'power': 2.0, 'max_iterations': 30, 'every': 7, 'lrs': poly_lr_scheduler_staircase(1e-2, 40, 7, 30, 2.0)},
    ]
    dump('poly.json', {'curves': curves})


# ─── one adversarial-semi iteration with tiny networks ───────────────────────────────────────

class TinyG(nn.Module):
    """conv3x3/s2 + ReLU + conv1x1 classifier, logits upsampled bilinearly (align_corners) to the input."""

    def __init__(self, num_classes):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, 3, stride=2, padding=1)
        self.classifier = nn.Conv2d(4, num_classes, 1)

    def forward(self, x):
        y = self.classifier(F.relu(self.conv1(x)))
        return F.interpolate(y, size=x.shape[2:], mode='bilinear', align_corners=True)


class TinyD(nn.Module):
    """Two 4x4/s2/p1 convs with LeakyReLU(0.2), output upsampled bilinearly (align_corners) to the input."""

    def __init__(self, num_classes):
        super().__init__()
        self.conv1 = nn.Conv2d(num_classes, 4, 4, stride=2, padding=1)
        self.conv2 = nn.Conv2d(4, 1, 4, stride=2, padding=1)

    def forward(self, x):
        y = self.conv2(F.leaky_relu(self.conv1(x), 0.2))
        return F.interpolate(y, size=x.shape[2:], mode='bilinear', align_corners=True)


def one_hot(label, num_classes):
    out = np.zeros((label.shape[0], num_classes, label.shape[1], label.shape[2]), dtype=np.float32)
    for i in range(num_classes):
        out[:, i, ...] = label == i
    return torch.tensor(out)


def unlabeled_branch(G, D, it, batch, cfg, out):
    xu = batch['xu']
    pred = G(xu)
    pred_remain = pred.detach()
    d_out = D(F.softmax(pred, dim=1))
    d_out_sigmoid = torch.sigmoid(d_out).detach().numpy().squeeze(1)
    ignore_mask_remain = np.zeros(d_out_sigmoid.shape).astype(bool)
    loss_semi_adv = cfg['lambda_semi_adv'] * bce2d(d_out.squeeze(1), make_d_label(1, ignore_mask_remain))
    out['loss_semi_adv'] = bce2d(d_out.squeeze(1), make_d_label(1, ignore_mask_remain)).item()
    out['confidence'] = d_out_sigmoid.reshape(-1).tolist()
    if cfg['lambda_semi'] <= 0 or it < cfg['semi_start']:
        loss_semi_adv.backward()
    else:
        semi_gt = pred.detach().numpy().argmax(axis=1)
        semi_ignore_mask = d_out_sigmoid < cfg['t_semi']
        semi_gt[semi_ignore_mask] = IGNORE
        semi_ratio = 1.0 - float(semi_ignore_mask.sum()) / semi_ignore_mask.size
        out['semi_ratio'] = semi_ratio
        if semi_ratio == 0.0:
            out['semi_skipped'] = 1
        else:
            loss_semi = cfg['lambda_semi'] * ce2d(pred, torch.tensor(semi_gt, dtype=torch.long))
            out['loss_semi'] = loss_semi.item() / cfg['lambda_semi']
            out['semi_skipped'] = 0
            (loss_semi + loss_semi_adv).backward()
    return pred_remain, ignore_mask_remain


def adv_semi_iteration(G, D, optG, optD, it, batch, cfg):
    """train.py l.308-453 with iter_size 1; the networks include the upsampling (interp)."""
    out = {}
    lr_g = lr_poly(cfg['lr_g'], it, cfg['max_iterations'], 0.9)
    lr_d = lr_poly(cfg['lr_d'], it, cfg['max_iterations'], 0.9)
    optG.param_groups[0]['lr'] = lr_g
    optG.param_groups[1]['lr'] = lr_g * 10
    optD.param_groups[0]['lr'] = lr_d
    optG.zero_grad()
    optD.zero_grad()
    for p in D.parameters():
        p.requires_grad = False
    # unlabeled
    if (cfg['lambda_semi'] > 0 or cfg['lambda_semi_adv'] > 0) and it >= cfg['semi_start_adv']:
        pred_remain, ignore_mask_remain = unlabeled_branch(G, D, it, batch, cfg, out)
    else:
        out['confidence'] = []
    # labeled
    yl = batch['yl']
    ignore_mask = (yl.numpy() == IGNORE)
    pred = G(batch['xl'])
    loss_seg = ce2d(pred, yl)
    d_out = D(F.softmax(pred, dim=1))
    loss_adv_pred = bce2d(d_out.squeeze(1), make_d_label(1, ignore_mask))
    (loss_seg + cfg['lambda_adv'] * loss_adv_pred).backward()
    out['loss_seg'] = loss_seg.item()
    out['loss_adv'] = loss_adv_pred.item()
    # D
    for p in D.parameters():
        p.requires_grad = True
    pred = pred.detach()
    if cfg['d_remain'] and 'loss_semi_adv' in out:
        pred = torch.cat((pred, pred_remain), 0)
        ignore_mask = np.concatenate((ignore_mask, ignore_mask_remain), axis=0)
    d_out = D(F.softmax(pred, dim=1))
    loss_d = bce2d(d_out.squeeze(1), make_d_label(0, ignore_mask)) / 2
    loss_d.backward()
    out['loss_d_fake'] = loss_d.item()
    ygt = batch['ygt'].numpy()
    d_out = D(one_hot(ygt, cfg['num_classes']))
    loss_d = bce2d(d_out.squeeze(1), make_d_label(1, ygt == IGNORE)) / 2
    loss_d.backward()
    out['loss_d_real'] = loss_d.item()
    optG.step()
    optD.step()
    return out


def state(net, prefix):
    return {f'{prefix}/{k}': flat(v) for k, v in net.state_dict().items()}


def run_trainer(cfg, batches, g0, d0):
    G = TinyG(cfg['num_classes'])
    D = TinyD(cfg['num_classes'])
    G.load_state_dict(g0)
    D.load_state_dict(d0)
    optG = torch.optim.SGD([{'params': G.conv1.parameters(), 'lr': cfg['lr_g']}, {'params': G.classifier.parameters(), 'lr': cfg['lr_g'] * 10}],
                           lr=cfg['lr_g'], momentum=0.9, weight_decay=5e-4)
    optD = torch.optim.Adam(D.parameters(), lr=cfg['lr_d'], betas=(0.9, 0.99))
    results = []
    for it, batch in enumerate(batches):
        scalars = adv_semi_iteration(G, D, optG, optD, it, batch, cfg)
        results.append({'scalars': scalars, 'params': {**state(G, 'model'), **state(D, 'discriminator')}})
    return results


def trainer_fixtures():
    num_classes, n, h, w = 3, 2, 8, 8
    G = TinyG(num_classes)
    D = TinyD(num_classes)
    g0 = {k: v.clone() for k, v in G.state_dict().items()}
    d0 = {k: v.clone() for k, v in D.state_dict().items()}

    def labels():
        y = torch.randint(0, num_classes, (n, h, w))
        y[:, -1, :] = IGNORE  # a void row, like crop padding
        y[0, 2, 3] = IGNORE
        return y

    iterations = 2
    batches = []
    for _ in range(iterations):
        batches.append({
            'xl': torch.randn(n, 3, h, w) * 50, 'yl': labels(),
            'xu': torch.randn(n, 3, h, w) * 50,
            'xgt': torch.randn(n, 3, h, w), 'ygt': labels(),
        })
    base = dict(num_classes=num_classes, lr_g=2.5e-3, lr_d=1e-3, max_iterations=10, lambda_adv=0.1, lambda_semi_adv=0.05,
                lambda_semi=0.5, semi_start=0, semi_start_adv=0, d_remain=True, t_semi=0.5)

    # Pick T in a wide gap of the confidences of both iterations, so float noise cannot flip a pixel.
    probe = run_trainer(base, batches, g0, d0)
    conf = np.sort(np.concatenate([np.array(r['scalars']['confidence']) for r in probe]))
    mid = len(conf) // 2
    window = range(mid - len(conf) // 4, mid + len(conf) // 4)
    gap, idx = max((conf[i + 1] - conf[i], i) for i in window)
    threshold = float((conf[idx] + conf[idx + 1]) / 2)
    scenarios = {}
    adv_only = {**base, 'lambda_semi': 0.0, 'lambda_semi_adv': 0.0, 'd_remain': False}
    for name, cfg in [('adv_semi', {**base, 't_semi': threshold}), ('semi_empty', {**base, 't_semi': 1.0}), ('adversarial', adv_only)]:
        results = run_trainer(cfg, batches, g0, d0)
        for r in results:
            margin = float(np.min(np.abs(np.array(r['scalars'].pop('confidence')) - cfg['t_semi']), initial=1.0))
            assert margin > 1e-4, f'{name}: a confidence lies within {margin:.1e} of T; pick another seed'
        scenarios[name] = {'options': {k: cfg[k] for k in ('lambda_adv', 'lambda_semi_adv', 'lambda_semi', 'semi_start', 'semi_start_adv', 'd_remain', 't_semi')},
                           'iterations': results}
    print(f'trainer: T = {threshold:.6f}, gap {gap:.2e}, ratios {[r["scalars"].get("semi_ratio") for r in scenarios["adv_semi"]["iterations"]]}')
    dump('trainer.json', {
        'num_classes': num_classes,
        'lr_g': base['lr_g'], 'lr_d': base['lr_d'], 'max_iterations': base['max_iterations'],
        'init': {**{f'model/{k}': {'shape': list(v.shape), 'values': flat(v)} for k, v in g0.items()},
                 **{f'discriminator/{k}': {'shape': list(v.shape), 'values': flat(v)} for k, v in d0.items()}},
        'batches': [{'xl': nhwc(b['xl']), 'yl': b['yl'].tolist(), 'xu': nhwc(b['xu']), 'ygt': b['ygt'].tolist()} for b in batches],
        'scenarios': scenarios,
    })


# ─── mIoU (utils/metric.py ConfusionMatrix, as evaluate_voc.py uses it) ────────────────────────

def generate_m(gt, pred, nclass):
    m = np.zeros((nclass, nclass))
    for g, p in zip(gt, pred):
        if g < nclass:
            m[g, p] += 1.0
    return m


def jaccard(m):
    per_class = [m[i, i] / (np.sum(m[i, :]) + np.sum(m[:, i]) - m[i, i]) for i in range(len(m)) if m[i, i] != 0]
    return np.sum(per_class) / len(per_class)


def metric_fixtures():
    nclass = 5
    rng = np.random.RandomState(1)
    images = []
    m = np.zeros((nclass, nclass))
    for _ in range(3):
        gt = rng.randint(0, nclass, size=6 * 7)
        pred = np.where(rng.rand(gt.size) < 0.6, gt, rng.randint(0, nclass, size=gt.size))
        pred[pred == 4] = 3   # class 4 is never predicted: TP = 0, dropped from the mean
        gt[rng.rand(gt.size) < 0.15] = 255
        images.append({'gt': gt.tolist(), 'pred': pred.tolist()})
        m += generate_m(gt, pred, nclass)
    dump('miou.json', {'num_classes': nclass, 'images': images, 'confusion': m.tolist(), 'miou': float(jaccard(m)),
                       'pixel_acc': float(np.trace(m) / m.sum())})


if __name__ == '__main__':
    metric_fixtures()
    loss_fixtures()
    optimizer_fixtures()
    schedule_fixtures()
    trainer_fixtures()
