from transformers import AutoTokenizer


def load(name: str) -> AutoTokenizer:
    return AutoTokenizer.from_pretrained(name, use_fast=True)
