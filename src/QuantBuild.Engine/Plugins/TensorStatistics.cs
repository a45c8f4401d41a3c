using QuantBuild.Abstractions.Passes;
using QuantBuild.Engine.Calibration;

namespace QuantBuild.Engine.Plugins;

/// <summary>A calibration observer seen through the contract.</summary>
internal sealed class TensorStatistics(TensorObserver observer) : ITensorStatistics
{
    private readonly float[] _channels = observer.ChannelAbsMax.ToArray();

    public string Name => observer.Name;

    public float Min => observer.Min;

    public float Max => observer.Max;

    public long Count => observer.Count;

    public IReadOnlyList<float> ChannelAbsMax => _channels;

    public double Quantile(double fraction) => observer.RequireHistogram("ITensorStatistics.Quantile").Quantile(fraction);
}
