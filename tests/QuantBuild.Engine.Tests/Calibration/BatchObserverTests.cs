using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Calibration;

namespace QuantBuild.Engine.Tests.Calibration;

public class BatchObserverTests
{
    /// <summary>
    /// Batches whose range grows left and right, a Relu-like tensor large enough to be cut into parts, small tensors
    /// observed whole, NaN and ±∞ in a part, a per-channel tensor: whatever the thread count, every statistic equals
    /// observing the tensors one after another on one thread.
    /// </summary>
    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(8)]
    public void Parallel_observation_equals_observing_one_tensor_after_another(int threads)
    {
        var random = new Random(threads);
        TensorObserver[] Observers() =>
        [
            new TensorObserver("big"), new TensorObserver("small"), new TensorObserver("tiny", bins: 0), new TensorObserver("channels", channelAxis: 1),
        ];

        TensorObserver[] sequential = Observers(), parallel = Observers();
        using var pool = new ObserverThreads(threads);
        var observer = new BatchObserver(pool);
        for (int b = 0; b < 6; b++)
        {
            // The big tensor holds most of the batch, so it is cut into parts; its scale grows batch by batch.
            float scale = 1 << b;
            float[] big = Enumerable.Range(0, 300_000).Select(i => random.Next(3) == 0 ? 0f : (float)((random.NextDouble() - 0.2) * scale)).ToArray();
            if (b == 2)
            {
                big[123_456] = float.NaN;
                big[250_001] = float.PositiveInfinity;
                big[7] = -0f;
            }

            DenseTensor[] batch =
            [
                DenseTensor.FromFloats(big, 3, 100_000),
                DenseTensor.FromFloats(Enumerable.Range(0, 20_000).Select(_ => (float)(random.NextDouble() * 4 - b)).ToArray(), 20_000),
                DenseTensor.FromFloats(Enumerable.Range(0, 17).Select(_ => (float)random.NextDouble()).ToArray(), 17),
                DenseTensor.FromFloats(Enumerable.Range(0, 4 * 8 * 64).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray(), 4, 8, 64),
            ];

            for (int i = 0; i < batch.Length; i++)
            {
                sequential[i].Observe(batch[i].AsSpan<float>(), batch[i].Shape);
            }

            observer.Observe(parallel.Zip(batch).ToList());
            // Only the big tensor is cut, into one part per thread.
            Assert.Equal(threads, observer.LastParts);
        }

        for (int i = 0; i < sequential.Length; i++)
        {
            TensorObserver s = sequential[i], p = parallel[i];
            Assert.Equal(BitConverter.SingleToInt32Bits(s.Min), BitConverter.SingleToInt32Bits(p.Min));
            Assert.Equal(BitConverter.SingleToInt32Bits(s.Max), BitConverter.SingleToInt32Bits(p.Max));
            Assert.Equal((s.Count, s.NonFinite, s.NaNCount), (p.Count, p.NonFinite, p.NaNCount));
            Assert.Equal(s.ChannelAbsMax.ToArray(), p.ChannelAbsMax.ToArray());
            Assert.Equal(s.Histogram is null, p.Histogram is null);
            if (s.Histogram is { } sh && p.Histogram is { } ph)
            {
                Assert.Equal((sh.Start, sh.BinWidth, sh.Total), (ph.Start, ph.BinWidth, ph.Total));
                Assert.Equal(sh.Counts.ToArray(), ph.Counts.ToArray());
            }
        }

        // Through its parts, the big tensor saw the NaN and the infinity, and its histogram all the rest.
        Assert.Equal((2L, 1L), (parallel[0].NonFinite, parallel[0].NaNCount));
        Assert.Equal(6 * 300_000 - 2, parallel[0].Histogram!.Total);
    }

    /// <summary>
    /// Past <see cref="StreamingHistogram.ExactValues"/> a batch keeps blocks by their place in it: the parts a
    /// tensor is cut into, on any number of threads, keep the same blocks as the whole tensor observed at once, so the
    /// sampled counts are bit for bit the same too.
    /// </summary>
    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(8)]
    public void Sampled_histograms_are_the_same_in_parts_on_any_number_of_threads(int threads)
    {
        var random = new Random(100 + threads);
        const long Exact = 50_000;
        TensorObserver[] Observers() => [new TensorObserver("big", exactValues: Exact), new TensorObserver("small", exactValues: Exact)];
        TensorObserver[] sequential = Observers(), parallel = Observers();
        using var pool = new ObserverThreads(threads);
        var observer = new BatchObserver(pool);
        var weights = new List<int>();
        for (int b = 0; b < 8; b++)
        {
            // 300,001 values: parts start at offsets that are not multiples of the block.
            float[] big = Enumerable.Range(0, 300_001).Select(i => random.Next(3) == 0 ? 0f : (float)((random.NextDouble() - 0.2) * (1 + b))).ToArray();
            DenseTensor[] batch =
            [
                DenseTensor.FromFloats(big, 300_001),
                DenseTensor.FromFloats(Enumerable.Range(0, 20_000).Select(_ => (float)(random.NextDouble() * 4 - b)).ToArray(), 20_000),
            ];

            for (int i = 0; i < batch.Length; i++)
            {
                sequential[i].Observe(batch[i].AsSpan<float>(), batch[i].Shape);
            }

            observer.Observe(parallel.Zip(batch).ToList());
            Assert.Equal(threads, observer.LastParts);
            weights.Add(parallel[0].Histogram!.Weight);
        }

        for (int i = 0; i < sequential.Length; i++)
        {
            StreamingHistogram sh = sequential[i].Histogram!, ph = parallel[i].Histogram!;
            Assert.Equal((sh.Start, sh.BinWidth, sh.Total), (ph.Start, ph.BinWidth, ph.Total));
            Assert.Equal(sh.Counts.ToArray(), ph.Counts.ToArray());
        }

        // The big tensor was sampled from its second batch on, more sparsely as it grew; its total stays an estimate
        // of the values seen, and its count exact.
        // (300,001 values counted exactly, 6 × 50,000: weight 4; then about 2.4 M: 32).
        Assert.Equal(1, weights[0]);
        Assert.Equal(4, weights[1]);
        Assert.Equal(weights.Order().ToList(), weights);
        Assert.InRange(weights[^1], 16, 32);
        Assert.Equal(8 * 300_001L, parallel[0].Count);
        // (Only about 200 blocks of 512 were counted here, so the estimate is within about 10 %.)
        Assert.InRange(parallel[0].Histogram!.Total, 0.8 * 8 * 300_001, 1.2 * 8 * 300_001);
    }
}
