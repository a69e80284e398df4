"""emberflow's web UI (``emberflow ui``): browse the model store's models, versions, files and runs, and
draw workflows, in a browser. Needs the ``ui`` extra (FastAPI, uvicorn, Jinja2)."""
