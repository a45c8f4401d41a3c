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
        var observer = new BatchObserver(threads);
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
}
