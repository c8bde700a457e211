"""Distributions with known mutual information (and Lautum information), and their registry.

>>> from mibound import tasks
>>> task = tasks.get("gaussian-20x20-mi-2")
>>> x, y = task.sample(1000, seed=0)
>>> x.shape, y.shape, round(task.mutual_information, 6)
((1000, 20), (1000, 20), 2.0)
"""

from mibound.tasks.base import Task, TaskSummary
from mibound.tasks.conditional import (
    ConditionalGaussianTask,
    conditional_gaussian,
    conditional_names,
    get_conditional,
)
from mibound.tasks.discrete import DiscreteTask, binary_symmetric_channel, categorical_copy
from mibound.tasks.gaussian import (
    GaussianTask,
    gaussian,
    gaussian_from_covariance,
    gaussian_summary,
)
from mibound.tasks.latent import LinearGaussianTask, linear_gaussian, linear_gaussian_summary
from mibound.tasks.mixed import LabelMixtureTask, UniformShiftTask, label_mixture, uniform_shift
from mibound.tasks.mixture import (
    GaussianMixtureTask,
    gaussian_mixture,
    gaussian_mixture_clusters,
    x_mixture,
)
from mibound.tasks.noise import UniformNoiseTask, uniform_noise
from mibound.tasks.registry import STAIRCASE, families, get, names, register, summaries
from mibound.tasks.student import (
    StudentTTask,
    student_t,
    student_t_correction,
    student_t_summary,
)
from mibound.tasks.transforms import (
    ASINH,
    CUBE,
    HALF_CUBE,
    NORMAL_CDF,
    Transform,
    TransformedTask,
    spiral,
    transformed,
    transformed_summary,
    wiggly,
)

__all__ = [
    "ASINH",
    "CUBE",
    "HALF_CUBE",
    "NORMAL_CDF",
    "STAIRCASE",
    "ConditionalGaussianTask",
    "DiscreteTask",
    "GaussianMixtureTask",
    "GaussianTask",
    "LabelMixtureTask",
    "LinearGaussianTask",
    "StudentTTask",
    "Task",
    "TaskSummary",
    "Transform",
    "TransformedTask",
    "UniformNoiseTask",
    "UniformShiftTask",
    "binary_symmetric_channel",
    "categorical_copy",
    "conditional_gaussian",
    "conditional_names",
    "families",
    "gaussian",
    "gaussian_from_covariance",
    "gaussian_mixture",
    "gaussian_mixture_clusters",
    "gaussian_summary",
    "get",
    "get_conditional",
    "label_mixture",
    "linear_gaussian",
    "linear_gaussian_summary",
    "names",
    "register",
    "spiral",
    "student_t",
    "student_t_correction",
    "student_t_summary",
    "summaries",
    "transformed",
    "transformed_summary",
    "uniform_noise",
    "uniform_shift",
    "wiggly",
    "x_mixture",
]
