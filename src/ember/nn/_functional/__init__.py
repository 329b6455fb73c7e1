"""Parts of ``ember.nn.functional`` kept in their own modules, re-exported there."""
