"""The chi-squared distribution: Gamma(df / 2, 1 / 2)."""
from __future__ import annotations

from numbers import Number

from . import constraints
from .gamma import Gamma
from .utils import broadcast_all


class Chi2(Gamma):
    """Chi2(df): the sum of ``df`` squared standard normals."""

    arg_constraints = {"df": constraints.positive}

    def __init__(self, df, validate_args=None) -> None:
        (df_tensor,) = broadcast_all(df)
        rate = 0.5 if isinstance(df, Number) else 0.5 * df_tensor.new_ones(())
        super().__init__(0.5 * df if isinstance(df, Number) else 0.5 * df_tensor, rate,
                         validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return super().expand(batch_shape, self._get_checked_instance(Chi2, _instance))

    @property
    def df(self):
        return self.concentration * 2
