"""A model split by accelerate's device_map (part on CPU, part offloaded to disk) measures like the whole model.

On a CPU-only machine accelerate can only place modules on "cpu" or offload them to "disk" (weights on the meta
device, loaded on demand by hooks); that exercises the sharded path (hooks, meta parameters, inputs on the
input-embedding device). Splits over several GPUs run in benchmarks/gpu_check.sh.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from transformers import AutoModel

import nb_condense as nbc
from nb_condense.measurement.models import embedded_model_path


def test_disk_offloaded_layers_give_the_same_result(tokenizer, tmp_path):
    texts = nbc.sample_texts("builtin", 3, min_word_count=40, max_word_count=80)
    whole = nbc.measure("embedded", texts=texts, max_length=48, show_progress=False)
    device_map = {"embeddings": "cpu", "encoder.layer.0": "cpu", "encoder.layer.1": "cpu", "pooler": "cpu",
                  **{f"encoder.layer.{i}": "disk" for i in range(2, 6)}}
    split = AutoModel.from_pretrained(embedded_model_path(), device_map=device_map, offload_folder=str(tmp_path))
    assert any(p.device.type == "meta" for p in split.parameters())  # really offloaded
    result = nbc.measure(split, tokenizer, texts=texts, max_length=48, show_progress=False)
    assert np.array_equal(result.histograms, whole.histograms)
    pd.testing.assert_frame_equal(result.stats, whole.stats)
    assert result.metadata["n_parameters"] == whole.metadata["n_parameters"]
