"""Grading: test cases as data, nbgrader pipeline steps, the sandbox and the commands."""
