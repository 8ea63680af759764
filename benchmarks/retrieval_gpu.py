"""GPU figures for ``benchmarks/retrieval.py --gpu`` (issue 15, part 4).

- FAISS flat search at N x D float32 (default 1M x 384) on the GPU: time per query batch, the bytes
  it must read (N * D * 4 per batch pass) over that time as achieved bandwidth, against the card's
  memory-bandwidth limit (from its memory clock and bus width, or ``--bandwidth-gbs``); the goal is
  at least 50% of it. The same search on the CPU in the same run: the GPU speed-up.
- Embedding throughput (texts per second) in fp16 and fp32 on CUDA, and the cosine of fp16 to fp32
  embeddings of the same texts (goal >= 0.999).

On a machine without a GPU it prints "no GPU" and returns ``{"gpu": False, "reason": ...}``.

    python benchmarks/retrieval_gpu.py [--gpu-n 1000000 --gpu-dim 384 --gpu-batch 1024 --gpu-k 10]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from framework.rag.stores import faiss_index  # noqa: E402


def options(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    add_gpu_options(p)
    return p.parse_args(argv)


def add_gpu_options(p: argparse.ArgumentParser) -> None:
    """The options ``run_gpu`` reads (``retrieval.py --gpu`` adds them to its own parser)."""
    p.add_argument("--gpu-n", dest="gpu_n", type=int, default=1_000_000, help="vectors")
    p.add_argument("--gpu-dim", dest="gpu_dim", type=int, default=384)
    p.add_argument("--gpu-batch", dest="gpu_batch", type=int, default=1024,
                   help="queries per search call (large batches reach the bandwidth limit)")
    p.add_argument("--gpu-k", dest="gpu_k", type=int, default=10)
    p.add_argument("--gpu-repeats", dest="gpu_repeats", type=int, default=5)
    p.add_argument("--cpu-queries", dest="cpu_queries", type=int, default=64,
                   help="queries for the CPU side of the speed-up (it is slow at 1M)")
    p.add_argument("--bandwidth-gbs", dest="bandwidth_gbs", type=float, default=None,
                   help="the card's memory bandwidth in GB/s (default: from nvidia-ml / torch)")
    p.add_argument("--embed-texts", dest="embed_texts", type=int, default=4096)
    if not any("--model" in a.option_strings for a in p._actions):  # retrieval.py has its own
        p.add_argument("--model", default=None,
                       help="embedding model (default: BGE small, else bundled)")


def gpu_reason() -> str | None:
    """None when FAISS and torch both see a GPU, else why not."""
    try:
        count = faiss_index.gpu_count()
    except Exception as exc:  # faiss missing or broken
        return f"FAISS is not usable ({exc})"
    if count == 0:
        return ("faiss.get_num_gpus() == 0 (no GPU, or faiss-cpu installed: "
                "pip install 'openbuilder[gpu]' in place of [rag])")
    return None


def _torch_cuda() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


def card_bandwidth_gbs() -> tuple[float | None, str]:
    """Peak memory bandwidth from NVML (memory clock x bus width x 2 for DDR), if it answers."""
    try:
        import pynvml

        pynvml.nvmlInit()
        handle = pynvml.nvmlDeviceGetHandleByIndex(0)
        clock_mhz = pynvml.nvmlDeviceGetMaxClockInfo(handle, pynvml.NVML_CLOCK_MEM)
        bus_bits = pynvml.nvmlDeviceGetMemoryBusWidth(handle)
        name = pynvml.nvmlDeviceGetName(handle)
        return clock_mhz * 1e6 * 2 * bus_bits / 8 / 1e9, str(name)
    except Exception:
        pass
    try:
        import torch

        props = torch.cuda.get_device_properties(0)
        clock_khz = getattr(props, "memory_clock_rate", None)
        bus_bits = getattr(props, "memory_bus_width", None)
        if clock_khz and bus_bits:
            return clock_khz * 1e3 * 2 * bus_bits / 8 / 1e9, props.name
        return None, props.name
    except Exception:
        return None, "unknown"


def flat_search(args: argparse.Namespace) -> dict[str, Any]:
    faiss = faiss_index.faiss_module()
    n, dim, batch, k = args.gpu_n, args.gpu_dim, args.gpu_batch, args.gpu_k
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, dim), dtype=np.float32)
    faiss.normalize_L2(x)
    q = rng.standard_normal((batch, dim), dtype=np.float32)
    faiss.normalize_L2(q)
    cpu = faiss.IndexFlatIP(dim)
    cpu.add(x)
    res = faiss.StandardGpuResources()
    gpu = faiss_index.copy_to_gpu(cpu, res)
    gpu.search(q[:8], k)  # warm-up
    times = []
    for _ in range(args.gpu_repeats):
        start = time.perf_counter()
        gpu.search(q, k)
        times.append(time.perf_counter() - start)
    gpu_s = statistics.median(times)
    nq_cpu = min(args.cpu_queries, batch)
    start = time.perf_counter()
    _, cpu_labels = cpu.search(q[:nq_cpu], k)
    cpu_per_query = (time.perf_counter() - start) / nq_cpu
    _, gpu_labels = gpu.search(q[:nq_cpu], k)
    agree = float(np.mean([len(set(a) & set(b)) / k for a, b in zip(cpu_labels, gpu_labels,
                                                                    strict=True)]))
    # one pass over the vectors serves the whole batch (a GEMM): bytes read per search call
    achieved = n * dim * 4 / gpu_s / 1e9
    peak, card = (args.bandwidth_gbs, "given") if args.bandwidth_gbs else card_bandwidth_gbs()
    return {
        "card": card, "vectors": n, "dim": dim, "batch": batch, "k": k,
        "gpu_ms_per_batch": gpu_s * 1e3, "gpu_us_per_query": gpu_s / batch * 1e6,
        "achieved_gbs": achieved, "peak_gbs": peak,
        "bandwidth_fraction": achieved / peak if peak else None,
        "cpu_us_per_query": cpu_per_query * 1e6,
        "speedup_vs_cpu": cpu_per_query / (gpu_s / batch),
        "top_k_agreement_gpu_cpu": agree,
    }


def embeddings(args: argparse.Namespace) -> dict[str, Any]:
    from sentence_transformers import SentenceTransformer

    from framework.rag.embeddings.sentence import SentenceTransformerEmbeddings

    ours = SentenceTransformerEmbeddings(args.model, quiet=True)  # fp16 on CUDA (our default)
    path = str(ours.path)
    words = "retrieval on the GPU with FAISS and sentence transformers in half precision".split()
    rng = np.random.default_rng(1)
    texts = [" ".join(rng.choice(words, size=int(rng.integers(8, 120)))) for _ in
             range(args.embed_texts)]
    out: dict[str, Any] = {"model": ours.model_name, "texts": len(texts)}
    vectors = {}
    for name in ("fp32", "fp16"):
        model = SentenceTransformer(path, device="cuda")
        if name == "fp16":
            model.half()
        model.encode(texts[:64], batch_size=64)  # warm-up
        import torch

        torch.cuda.synchronize()
        start = time.perf_counter()
        vectors[name] = model.encode(texts, batch_size=256, normalize_embeddings=True,
                                     convert_to_numpy=True).astype(np.float32)
        torch.cuda.synchronize()
        out[f"{name}_texts_per_s"] = len(texts) / (time.perf_counter() - start)
        del model
    a, b = vectors["fp16"], vectors["fp32"]
    cos = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    out["cosine_fp16_fp32_min"] = float(cos.min())
    out["cosine_fp16_fp32_mean"] = float(cos.mean())
    out["fp16_speedup"] = out["fp16_texts_per_s"] / out["fp32_texts_per_s"]
    dtype = str(next(ours._st().parameters()).dtype)
    out["our_default_dtype_on_cuda"] = dtype
    return out


def run_gpu(args: argparse.Namespace) -> dict[str, Any]:
    """The GPU figures as a dict; ``{"gpu": False, "reason": ...}`` without a GPU."""
    reason = gpu_reason()
    if reason is not None:
        print(f"no GPU: {reason}; GPU figures skipped")
        return {"gpu": False, "reason": reason}
    result: dict[str, Any] = {"gpu": True, "flat_search": flat_search(args)}
    if _torch_cuda():
        result["embeddings"] = embeddings(args)
    else:
        result["embeddings"] = {"skipped": "torch.cuda.is_available() is False"}
    print_gpu(result)
    return result


def print_gpu(result: dict[str, Any]) -> None:
    f = result["flat_search"]
    frac = f"{f['bandwidth_fraction']:.0%}" if f["bandwidth_fraction"] else "unknown"
    print(f"GPU {f['card']}: flat search {f['vectors']:,} x {f['dim']} float32, batch "
          f"{f['batch']}, k={f['k']}: {f['gpu_ms_per_batch']:.2f} ms/batch "
          f"({f['gpu_us_per_query']:.1f} us/query); {f['achieved_gbs']:.0f} GB/s of "
          f"{f['peak_gbs'] or 0:.0f} GB/s peak ({frac}, goal >= 50%); CPU "
          f"{f['cpu_us_per_query']:.0f} us/query -> GPU speed-up {f['speedup_vs_cpu']:.1f}x; "
          f"top-{f['k']} agreement {f['top_k_agreement_gpu_cpu']:.3f}")
    e = result["embeddings"]
    if "skipped" in e:
        print(f"embeddings: skipped ({e['skipped']})")
    else:
        print(f"embeddings {e['model']}: fp16 {e['fp16_texts_per_s']:.0f} texts/s vs fp32 "
              f"{e['fp32_texts_per_s']:.0f} ({e['fp16_speedup']:.2f}x); cosine fp16/fp32 min "
              f"{e['cosine_fp16_fp32_min']:.5f} (goal >= 0.999); our default on CUDA: "
              f"{e['our_default_dtype_on_cuda']}")


def main(argv: list[str] | None = None) -> int:
    result = run_gpu(options(argv))
    print(json.dumps(result, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
