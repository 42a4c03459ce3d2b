"""Measurement: texts and models in, a :class:`~nb_condense.core.result.CondensationResult` out.

``corpus`` / ``models`` -> ``extract`` (batched forward passes) -> ``metrics`` and ``binning`` (tensor maths)
-> ``partial`` (a measurement in progress) -> ``engine`` (:func:`measure`). ``settings`` declares every setting once.
"""
