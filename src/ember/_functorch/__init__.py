"""The machinery of ``ember.func``'s transforms that are more than autograd calls (as torch._functorch)."""
