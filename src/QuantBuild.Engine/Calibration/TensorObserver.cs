using System.Numerics.Tensors;

namespace QuantBuild.Engine.Calibration;

/// <summary>
/// Everything calibration keeps about one tensor, in fixed memory however many samples stream past:
/// exact min/max, a histogram (unless asked for none), and optionally the absolute maximum of every channel.
/// </summary>
public sealed class TensorObserver
{
    private readonly int? _channelAxis;
    private float[]? _channelAbsMax;

    /// <summary>
    /// Creates an observer; <paramref name="channelAxis"/> (negative counts from the end) asks for per-channel abs-max,
    /// <paramref name="bins"/> 0 for no histogram (min/max only: all <c>method: minmax</c> needs, and the histogram is
    /// most of what observing costs).
    /// </summary>
    public TensorObserver(string name, int? channelAxis = null, int bins = 2048)
    {
        Name = name;
        _channelAxis = channelAxis;
        Histogram = bins > 0 ? new StreamingHistogram(bins) : null;
    }

    /// <summary>The tensor's name.</summary>
    public string Name { get; }

    /// <summary>Smallest finite value seen.</summary>
    public float Min { get; private set; } = float.PositiveInfinity;

    /// <summary>Largest finite value seen.</summary>
    public float Max { get; private set; } = float.NegativeInfinity;

    /// <summary>Values seen, including non-finite ones.</summary>
    public long Count { get; private set; }

    /// <summary>Non-finite values seen (NaN, ±∞); they are left out of every statistic.</summary>
    public long NonFinite { get; private set; }

    /// <summary>NaN values seen (counted in <see cref="NonFinite"/> too); unlike ±∞ (attention masks), never meaningful.</summary>
    public long NaNCount { get; private set; }

    /// <summary>The distribution of finite values; null when the observer was created without bins.</summary>
    public StreamingHistogram? Histogram { get; }

    /// <summary>The histogram, or an error naming what needed it when the observer keeps none.</summary>
    public StreamingHistogram RequireHistogram(string purpose) =>
        Histogram ?? throw new InvalidOperationException($"'{Name}' was calibrated without a histogram, which {purpose} needs.");

    /// <summary>Per-channel absolute maximum, when a channel axis was requested and a value was seen.</summary>
    public ReadOnlySpan<float> ChannelAbsMax => _channelAbsMax;

    /// <summary>Adds one batch of the tensor's values with its shape.</summary>
    public void Observe(ReadOnlySpan<float> values, ReadOnlySpan<long> shape)
    {
        if (values.IsEmpty)
        {
            return;
        }

        Count += values.Length;
        float min = TensorPrimitives.Min(values);
        float max = TensorPrimitives.Max(values);
        if (!float.IsFinite(min) || !float.IsFinite(max))
        {
            (min, max) = FiniteBounds(values);
        }

        if (float.IsFinite(min))
        {
            Min = Math.Min(Min, min);
            Max = Math.Max(Max, max);
        }

        Histogram?.Add(values, min, max);
        if (_channelAxis is int axis && shape.Length > 0)
        {
            ObserveChannels(values, shape, axis < 0 ? shape.Length + axis : axis);
        }
    }

    private (float Min, float Max) FiniteBounds(ReadOnlySpan<float> values)
    {
        float min = float.PositiveInfinity, max = float.NegativeInfinity;
        foreach (float v in values)
        {
            if (float.IsFinite(v))
            {
                min = Math.Min(min, v);
                max = Math.Max(max, v);
            }
            else
            {
                NonFinite++;
                NaNCount += float.IsNaN(v) ? 1 : 0;
            }
        }

        return (min, max);
    }

    private void ObserveChannels(ReadOnlySpan<float> values, ReadOnlySpan<long> shape, int axis)
    {
        int channels = (int)shape[axis];
        long inner = 1;
        for (int i = axis + 1; i < shape.Length; i++)
        {
            inner *= shape[i];
        }

        _channelAbsMax ??= new float[channels];
        if (_channelAbsMax.Length != channels)
        {
            throw new InvalidOperationException($"Tensor '{Name}' changed its channel count from {_channelAbsMax.Length} to {channels} between batches.");
        }

        int innerLength = (int)inner;
        int outer = values.Length / (channels * innerLength);
        for (int o = 0; o < outer; o++)
        {
            for (int c = 0; c < channels; c++)
            {
                ReadOnlySpan<float> run = values.Slice((o * channels + c) * innerLength, innerLength);
                float absMax = TensorPrimitives.MaxMagnitude(run);
                absMax = Math.Abs(absMax);
                if (absMax > _channelAbsMax[c])
                {
                    _channelAbsMax[c] = absMax;
                }
            }
        }
    }
}
