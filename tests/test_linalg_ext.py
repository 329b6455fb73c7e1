"""ember.linalg beyond its samples (tests/opinfo/linalg_ext.py, run by tests/test_ops.py): torch's
refusals and warnings where a factorization's derivative is undefined, its error texts, and the
Tensor methods of the older names."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import ember


# ---------------------------------------------------------------------------- beyond the table


def test_eig_refuses_complex_eigenvalues() -> None:
    rotation = ember.tensor([[0.0, 1.0], [-1.0, 0.0]])
    for fn in (ember.linalg.eig, ember.linalg.eigvals):
        with pytest.raises(NotImplementedError, match="complex eigenvalues"):
            fn(rotation)


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")  # NumPy on the 0/0
def test_repeated_eigenvalues_warn_where_torch_gives_nan() -> None:
    a = ember.eye(3, dtype=ember.float64, requires_grad=True)
    w, v = ember.linalg.eigh(a)
    with pytest.warns(UserWarning, match="repeated eigenvalues"):
        (grad,) = ember.autograd.grad(v.sum(), a)
    t = torch.eye(3, dtype=torch.float64, requires_grad=True)
    (want,) = torch.autograd.grad(torch.linalg.eigh(t)[1].sum(), t)
    np.testing.assert_array_equal(np.isnan(grad.numpy()), np.isnan(want.numpy()))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the eigenvalues alone have a finite gradient: no warning
        (grad,) = ember.autograd.grad(ember.linalg.eigh(a)[0].sum(), a)
    np.testing.assert_allclose(grad.numpy(), np.eye(3))


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")  # NumPy on the 0/0
def test_repeated_singular_values_warn() -> None:
    a = ember.eye(3, dtype=ember.float64, requires_grad=True)
    u, s, vh = ember.linalg.svd(a)
    with pytest.warns(UserWarning, match="repeated singular values"):
        ember.autograd.grad(u.sum(), a)
    (grad,) = ember.autograd.grad(ember.linalg.svdvals(a).sum(), a)
    np.testing.assert_allclose(grad.numpy(), np.eye(3))


def test_linalg_errors_are_torchs_texts() -> None:
    not_pd = [[[1.0, 0.0], [0.0, 1.0]], [[1.0, 2.0], [2.0, 1.0]]]
    with pytest.raises(ember.linalg.LinAlgError, match=r"\(Batch element 1\): The factorization "
                       r"could not be completed .* leading minor of order 2"):
        ember.linalg.cholesky(ember.tensor(not_pd))
    with pytest.raises(ember.linalg.LinAlgError, match="diagonal element 2 is zero"):
        ember.linalg.inv(ember.tensor([[1.0, 2.0], [2.0, 4.0]]))
    with pytest.raises(ember.linalg.LinAlgError, match="^torch.linalg.solve: The solver failed"):
        ember.linalg.solve(ember.zeros(2, 2), ember.ones(2))


def test_non_finite_input_is_refused_as_torch() -> None:
    a = ember.tensor([[float("nan"), 1.0], [1.0, 2.0]])
    with pytest.raises(RuntimeError, match="should not contain infs or NaNs"):
        ember.linalg.eig(a)
    with pytest.raises(ember.linalg.LinAlgError, match="contained non-finite values"):
        ember.linalg.svd(a)


def test_tensor_methods_and_torch_names_exist_as_in_torch() -> None:
    a = np.array([[2.0, 0.5], [0.3, 1.5]])
    for name in ("det", "logdet", "inverse", "pinverse", "matrix_exp"):
        got = getattr(ember.tensor(a), name)()
        want = getattr(torch.tensor(a), name)()
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12)
