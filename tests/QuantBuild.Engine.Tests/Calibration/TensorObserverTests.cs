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
}
