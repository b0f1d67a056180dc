"""Stand-in for the `yacs` package, only so that a pickled config is a foreign global
(`yacs.config.CfgNode`) exactly as in upstream SPAI checkpoints. Not the real yacs."""
