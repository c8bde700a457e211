"""Device and dtype placement of models, encoders and data, shared by every torch module.

The caller's objects are never moved or cast: a model or encoder that is not already on the
requested device and dtype is copied there (:func:`placed`).
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import Tensor, nn

from mibound._checks import InvalidTypeError, InvalidValueError

__all__ = ["check_dtype", "model_place", "module_place", "place_settings", "placed"]


def check_dtype(dtype: object, name: str = "dtype") -> torch.dtype | None:
    """None, torch.float32 or torch.float64 (other dtypes: value error; non-dtype: type error)."""
    if dtype is None:
        return None
    if not isinstance(dtype, torch.dtype):
        raise InvalidTypeError(f"{name}: expected a floating torch.dtype or None, got {dtype!r}")
    if dtype not in (torch.float32, torch.float64):
        raise InvalidValueError(
            f"{name}: expected torch.float32 or torch.float64, got {dtype!r}"
            + ("; half precision cannot hold the log-densities" if dtype.is_floating_point else "")
        )
    return dtype


def check_device(device: object, name: str = "device") -> torch.device | None:
    """None or an available torch device (from a string such as ``"cpu"`` or ``"cuda:0"``)."""
    if device is None:
        return None
    if not isinstance(device, (str, torch.device)):
        raise InvalidTypeError(f"{name}: expected a string such as 'cpu' or 'cuda', got {device!r}")
    try:
        place = torch.device(device)
    except RuntimeError:
        raise InvalidValueError(
            f"{name}: expected a device such as 'cpu' or 'cuda:0', got {device!r}"
        ) from None
    if place.type == "cuda" and not torch.cuda.is_available():
        raise InvalidValueError(f"{name}: {device!r} requested but CUDA is not available")
    if place.type == "mps" and not torch.backends.mps.is_available():
        raise InvalidValueError(f"{name}: {device!r} requested but MPS is not available")
    return place


def module_place(module: nn.Module) -> tuple[torch.device, torch.dtype] | None:
    """(device, dtype) of a module's first floating parameter or buffer; None without any."""
    for tensor in (*module.parameters(), *module.buffers()):
        if tensor.is_floating_point():
            return tensor.device, tensor.dtype
    return None


def model_place(model: Any) -> tuple[torch.device, torch.dtype]:
    """(device, dtype) of a latent-variable model: its tensors', its prior's or its samples'.

    Draws no random numbers from the caller's stream (a sample is drawn on a forked RNG).
    """
    if isinstance(model, nn.Module):
        place = module_place(model)
        if place is not None:
            return place
    try:
        mean = model.prior().mean
    except (NotImplementedError, AttributeError):
        mean = None
    if isinstance(mean, Tensor) and mean.is_floating_point():
        return mean.device, mean.dtype
    with torch.no_grad(), torch.random.fork_rng(devices=[]):
        x, _ = model.sample(1)
    if isinstance(x, Tensor) and x.is_floating_point():
        return x.device, x.dtype
    return torch.device("cpu"), torch.get_default_dtype()


def _is_posterior_of(encoder: object, model: object) -> bool:
    return getattr(encoder, "__self__", None) is model and (
        getattr(encoder, "__name__", "") == "posterior"
    )


def placed(
    model: Any,
    encoder: Any,
    device: torch.device | str | None,
    dtype: torch.dtype | None,
) -> tuple[Any, Any, torch.device, torch.dtype]:
    """The model and encoder on ``device`` and ``dtype`` (default: the model's), as copies.

    The caller's model and encoder are returned unchanged when they already live there; otherwise
    deep copies are moved (a bound ``model.posterior`` encoder is rebound to the copy), so the
    caller's objects are never modified.

    Returns:
        ``(model, encoder, device, dtype)``.
    """
    dtype = check_dtype(dtype)
    device = check_device(device)
    model_device, model_dtype = model_place(model)
    device = device if device is not None else model_device
    if device.type == "cuda" and device.index is None and torch.cuda.is_available():
        device = torch.device("cuda", torch.cuda.current_device())
    dtype = dtype if dtype is not None else model_dtype
    if (device, dtype) != (model_device, model_dtype):
        if not isinstance(model, nn.Module):
            raise InvalidTypeError(
                f"device, dtype: can only move an nn.Module model, got {type(model).__name__}"
            )
        rebind = _is_posterior_of(encoder, model)
        model = copy.deepcopy(model).to(device=device, dtype=dtype)
        if rebind:
            encoder = model.posterior
    if isinstance(encoder, nn.Module) and module_place(encoder) not in (None, (device, dtype)):
        encoder = copy.deepcopy(encoder).to(device=device, dtype=dtype)
    return model, encoder, device, dtype


def place_settings(device: torch.device, dtype: torch.dtype) -> dict[str, str]:
    """The ``device`` and ``dtype`` entries of a result's settings."""
    return {"device": str(device), "dtype": str(dtype).replace("torch.", "")}
