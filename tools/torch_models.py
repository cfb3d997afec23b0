"""PyTorch reference networks mirroring plugins/models/deeplabv2 and plugins/discriminators/fcdisc.

DeepLab-v2 follows AdvSemiSeg's model/deeplab.py (Caffe-style bottleneck with the stride on the
first 1x1 conv, output stride 8 by dilation, ceil-mode max-pool, projection shortcut on each
stage's first block) generalised to other depths and widths; the classifier SUMS all its branches
(pass rates=[6, 12] for the released two-branch behaviour). State-dict names equal the released
model's, plus `upsample.{0,1,2}` for base-101's transposed-conv upsampling.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

DEPTHS = {
    18: ('basic', [2, 2, 2, 2]),
    34: ('basic', [3, 4, 6, 3]),
    50: ('bottleneck', [3, 4, 6, 3]),
    101: ('bottleneck', [3, 4, 23, 3]),
    152: ('bottleneck', [3, 8, 36, 3]),
}


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride=1, dilation=1, downsample=None, bn_kw=None):
        super().__init__()
        bn_kw = bn_kw or {}
        self.conv1 = nn.Conv2d(inplanes, planes, 1, stride=stride, bias=False)
        self.bn1 = nn.BatchNorm2d(planes, **bn_kw)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=1, padding=dilation, dilation=dilation, bias=False)
        self.bn2 = nn.BatchNorm2d(planes, **bn_kw)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4, **bn_kw)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        residual = x if self.downsample is None else self.downsample(x)
        return self.relu(out + residual)


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, dilation=1, downsample=None, bn_kw=None):
        super().__init__()
        bn_kw = bn_kw or {}
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride=stride, padding=dilation, dilation=dilation, bias=False)
        self.bn1 = nn.BatchNorm2d(planes, **bn_kw)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=1, padding=dilation, dilation=dilation, bias=False)
        self.bn2 = nn.BatchNorm2d(planes, **bn_kw)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        residual = x if self.downsample is None else self.downsample(x)
        return self.relu(out + residual)


class ClassifierModule(nn.Module):
    def __init__(self, inplanes, rates, num_classes):
        super().__init__()
        self.conv2d_list = nn.ModuleList(
            [nn.Conv2d(inplanes, num_classes, 3, stride=1, padding=r, dilation=r, bias=True) for r in rates])
        for m in self.conv2d_list:
            m.weight.data.normal_(0, 0.01)

    def forward(self, x):
        out = self.conv2d_list[0](x)
        for conv in self.conv2d_list[1:]:
            out = out + conv(x)
        return out


class DeepLabV2(nn.Module):
    def __init__(self, depth=101, base_width=64, num_classes=21, rates=(6, 12, 18, 24), upsampling='bilinear',
                 bn_momentum=0.1, bn_eps=1e-5):
        super().__init__()
        kind, layers = DEPTHS[depth]
        block = Bottleneck if kind == 'bottleneck' else BasicBlock
        self.bn_kw = dict(momentum=bn_momentum, eps=bn_eps)
        w = base_width
        self.inplanes = w
        self.conv1 = nn.Conv2d(3, w, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(w, **self.bn_kw)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1, ceil_mode=True)
        self.layer1 = self._make_layer(block, w, layers[0])
        self.layer2 = self._make_layer(block, w * 2, layers[1], stride=2)
        self.layer3 = self._make_layer(block, w * 4, layers[2], stride=1, dilation=2)
        self.layer4 = self._make_layer(block, w * 8, layers[3], stride=1, dilation=4)
        self.layer5 = ClassifierModule(w * 8 * block.expansion, list(rates), num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                m.weight.data.normal_(0, 0.01)
            elif isinstance(m, nn.BatchNorm2d):
                m.weight.data.fill_(1)
                m.bias.data.zero_()
        self.upsampling = upsampling
        if upsampling == 'transposed':
            self.upsample = nn.Sequential(
                nn.ConvTranspose2d(num_classes, num_classes, 1, stride=2, padding=0),
                nn.ConvTranspose2d(num_classes, num_classes, 7, stride=2, padding=3),
                nn.ConvTranspose2d(num_classes, num_classes, 7, stride=2, padding=3),
            )

    def _make_layer(self, block, planes, blocks, stride=1, dilation=1):
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion or dilation > 1:
            downsample = nn.Sequential(
                nn.Conv2d(self.inplanes, planes * block.expansion, 1, stride=stride, bias=False),
                nn.BatchNorm2d(planes * block.expansion, **self.bn_kw))
        layers = [block(self.inplanes, planes, stride, dilation=dilation, downsample=downsample, bn_kw=self.bn_kw)]
        self.inplanes = planes * block.expansion
        for _ in range(1, blocks):
            layers.append(block(self.inplanes, planes, dilation=dilation, bn_kw=self.bn_kw))
        return nn.Sequential(*layers)

    def logits(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.layer5(x)

    def forward(self, x):
        h, w = x.shape[2:]
        y = self.logits(x)
        if self.upsampling == 'transposed':
            y = self.upsample(y)
            if y.shape[2] >= h and y.shape[3] >= w:
                return y[:, :, :h, :w]
        return F.interpolate(y, size=(h, w), mode='bilinear', align_corners=True)


class FCDiscriminator(nn.Module):
    """AdvSemiSeg's model/discriminator.py, plus the training script's upsample of its output."""

    def __init__(self, num_classes, ndf=64, slope=0.2):
        super().__init__()
        self.conv1 = nn.Conv2d(num_classes, ndf, 4, stride=2, padding=1)
        self.conv2 = nn.Conv2d(ndf, ndf * 2, 4, stride=2, padding=1)
        self.conv3 = nn.Conv2d(ndf * 2, ndf * 4, 4, stride=2, padding=1)
        self.conv4 = nn.Conv2d(ndf * 4, ndf * 8, 4, stride=2, padding=1)
        self.classifier = nn.Conv2d(ndf * 8, 1, 4, stride=2, padding=1)
        self.leaky_relu = nn.LeakyReLU(negative_slope=slope, inplace=True)

    def forward(self, x):
        h, w = x.shape[2:]
        for conv in (self.conv1, self.conv2, self.conv3, self.conv4):
            x = self.leaky_relu(conv(x))
        x = self.classifier(x)
        return F.interpolate(x, size=(h, w), mode='bilinear', align_corners=True)
