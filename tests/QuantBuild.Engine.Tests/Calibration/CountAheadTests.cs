using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Calibration;

namespace QuantBuild.Engine.Tests.Calibration;

/// <summary>
/// Once a histogram has a range, a batch is binned in the same read that finds its min and max
/// (<see cref="StreamingHistogram.CountAhead"/>) and the counts are kept when the batch is inside the range. That must
/// give exactly what reading it twice gives (scan, widen the range, then bin by the scalar definition): batches inside
/// the range, batches that widen it to the right and to the left, NaN and ±∞, zeros of both signs.
/// </summary>
public sealed class CountAheadTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Counting_in_the_same_read_as_the_range_gives_the_histogram_two_reads_give(int threads)
    {
        var random = new Random(40 + threads);
        var reference = new StreamingHistogram();
        float referenceMin = float.PositiveInfinity, referenceMax = float.NegativeInfinity;
        var observer = new TensorObserver("t");
        using var pool = new ObserverThreads(threads);
        var batchObserver = new BatchObserver(pool);
        long counted = 0;
        for (int b = 0; b < 12; b++)
        {
            // Mostly inside the first batch's range; batch 4 reaches right, batch 7 left, batch 9 holds non-finite values.
            double scale = b == 4 ? 3 : 1, shift = b == 7 ? -2.5 : 0;
            float[] values = Enumerable.Range(0, 150_000)
                .Select(_ => random.Next(3) == 0 ? (random.Next(2) == 0 ? 0f : -0f) : (float)((random.NextDouble() + shift) * scale)).ToArray();
            if (b == 9)
            {
                values[1_000] = float.NaN;
                values[90_001] = float.NegativeInfinity;
            }

            bool inside = b > 0 && reference.Covers(Finite(values).Min(), Finite(values).Max());
            if (threads == 1)
            {
                observer.Observe(values, [values.Length]);
            }
            else
            {
                batchObserver.Observe([(observer, DenseTensor.FromFloats(values, values.Length))]);
                Assert.Equal(threads, batchObserver.LastParts);
            }

            counted += inside && b != 9 ? 1 : 0;
            float min = Finite(values).Min(), max = Finite(values).Max();
            referenceMin = MathF.Min(referenceMin, Finite(values).Aggregate(MathF.Min));
            referenceMax = MathF.Max(referenceMax, Finite(values).Aggregate(MathF.Max));
            reference.AddScalar(values, min, max);

            StreamingHistogram histogram = observer.Histogram!;
            Assert.Equal(reference.Start, histogram.Start);
            Assert.Equal(reference.BinWidth, histogram.BinWidth);
            Assert.Equal(reference.Total, histogram.Total);
            Assert.True(reference.Counts.SequenceEqual(histogram.Counts), $"batch {b}: counts differ");
            Assert.Equal(BitConverter.SingleToInt32Bits(referenceMin), BitConverter.SingleToInt32Bits(observer.Min));
            Assert.Equal(BitConverter.SingleToInt32Bits(referenceMax), BitConverter.SingleToInt32Bits(observer.Max));
        }

        Assert.Equal(2, observer.NonFinite);
        Assert.Equal(1, observer.NaNCount);
        // Every batch inside the range with finite values was taken in one read, and the data has both kinds.
        Assert.Equal(counted, observer.BatchesReadOnce);
        Assert.InRange(counted, 5, 10);
    }

    [Fact]
    public void Count_ahead_waits_for_a_range_and_stops_when_batches_are_sampled()
    {
        var histogram = new StreamingHistogram(bins: 64, exactValues: 1_000);
        float[] values = Enumerable.Range(0, 4 * 64).Select(i => i / 10f).ToArray();
        Assert.False(histogram.CanCountAhead(values.Length)); // no range yet
        histogram.Add(values, values.Min(), values.Max());
        Assert.True(histogram.CanCountAhead(values.Length));
        Assert.False(histogram.CanCountAhead(values.Length - 1)); // too short for the vectorized tally
        for (int i = 0; i < 8; i++)
        {
            histogram.Add(values, values.Min(), values.Max());
        }

        // Past twice the exact values a batch is sampled, which only the two-read path does.
        Assert.True(histogram.Total >= 2_000);
        Assert.False(histogram.CanCountAhead(values.Length));
    }

    private static IEnumerable<float> Finite(float[] values) => values.Where(float.IsFinite);
}
