"""The tutorials' glossary: one definition per term, linked from the notebooks at the term's first use.

``docs/teaching/glossary.md`` is :func:`glossary_markdown`'s output (``python -m nb_condense.tutorial.glossary``
rewrites it; a test keeps the two equal).
"""

from __future__ import annotations

import re

GLOSSARY: dict[str, str] = {
    "token": "A piece of text the model reads as one unit: a word, part of a word or a punctuation mark. A "
             "tokenizer cuts text into tokens and maps each to an integer id.",
    "hidden state": "The vector a transformer holds for one token after one layer (d numbers; 768 in GPT-2 "
                    "small). `output_hidden_states=True` returns them for every layer: a tensor [batch, tokens, d] "
                    "per layer.",
    "layer": "One transformer block (attention, then an MLP, each adding to the residual stream). Layer 0 of "
             "`hidden_states` is the embedding output, before any block; a model with L blocks has L + 1 "
             "entries.",
    "embedding output": "Entry 0 of `hidden_states`: each token's vector before any block (in GPT-2, token "
                        "embedding plus position embedding).",
    "layer norm": "A normalisation inside each block (and once after the last block, the final norm: GPT-2's "
                  "`ln_f`): each token vector is centred and scaled to unit variance, then rescaled by learnt "
                  "weights. In GPT-2 and Qwen the last hidden state is taken after the final norm.",
    "BOS token": "Beginning-of-sequence: a special token some tokenizers put before every text (Llama, OLMo). "
                 "GPT-2 and Qwen add none, so their first token is the text's first word.",
    "[CLS]": "BERT-style models' first token, added to every text; its vector is often used as the whole "
             "text's summary.",
    "cosine similarity": "The cosine of the angle between two vectors: their dot product divided by both "
                         "lengths. 1 = same direction, 0 = perpendicular, -1 = opposite.",
    "embedding condensation": "The token vectors of a text drifting into a narrow cone as depth grows: the mean "
                              "cosine similarity between distinct tokens rises towards 1 (Liu et al., ICML "
                              "2026).",
    "layer mean": "The mean cosine similarity between the tokens of a text at one layer, averaged over texts. "
                  "nb_condense pools pairs of distinct tokens; the paper averages the position-averaged matrix "
                  "with its diagonal.",
    "layer fraction": "layer / (number of layers): 0 = embedding output, 1 = the last hidden state. It lines up "
                      "models of different depths.",
    "pooled heatmap": "nb_condense's default view: every token pair of every text in one histogram per layer.",
    "paper's heatmap": "The paper's view: the cosine matrices of all texts averaged position by position, then "
                       "every entry of that one matrix (diagonal included) histogrammed per layer.",
    "Spearman rho": "The rank correlation between depth and the layer mean: +1 when every layer is more "
                    "condensed than the one before, 0 for no trend, below 0 when deeper layers spread out. Pearson's "
                    "correlation of the ranks (ties share their average rank).",
    "Kendall tau": "Another rank correlation: the share of layer pairs in depth order minus the share in reverse "
                   "order (tau-b corrects for ties).",
    "last-half mean": "The mean of the last max(1, n // 2) layer means (n counts the embedding output): the "
                      "paper's summary of how condensed the deep layers are.",
    "bootstrap interval": "An interval from resampling: draw the texts again with replacement many times, "
                          "recompute the number each time, and keep the middle 95 % of the values. It says how "
                          "much the number would move with other texts of the same kind.",
    "cannot tell at this size": "The verdict when the interval contains both answers (for a difference: it "
                                "contains 0): more texts or seeds are needed to decide.",
    "seed": "The number that fixes a run's random draws (initial weights, data order). Runs with different "
            "seeds show how much a result depends on luck.",
    "perplexity": "exp(mean next-token loss) on held-out text: how many tokens the model hesitates between, on "
                  "average. Lower is better.",
    "MLP width": "`n_inner`: the number of hidden units in each block's two-layer MLP (GPT-2: 4 x d).",
    "logit distillation": "Training a student to match a teacher's next-token distributions (softened by a "
                          "temperature) through a KL term, usually beside the ordinary LM loss.",
    "SFT": "Supervised fine-tuning: ordinary next-token training on texts, here texts written by a teacher "
           "model. The paper's distilled models were, by our inference, trained this way "
           "([details](../paper_numbers.md#f4-sft)).",
    "temperature": "A divisor of the logits before the softmax: above 1 it flattens the distribution, showing "
                   "more of the teacher's second choices.",
    "dispersion loss": "A term added to the training loss that is low when the tokens of a sequence point in "
                       "different directions; the paper's default is the angular spread.",
    "angular spread": "The paper's dispersion loss: the log-mean-exp over pairs of distinct tokens of -D/tau, "
                      "D = arccos(cosine)/pi the angle between them as a fraction of a half-turn.",
    "NEFTune": "A baseline: uniform noise added to the input token embeddings during training.",
    "active forgetting": "A baseline: the input embeddings are re-initialised every K steps during training.",
    "checkpoint": "The weights saved at one step of a training run. Pythia and OLMo publish many.",
    "pre-training": "The first, longest training stage, on a large general corpus, from random weights. OLMo-3 "
                    "has two more stages after it (mid-training, long-context), by our reading of its names.",
    "mid-training": "Further training of a pretrained model, on a smaller, chosen corpus.",
    "preset": "A named set of a notebook's parameters: `class` fits a 45-minute lesson on a laptop; `paper` uses "
              "the paper's models; `long` runs the laptop experiment longer.",
}
"""Term -> definition (Markdown)."""


def anchor(term: str) -> str:
    """The GitHub anchor of ``term``'s heading in glossary.md (lowercase, spaces to hyphens, punctuation dropped)."""
    if term not in GLOSSARY:
        raise KeyError(f"{term!r} is not in the glossary: add it to GLOSSARY (terms: {sorted(GLOSSARY)}).")
    return re.sub(r"[^\w\- ]", "", term.lower()).replace(" ", "-")


def link(term: str, text: str | None = None, base: str = "../docs/teaching/glossary.md") -> str:
    """A Markdown link to ``term`` in the glossary, as the notebooks write it."""
    return f"[{text or term}]({base}#{anchor(term)})"


def glossary_markdown() -> str:
    """The whole glossary as Markdown, terms in alphabetical order (the content of docs/teaching/glossary.md)."""
    lines = ["# Glossary", "", "The terms the tutorials use, each linked from the notebook where it first appears. "
             "Generated from `nb_condense.tutorial.glossary.GLOSSARY` (`python -m nb_condense.tutorial.glossary "
             "> docs/teaching/glossary.md`).", ""]
    for term in sorted(GLOSSARY, key=str.lower):
        lines += [f"## {term}", "", GLOSSARY[term], ""]
    return "\n".join(lines)


if __name__ == "__main__":
    print(glossary_markdown(), end="")
