#!/usr/bin/env python3
"""PyTorch reference for one mean-teacher iteration with CutMix and one with ClassMix, written to
test/fixtures/method/mean-teacher.json (test/methods/mean-teacher-parity.test.ts replays it).

The reference code follows the authors' released scripts, re-typed for modern PyTorch:
  - CutMix: Britefury/cutmix-semisup-seg train_seg_semisup_mask_mt.py l.287-467 (mask_mode mix,
    cons_loss_fn var, conf_per_pixel off), mask_gen.py BoxMaskGenerator.generate_params l.57-117,
    optim_weight_ema.py EMAWeightOptimizer;
  - ClassMix: WilhelmT/ClassMix trainSSL.py l.354-499 (mix_mask class, consistency_loss CE,
    pixel_weight threshold_uniform), transformmasks.generate_class_mask, transformsgpu.mix,
    update_ema_variables.
Two inputs come from ablate's side instead of numpy's global generator, so both sides use the same
numbers: the uniforms BoxMaskGenerator draws (replayed in its order of draws) and, for ClassMix,
which half of the present classes is kept (the present classes of lowest priority, one uniform
priority per image and class: ablate's way of drawing np.random.choice(n, n // 2, replace=False)).
CutMix mixes image i with image (i + 1) mod N of the same batch, as ClassMix does, where the
released CutMix script draws the partner from a second loader.

    tools/.venv/bin/python tools/make_mean_teacher_fixtures.py
"""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from make_method_fixtures import IGNORE, TinyG, dump, flat, nhwc

torch.manual_seed(1)
NUM_CLASSES, N, H, W = 3, 2, 8, 8
LR = 2.5e-3


class Replay:
    """np.random.RandomState.uniform over a fixed list of uniforms in [0, 1), in draw order."""

    def __init__(self, uniforms):
        self.u = list(uniforms)

    def uniform(self, low=0.0, high=1.0, size=None):
        count = int(np.prod(size))
        out = np.array([self.u.pop(0) for _ in range(count)], dtype=np.float64).reshape(size)
        return low + (high - low) * out


def box_masks(prop_range, n_boxes, mask_shape, rng, n_masks):
    """mask_gen.py BoxMaskGenerator.generate_params, prop_by_area, random aspect, within bounds, invert."""
    mask_props = rng.uniform(prop_range[0], prop_range[1], size=(n_masks, n_boxes))
    zero_mask = mask_props == 0.0
    y_props = np.exp(rng.uniform(low=0.0, high=1.0, size=(n_masks, n_boxes)) * np.log(mask_props))
    x_props = mask_props / y_props
    fac = np.sqrt(1.0 / n_boxes)
    y_props *= fac
    x_props *= fac
    y_props[zero_mask] = 0
    x_props[zero_mask] = 0
    sizes = np.round(np.stack([y_props, x_props], axis=2) * np.array(mask_shape)[None, None, :])
    positions = np.round((np.array(mask_shape) - sizes) * rng.uniform(low=0.0, high=1.0, size=sizes.shape))
    rectangles = np.append(positions, positions + sizes, axis=2)
    masks = np.zeros((n_masks, 1) + mask_shape)
    for i, sample_rectangles in enumerate(rectangles):
        for y0, x0, y1, x1 in sample_rectangles:
            masks[i, 0, int(y0):int(y1), int(x0):int(x1)] = 1 - masks[i, 0, int(y0):int(y1), int(x0):int(x1)]
    return masks


def partner(t):
    return torch.cat([t[1:], t[:1]])


def optimizer(net):
    return torch.optim.SGD([{'params': net.conv1.parameters(), 'lr': LR}, {'params': net.classifier.parameters(), 'lr': LR * 10}],
                           lr=LR, momentum=0.9, weight_decay=5e-4)


def cutmix_step(student, teacher, batch, uniforms, threshold, alpha):
    """train_seg_semisup_mask_mt.py l.290-467, one iteration, unsup_batch_ratio 1, no rampup."""
    opt = optimizer(student)
    opt.zero_grad()
    logits_sup = student(batch['xl'])
    sup_loss = F.cross_entropy(logits_sup, batch['yl'], ignore_index=IGNORE)
    sup_loss.backward()
    x0 = batch['xu']
    x1 = partner(x0)
    m = torch.tensor(box_masks((0.5, 0.5), 1, (H, W), Replay(uniforms), N), dtype=torch.float32)
    x_mixed = x0 * (1 - m) + x1 * m
    with torch.no_grad():
        logits_u0_tea = teacher(x0).detach()
        logits_u1_tea = teacher(x1).detach()
    logits_cons_stu = student(x_mixed)
    logits_cons_tea = logits_u0_tea * (1 - m) + logits_u1_tea * m
    prob_cons_tea = F.softmax(logits_cons_tea, dim=1)
    prob_cons_stu = F.softmax(logits_cons_stu, dim=1)
    loss_mask = torch.ones_like(m)
    conf_tea = prob_cons_tea.max(dim=1)[0]
    conf_mask = (conf_tea >= threshold).float()[:, None, :, :]
    conf_rate = float(conf_mask.mean())
    loss_mask = loss_mask * conf_mask.mean()
    delta_prob = prob_cons_stu - prob_cons_tea
    consistency_loss = (delta_prob * delta_prob).sum(dim=1, keepdim=True)
    consistency_loss = (consistency_loss * loss_mask).mean()
    (consistency_loss * 1.0).backward()
    opt.step()
    # optim_weight_ema.py step(): every float tensor of the state dict
    with torch.no_grad():
        for tgt_p, src_p in zip(teacher.state_dict().values(), student.state_dict().values()):
            tgt_p.mul_(alpha)
            tgt_p.add_(src_p * (1.0 - alpha))
    return {'loss_seg': sup_loss.item(), 'loss_cons': consistency_loss.item(), 'conf_ratio': conf_rate}, (1 - m[:, 0]), conf_tea


def classmix_step(student, teacher, batch, priorities, threshold, i_iter):
    """trainSSL.py l.357-499, one iteration, no flip / colour jitter / blur."""
    opt = optimizer(student)
    opt.zero_grad()
    pred = student(batch['xl'])
    L_l = F.cross_entropy(pred, batch['yl'], ignore_index=IGNORE)
    images_remain = batch['xu']
    logits_u_w = teacher(images_remain)
    softmax_u_w = torch.softmax(logits_u_w.detach(), dim=1)
    max_probs, argmax_u_w = torch.max(softmax_u_w, dim=1)
    masks = []
    for image_i in range(N):
        classes = torch.unique(argmax_u_w[image_i])
        classes = classes[classes != IGNORE]
        nclasses = classes.shape[0]
        order = sorted(classes.tolist(), key=lambda c: priorities[image_i][c])
        chosen = torch.tensor(order[:int((nclasses - nclasses % 2) / 2)], dtype=torch.long)
        pred_i, cls = torch.broadcast_tensors(argmax_u_w[image_i].unsqueeze(0), chosen.unsqueeze(1).unsqueeze(2))
        masks.append(pred_i.eq(cls).sum(0).unsqueeze(0))
    MixMask = torch.cat(masks).float()

    def mix(mask, data):
        return torch.cat([(mask[i] * data[i] + (1 - mask[i]) * data[(i + 1) % data.shape[0]]).unsqueeze(0) for i in range(data.shape[0])])

    inputs_u_s = mix(MixMask, images_remain)
    logits_u_s = student(inputs_u_s)
    softmax_u_w_mixed = mix(MixMask, softmax_u_w)
    max_probs, pseudo_label = torch.max(softmax_u_w_mixed, dim=1)
    unlabeled_weight = torch.sum(max_probs.ge(threshold).long() == 1).item() / np.size(np.array(pseudo_label.cpu()))
    pixelWiseWeight = unlabeled_weight * torch.ones(max_probs.shape)
    L_u = 1.0 * torch.mean(nn.CrossEntropyLoss(ignore_index=IGNORE, reduction='none')(logits_u_s, pseudo_label) * pixelWiseWeight)
    loss = L_l + L_u
    loss.backward()
    opt.step()
    alpha_teacher = min(1 - 1 / (i_iter + 1), 0.99)
    with torch.no_grad():
        for ema_param, param in zip(teacher.parameters(), student.parameters()):
            ema_param.data[:] = alpha_teacher * ema_param[:].data[:] + (1 - alpha_teacher) * param[:].data[:]
    return {'loss_seg': L_l.item(), 'loss_cons': L_u.item(), 'conf_ratio': unlabeled_weight}, MixMask, max_probs


def gap_threshold(conf):
    """A threshold in the widest gap near the median of the teacher's confidences: float noise cannot flip a pixel."""
    c = np.sort(conf.reshape(-1).numpy())
    mid = len(c) // 2
    gap, i = max((c[j + 1] - c[j], j) for j in range(mid - len(c) // 4, mid + len(c) // 4))
    return float((c[i] + c[i + 1]) / 2), float(gap)


def state(net, prefix):
    return {f'{prefix}/{k}': flat(v) for k, v in net.state_dict().items()}


def main():
    student0 = TinyG(NUM_CLASSES)
    init = {k: v.clone() for k, v in student0.state_dict().items()}
    y = torch.randint(0, NUM_CLASSES, (N, H, W))
    y[:, -1, :] = IGNORE
    batch = {'xl': torch.randn(N, 3, H, W) * 50, 'yl': y, 'xu': torch.randn(N, 3, H, W) * 50}
    rng = np.random.RandomState(3)
    scenarios = {}
    for name in ('cutmix', 'classmix'):
        iteration = 0 if name == 'cutmix' else 5
        uniforms = rng.uniform(size=N * 4).tolist() if name == 'cutmix' else rng.uniform(size=N * NUM_CLASSES).tolist()
        priorities = np.array(uniforms).reshape(N, NUM_CLASSES).tolist() if name == 'classmix' else None
        # a first pass only for the confidences, then the real one with a threshold in a gap
        probe_s, probe_t = TinyG(NUM_CLASSES), TinyG(NUM_CLASSES)
        probe_s.load_state_dict(init)
        probe_t.load_state_dict(init)
        conf = (cutmix_step(probe_s, probe_t, batch, uniforms, 0.5, 0.99) if name == 'cutmix' else classmix_step(probe_s, probe_t, batch, priorities, 0.5, iteration))[2]
        threshold, gap = gap_threshold(conf)
        student, teacher = TinyG(NUM_CLASSES), TinyG(NUM_CLASSES)
        student.load_state_dict(init)
        teacher.load_state_dict(init)
        scalars, keep_mask, _ = (cutmix_step(student, teacher, batch, uniforms, threshold, 0.99) if name == 'cutmix'
                                 else classmix_step(student, teacher, batch, priorities, threshold, iteration))
        print(f'{name}: threshold {threshold:.6f} (gap {gap:.1e}), {scalars}')
        scenarios[name] = {'iteration': iteration, 'threshold': threshold, 'uniforms': uniforms, 'scalars': scalars,
                           'mask': keep_mask.numpy().astype(np.float64).tolist(),
                           'student': state(student, 'model'), 'teacher': state(teacher, 'trainer/teacher')}
    dump('mean-teacher.json', {
        'num_classes': NUM_CLASSES, 'lr': LR,
        'init': {f'model/{k}': {'shape': list(v.shape), 'values': flat(v)} for k, v in init.items()},
        'batch': {'xl': nhwc(batch['xl']), 'yl': batch['yl'].tolist(), 'xu': nhwc(batch['xu'])},
        'scenarios': scenarios,
    })


if __name__ == '__main__':
    main()
