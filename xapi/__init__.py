"""xAPI learning records: vocabulary, statement builders, the outbox and LRS delivery (the learning-records issue)."""
