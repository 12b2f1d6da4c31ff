"""Time to generate the demo: population, one wave (sample + frame + dirt), truth, raw files.

Run: ``.venv/bin/python benchmarks/bench_demo.py`` (prints seconds; cold caches per step).
"""
from __future__ import annotations

import tempfile
import time


def main() -> None:
    from survey.demo import population, sample, truth, wave
    from survey.demo import write_demo
    seed = 2024
    t = time.perf_counter()
    pop = population.make_population(seed)
    t_pop = time.perf_counter() - t
    t = time.perf_counter()
    population.population_answers(pop, "2024")
    t_ans = time.perf_counter() - t
    t = time.perf_counter()
    sample.draw_sample("2024", seed)
    t_smp = time.perf_counter() - t
    t = time.perf_counter()
    w = wave.build_wave("2024", seed)
    t_wave = time.perf_counter() - t
    t = time.perf_counter()
    truth(None, seed)
    t_truth = time.perf_counter() - t
    print(f"population ({len(pop.people):,} people, {len(pop.units):,} institutions): {t_pop:.2f}s")
    print(f"true answers of everyone, one wave: {t_ans:.2f}s")
    print(f"station selection + quotas + nonresponse: {t_smp:.2f}s")
    print(f"frame + contact block + dirt ({len(w.export):,} rows): {t_wave:.2f}s")
    print(f"one wave in memory, total: {t_pop + t_ans + t_smp + t_wave:.2f}s")
    print(f"truth tables (both waves + changes): {t_truth:.2f}s")
    t = time.perf_counter()
    with tempfile.TemporaryDirectory() as d:
        write_demo(d, seed)
    print(f"write_demo (both waves, xlsx + GBK sav, cached frames): {time.perf_counter() - t:.2f}s")


if __name__ == "__main__":
    main()
