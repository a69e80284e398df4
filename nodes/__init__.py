"""emberflow's built-in nodes, one module each, registered through the ``emberflow.nodes`` entry points."""
