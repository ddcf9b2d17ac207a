"""Fan-out between server nodes: the Bus interface (base.py) and one module per backend."""
