using QuantBuild.Abstractions.Tensors;

namespace QuantBuild.Engine.Calibration;

/// <summary>
/// Observes one batch's tensors on several threads, with exactly the statistics observing them one after another on
/// one thread gives. Tensors are observed whole, one per thread at a time, largest first; a tensor that holds most of
/// the batch is cut into contiguous parts instead: the parts are scanned at once (min, max, non-finite
/// counts), their bounds combined and taken by the observer (which makes its histogram cover the batch), and the parts
/// then added to the histogram at once; min/max combine exactly in any order and histogram counts are sums, so no
/// statistic depends on the parts or the threads. When the histogram has a range already, each part is binned in the
/// same read as its scan (<see cref="StreamingHistogram.CountAhead"/>), and those counts are kept if the batch turns out
/// inside that range, which after the first batches it nearly always does: one read of the batch instead of two. Per-channel statistics are never cut. Meant for the time between two
/// ONNX Runtime runs, when its threads are idle.
/// </summary>
internal sealed class BatchObserver
{
    /// <summary>Values below which a tensor is observed whole: cutting smaller ones costs more in hand-offs than it saves.</summary>
    internal const int PartMinimum = 1 << 15;

    /// <summary>How many times its fair share of a batch (the batch's values over the threads) a tensor must hold to be cut into parts.</summary>
    internal const double Uneven = 1.3;

    private readonly ObserverThreads _threads;

    /// <summary>An observer on <paramref name="threads"/> (the calling one among them), which sleep between batches instead of spinning while ORT runs.</summary>
    public BatchObserver(ObserverThreads threads)
    {
        _threads = threads;
    }

    /// <summary>Parts the last batch's tensors were cut into (0 when every tensor was observed whole).</summary>
    internal int LastParts { get; private set; }

    /// <summary>Threads used at most.</summary>
    public int Threads => _threads.Threads;

    /// <summary>Adds each tensor's batch to its observer (each observer at most once per call).</summary>
    public void Observe(IReadOnlyList<(TensorObserver Observer, DenseTensor Values)> batch)
    {
        if (Threads == 1 || batch.Count == 0)
        {
            LastParts = 0;
            foreach ((TensorObserver observer, DenseTensor values) in batch)
            {
                observer.Observe(values.AsSpan<float>(), values.Shape);
            }

            return;
        }

        // Tensors go whole to the threads, largest first; only a tensor too large for that to balance (more than
        // Uneven times a thread's fair share) is cut into parts, which costs a second read of it from a colder cache.
        long total = batch.Sum(b => b.Values.ElementCount);
        var parts = new List<(int Item, int Start, int Length)>();
        var whole = new List<int>();
        for (int i = 0; i < batch.Count; i++)
        {
            long n = batch[i].Values.ElementCount;
            int pieces = batch[i].Observer.Divisible && n * Threads > Uneven * total ? (int)Math.Min(Threads, n / PartMinimum) : 1;
            if (pieces < 2)
            {
                whole.Add(i);
                continue;
            }

            for (int p = 0; p < pieces; p++)
            {
                int start = (int)(n * p / pieces);
                parts.Add((i, start, (int)(n * (p + 1) / pieces) - start));
            }
        }

        LastParts = parts.Count;
        var bounds = new TensorObserver.Bounds[parts.Count];
        // A part whose histogram has a range already is binned in the same read as its scan (counted ahead); the
        // counts are kept only if the whole batch turns out inside that range.
        var ahead = new long[]?[parts.Count];
        try
        {
            if (parts.Count > 0)
            {
                _threads.For(parts.Count, p => bounds[p] = batch[parts[p].Item].Observer.ScanAhead(Span(batch, parts[p]), out ahead[p]));
            }

            // Each tensor's parts combined, in order, and taken by its observer: one thread, as they change the observer.
            var histogram = new bool[batch.Count];
            for (int p = 0; p < parts.Count;)
            {
                int item = parts[p].Item, first = p;
                TensorObserver.Bounds combined = bounds[p];
                for (p++; p < parts.Count && parts[p].Item == item; p++)
                {
                    combined = combined.With(bounds[p]);
                }

                histogram[item] = batch[item].Observer.TakeScanned(combined, batch[item].Values.ElementCount, ahead.AsSpan(first, p - first));
            }

            // The histograms' parts and the small tensors, largest first, so no thread is left with a long one at the end.
            var work = parts.Where(p => histogram[p.Item]).Select(p => (Part: p, Whole: -1))
                .Concat(whole.Select(i => (Part: (Item: i, Start: 0, Length: (int)batch[i].Values.ElementCount), Whole: i)))
                .OrderByDescending(w => w.Part.Length).ThenBy(w => w.Part.Item).ThenBy(w => w.Part.Start).ToList();
            _threads.For(work.Count, k =>
            {
                var w = work[k];
                if (w.Whole >= 0)
                {
                    batch[w.Whole].Observer.Observe(batch[w.Whole].Values.AsSpan<float>(), batch[w.Whole].Values.Shape);
                }
                else
                {
                    batch[w.Part.Item].Observer.Histogram!.AddCovered(Span(batch, w.Part), w.Part.Start);
                }
            });
        }
        finally
        {
            foreach (long[]? counts in ahead)
            {
                TensorObserver.ReturnCounts(counts);
            }
        }
    }

    private static ReadOnlySpan<float> Span(IReadOnlyList<(TensorObserver Observer, DenseTensor Values)> batch, (int Item, int Start, int Length) part) =>
        batch[part.Item].Values.AsSpan<float>().Slice(part.Start, part.Length);
}
