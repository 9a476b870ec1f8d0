"""Background work: one loop (loop.py) that repeats a job's passes in a thread, and the jobs it runs: delivering
learning records (xapi/delivery.py) and grades (scores.py), and working a bulk certificate issue (certificates.py)."""
