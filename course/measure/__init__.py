"""The numbers the course computes about networks, each checked against PyTorch's own layers.

    course.measure.conv       convolution arithmetic: output size, parameters, MACs, receptive
                              field (ConvSpec, the single source of truth)
    course.measure.gradients  per-layer gradient norms
    course.measure.compare    every architecture measured the same way (parameters, MACs,
                              depth, latency)

Per-layer summaries of a whole model are in ``course.models.summary``.
"""
