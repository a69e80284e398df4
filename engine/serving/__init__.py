"""``emberflow serve``: one stored model scored over HTTP, in MLflow's scoring protocol and the Open Inference
Protocol (V2).

- ``payload``: request bodies (JSON in MLflow's four shapes, or CSV) into rows, refusing what is not a table;
- ``v2``: the Open Inference Protocol's tensors into rows, and predictions into its response;
- ``scoring``: rows into predictions through the task-aware predictor (the code Score uses);
- ``batching``: the rows of concurrent requests scored together in one call, each answered as if alone;
- ``holder``: the served version, verified as LoadModel verifies it, following an alias when it moves;
- ``mojo``: H2O models through their MOJO, in one JVM kept for the server's life (``resources/MojoRows.java``);
- ``spark``: Spark ML models through a local Spark session started once, each request a small Spark frame;
- ``app``: the routes, limits and guards (Starlette, as the web UI uses);
- ``server``: the command: address, token, logging, uvicorn.

Nothing heavy is imported at module level: the command line loads this package only to serve.
"""
