"""The SimPy model of the corridor, one module per physical part."""
