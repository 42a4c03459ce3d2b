"""The offline page's size (save_page) for an 8-layer model and 20 texts, and how much of it the views' texts take.

``python benchmarks/page_size.py [--texts 20] [--layers 8] [--tokens 64]``: a random GPT-2-like model (no
download) with the offline MiniLM tokenizer measures builtin texts; prints the page's bytes, the packed payload's
bytes and the precomputed texts' share (JSON bytes before packing). Run it from another checkout to compare.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=20)
    parser.add_argument("--layers", type=int, default=8, help="hidden states, the embedding output included")
    parser.add_argument("--tokens", type=int, default=64, help="tokens per text at most")
    args = parser.parse_args()

    from transformers import AutoConfig

    import nb_condense as nbc
    from nb_condense.measurement.models import load_tokenizer, random_model
    from nb_condense.widgets import page

    config = AutoConfig.for_model("gpt2", n_layer=args.layers - 1, n_embd=32, n_head=2, n_positions=512,
                                  vocab_size=30522, bos_token_id=0, eos_token_id=0)
    texts = nbc.sample_texts("builtin", args.texts, seed=0)
    session = nbc.CondensationSession(random_model(config, seed=0), load_tokenizer("embedded"), texts=texts,
                                      max_length=args.tokens, name="tiny", show_progress=False)
    session.measure()
    with tempfile.TemporaryDirectory() as folder:
        path = page.save_page({"tiny": session}, Path(folder) / "page.html")
        size = path.stat().st_size
        packed = path.read_text().split('id="nbc-payload">')[1].split("<")[0]
    payload = page.page_payload({"tiny": session})
    texts_bytes = len(json.dumps(payload["models"][0]["texts"], separators=(",", ":")))
    print(f"{args.layers} layers, {args.texts} texts, <= {args.tokens} tokens each: page {size / 1024:.1f} KiB, "
          f"packed payload {len(packed) / 1024:.1f} KiB, views' texts {texts_bytes / 1024:.1f} KiB as JSON "
          f"(before gzip)")


if __name__ == "__main__":
    main()
