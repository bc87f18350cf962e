"""`Idempotency-Key` on the POSTs that create (the IETF httpapi idempotency-key draft).

A client whose answer was lost (the database died during COMMIT, a proxy timed out) retries with
the same key and gets the original answer, and the work is done once. See `keys.py`.
"""
