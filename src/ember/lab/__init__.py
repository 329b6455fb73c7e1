"""The learner's tools, what torch does not show: ``explain`` (a computation's graph, forward
trace and reverse sweep), derivative checks, the math language, plots, the training helpers
and toy datasets of the examples, the ``ember`` command and the lecture demo.

Built on the public layers below it; nothing below imports it.
"""
