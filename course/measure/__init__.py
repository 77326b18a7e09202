"""The numbers the course computes about networks, each checked against PyTorch's own layers.

    course.measure.conv       convolution arithmetic: output size, parameters, MACs, receptive
                              field (ConvSpec, the single source of truth)
    course.measure.gradients  per-layer gradient norms
    course.measure.compare    every architecture measured the same way (parameters, MACs,
                              depth, latency)
    course.measure.receptive  receptive fields of whole networks, checked by backpropagation
    course.measure.memory     training memory counted per layer (a lower bound)
    course.measure.probe      one forward pass with hooks, which those two read

Per-layer summaries of a whole model are in ``course.models.summary``.
"""
