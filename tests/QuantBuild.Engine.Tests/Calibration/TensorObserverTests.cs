using System.Numerics.Tensors;
using QuantBuild.Engine.Calibration;

namespace QuantBuild.Engine.Tests.Calibration;

public class TensorObserverTests
{
    [Fact]
    public void Per_channel_abs_max_matches_a_direct_computation_over_all_batches()
    {
        // NCHW activations, channel axis 1: 2 batches of [4, 3, 2, 2].
        var random = new Random(3);
        var observer = new TensorObserver("x", channelAxis: 1);
        var expected = new float[3];
        for (int batch = 0; batch < 2; batch++)
        {
            float[] values = Enumerable.Range(0, 48).Select(_ => (float)(random.NextDouble() * 20 - 10)).ToArray();
            for (int i = 0; i < values.Length; i++)
            {
                int channel = i / 4 % 3;
                expected[channel] = Math.Max(expected[channel], Math.Abs(values[i]));
            }

            observer.Observe(values, new long[] { 4, 3, 2, 2 });
        }

        Assert.Equal(expected, observer.ChannelAbsMax.ToArray());
    }

    [Fact]
    public void Last_axis_channels_are_addressed_with_a_negative_axis()
    {
        var observer = new TensorObserver("x", channelAxis: -1);
        observer.Observe(new[] { 1f, -5f, 3f, 2f, 0f, -4f }, new long[] { 2, 3 });
        Assert.Equal(new[] { 2f, 5f, 4f }, observer.ChannelAbsMax.ToArray());
    }

    [Fact]
    public void NaN_and_infinity_are_left_out_of_min_max_and_counted_apart()
    {
        var observer = new TensorObserver("x");
        observer.Observe(new[] { float.NaN, -2f, 7f, float.NegativeInfinity }, new long[] { 4 });
        Assert.Equal(-2f, observer.Min);
        Assert.Equal(7f, observer.Max);
        Assert.Equal(2, observer.NonFinite);
        Assert.Equal(4, observer.Count);
    }

    [Fact]
    public void One_pass_min_max_is_bit_for_bit_the_two_reductions_and_flags_every_non_finite_value()
    {
        var random = new Random(5);
        foreach (int length in new[] { 1, 7, 8, 9, 31, 32, 33, 63, 64, 100, 1000, 4099 })
        {
            float[] values = Enumerable.Range(0, length).Select(_ => random.Next(4) == 0 ? (random.Next(2) == 0 ? 0f : -0f) : (float)(random.NextDouble() * 20 - 10)).ToArray();
            (float min, float max, bool finite) = TensorObserver.MinMax(values);
            Assert.True(finite);
            Assert.Equal(BitConverter.SingleToInt32Bits(TensorPrimitives.Min<float>(values)), BitConverter.SingleToInt32Bits(min));
            Assert.Equal(BitConverter.SingleToInt32Bits(TensorPrimitives.Max<float>(values)), BitConverter.SingleToInt32Bits(max));

            foreach (float bad in new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity })
            {
                float[] copy = (float[])values.Clone();
                copy[random.Next(length)] = bad; // anywhere: inside a vector or in the scalar tail
                Assert.False(TensorObserver.MinMax(copy).Finite, $"{bad} among {length} values");
            }
        }

        // Signed zeros only: the minimum is -0 and the maximum +0, as TensorPrimitives has them.
        (float zmin, float zmax, _) = TensorObserver.MinMax([0f, -0f, 0f, 0f, 0f, 0f, 0f, 0f, -0f, 0f]);
        Assert.True(float.IsNegative(zmin));
        Assert.False(float.IsNegative(zmax));
        // The same through the four accumulators of a long run, the -0 in a different one each time.
        for (int at = 0; at < 40; at += 9)
        {
            float[] zeros = new float[40];
            zeros[at] = -0f;
            (zmin, zmax, _) = TensorObserver.MinMax(zeros);
            Assert.True(float.IsNegative(zmin), $"-0 at {at}");
            Assert.False(float.IsNegative(zmax));
        }
    }
}
