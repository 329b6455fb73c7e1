"""Parts of ``ember.nn.functional`` kept in their own modules: each declares its ops for that
namespace (and ``ember``'s), which ``nn.functional`` picks up from the declarations without
importing them back."""
from . import (channel_shuffle, embedding_bag, loss, normalization,  # noqa: F401
               pool_indices, random_activations)
