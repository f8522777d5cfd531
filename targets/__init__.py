"""Compile targets (one module each, registered in one table). Not built yet: see the compiler issue."""
