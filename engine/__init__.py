"""emberflow's engine: workflow model and validation, node registry, runner, engine sessions, model store, CLI.

Kept light on purpose: importing it loads no pandas, scikit-learn, pyspark or h2o.
"""

__version__ = "0.1.0"
