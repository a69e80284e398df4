"""Learners: what an algorithm is (``specs``) kept apart from how each engine trains it (``*_backend``).

A spec declares an algorithm's parameters, the tasks it takes, the engines it runs on and its checks; the trainer
nodes in ``emberflow.nodes.train`` are made from specs. Each backend turns a frame of its engine into a fitted
model whose feature preparation (imputation, one-hot encoding, scaling) is part of the model, so that Score takes
raw columns. ``preparation`` holds what every engine shares: the task rule and the raw input schema.
"""
