"""Teaching implementations written from the papers, each checked against PyTorch's own.

course.from_scratch.batchnorm  batch normalization (Ioffe & Szegedy 2015) = nn.BatchNorm2d
course.from_scratch.texture    texture synthesis from VGG features (Gram matrices)
"""
