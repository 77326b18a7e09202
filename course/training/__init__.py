"""Training: ``fit`` and ``evaluate`` (``loop``), fast on a CPU, ready for GPUs, never losing work.

course.training.loop         fit, evaluate, History (read this first)
course.training.batches      Preprocess; uint8 images to normalized batches on the device
course.training.devices      device, mixed precision, torchrun processes
course.training.checkpoints  atomic saves, resume checks, safe loading
course.training.progress     bars, live plot, text lines
python -m course.training    the command line (course.training.__main__)

from course.training import fit, evaluate
"""

from course.training.batches import Preprocess
from course.training.checkpoints import CheckpointError, load_checkpoint
from course.training.loop import History, TrainingDiverged, evaluate, fit

__all__ = [
    "CheckpointError",
    "History",
    "Preprocess",
    "TrainingDiverged",
    "evaluate",
    "fit",
    "load_checkpoint",
]
