"""The local H2O the h2o baselines start: on loopback, 2 threads, 2 GB, quiet, as emberflow's defaults."""

import os
import random
import socket
import tempfile

import h2o


def free_port_pair() -> int:
    for port in random.sample(range(20000, 30000, 2), 200):
        try:
            for candidate in (port, port + 1):
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", candidate))
            return port
        except OSError:
            continue
    raise RuntimeError("no free pair of ports for H2O")


def start() -> None:
    os.environ["DO_NOT_TRACK"] = "1"
    temp = tempfile.mkdtemp(prefix="bench-h2o-")
    port = free_port_pair()
    flatfile = os.path.join(temp, "flatfile")
    with open(flatfile, "w") as handle:
        handle.write(f"127.0.0.1:{port}\n")
    h2o.init(ip="127.0.0.1", port=port, name=f"bench-{os.getpid()}", nthreads=2, max_mem_size="2G",
             ice_root=temp, log_dir=temp, bind_to_localhost=True, verbose=False,
             jvm_custom_args=[f"-Dai.h2o.flatfile={flatfile}", "-Dsys.ai.h2o.ext.core.toggle.XGBoost=false"])


def stop() -> None:
    h2o.cluster().shutdown()
