"""The discrete-event model on cases with a known answer: an M/D/c queue against its exact formula,
Little's law on a steady load, a burst under every limit draining at the arrival rate; and the
behaviours it takes from the code it models (Glue's ConcurrentRunsExceeded retry, the flush's
maximum wait, the SQS pollers scaling out)."""

import math
import random

import pytest

from sim.report.predict import model, params as P


def instant_builder(**kw) -> P.Builder:
    return P.Builder(batch_s=P.constant_batch(0.0, 0.0), manifest_s=P.constant_manifest(0.0, 0.0),
                     start_execution_s=0.0, **kw)


def wide_esm(batch_size: int = 10) -> P.Esm:
    return P.Esm(batch_size=batch_size, initial=100_000, maximum=100_000)


def mdc_mean_wait(lam: float, d: float, c: int, states: int = 400) -> float:
    """Exact mean wait in queue of M/D/c: the number in system at times kD apart is a Markov chain,
    N' = max(N - c, 0) + A with A ~ Poisson(lam*d) (every customer in service at t has left by
    t + D). Its stationary mean is the time-average number in system; Little's law then gives
    Wq = (E[N] - lam*d) / lam."""
    a = lam * d
    pa = [math.exp(-a)]
    while pa[-1] > 1e-18 or len(pa) < a:  # the Poisson tail beyond this adds nothing
        pa.append(pa[-1] * a / len(pa))
    pi = [1.0] + [0.0] * (states - 1)
    for _ in range(20_000):
        nxt = [0.0] * states
        for n, mass in enumerate(pi):
            if mass < 1e-300:
                continue
            base = max(n - c, 0)
            for k, pk in enumerate(pa[:states - base]):
                nxt[base + k] += mass * pk
        total = sum(nxt)
        nxt = [x / total for x in nxt]
        if max(abs(x - y) for x, y in zip(nxt, pi)) < 1e-13:
            pi = nxt
            break
        pi = nxt
    mean_n = sum(n * x for n, x in enumerate(pi))
    return (mean_n - a) / lam


def test_the_formula_matches_m_d_1s_pollaczek_khinchine():
    lam, d = 0.7, 1.0
    rho = lam * d
    assert mdc_mean_wait(lam, d, 1) == pytest.approx(rho * d / (2 * (1 - rho)), rel=1e-6)


@pytest.mark.parametrize("c,rho", [(1, 0.7), (3, 0.8)])
def test_glue_slots_fed_by_poisson_manifests_wait_as_m_d_c(c, rho):
    """Every file its own manifest (Poisson manifests), Glue runs of a fixed length D, c slots and
    job run queuing: the model's mean wait for a slot is M/D/c's."""
    d, n, warmup = 1.0, 40_000, 2_000
    lam = rho * c / d
    rng = random.Random(11)
    t, arrivals = 0.0, []
    for _ in range(n):
        t += rng.expovariate(lam)
        arrivals.append(t)
    p = P.ModelParams(arrivals, [1_000_000] * n, esm=wide_esm(batch_size=1), builder=instant_builder(files_per_manifest=1),
                      flush=P.Flush(every_s=0), start=P.StartLimit(refill_per_s=None),
                      glue=P.Glue(slots=c, when_full="queue", run_s=lambda _k, _b, _t: d, poll_s=0.0, min_billed_s=0))
    result = model.simulate(p)
    assert result.complete
    waits = [m.glue_slot_at - m.glue_asked_at for m in result.manifests[warmup:]]
    assert len(result.manifests) == n
    assert sum(waits) / len(waits) == pytest.approx(mdc_mean_wait(lam, d, c), rel=0.08)


def test_littles_law_on_a_steady_load():
    """Files in the pipeline, averaged over time, equal the arrival rate times the mean time a file
    spends in it (landed -> its manifest marked converted): over a steady stretch, and exactly over
    the whole run, which starts and ends empty."""
    rng = random.Random(5)
    t, arrivals = 0.0, []
    while t < 1200:
        t += rng.expovariate(4.0)
        arrivals.append(t)
    p = P.ModelParams(arrivals, [2_000_000] * len(arrivals), esm=P.Esm(initial=5, maximum=5),
                      builder=P.Builder(batch_s=P.constant_batch(0.05, 0.01), manifest_s=P.constant_manifest(0.1, 0.002),
                                        files_per_manifest=40),
                      flush=P.Flush(every_s=60, max_wait_s=30, first_at_s=10),
                      glue=P.Glue(slots=3, run_s=P.constant_rate(40.0), startup_s=2.0, poll_s=5.0))
    result = model.simulate(p)
    assert result.complete
    sojourn = [result.manifests[result.manifest_of[i]].finished_at - landed for i, landed in enumerate(result.landed)]

    # the whole run: area under (landed - converted) = sum of sojourns
    edges = sorted({0.0, result.ended_at, *result.landed, *(r[0] for r in result.rows)})
    rows = result.at(edges)
    area = sum((b - a) * (r["uploaded"] - r["converted"]) for a, b, r in zip(edges, edges[1:], rows))
    assert area == pytest.approx(sum(sojourn), rel=1e-9)

    # a steady stretch, sampled: L = lambda * W within sampling noise
    lo, hi = 300.0, 1100.0
    samples = result.at([lo + 0.1 * k for k in range(int((hi - lo) / 0.1))])
    wip = sum(r["uploaded"] - r["converted"] for r in samples) / len(samples)
    inside = [s for s, landed in zip(sojourn, result.landed) if lo <= landed < hi]
    lam = len(inside) / (hi - lo)
    assert wip == pytest.approx(lam * sum(inside) / len(inside), rel=0.05)


def test_a_burst_under_every_limit_drains_at_the_arrival_rate():
    rate, hold, fpm = 20.0, 120.0, 20
    arrivals = [k / rate for k in range(int(rate * hold))]
    p = P.ModelParams(arrivals, [500_000] * len(arrivals), esm=P.Esm(initial=5, maximum=1000, scale_per_min=300),
                      builder=P.Builder(batch_s=P.constant_batch(0.02, 0.002), manifest_s=P.constant_manifest(0.05, 0.001),
                                        files_per_manifest=fpm),
                      glue=P.Glue(slots=50, run_s=P.constant_rate(100.0), startup_s=1.0, poll_s=1.0))
    result = model.simulate(p)
    assert result.complete
    assert result.first_saturated() is None  # nothing had to wait for a resource
    # converted at the rate files arrive: the conversions in the hold's second half over its length
    done = sorted(result.converted_at(i) for i in range(len(arrivals)))
    lo, hi = hold / 2, hold
    assert sum(1 for x in done if lo <= x < hi) / (hi - lo) == pytest.approx(rate, rel=0.03)
    # the last file in a full manifest: converted a manifest's run after it landed
    latency = 1.0 + fpm * 500_000 / 100e6
    assert result.drain_s() == pytest.approx(arrivals[-1] + latency, abs=0.5)
    assert max(result.end_to_end_s()) <= fpm / rate + latency + 0.5


def test_a_full_job_retries_concurrent_runs_exceeded_and_never_runs_two():
    arrivals = [0.01 * k for k in range(50)]
    p = P.ModelParams(arrivals, [1_000_000] * 50, esm=wide_esm(), builder=instant_builder(files_per_manifest=10),
                      glue=P.Glue(slots=1, when_full="retry", run_s=lambda *_: 20.0, poll_s=5.0))
    result = model.simulate(p)
    assert result.complete and len(result.manifests) == 5
    assert result.counts.peak_glue_runs == 1
    assert result.counts.concurrent_runs_exceeded > 0
    runs = sorted((m.glue_slot_at, m.run_ended_at) for m in result.manifests)
    assert all(a[1] <= b[0] for a, b in zip(runs, runs[1:]))  # one at a time
    assert "Glue concurrent runs (the job's MaxConcurrentRuns)" in result.saturations


def test_a_partial_batch_waits_for_the_flush_its_maximum_wait():
    arrivals = [0.1 * k for k in range(250)]
    p = P.ModelParams(arrivals, [1_000_000] * 250, builder=instant_builder(files_per_manifest=200),
                      flush=P.Flush(every_s=60, max_wait_s=600, first_at_s=30),
                      glue=P.Glue(run_s=lambda *_: 5.0, poll_s=1.0))
    result = model.simulate(p)
    assert result.complete and [len(m.files) for m in result.manifests] == [200, 50]
    last = result.manifests[1]
    assert last.by_flush
    oldest = min(result.tracked_at[i] for i in last.files)
    assert oldest + 600 <= last.created_at <= oldest + 600 + 60  # the first scheduled flush after the wait
    assert result.drain_s() > 600


def test_the_pollers_scale_out_while_messages_wait():
    arrivals = [0.001 * k for k in range(20_000)]
    slow = P.Builder(batch_s=P.constant_batch(1.0, 0.0), manifest_s=P.constant_manifest(0.0, 0.0), files_per_manifest=10_000)
    fixed = model.simulate(P.ModelParams(arrivals, [1000] * 20_000, esm=P.Esm(initial=5, maximum=5), builder=slow,
                                         glue=P.Glue(run_s=lambda *_: 1.0)))
    scaling = model.simulate(P.ModelParams(arrivals, [1000] * 20_000, esm=P.Esm(initial=5, maximum=1000, scale_per_min=300),
                                           builder=slow, glue=P.Glue(run_s=lambda *_: 1.0)))
    assert fixed.counts.peak_batches_in_flight == 5
    assert 5 < scaling.counts.peak_batches_in_flight <= 1000
    assert scaling.drain_s() < fixed.drain_s()
    assert "SQS event source mapping (concurrent batches)" in fixed.saturations


def test_the_stage_counts_add_up_at_every_change():
    """A file is pending until its claim commits, then manifested, then converted: tracked =
    pending + manifested at every moment, as the table the load samples holds them."""
    arrivals = [0.02 * k for k in range(3000)]
    p = P.ModelParams(arrivals, [100_000] * 3000, esm=P.Esm(initial=5, maximum=5),
                      builder=P.Builder(batch_s=P.constant_batch(0.01, 0.01), manifest_s=P.constant_manifest(2.0, 0.01),
                                        files_per_manifest=150),
                      flush=P.Flush(every_s=60, max_wait_s=20, first_at_s=5),
                      glue=P.Glue(slots=2, run_s=P.constant_rate(5.0), poll_s=2.0))
    result = model.simulate(p)
    assert result.complete
    rows = result.at([r[0] for r in result.rows])
    assert all(r["tracked"] == r["pending"] + r["manifested"] for r in rows)
    assert all(r["converted"] <= r["manifested"] and r["tracked"] <= r["uploaded"] for r in rows)
    assert any(r["manifested"] == 99 for r in rows)  # the first claims commit 99 at a time, not all 150 at once
