"""zeros_like and kin on a Parameter (a Tensor subclass, not a vmap batch): Adam's state needs them."""
import ember
import torch


def test_like_ops_on_a_parameter_match_torch():
    e, t = ember.nn.Parameter(ember.ones(2, 3)), torch.nn.Parameter(torch.ones(2, 3))
    for name in ("zeros_like", "ones_like", "empty_like"):
        got, want = getattr(ember, name)(e), getattr(torch, name)(t)
        assert tuple(got.shape) == tuple(want.shape) and not got.requires_grad
    assert ember.full_like(e, 2.5).tolist() == torch.full_like(t, 2.5).tolist()


def test_adam_steps_a_parameter():
    model = ember.nn.Linear(3, 2)
    opt = ember.optim.Adam(model.parameters())
    model(ember.ones(4, 3)).sum().backward()
    before = model.weight.detach().clone()
    opt.step()
    assert not ember.equal(before, model.weight.detach())
