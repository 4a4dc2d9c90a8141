"""Triton kernels, installed as the subpackage rdpt_fast.kernels: one module per op, apart from the API.

Importing this package does not import triton; each kernel module does.
"""
