"""Benchmark: audit time and peak memory on a real large package pair (transformers), cold and warm.

Run from the repository root: `.venv/bin/python -m benchmarks.audit`.

Downloads the two wheels once from PyPI into --cache (the only network use; tests never do this),
generates a repository that uses 50 transformers symbols, then audits it in fresh processes:
cold (empty audit cache: unpack + griffe) and warm (per-symbol JSON cache filled). Prints the figures.
Goals: cold < 30 s and < 800 MB peak RSS, warm < 2 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bot.audit.dist_lookup import from_simple_index
from bot.audit.fetch import SIMPLE_ACCEPT, fetch_file, http_get
from bot.audit.runner import run_audit
from bot.files.config import Config
from bot.files.lockfile import Lock
from bot.model import LockedPackage, VersionChange

PACKAGE = "transformers"
ROOT = Path(__file__).resolve().parent.parent
SYMBOLS = [
    # (import line, use line): 50 public names, called the way training code calls them.
    "AutoConfig.from_pretrained(name, trust_remote_code=True)",
    "AutoModel.from_pretrained(name, torch_dtype=dtype)",
    "AutoModelForCausalLM.from_pretrained(name, attn_implementation='sdpa')",
    "AutoModelForSequenceClassification.from_pretrained(name, num_labels=2)",
    "AutoModelForTokenClassification.from_pretrained(name)",
    "AutoModelForVision2Seq.from_pretrained(name)",
    "AutoProcessor.from_pretrained(name)",
    "AutoTokenizer.from_pretrained(name, use_fast=True)",
    "AutoImageProcessor.from_pretrained(name)",
    "AutoFeatureExtractor.from_pretrained(name)",
    "PreTrainedModel",
    "PreTrainedTokenizer",
    "PreTrainedTokenizerFast",
    "PretrainedConfig",
    "GenerationConfig(max_new_tokens=16, do_sample=False)",
    "BitsAndBytesConfig(load_in_4bit=True)",
    "Trainer",
    "TrainingArguments(output_dir='out', per_device_train_batch_size=1)",
    "TrainerCallback",
    "DataCollatorWithPadding(tokenizer=tok)",
    "DataCollatorForLanguageModeling(tokenizer=tok, mlm=False)",
    "set_seed(0)",
    "get_scheduler('linear', optimizer=opt, num_warmup_steps=0, num_training_steps=10)",
    "get_linear_schedule_with_warmup(opt, 0, 10)",
    "get_cosine_schedule_with_warmup(opt, 0, 10)",
    "pipeline('text-generation', model=name)",
    "LlamaConfig(hidden_size=64)",
    "LlamaForCausalLM",
    "LlamaModel",
    "Qwen2Config",
    "Qwen2ForCausalLM",
    "Qwen2Model",
    "MistralConfig",
    "MistralForCausalLM",
    "GPT2LMHeadModel",
    "GPT2Config",
    "BertModel",
    "BertConfig",
    "T5ForConditionalGeneration",
    "StoppingCriteria",
    "StoppingCriteriaList",
    "LogitsProcessor",
    "LogitsProcessorList",
    "TextStreamer(tok)",
    "Conv1D",
    "HfArgumentParser(TrainingArguments)",
    "EvalPrediction",
    "BatchEncoding",
    "PreTrainedTokenizerBase",
    "ProcessorMixin",
]


FILLER = 1000  # modules of the repository that never touch transformers, as a real service has

FILLER_SOURCE = """\
import json
import os


class Handler{n}:
    def __init__(self, path):
        self.path = path

    def load(self):
        with open(self.path) as handle:
            return json.load(handle)

    def save(self, data):
        tmp = self.path + ".tmp"
        with open(tmp, "w") as handle:
            json.dump(data, handle)
        os.replace(tmp, self.path)
"""


def generate_repo(root: Path) -> None:
    """A repository with one module using all 50 symbols and FILLER modules that use none."""
    for n in range(FILLER):
        path = root / "svc" / "handlers" / f"h{n // 100}" / f"handler_{n}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(FILLER_SOURCE.format(n=n), encoding="utf-8")
    names = sorted({s.split("(")[0].split(".")[0] for s in SYMBOLS})
    lines = [f"from transformers import {name}" for name in names]
    lines += ["", "", "def train(name, dtype, tok, opt):"]
    lines += [f"    {use}" for use in SYMBOLS]
    (root / "svc").mkdir(parents=True, exist_ok=True)
    (root / "svc" / "train.py").write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert len(names) == 50, len(names)


async def download(cache: Path, versions: tuple[str, str]) -> dict[str, LockedPackage]:
    """The two wheels in cache/wheelhouse (downloaded once), as lock entries with their sha256."""
    wheelhouse = cache / "wheelhouse"
    wheelhouse.mkdir(parents=True, exist_ok=True)
    index_file = cache / "index.json"
    known = json.loads(index_file.read_text()) if index_file.exists() else {}
    out = {}
    for version in versions:
        if version not in known:
            entry = await from_simple_index(
                "https://pypi.org/simple", PACKAGE, version, get=lambda u: http_get(u, accept=SIMPLE_ACCEPT)
            )
            assert entry is not None and entry.wheels, f"{PACKAGE} {version} has no wheel"
            url, digest = entry.wheels[0]
            name = url.rsplit("/", 1)[-1]
            await fetch_file(url, wheelhouse / name)
            known[version] = [name, digest]
            index_file.write_text(json.dumps(known))
        name, digest = known[version]
        out[version] = LockedPackage(PACKAGE, version, (("registry", str(wheelhouse)),), ((name, digest),))
    return out


def phase(cache: Path, repo: Path, versions: tuple[str, str]) -> dict[str, float]:
    """One audit in this process: wall time, peak RSS, findings."""
    entries = asyncio.run(download(cache, versions))
    old, new = versions
    change = VersionChange(PACKAGE, (old,), (new,), ("default",), True, True)
    locks = {v: {"default": Lock("uv.lock", {PACKAGE: (entries[v],)}, frozenset())} for v in versions}
    started = time.perf_counter()
    report = asyncio.run(
        run_audit(repo, Config(), [change], locks[old], locks[new], cache_dir=cache / "audit")
    )
    elapsed = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    (package,) = report.packages
    assert package.error is None, package.error
    return {"seconds": elapsed, "peak_mb": peak_mb, "findings": len(package.findings)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "upgrade-deps-bench")
    parser.add_argument("--old", default="4.55.4")
    parser.add_argument("--new", default="4.57.1")
    parser.add_argument("--phase", choices=("cold", "warm"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    versions = (args.old, args.new)
    repo = args.cache / "repo"
    if args.phase:
        print(json.dumps(phase(args.cache, repo, versions)))
        return
    asyncio.run(download(args.cache, versions))  # outside the measured phases
    generate_repo(repo)
    shutil.rmtree(args.cache / "audit", ignore_errors=True)
    results = {}
    for name in ("cold", "warm"):
        command = [sys.executable, __file__, "--cache", str(args.cache), "--old", args.old, "--new", args.new]
        done = subprocess.run(
            [*command, "--phase", name], check=True, capture_output=True, text=True, timeout=600
        )
        results[name] = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"{PACKAGE} {args.old} -> {args.new}, 50 symbols used, {FILLER + 1} repository modules")
    for name, goal in (("cold", "goal < 30 s, < 800 MB"), ("warm", "goal < 2 s")):
        r = results[name]
        figures = f"{r['seconds']:.2f} s, peak RSS {r['peak_mb']:.0f} MB, {r['findings']:.0f} findings"
        print(f"{name}: {figures} ({goal})")


if __name__ == "__main__":
    main()
