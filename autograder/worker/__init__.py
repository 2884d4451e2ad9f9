"""The worker: exactly the files copied into the sandbox beside the student's code.

They import nothing from the kit (only the standard library, torch, numpy and IPython) and are
run as plain modules from the sandbox copy, with autograder/wire.py beside them.
"""
